//! PKCE (RFC 7636): the S256 challenge an authorization request carries, and
//! the verifier the code exchange must bring. `plain` is not supported
//! (RFC 9700 §2.1.1).

use std::fmt;

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// An S256 `code_challenge`: the base64url of a SHA-256, 43 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CodeChallenge(String);

impl CodeChallenge {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        let well_formed =
            value.len() == 43 && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        match well_formed {
            true => Ok(Self(value.to_owned())),
            false => Err("code_challenge is not a base64url-encoded SHA-256"),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// §4.6: `BASE64URL(SHA256(verifier)) == challenge`, in constant time.
    pub fn is_met_by(&self, verifier: &CodeVerifier) -> bool {
        let computed = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.0.as_bytes()));
        computed.as_bytes().ct_eq(self.0.as_bytes()).into()
    }
}

impl TryFrom<String> for CodeChallenge {
    type Error = &'static str;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CodeChallenge> for String {
    fn from(value: CodeChallenge) -> Self {
        value.0
    }
}

/// A `code_verifier` (§4.1): 43 to 128 unreserved characters.
#[derive(Clone, PartialEq, Eq)]
pub struct CodeVerifier(String);

impl CodeVerifier {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        let well_formed = (43..=128).contains(&value.len())
            && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        match well_formed {
            true => Ok(Self(value.to_owned())),
            false => Err("code_verifier must be 43 to 128 unreserved characters"),
        }
    }
}

/// A verifier is a secret until the code is spent: never printed.
impl fmt::Debug for CodeVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeVerifier(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7636_example_verifier_meets_its_challenge() {
        // RFC 7636 Appendix B.
        let challenge = CodeChallenge::parse("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM").unwrap();
        let verifier = CodeVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        assert!(challenge.is_met_by(&verifier));
        let other = CodeVerifier::parse("eBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        assert!(!challenge.is_met_by(&other));
    }

    #[test]
    fn malformed_challenges_and_verifiers_are_refused() {
        assert!(CodeChallenge::parse("short").is_err());
        assert!(CodeChallenge::parse(&"a".repeat(42)).is_err());
        assert!(CodeVerifier::parse(&"a".repeat(42)).is_err());
        assert!(CodeVerifier::parse(&"a".repeat(129)).is_err());
        assert!(CodeVerifier::parse(&format!("{}!", "a".repeat(43))).is_err());
    }
}
