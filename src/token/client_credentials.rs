//! The `client_credentials` grant (RFC 6749 §4.4): a confidential client gets
//! a token for itself. Nothing is written to the database.

use crate::access_token;
use crate::domain::{Client, GrantType, ScopeSet};
use crate::error::{ErrorCode, ProtocolError};
use crate::form::Params;
use crate::state::AppState;

use super::TokenResponse;

pub fn grant(state: &AppState, client: &Client, params: &Params) -> Result<TokenResponse, ProtocolError> {
    // RFC 6749 §4.4: only confidential clients may use this grant.
    if !client.is_confidential() || !client.metadata.allows_grant(GrantType::ClientCredentials) {
        return Err(ProtocolError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use the client_credentials grant",
        ));
    }
    let scope = granted_scope(client, params.get("scope"))?;
    // RFC 9068 §2.2: with no resource owner, `sub` names the client.
    let issued = access_token::issue(state, &client.id, client.id.as_str(), &scope, None)?;
    Ok(TokenResponse::bearer(issued))
}

/// RFC 6749 §3.3: a requested scope must be within the client's registered
/// scope; an omitted one means the registered scope.
fn granted_scope(client: &Client, requested: Option<&str>) -> Result<ScopeSet, ProtocolError> {
    let Some(requested) = requested else { return Ok(client.metadata.scope.clone()) };
    let scope = ScopeSet::parse(requested).map_err(ProtocolError::invalid_scope)?;
    if !scope.is_subset_of(&client.metadata.scope) {
        return Err(ProtocolError::invalid_scope("the requested scope exceeds what this client may ask for"));
    }
    Ok(scope)
}
