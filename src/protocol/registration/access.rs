//! Which scopes and resources a self-registered client may name: the
//! OpenID scopes, and the resources an admin opened to dynamic clients
//! (`dynamic_registration: true`) with the scopes they define. A scope of a
//! resource counts only with the resource named in `resources` (or as
//! `default_resource`): without it the client could never get a token
//! carrying that scope for that resource, and the issuer's own tokens must
//! not carry a resource's scopes (see `audience`).

use crate::domain::scope::OIDC_SCOPES;
use crate::domain::{ClientMetadata, ErrorCode, ProtocolError, ScopeSet};
use crate::protocol::Context;

fn invalid(description: String) -> ProtocolError {
    ProtocolError::new(ErrorCode::InvalidClientMetadata, description)
}

/// `invalid_client_metadata` naming the first resource or scope not open
/// to dynamic clients. An unknown resource and a closed one get the same
/// answer: anyone may register, and learns nothing of what exists.
pub(super) async fn check(ctx: &Context, metadata: &ClientMetadata) -> Result<(), ProtocolError> {
    let mut opened: Vec<ScopeSet> = Vec::new();
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
            "scope {scope:?} is not open to dynamically registered clients (a resource's scope needs \
             that resource in resources)"
        )));
    }
    Ok(())
}
