//! Scopes (RFC 6749 §3.3): a space-separated list of scope tokens, each one
//! or more of the characters %x21 / %x23-5B / %x5D-7E.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A set of valid scope tokens, in the order first given, without repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ScopeSet(Vec<String>);

const MAX_SCOPE_LEN: usize = 2048;

/// Scopes OpenID Connect defines (Core §5.4, §11); any client with the code
/// grant may ask for them. Other scopes must be in the client's registered `scope`.
pub const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// The scope of Castellan's own admin API.
pub const ADMIN_SCOPE: &str = "admin";

impl ScopeSet {
    /// Parses a scope parameter; `None` if a token has a forbidden character.
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        if value.len() > MAX_SCOPE_LEN {
            return Err("scope is too long");
        }
        let mut tokens: Vec<String> = Vec::new();
        for token in value.split(' ').filter(|t| !t.is_empty()) {
            if !token.bytes().all(is_scope_char) {
                return Err("scope contains a character RFC 6749 section 3.3 does not allow");
            }
            if !tokens.iter().any(|t| t == token) {
                tokens.push(token.to_owned());
            }
        }
        Ok(Self(tokens))
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }

    pub fn is_subset_of(&self, other: &ScopeSet) -> bool {
        self.0.iter().all(|s| other.contains(s))
    }

    /// The scopes of this set that `keep` accepts, in the same order.
    pub fn filter(&self, keep: impl Fn(&str) -> bool) -> ScopeSet {
        Self(self.0.iter().filter(|s| keep(s)).cloned().collect())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

fn is_scope_char(byte: u8) -> bool {
    byte == 0x21 || (0x23..=0x5B).contains(&byte) || (0x5D..=0x7E).contains(&byte)
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

impl TryFrom<String> for ScopeSet {
    type Error = &'static str;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ScopeSet> for String {
    fn from(value: ScopeSet) -> Self {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_and_extra_spaces_are_folded() {
        let scopes = ScopeSet::parse("  read  write read ").unwrap();
        assert_eq!(scopes.to_string(), "read write");
    }

    #[test]
    fn quotes_and_backslashes_are_not_scope_characters() {
        assert!(ScopeSet::parse("a\"b").is_err());
        assert!(ScopeSet::parse("a\\b").is_err());
        assert!(ScopeSet::parse("caf\u{e9}").is_err());
    }

    #[test]
    fn subset_is_checked_token_by_token() {
        let all = ScopeSet::parse("a b c").unwrap();
        assert!(ScopeSet::parse("c a").unwrap().is_subset_of(&all));
        assert!(!ScopeSet::parse("a d").unwrap().is_subset_of(&all));
    }
}
