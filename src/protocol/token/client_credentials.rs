//! The `client_credentials` grant (RFC 6749 §4.4): a confidential client gets
//! a token for itself. Nothing is written to the database.

use super::TokenResponse;
use crate::domain::{Client, ErrorCode, Params, ProtocolError, ScopeSet};
use crate::protocol::Context;
use crate::protocol::access_token::{self, IssueSpec};
use crate::protocol::scope_policy::ScopePolicy;

/// RFC 6749 §4.4.2 parameters.
pub struct Request {
    pub scope: Option<String>,
}

impl Request {
    pub fn parse(params: &Params) -> Self {
        Self { scope: params.get("scope").map(str::to_owned) }
    }
}

pub fn grant(ctx: &Context, client: &Client, request: Request) -> Result<TokenResponse, ProtocolError> {
    // RFC 6749 §4.4: only confidential clients may use this grant.
    let policy = ScopePolicy::for_client(client).filter(|_| client.is_confidential()).ok_or_else(|| {
        ProtocolError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use the client_credentials grant",
        )
    })?;
    let requested = request.scope.as_deref().map(ScopeSet::parse).transpose();
    let scope = policy
        .grant(requested.map_err(ProtocolError::invalid_scope)?)
        .map_err(ProtocolError::invalid_scope)?;
    let issued = access_token::issue(ctx, IssueSpec::for_client(&client.id, &scope))?;
    Ok(TokenResponse::bearer(issued))
}
