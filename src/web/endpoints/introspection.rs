//! Token introspection (RFC 7662 §2).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::domain::ProtocolError;
use crate::protocol::introspection;
use crate::web::AppState;
use crate::web::client_auth::AuthenticatedClient;

pub async fn introspect(
    State(state): State<AppState>,
    AuthenticatedClient { client, params, .. }: AuthenticatedClient,
) -> Result<Response, ProtocolError> {
    let body = introspection::introspect(&state, &client, params.require("token")?).await?;
    let mut response = Json(body).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
