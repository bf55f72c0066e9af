//! Whom a token is about (RFC 9068 §2.2 `sub`): the client itself, when it
//! acts for no one (`client_credentials`), or a user (the resource owner).

use super::{ClientId, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Client(ClientId),
    User(UserId),
}

impl Subject {
    /// The subject of a token with these `sub` and `client_id` claims: a
    /// client's own token names the client as `sub`. `None` if `sub` is
    /// neither (not a token of ours).
    pub fn of(sub: &str, client_id: &str) -> Option<Self> {
        if sub == client_id {
            return ClientId::parse(sub).ok().map(Self::Client);
        }
        UserId::parse(sub).ok().map(Self::User)
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Client(id) => id.as_str(),
            Self::User(id) => id.as_str(),
        }
    }

    pub fn is_user(&self) -> bool {
        matches!(self, Self::User(_))
    }
}
