//! Which scopes a token may carry (RFC 6749 §3.3): what the client may have
//! *now*, intersected with what was granted. The one owner of that rule, used
//! at every issue (authorize, client_credentials, code, refresh) and every
//! validation (introspection, userinfo, admin), so an admin who narrows a
//! client's `scope` narrows every token and refresh token it holds.

use crate::domain::scope::OIDC_SCOPES;
use crate::domain::{Client, GrantType, ScopeSet, Subject};

/// The scopes a client may hold for one kind of subject.
pub struct ScopePolicy<'a> {
    client: &'a Client,
    for_user: bool,
}

impl<'a> ScopePolicy<'a> {
    /// Tokens the client gets for itself (`client_credentials`): its
    /// registered scope. `None` if it may no longer use that grant.
    pub fn for_client(client: &'a Client) -> Option<Self> {
        client.metadata.allows_grant(GrantType::ClientCredentials).then_some(Self { client, for_user: false })
    }

    /// Tokens the client gets for a user (the code grant and its refresh
    /// tokens): its registered scope and the OpenID Connect scopes. `None`
    /// if it may no longer use the code grant.
    pub fn for_user(client: &'a Client) -> Option<Self> {
        client.metadata.allows_grant(GrantType::AuthorizationCode).then_some(Self { client, for_user: true })
    }

    /// The policy for tokens about `subject`.
    pub fn for_subject(client: &'a Client, subject: &Subject) -> Option<Self> {
        match subject {
            Subject::Client(_) => Self::for_client(client),
            Subject::User(_) => Self::for_user(client),
        }
    }

    pub fn allows(&self, scope: &str) -> bool {
        self.client.metadata.scope.contains(scope) || (self.for_user && OIDC_SCOPES.contains(&scope))
    }

    /// The scope of a new grant: `requested`, or the registered scope when
    /// omitted (§3.3); every scope must be allowed.
    pub fn grant(&self, requested: Option<ScopeSet>) -> Result<ScopeSet, &'static str> {
        let scope = requested.unwrap_or_else(|| self.client.metadata.scope.clone());
        if !scope.iter().all(|s| self.allows(s)) {
            return Err("the requested scope exceeds what this client may ask for");
        }
        Ok(scope)
    }

    /// What is left of an earlier grant now: its scopes still allowed.
    pub fn narrow(&self, granted: &ScopeSet) -> ScopeSet {
        granted.filter(|s| self.allows(s))
    }
}
