//! Users (resource owners) as the admin API creates them and the login page
//! finds them.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ProtocolError;
pub use super::password_policy::MAX_PASSWORD_BYTES;
use super::password_policy::NewPassword;

/// A user identifier: server-generated, 128 random bits. It is the `sub` of
/// the user's tokens, so it never changes and is never reused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserId(String);

impl UserId {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        let visible = value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if value.is_empty() || value.len() > 64 || !visible {
            return Err("a user id is 1 to 64 characters of A-Z, a-z, 0-9, '-' and '_'");
        }
        Ok(Self(value.to_owned()))
    }

    pub fn generate() -> Self {
        Self(super::secret::random_token(16))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for UserId {
    type Error = &'static str;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<UserId> for String {
    fn from(value: UserId) -> Self {
        value.0
    }
}

/// A username as typed: 1 to 64 characters, no control characters, no
/// surrounding spaces. Unique regardless of case (`key`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct Username(String);

impl Username {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        let value = value.trim();
        if value.is_empty() || value.chars().count() > 64 || value.chars().any(char::is_control) {
            return Err("a username is 1 to 64 characters without control characters");
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-folded form under which the username is unique and looked up.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

impl From<Username> for String {
    fn from(value: Username) -> Self {
        value.0
    }
}

/// A stored user. The password hash is a PHC string (argon2id).
#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    pub password_hash: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub roles: Vec<String>,
    pub created_at: i64,
    /// Since when an admin has disabled the user; `None` while they may sign in.
    pub disabled_at: Option<i64>,
}

impl User {
    /// A disabled user cannot sign in, and nothing they hold works.
    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }
}

/// `POST /admin/users` as a caller sends it.
#[derive(Debug, Deserialize)]
pub struct NewUserRequest {
    pub username: String,
    pub password: String,
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: bool,
    pub name: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
}

/// A validated `NewUserRequest`, password still in the clear (to be hashed).
pub struct NewUser {
    pub username: Username,
    pub password: NewPassword,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub roles: Vec<String>,
}

impl NewUserRequest {
    pub fn validate(self) -> Result<NewUser, ProtocolError> {
        let username = Username::parse(&self.username).map_err(ProtocolError::invalid_request)?;
        Ok(NewUser {
            username,
            password: parse_password(self.password)?,
            email: parse_email(self.email)?,
            email_verified: self.email_verified,
            name: parse_name(self.name)?,
            roles: parse_roles(self.roles)?,
        })
    }
}

// The rules for each field, shared by creation and `UserPatch`.

pub(super) fn parse_password(password: String) -> Result<NewPassword, ProtocolError> {
    NewPassword::parse(password).map_err(ProtocolError::invalid_request)
}

/// Trimmed; empty means none.
pub(super) fn parse_email(email: Option<String>) -> Result<Option<String>, ProtocolError> {
    match email.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()) {
        Some(email) if !is_plausible_email(&email) => {
            Err(ProtocolError::invalid_request("email is not an email address"))
        }
        other => Ok(other),
    }
}

/// Trimmed; empty means none.
pub(super) fn parse_name(name: Option<String>) -> Result<Option<String>, ProtocolError> {
    match name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()) {
        Some(name) if name.chars().count() > 200 || name.chars().any(char::is_control) => {
            Err(ProtocolError::invalid_request("name must be at most 200 printable characters"))
        }
        other => Ok(other),
    }
}

/// Each role once, in the order given.
pub(super) fn parse_roles(given: Vec<String>) -> Result<Vec<String>, ProtocolError> {
    let mut roles: Vec<String> = Vec::with_capacity(given.len());
    for role in given {
        let valid = !role.is_empty() && role.len() <= 64 && role.bytes().all(|b| b.is_ascii_graphic());
        if !valid {
            return Err(ProtocolError::invalid_request(
                "each role is 1 to 64 visible ASCII characters without spaces",
            ));
        }
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    Ok(roles)
}

/// One `@` with something on both sides, no spaces or control characters:
/// enough to catch mistakes without rejecting valid addresses.
fn is_plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else { return false };
    !local.is_empty()
        && !domain.is_empty()
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_unique_regardless_of_case() {
        assert_eq!(Username::parse(" Alice ").unwrap().key(), Username::parse("aLICE").unwrap().key());
    }

    #[test]
    fn control_characters_are_not_part_of_a_username() {
        assert!(Username::parse("al\u{0}ice").is_err());
        assert!(Username::parse("   ").is_err());
    }

    #[test]
    fn emails_need_an_at_sign() {
        assert!(is_plausible_email("a@b.example"));
        assert!(!is_plausible_email("ab.example"));
        assert!(!is_plausible_email("a b@c"));
    }
}
