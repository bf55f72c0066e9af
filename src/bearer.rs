//! Bearer tokens on protected resources (RFC 6750): read from the
//! `Authorization` header (§2.1) and answered with a `WWW-Authenticate`
//! challenge when missing or bad (§3).

use axum::http::{HeaderMap, header};

use crate::error::{ErrorCode, ProtocolError};

/// RFC 6750 §3: with no credentials at all, the challenge carries no error.
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

/// The token of an `Authorization: Bearer …` header.
pub fn from_headers(headers: &HeaderMap) -> Result<&str, ProtocolError> {
    let value = headers.get(header::AUTHORIZATION).ok_or_else(missing_token)?;
    let value = value.to_str().map_err(|_| invalid_token())?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(invalid_token)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(missing_token());
    }
    Ok(token.trim())
}
