//! Resources (RFC 8707) managed by admins: register, list, show, change
//! (RFC 7396 merge patch; the identifier never changes) and delete. A
//! change takes effect on this instance at once (its resource cache
//! forgets the resource) and on the others within `CASTELLAN_CLIENT_CACHE_TTL`.
//! A deleted resource is refused (`invalid_target`) to the clients that
//! still name it, and its tokens stop being described to its `client_ids`.

use super::Actor;
use crate::domain::{
    Page, PageRequest, ProtocolError, Resource, ResourceFields, ResourceId, ResourceIndicator,
};
use crate::protocol::Context;

fn no_such_resource() -> ProtocolError {
    ProtocolError::not_found("no such resource")
}

pub async fn register(
    ctx: &Context,
    actor: &Actor,
    fields: ResourceFields,
) -> Result<Resource, ProtocolError> {
    // The issuer (or a URL under it) as a resource would make its tokens
    // look like the issuer's own: described to every confidential client,
    // accepted by userinfo and the admin API.
    let issuer = ctx.settings.issuer.as_str().trim_end_matches('/');
    let identifier = fields.identifier.as_str();
    if identifier.trim_end_matches('/') == issuer || identifier.starts_with(&format!("{issuer}/")) {
        return Err(ProtocolError::invalid_request(
            "identifier must not be Castellan's own issuer URL or a URL under it",
        ));
    }
    let now = ctx.clock.now();
    let resource = Resource {
        id: ResourceId::generate(),
        identifier: fields.identifier,
        name: fields.name,
        scopes: fields.scopes,
        client_ids: fields.client_ids,
        dynamic_registration: fields.dynamic_registration,
        created_at: now,
        updated_at: now,
    };
    ctx.storage.resources.insert_resource(&resource).await?;
    // An unknown identifier may be cached as such.
    ctx.resources.invalidate(&resource.identifier);
    actor.changed(&format!("registered resource {} ({})", resource.id, resource.identifier), None);
    Ok(resource)
}

/// One page of the resources, in id order.
pub async fn list(ctx: &Context, page: &PageRequest) -> Result<Page<Resource>, ProtocolError> {
    let fetched = ctx.storage.resources.list_resources(page).await?;
    Ok(Page::from_fetched(fetched, page, |resource| resource.id.to_string()))
}

/// The resource as stored (not from the cache: an admin sees the truth).
pub async fn get(ctx: &Context, id: &ResourceId) -> Result<Resource, ProtocolError> {
    ctx.storage.resources.get_resource(id).await?.ok_or_else(no_such_resource)
}

/// Merges `patch` (RFC 7396) into the resource as the admin API shows it.
pub async fn patch(
    ctx: &Context,
    actor: &Actor,
    id: &ResourceId,
    patch: &serde_json::Value,
) -> Result<Resource, ProtocolError> {
    let existing = get(ctx, id).await?;
    let fields = existing.patched(patch)?;
    let resource = Resource {
        name: fields.name,
        scopes: fields.scopes,
        client_ids: fields.client_ids,
        dynamic_registration: fields.dynamic_registration,
        updated_at: ctx.clock.now(),
        ..existing
    };
    if !ctx.storage.resources.update_resource(&resource).await? {
        return Err(no_such_resource());
    }
    ctx.resources.invalidate(&resource.identifier);
    actor.changed(&format!("changed resource {}", resource.id), None);
    Ok(resource)
}

pub async fn delete(ctx: &Context, actor: &Actor, id: &ResourceId) -> Result<(), ProtocolError> {
    let existing = get(ctx, id).await?;
    if !ctx.storage.resources.delete_resource(id).await? {
        return Err(no_such_resource());
    }
    ctx.resources.invalidate(&existing.identifier);
    actor.changed(&format!("deleted resource {id} ({})", existing.identifier), None);
    Ok(())
}

/// Client metadata may name only registered resources (`invalid_client_metadata`).
pub async fn check_registered<'a>(
    ctx: &Context,
    identifiers: impl Iterator<Item = &'a ResourceIndicator>,
) -> Result<(), ProtocolError> {
    for identifier in identifiers {
        if ctx.storage.resources.find_resource(identifier).await?.is_none() {
            return Err(ProtocolError::new(
                crate::domain::ErrorCode::InvalidClientMetadata,
                format!("no resource is registered with the identifier {identifier}"),
            ));
        }
    }
    Ok(())
}
