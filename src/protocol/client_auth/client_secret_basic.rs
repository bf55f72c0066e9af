//! `client_secret_basic` (RFC 6749 §2.3.1): the client id and secret in an
//! HTTP Basic `Authorization` header, each form-urlencoded first.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{Credentials, secret_matches};
use crate::domain::Client;
use crate::domain::params::decode_component;
use crate::domain::secret::Secret;

/// `Basic base64(urlencode(id) ":" urlencode(secret))`.
pub(super) fn parse_header(value: &str) -> Option<(String, Secret)> {
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    let id = decode_component(&decoded[..colon])?;
    let secret = decode_component(&decoded[colon + 1..])?;
    Some((id, Secret::new(secret)))
}

pub(super) fn verify(client: &Client, credentials: &Credentials, now: i64) -> Result<(), &'static str> {
    match credentials {
        Credentials::Basic { secret, .. } if secret_matches(client, secret, now) => Ok(()),
        _ => Err(super::FAILED),
    }
}
