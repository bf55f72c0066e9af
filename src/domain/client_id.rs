//! Client identifiers (RFC 6749 §2.2): unique strings the server issues,
//! public, and typed by people into scripts and command lines.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A client identifier: 1 to 255 visible ASCII characters.
///
/// The ids Castellan issues never begin with `-`: a client id is passed on
/// command lines as an argument (`castellan` subcommands, `curl -u
/// "$ID:$SECRET"`, shell scripts), and a leading `-` makes it read as an
/// option there, or worse, as a different option than meant. Base64url ids
/// begin with `-` one time in 64, so [`ClientId::generate`] draws again then,
/// and the configuration refuses such a bootstrap admin id
/// ([`ClientId::is_option_like`]). [`ClientId::parse`] still reads one: an id
/// issued before this rule keeps working.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        let visible = value.bytes().all(|b| (0x21..=0x7E).contains(&b));
        if value.is_empty() || value.len() > 255 || !visible {
            return Err("a client id is 1 to 255 visible ASCII characters");
        }
        Ok(Self(value.to_owned()))
    }

    /// Whether the id begins with `-`, and would read as an option on a
    /// command line.
    pub fn is_option_like(&self) -> bool {
        self.0.starts_with('-')
    }

    /// A new random client id (128 bits), never beginning with `-`.
    pub fn generate() -> Self {
        loop {
            let id = super::secret::random_token(16);
            if !id.starts_with('-') {
                return Self(id);
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ClientId {
    type Error = &'static str;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ClientId> for String {
    fn from(value: ClientId) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_never_begin_with_a_dash_and_parse_back() {
        // A leading `-` comes one time in 64, so 5000 draws would all but
        // surely show one if `generate` let it through.
        for _ in 0..5_000 {
            let id = ClientId::generate();
            assert!(!id.as_str().starts_with('-'), "{id}");
            assert_eq!(id.as_str().len(), 22, "128 bits, base64url");
            assert_eq!(ClientId::parse(id.as_str()), Ok(id));
        }
    }

    #[test]
    fn an_id_beginning_with_a_dash_reads_as_an_option() {
        for option_like in ["-", "-rf", "--help", "-abc"] {
            assert!(ClientId::parse(option_like).is_ok_and(|id| id.is_option_like()), "{option_like}");
        }
        for ok in ["a-b", "a-", "_x", "test-admin", "https://app.example/client.json"] {
            assert!(ClientId::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn empty_long_and_invisible_ids_are_refused() {
        let long = "a".repeat(256);
        for bad in ["", " a", "a b", "tab\there", "caf\u{e9}", long.as_str()] {
            assert!(ClientId::parse(bad).is_err(), "{bad:?}");
        }
        assert!(ClientId::parse(&"a".repeat(255)).is_ok());
    }
}
