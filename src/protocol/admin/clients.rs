//! Client registration by admins (RFC 7591 metadata), changes to it (PUT,
//! RFC 7396 merge patch) and secret rotation. Secrets are made here, shown
//! once, and stored as hashes. A registration, change or deletion takes
//! effect on this instance at once (its client cache forgets the client,
//! and the CORS origins are reloaded) and on the others within
//! `CASTELLAN_CLIENT_CACHE_TTL`.

use super::Actor;
use crate::domain::secret::{Secret, SecretHash};
use crate::domain::{
    Client, ClientId, ClientMetadata, ClientOrigin, ErrorCode, Page, PageRequest, PreviousSecret,
    ProtocolError,
};
use crate::protocol::Context;
use crate::protocol::client_auth::private_key_jwt::forget_fetched_keys;

fn no_such_client() -> ProtocolError {
    ProtocolError::not_found("no such client")
}

/// Registers a client; one whose method uses a secret gets a new 256-bit
/// secret, returned here and never again (a `private_key_jwt` client has
/// its keys instead).
pub async fn register(
    ctx: &Context,
    actor: &Actor,
    metadata: ClientMetadata,
) -> Result<(Client, Option<Secret>), ProtocolError> {
    super::resources::check_registered(ctx, metadata.allowed_resources()).await?;
    let secret = metadata.token_endpoint_auth_method.uses_secret().then(Secret::generate);
    let client = Client {
        id: ClientId::generate(),
        origin: ClientOrigin::Admin,
        secret_hash: secret.as_ref().map(SecretHash::of),
        previous_secret: None,
        metadata,
        issued_at: ctx.clock.now(),
        metadata_document_fetched_at: None,
    };
    ctx.storage.clients.insert_client(&client).await?;
    // Not cached yet, but what derives from all clients (the CORS origins) must see it.
    ctx.clients.invalidate(&client.id);
    actor.changed(&format!("registered client {}", client.id), None);
    Ok((client, secret))
}

/// One page of the clients, in id order.
pub async fn list(ctx: &Context, page: &PageRequest) -> Result<Page<Client>, ProtocolError> {
    let fetched = ctx.storage.clients.list_clients(page).await?;
    Ok(Page::from_fetched(fetched, page, |client| client.id.to_string()))
}

/// The client as stored (not from the cache: an admin sees the truth).
pub async fn get(ctx: &Context, id: &ClientId) -> Result<Client, ProtocolError> {
    ctx.storage.clients.get_client(id).await?.ok_or_else(no_such_client)
}

/// Replaces the metadata; the secret stays.
pub async fn replace(
    ctx: &Context,
    actor: &Actor,
    id: ClientId,
    metadata: ClientMetadata,
) -> Result<Client, ProtocolError> {
    let existing = get(ctx, &id).await?;
    let client = store_metadata(ctx, existing, metadata).await?;
    actor.changed(&format!("replaced the metadata of client {}", client.id), None);
    Ok(client)
}

/// Merges `patch` (RFC 7396) into the metadata as the admin API shows it;
/// the result must pass the checks a registration passes.
pub async fn patch(
    ctx: &Context,
    actor: &Actor,
    id: ClientId,
    patch: &serde_json::Value,
) -> Result<Client, ProtocolError> {
    let existing = get(ctx, &id).await?;
    let metadata = existing.patched_metadata(patch)?;
    let client = store_metadata(ctx, existing, metadata).await?;
    actor.changed(&format!("patched the metadata of client {}", client.id), None);
    Ok(client)
}

/// Stores new metadata for `existing` (an admin's change, or a dynamic
/// client's own, RFC 7592 §2.2). A client without a secret (public, or
/// `private_key_jwt`) cannot switch to a secret method this way, as it has
/// no secret to keep; a client that stops using its secret loses it.
pub(crate) async fn store_metadata(
    ctx: &Context,
    existing: Client,
    metadata: ClientMetadata,
) -> Result<Client, ProtocolError> {
    // Its document is the one source of its metadata (it is fetched again
    // and would undo a change); an admin may delete it or deny its domain.
    if existing.is_from_metadata_document() {
        return Err(ProtocolError::new(
            ErrorCode::InvalidClientMetadata,
            "this client's metadata comes from its Client ID Metadata Document (its client_id URL) and cannot \
             be changed here; delete the client, or deny its domain at /admin/client-metadata-documents",
        ));
    }
    super::resources::check_registered(ctx, metadata.allowed_resources()).await?;
    let uses_secret = metadata.token_endpoint_auth_method.uses_secret();
    if uses_secret && existing.secret_hash.is_none() {
        return Err(ProtocolError::new(
            ErrorCode::InvalidClientMetadata,
            "a client without a secret (public, or private_key_jwt) cannot switch to a secret method; register a new client",
        ));
    }
    let (secret_hash, previous_secret) =
        if uses_secret { (existing.secret_hash, existing.previous_secret) } else { (None, None) };
    let existing_metadata = existing.metadata;
    let client =
        Client { secret_hash, previous_secret, metadata, metadata_document_fetched_at: None, ..existing };
    if !ctx.storage.clients.update_client(&client, ctx.clock.now()).await? {
        return Err(no_such_client());
    }
    ctx.clients.invalidate(&client.id);
    forget_fetched_keys(ctx, &existing_metadata);
    forget_fetched_keys(ctx, &client.metadata);
    Ok(client)
}

/// The longest a replaced secret may stay valid: long enough to roll a new
/// secret out to every instance of a client, short enough that a leaked
/// secret cannot be kept alive for good by asking for a long grace.
pub const MAX_PREVIOUS_SECRET_VALIDITY_SECS: u32 = 30 * 24 * 3_600;

/// Gives a confidential client a new 256-bit secret, returned here and
/// never again. The old secret stops at once, or, with
/// `previous_valid_for` seconds (at most [`MAX_PREVIOUS_SECRET_VALIDITY_SECS`]),
/// keeps working until then so the client can switch without an outage.
pub async fn rotate_secret(
    ctx: &Context,
    actor: &Actor,
    id: &ClientId,
    previous_valid_for: Option<u32>,
) -> Result<(Client, Secret), ProtocolError> {
    if previous_valid_for.is_some_and(|secs| secs > MAX_PREVIOUS_SECRET_VALIDITY_SECS) {
        return Err(ProtocolError::invalid_request(format!(
            "previous_secret_valid_for must be at most {MAX_PREVIOUS_SECRET_VALIDITY_SECS} seconds (30 days)"
        )));
    }
    let existing = get(ctx, id).await?;
    if !existing.metadata.token_endpoint_auth_method.uses_secret() {
        return Err(no_secret_to_rotate());
    }
    let now = ctx.clock.now();
    let secret = Secret::generate();
    let hash = SecretHash::of(&secret);
    // A grace of 0 s is no grace: the old secret stops at once.
    let previous_until = previous_valid_for.filter(|secs| *secs > 0).map(|secs| now + i64::from(secs));
    if !ctx.storage.clients.rotate_client_secret(id, &hash, previous_until, now).await? {
        // Deleted, or made public, since it was read.
        return Err(match get(ctx, id).await {
            Ok(_) => no_secret_to_rotate(),
            Err(error) => error,
        });
    }
    ctx.clients.invalidate(id);
    let previous_secret = match (previous_until, existing.secret_hash) {
        (Some(expires_at), Some(hash)) => Some(PreviousSecret { hash, expires_at }),
        _ => None,
    };
    let client = Client { secret_hash: Some(hash), previous_secret, ..existing };
    let what = match previous_until {
        Some(until) => format!("rotated the secret of client {id}; the previous one works until {until}"),
        None => format!("rotated the secret of client {id}; the previous one stopped at once"),
    };
    actor.changed(&what, None);
    Ok((client, secret))
}

fn no_secret_to_rotate() -> ProtocolError {
    ProtocolError::invalid_request(
        "this client has no secret to rotate (its token_endpoint_auth_method is \"none\" or \"private_key_jwt\")",
    )
}

/// Deletes a client: its tokens stop working (validation needs the client).
pub async fn delete(ctx: &Context, actor: &Actor, id: &ClientId) -> Result<(), ProtocolError> {
    remove(ctx, id).await?;
    actor.changed(&format!("deleted client {id}"), None);
    Ok(())
}

/// Deletes a client, with its codes, refresh tokens and consents (the
/// database cascades), and makes this instance forget it at once; its
/// access tokens fail validation, which needs the client. Whoever deletes
/// (an admin, the client itself by RFC 7592) says so in their own event.
pub(crate) async fn remove(ctx: &Context, id: &ClientId) -> Result<(), ProtocolError> {
    let existing = ctx.storage.clients.get_client(id).await?;
    if !ctx.storage.clients.delete_client(id).await? {
        return Err(no_such_client());
    }
    ctx.clients.invalidate(id);
    if let Some(existing) = existing {
        forget_fetched_keys(ctx, &existing.metadata);
    }
    Ok(())
}
