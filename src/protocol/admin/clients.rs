//! Client registration by admins (RFC 7591 metadata). Secrets are made here,
//! shown once, and stored as hashes. A registration, change or deletion
//! takes effect on this instance at once (its client cache forgets the
//! client, and the CORS origins are reloaded) and on the others within
//! `CASTELLAN_CLIENT_CACHE_TTL`.

use super::Actor;
use crate::domain::secret::{Secret, SecretHash};
use crate::domain::{Client, ClientId, ClientMetadata, ErrorCode, Page, PageRequest, ProtocolError};
use crate::protocol::Context;

fn no_such_client() -> ProtocolError {
    ProtocolError::not_found("no such client")
}

/// Registers a client; a confidential one gets a new 256-bit secret,
/// returned here and never again.
pub async fn register(
    ctx: &Context,
    actor: &Actor,
    metadata: ClientMetadata,
) -> Result<(Client, Option<Secret>), ProtocolError> {
    let secret = metadata.token_endpoint_auth_method.is_confidential().then(Secret::generate);
    let client = Client {
        id: ClientId::generate(),
        secret_hash: secret.as_ref().map(SecretHash::of),
        metadata,
        issued_at: ctx.clock.now(),
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

/// Replaces the metadata; the secret stays. A public client cannot become
/// confidential here, as it has no secret to keep.
pub async fn replace(
    ctx: &Context,
    actor: &Actor,
    id: ClientId,
    metadata: ClientMetadata,
) -> Result<Client, ProtocolError> {
    let existing = get(ctx, &id).await?;
    let secret_hash = match (metadata.token_endpoint_auth_method.is_confidential(), existing.secret_hash) {
        (true, Some(hash)) => Some(hash),
        (true, None) => {
            return Err(ProtocolError::new(
                ErrorCode::InvalidClientMetadata,
                "a public client cannot be made confidential; register a new client",
            ));
        }
        (false, _) => None,
    };
    let client = Client { id, secret_hash, metadata, issued_at: existing.issued_at };
    if !ctx.storage.clients.update_client(&client, ctx.clock.now()).await? {
        return Err(no_such_client());
    }
    ctx.clients.invalidate(&client.id);
    actor.changed(&format!("replaced the metadata of client {}", client.id), None);
    Ok(client)
}

/// Deletes a client: its tokens stop working (validation needs the client).
pub async fn delete(ctx: &Context, actor: &Actor, id: &ClientId) -> Result<(), ProtocolError> {
    if !ctx.storage.clients.delete_client(id).await? {
        return Err(no_such_client());
    }
    ctx.clients.invalidate(id);
    actor.changed(&format!("deleted client {id}"), None);
    Ok(())
}
