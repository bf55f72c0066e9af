//! Token revocation (RFC 7009). The caller authenticates; a token it holds is
//! revoked on every instance (at once here, within the sync interval on the
//! others). An unknown, malformed or expired token still answers 200 (§2.2).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

use crate::access_token;
use crate::client_auth;
use crate::clock;
use crate::domain::ClientId;
use crate::error::{ErrorCode, ProtocolError};
use crate::form::Form;
use crate::state::AppState;
use crate::token;

pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(params): Form,
) -> Result<StatusCode, ProtocolError> {
    let client = client_auth::authenticate(&state, &headers, &params).await?;
    let token = params.require("token")?;
    let Some(claims) = access_token::verify(&state, token).await else {
        revoke_refresh_token(&state, &client.id, token).await?;
        return Ok(StatusCode::OK);
    };
    // §2.1: the server verifies the token was issued to the requesting
    // client, and refuses the request otherwise.
    if claims.client_id != client.id.as_str() {
        return Err(ProtocolError::new(
            ErrorCode::UnauthorizedClient,
            "this token was not issued to the requesting client",
        ));
    }
    state.revocations.revoke(&claims.jti, claims.exp).await?;
    Ok(StatusCode::OK)
}

/// §2.1: revoking a refresh token also revokes the access tokens of the same
/// grant; here, the whole token family.
async fn revoke_refresh_token(state: &AppState, client: &ClientId, token: &str) -> Result<(), ProtocolError> {
    if !token::refresh_token::looks_like_refresh_token(token) {
        return Ok(());
    }
    let hash = token::refresh_token::token_hash(token);
    let Some((_, family)) = state.storage.grants.get_refresh_token(&hash).await? else { return Ok(()) };
    if &family.client_id != client {
        return Err(ProtocolError::new(
            ErrorCode::UnauthorizedClient,
            "this token was not issued to the requesting client",
        ));
    }
    token::refresh_token::revoke_family(state, &family.family_id, clock::now()).await
}
