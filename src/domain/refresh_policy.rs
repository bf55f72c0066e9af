//! Refresh-token rotation per client (RFC 9700 §4.14.2). Every rotation
//! derives the successor from the token it replaces, under a server secret,
//! so a retried refresh can be answered with the successor it already got
//! (the FAPI 2.0 security profile §5.3.2.1 allows a short reuse grace for a
//! confidential client whose answer was lost), while the server still
//! stores only hashes of refresh tokens.

use std::fmt;

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::sealing::SEALING_KEY_BYTES;
use super::{ErrorCode, ProtocolError};

/// The longest reuse grace a client may be registered with: long enough for
/// a retry after a lost answer, short enough to leave a thief little time.
pub const MAX_REFRESH_REUSE_GRACE_SECS: u8 = 60;

/// Castellan's client metadata `refresh_token_reuse_grace`: for how many
/// seconds after a refresh token was rotated a retry with it returns the
/// same successor instead of revoking the family. 0 (the default): never.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RefreshReuseGrace(u8);

impl RefreshReuseGrace {
    /// Checks a registered value: whole seconds in 0–60, and non-zero only
    /// for a confidential client, the only kind that can prove a retry is
    /// its own (a public client's copy may be a thief's).
    pub fn parse(value: Option<i64>, confidential: bool) -> Result<Self, ProtocolError> {
        let invalid =
            |description: &'static str| ProtocolError::new(ErrorCode::InvalidClientMetadata, description);
        let seconds = value.unwrap_or(0);
        let seconds = u8::try_from(seconds)
            .ok()
            .filter(|s| *s <= MAX_REFRESH_REUSE_GRACE_SECS)
            .ok_or_else(|| invalid("refresh_token_reuse_grace must be whole seconds from 0 to 60"))?;
        if seconds > 0 && !confidential {
            return Err(invalid("refresh_token_reuse_grace is only for confidential clients"));
        }
        Ok(Self(seconds))
    }

    pub fn is_none(&self) -> bool {
        self.0 == 0
    }

    pub fn seconds(self) -> i64 {
        i64::from(self.0)
    }
}

/// The server secret successors are derived under; never printed.
pub struct RefreshSuccessorKey(hmac::Key);

impl fmt::Debug for RefreshSuccessorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshSuccessorKey(***)")
    }
}

impl RefreshSuccessorKey {
    pub fn from_bytes(bytes: &[u8; SEALING_KEY_BYTES]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, bytes))
    }

    /// The refresh token that replaces `token`: HMAC-SHA256 of it,
    /// base64url (43 characters, as unguessable as a random token to anyone
    /// without the key).
    pub fn successor_of(&self, token: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.0, token.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grace_is_whole_seconds_up_to_60_and_only_for_confidential_clients() {
        assert_eq!(RefreshReuseGrace::parse(None, false).ok().map(|g| g.seconds()), Some(0));
        assert_eq!(RefreshReuseGrace::parse(Some(60), true).ok().map(|g| g.seconds()), Some(60));
        for bad in [-1, 61, 300] {
            assert!(RefreshReuseGrace::parse(Some(bad), true).is_err());
        }
        assert!(RefreshReuseGrace::parse(Some(0), false).is_ok());
        assert!(RefreshReuseGrace::parse(Some(5), false).is_err());
    }

    #[test]
    fn a_successor_is_the_same_for_the_same_token_and_key_only() {
        let key = RefreshSuccessorKey::from_bytes(&[7; SEALING_KEY_BYTES]);
        let other = RefreshSuccessorKey::from_bytes(&[8; SEALING_KEY_BYTES]);
        let successor = key.successor_of("token");
        assert_eq!(successor.len(), 43);
        assert_eq!(successor, key.successor_of("token"));
        assert_ne!(successor, key.successor_of("token2"));
        assert_ne!(successor, other.successor_of("token"));
    }
}
