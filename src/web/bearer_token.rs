//! Bearer tokens on protected resources (RFC 6750 §2.1): read from the
//! `Authorization` header; a missing or malformed one is answered with the
//! challenges of `protocol::bearer`.

use axum::http::{HeaderMap, header};

use crate::domain::ProtocolError;
use crate::protocol::bearer::{invalid_token, missing_token};

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
