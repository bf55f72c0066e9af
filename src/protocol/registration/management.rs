//! The client configuration endpoint (RFC 7592 §2): a self-registered
//! client reads, replaces and deletes its registration with its
//! registration access token. Every failure to authenticate is the same
//! `invalid_token` (§2.1–§2.3: never tell whether the client exists); an
//! admin's client has no registration access token and is never found here.

use std::net::IpAddr;

use serde_json::Value;

use super::{RegistrationPolicy, invalid_token, not_enabled};
use crate::domain::client::ClientMetadataRequest;
use crate::domain::secret::{Secret, SecretHash};
use crate::domain::{Client, ClientId, ErrorCode, ProtocolError};
use crate::protocol::Context;
use crate::protocol::admin::clients as admin_clients;
use crate::protocol::security_event::{EventKind, SecurityEvent};

fn invalid(description: &'static str) -> ProtocolError {
    ProtocolError::new(ErrorCode::InvalidClientMetadata, description)
}

/// The client `raw_id` names, if `bearer` is its registration access token.
pub async fn authenticate(
    ctx: &Context,
    raw_id: &str,
    bearer: Result<&str, ProtocolError>,
) -> Result<Client, ProtocolError> {
    if ctx.settings.registration.policy == RegistrationPolicy::Off {
        return Err(not_enabled());
    }
    let presented = Secret::new(bearer?);
    let found = match ClientId::parse(raw_id) {
        Ok(id) => ctx.storage.registrations.dynamic_client(&id).await?,
        Err(_) => None,
    };
    // Compared against something either way, so an unknown client takes as
    // long as a wrong token.
    let unknown = SecretHash::of_bytes(b"");
    let (client, expected) = match &found {
        Some((client, hash)) => (Some(client), hash),
        None => (None, &unknown),
    };
    match client {
        Some(client) if expected.matches(&presented) => Ok(client.clone()),
        _ => Err(invalid_token()),
    }
}

/// RFC 7592 §2.2: replaces the metadata with `body`, which names the
/// client (`client_id`, which must be this one) and may carry its secret
/// (which must then be the current one: a client never chooses its own).
/// Fields the server sets (`client_id_issued_at`, `registration_*`,
/// `client_secret_expires_at`) are ignored, so a client may send back the
/// document it read. Omitted fields take their defaults, as §2.2 says.
/// The registration access token stays as it is.
pub async fn replace(
    ctx: &Context,
    client: Client,
    address: IpAddr,
    body: &Value,
) -> Result<Client, ProtocolError> {
    let Value::Object(members) = body else {
        return Err(invalid("the client metadata must be a JSON object"));
    };
    if members.get("client_id").and_then(Value::as_str) != Some(client.id.as_str()) {
        return Err(invalid("client_id is required and must be this client's"));
    }
    if let Some(secret) = members.get("client_secret") {
        let matches =
            secret.as_str().is_some_and(|s| client.secret_matches(&Secret::new(s), ctx.clock.now()));
        if !matches {
            return Err(invalid("client_secret must be the client's current secret; it cannot be chosen"));
        }
    }
    let request: ClientMetadataRequest = serde_json::from_value(body.clone()).map_err(|e| {
        ProtocolError::new(ErrorCode::InvalidClientMetadata, format!("invalid metadata: {e}"))
    })?;
    let metadata = request.validate_dynamic()?;
    super::access::check(ctx, &metadata).await?;
    let client = admin_clients::store_metadata(ctx, client, metadata).await?;
    SecurityEvent::new(EventKind::RegisteredClientChanged)
        .address(address)
        .client(client.id.as_str())
        .detail("replaced its metadata (RFC 7592)")
        .emit();
    Ok(client)
}

/// RFC 7592 §2.3: deletes the client; its tokens stop working, as when an
/// admin deletes a client.
pub async fn delete(ctx: &Context, client: &Client, address: IpAddr) -> Result<(), ProtocolError> {
    // Deleted meanwhile by another request: as if it had never been.
    admin_clients::remove(ctx, &client.id)
        .await
        .map_err(|e| if e.code == ErrorCode::NotFound { invalid_token() } else { e })?;
    SecurityEvent::new(EventKind::RegisteredClientChanged)
        .address(address)
        .client(client.id.as_str())
        .detail("deleted itself (RFC 7592)")
        .emit();
    Ok(())
}
