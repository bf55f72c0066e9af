//! Token revocation (RFC 7009 §2): the caller authenticates; an unknown,
//! malformed or expired token still answers 200 (§2.2).

use axum::extract::State;
use axum::http::StatusCode;

use crate::domain::ProtocolError;
use crate::protocol::revocation;
use crate::web::AppState;
use crate::web::client_auth::AuthenticatedClient;

pub async fn revoke(
    State(state): State<AppState>,
    AuthenticatedClient { client, params, .. }: AuthenticatedClient,
) -> Result<StatusCode, ProtocolError> {
    revocation::revoke(&state, &client, params.require("token")?).await?;
    Ok(StatusCode::OK)
}
