//! Which scopes and resources a self-registered client may name: the
//! OpenID scopes, and the resources an admin opened to dynamic clients
//! (`dynamic_registration: true`) with the scopes they define. A client
//! that names resources (`resources`, `default_resource`) may register the
//! scopes of those; one that names none may later ask for any open
//! resource (see `audience`), so it may register the scopes of any. Either
//! way a resource's scope only ever goes into a token for that resource.

use crate::domain::page::MAX_PAGE_SIZE;
use crate::domain::scope::OIDC_SCOPES;
use crate::domain::{ClientMetadata, ErrorCode, PageRequest, ProtocolError, ScopeSet};
use crate::protocol::Context;

fn invalid(description: String) -> ProtocolError {
    ProtocolError::new(ErrorCode::InvalidClientMetadata, description)
}

/// `invalid_client_metadata` naming the first resource or scope not open
/// to dynamic clients. An unknown resource and a closed one get the same
/// answer: anyone may register, and learns nothing of what exists.
pub(super) async fn check(ctx: &Context, metadata: &ClientMetadata) -> Result<(), ProtocolError> {
    let mut opened: Vec<ScopeSet> = Vec::new();
    if metadata.allowed_resources().next().is_none() {
        opened = open_resource_scopes(ctx).await?;
    }
    for identifier in metadata.allowed_resources() {
        match ctx.storage.resources.find_resource(identifier).await? {
            Some(resource) if resource.dynamic_registration => opened.push(resource.scopes),
            _ => {
                return Err(invalid(format!(
                    "resource {identifier} is not open to dynamically registered clients"
                )));
            }
        }
    }
    let allowed = |scope: &str| OIDC_SCOPES.contains(&scope) || opened.iter().any(|s| s.contains(scope));
    if let Some(scope) = metadata.scope.iter().find(|scope| !allowed(scope)) {
        return Err(invalid(format!(
            "scope {scope:?} is not open to dynamically registered clients (it is not a scope of \
             a resource open to them, or of the resources named)"
        )));
    }
    Ok(())
}

/// The scopes of every resource open to dynamic clients. Read at
/// registration only; at most [`MAX_PAGES`] pages are looked at.
async fn open_resource_scopes(ctx: &Context) -> Result<Vec<ScopeSet>, ProtocolError> {
    let mut scopes = Vec::new();
    let mut page = PageRequest { after: None, limit: MAX_PAGE_SIZE };
    for _ in 0..MAX_PAGES {
        let resources = ctx.storage.resources.list_resources(&page).await?;
        let full = resources.len() >= page.limit;
        page.after = resources.last().map(|r| r.id.as_str().to_owned());
        scopes.extend(resources.into_iter().filter(|r| r.dynamic_registration).map(|r| r.scopes));
        if !full {
            break;
        }
    }
    Ok(scopes)
}

const MAX_PAGES: usize = 10;
