//! Client authentication at the token, introspection and revocation
//! endpoints (RFC 6749 §2.3): `client_secret_basic`, `client_secret_post`,
//! or, for public clients, the bare `client_id`. Exactly one method per
//! request.

use std::sync::Arc;

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::domain::{Client, ClientId};
use crate::error::ProtocolError;
use crate::form::{Params, decode_component};
use crate::secret::Secret;
use crate::state::AppState;

/// RFC 6749 §5.2: a failed Basic authentication answers 401 with a challenge.
const BASIC_CHALLENGE: &str = "Basic realm=\"castellan\", charset=\"UTF-8\"";

/// How the caller presented itself.
#[derive(Debug)]
enum Credentials {
    Basic { id: String, secret: Secret },
    Post { id: String, secret: Secret },
    PublicId(String),
}

fn failed(basic: bool, description: &'static str) -> ProtocolError {
    let error = ProtocolError::invalid_client(description);
    if basic { error.with_challenge(BASIC_CHALLENGE.to_owned()) } else { error }
}

/// RFC 6749 §2.3.1: `Basic base64(urlencode(id) ":" urlencode(secret))`.
fn parse_basic(value: &str) -> Option<(String, Secret)> {
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

fn credentials(headers: &HeaderMap, params: &Params) -> Result<Credentials, ProtocolError> {
    let form_id = params.get("client_id");
    let form_secret = params.get("client_secret");
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let (id, secret) = value.to_str().ok().and_then(parse_basic).ok_or_else(|| {
            failed(true, "the Authorization header is not valid HTTP Basic client authentication")
        })?;
        if form_secret.is_some() {
            return Err(ProtocolError::invalid_request(
                "use one client authentication method per request, not both Basic and client_secret (RFC 6749 §2.3)",
            ));
        }
        if form_id.is_some_and(|form_id| form_id != id) {
            return Err(ProtocolError::invalid_request("client_id does not match the Basic credentials"));
        }
        return Ok(Credentials::Basic { id, secret });
    }
    match (form_id, form_secret) {
        (Some(id), Some(secret)) => Ok(Credentials::Post { id: id.to_owned(), secret: Secret::new(secret) }),
        (Some(id), None) => Ok(Credentials::PublicId(id.to_owned())),
        (None, Some(_)) => Err(ProtocolError::invalid_request("client_secret was sent without client_id")),
        (None, None) => Err(failed(true, "client authentication is required")),
    }
}

/// Authenticates the calling client, confidential or public.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Arc<Client>, ProtocolError> {
    let credentials = credentials(headers, params)?;
    let (id, secret, basic) = match &credentials {
        Credentials::Basic { id, secret } => (id, Some(secret), true),
        Credentials::Post { id, secret } => (id, Some(secret), false),
        Credentials::PublicId(id) => (id, None, false),
    };
    let client = match ClientId::parse(id) {
        Ok(client_id) => state.clients.get(&client_id).await?,
        Err(_) => None,
    };
    let Some(client) = client else {
        return Err(failed(basic, "client authentication failed"));
    };
    match (secret, &client.secret_hash) {
        // Either secret method is accepted for a confidential client: both
        // carry the same secret, and RFC 6749 §2.3.1 lets servers take both.
        (Some(secret), Some(hash)) if hash.matches(secret) => Ok(client),
        (None, None) => Ok(client),
        (None, Some(_)) => Err(failed(basic, "client authentication is required for this client")),
        _ => Err(failed(basic, "client authentication failed")),
    }
}

/// Authenticates a client that must be confidential (introspection,
/// `client_credentials`).
pub async fn authenticate_confidential(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Arc<Client>, ProtocolError> {
    let client = authenticate(state, headers, params).await?;
    if !client.is_confidential() {
        return Err(ProtocolError::invalid_client("this endpoint needs a confidential client"));
    }
    Ok(client)
}
