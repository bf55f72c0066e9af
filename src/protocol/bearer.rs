//! RFC 6750 §3 errors for protected resources (userinfo, the admin API):
//! `invalid_token` and `insufficient_scope`, each with its
//! `WWW-Authenticate: Bearer` challenge.

use crate::domain::{ErrorCode, ProtocolError};

/// §3: with no credentials at all, the challenge carries no error.
pub fn missing_token() -> ProtocolError {
    ProtocolError::new(ErrorCode::InvalidToken, "a bearer access token is required")
        .with_challenge("Bearer realm=\"castellan\"".to_owned())
}

pub fn invalid_token() -> ProtocolError {
    ProtocolError::new(ErrorCode::InvalidToken, "the access token is invalid, expired or revoked")
        .with_challenge("Bearer realm=\"castellan\", error=\"invalid_token\"".to_owned())
}

pub fn insufficient_scope(scope: &str) -> ProtocolError {
    ProtocolError::new(ErrorCode::InsufficientScope, format!("the access token lacks the {scope} scope"))
        .with_challenge(format!(
            "Bearer realm=\"castellan\", error=\"insufficient_scope\", scope=\"{scope}\""
        ))
}
