//! A change to a user as `PATCH /admin/users/{id}` carries it: an RFC 7396
//! JSON merge patch, parsed once here. A member left out is unchanged;
//! `null` removes what may be absent (`email`, `name`) and is refused
//! elsewhere; each value obeys the rules of user creation. What identifies a
//! user (`id`, `username`) and what the server keeps (`created_at`,
//! `disabled_at`) cannot be patched.

use serde_json::Value;

use super::ProtocolError;
use super::password_policy::NewPassword;
use super::user::{User, parse_email, parse_name, parse_password, parse_roles};

/// The members a patch may carry, in the order error messages list them.
const CHANGEABLE: &str = "password, email, email_verified, name, roles and disabled";
/// Members of the user's view that no patch changes.
const FIXED: [&str; 4] = ["id", "username", "created_at", "disabled_at"];
/// An unknown member's name is echoed up to this many characters.
const MAX_ECHOED_NAME: usize = 64;

/// A validated merge patch: `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct UserPatch {
    pub password: Option<NewPassword>,
    /// `Some(None)` removes the email.
    pub email: Option<Option<String>>,
    pub email_verified: Option<bool>,
    /// `Some(None)` removes the name.
    pub name: Option<Option<String>>,
    pub roles: Option<Vec<String>>,
    pub disabled: Option<bool>,
}

impl UserPatch {
    /// RFC 7396 §2: the patch document is a JSON object of the members to
    /// change. Unknown members and fixed ones are refused rather than
    /// ignored, so a typo never passes for a change.
    pub fn parse(document: Value) -> Result<Self, ProtocolError> {
        let Value::Object(members) = document else {
            return Err(ProtocolError::invalid_request(
                "a user patch is a JSON object (RFC 7396 merge patch) of the members to change",
            ));
        };
        let mut patch = Self::default();
        for (member, value) in members {
            match member.as_str() {
                "password" => patch.password = Some(parse_password(required_string("password", value)?)?),
                "email" => patch.email = Some(parse_email(optional_string("email", value)?)?),
                "email_verified" => patch.email_verified = Some(boolean("email_verified", value)?),
                "name" => patch.name = Some(parse_name(optional_string("name", value)?)?),
                "roles" => patch.roles = Some(parse_roles(strings("roles", value)?)?),
                "disabled" => patch.disabled = Some(boolean("disabled", value)?),
                fixed if FIXED.contains(&fixed) => {
                    return Err(ProtocolError::invalid_request(format!(
                        "{fixed} cannot be changed; a patch may change {CHANGEABLE}"
                    )));
                }
                unknown => {
                    let shown: String = unknown.chars().take(MAX_ECHOED_NAME).collect();
                    return Err(ProtocolError::invalid_request(format!(
                        "unknown member {shown:?}; a patch may change {CHANGEABLE}"
                    )));
                }
            }
        }
        Ok(patch)
    }

    /// Whether the patch changes nothing (`{}`).
    pub fn is_empty(&self) -> bool {
        self.password.is_none() && !self.changes_profile() && self.disabled.is_none()
    }

    /// Whether the patch changes email, email_verified, name or roles.
    pub fn changes_profile(&self) -> bool {
        self.email.is_some() || self.email_verified.is_some() || self.name.is_some() || self.roles.is_some()
    }

    /// The names of the fields the patch changes, `disabled` aside, for the
    /// audit record (never their values).
    pub fn changed_fields(&self) -> Vec<&'static str> {
        [
            ("password", self.password.is_some()),
            ("email", self.email.is_some()),
            ("email_verified", self.email_verified.is_some()),
            ("name", self.name.is_some()),
            ("roles", self.roles.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect()
    }

    /// Applies email, email_verified, name and roles to `user` (the
    /// password is hashed, and `disabled` carried out, by the caller). A
    /// new email address is unverified unless the same patch says
    /// otherwise: relying parties trust `email_verified` (OpenID Connect
    /// Core §5.1), and nobody has verified the new address.
    pub fn apply_profile(&self, user: &mut User) {
        if let Some(email) = &self.email
            && *email != user.email
        {
            user.email = email.clone();
            user.email_verified = false;
        }
        if let Some(verified) = self.email_verified {
            user.email_verified = verified;
        }
        if let Some(name) = &self.name {
            user.name = name.clone();
        }
        if let Some(roles) = &self.roles {
            user.roles = roles.clone();
        }
    }
}

fn required_string(member: &str, value: Value) -> Result<String, ProtocolError> {
    match value {
        Value::String(text) => Ok(text),
        Value::Null => {
            Err(ProtocolError::invalid_request(format!("{member} cannot be null: a user always has one")))
        }
        _ => Err(ProtocolError::invalid_request(format!("{member} must be a string"))),
    }
}

/// RFC 7396: `null` removes the member.
fn optional_string(member: &str, value: Value) -> Result<Option<String>, ProtocolError> {
    match value {
        Value::String(text) => Ok(Some(text)),
        Value::Null => Ok(None),
        _ => Err(ProtocolError::invalid_request(format!("{member} must be a string, or null to remove it"))),
    }
}

fn boolean(member: &str, value: Value) -> Result<bool, ProtocolError> {
    value.as_bool().ok_or_else(|| ProtocolError::invalid_request(format!("{member} must be true or false")))
}

fn strings(member: &str, value: Value) -> Result<Vec<String>, ProtocolError> {
    let invalid = || {
        ProtocolError::invalid_request(format!(
            "{member} must be an array of strings ([] to remove them all)"
        ))
    };
    let Value::Array(items) = value else { return Err(invalid()) };
    items.into_iter().map(|item| item.as_str().map(str::to_owned).ok_or_else(invalid)).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::{UserId, Username};

    fn alice() -> User {
        User {
            id: UserId::generate(),
            username: Username::parse("alice").unwrap(),
            password_hash: "hash".into(),
            email: Some("alice@example.com".into()),
            email_verified: true,
            name: Some("Alice".into()),
            roles: vec!["reader".into()],
            created_at: 1,
            disabled_at: None,
        }
    }

    fn refused(document: Value) -> String {
        UserPatch::parse(document).unwrap_err().description.to_string()
    }

    #[test]
    fn an_empty_patch_changes_nothing() {
        let patch = UserPatch::parse(json!({})).unwrap();
        assert!(patch.is_empty());
        let mut user = alice();
        patch.apply_profile(&mut user);
        assert_eq!((user.email.as_deref(), user.email_verified), (Some("alice@example.com"), true));
    }

    #[test]
    fn null_removes_email_and_name_and_is_refused_elsewhere() {
        let patch = UserPatch::parse(json!({"email": null, "name": null})).unwrap();
        let mut user = alice();
        patch.apply_profile(&mut user);
        assert_eq!((user.email, user.name, user.email_verified), (None, None, false));
        for member in ["password", "email_verified", "roles", "disabled"] {
            let description = refused(json!({ member: null }));
            assert!(description.starts_with(member), "{member}: {description}");
        }
    }

    #[test]
    fn a_new_email_is_unverified_unless_the_patch_says_so() {
        let mut user = alice();
        UserPatch::parse(json!({"email": "a@new.example"})).unwrap().apply_profile(&mut user);
        assert_eq!((user.email.as_deref(), user.email_verified), (Some("a@new.example"), false));
        let mut user = alice();
        let patch = json!({"email": "a@new.example", "email_verified": true});
        UserPatch::parse(patch).unwrap().apply_profile(&mut user);
        assert!(user.email_verified);
        let mut user = alice();
        UserPatch::parse(json!({"email": " alice@example.com "})).unwrap().apply_profile(&mut user);
        assert!(user.email_verified, "the same address, trimmed, stays verified");
    }

    #[test]
    fn fixed_and_unknown_members_are_refused_by_name() {
        for fixed in FIXED {
            assert!(refused(json!({ fixed: "x" })).starts_with(&format!("{fixed} cannot be changed")));
        }
        assert!(refused(json!({"emial": "a@b.example"})).starts_with("unknown member \"emial\""));
        let long = "x".repeat(1000);
        assert!(refused(json!({ long: 1 })).len() < 200, "a long name is cut short");
        assert!(refused(json!(["password"])).starts_with("a user patch is a JSON object"));
    }

    #[test]
    fn values_obey_the_rules_of_creation() {
        assert!(refused(json!({"password": "short"})).starts_with("password must be at least 8"));
        assert!(refused(json!({"password": "password1"})).starts_with("password is too common"));
        assert!(refused(json!({"email": "no-at-sign"})).starts_with("email is not"));
        assert!(refused(json!({"roles": ["has space"]})).starts_with("each role"));
        assert!(refused(json!({"roles": [1]})).starts_with("roles must be an array"));
        assert!(refused(json!({"disabled": "yes"})).starts_with("disabled must be true or false"));
        let patch = UserPatch::parse(json!({"roles": ["a", "b", "a"], "disabled": true})).unwrap();
        assert_eq!((patch.roles, patch.disabled), (Some(vec!["a".into(), "b".into()]), Some(true)));
    }
}
