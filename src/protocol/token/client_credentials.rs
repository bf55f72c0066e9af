//! The `client_credentials` grant (RFC 6749 §4.4): a confidential client gets
//! a token for itself, for the resources it names (RFC 8707). Nothing is
//! written to the database, and resources are read from the cache.

use super::TokenResponse;
use crate::domain::{Client, ErrorCode, Params, ProtocolError, ResourceSet, ScopeSet};
use crate::protocol::Context;
use crate::protocol::access_token::{self, IssueSpec};
use crate::protocol::audience::Audience;
use crate::protocol::scope_policy::ScopePolicy;

/// RFC 6749 §4.4.2 parameters, and RFC 8707 §2 `resource`.
pub struct Request {
    pub scope: Option<String>,
    pub resources: ResourceSet,
}

impl Request {
    pub fn parse(params: &Params, resources: ResourceSet) -> Self {
        Self { scope: params.get("scope").map(str::to_owned), resources }
    }
}

pub async fn grant(ctx: &Context, client: &Client, request: Request) -> Result<TokenResponse, ProtocolError> {
    // RFC 6749 §4.4: only confidential clients may use this grant.
    let policy = ScopePolicy::for_client(client).filter(|_| client.is_confidential()).ok_or_else(|| {
        ProtocolError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use the client_credentials grant",
        )
    })?;
    let audience = Audience::for_new_grant(ctx, client, &request.resources).await?;
    let requested = request.scope.as_deref().map(ScopeSet::parse).transpose();
    let scope = policy
        .grant_for(requested.map_err(ProtocolError::invalid_scope)?, &audience)
        .map_err(ProtocolError::invalid_scope)?;
    let resources = audience.indicators();
    let spec = IssueSpec::for_client(&client.id, &scope).for_resources(&resources);
    let issued = access_token::issue(ctx, spec)?;
    Ok(TokenResponse::bearer(issued))
}
