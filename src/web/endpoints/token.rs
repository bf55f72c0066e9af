//! The token endpoint (RFC 6749 §3.2): the authenticated client's request,
//! parsed into a `TokenRequest` and answered as §5.1 JSON.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::domain::ProtocolError;
use crate::protocol::token::{self, TokenRequest, TokenResponse};
use crate::web::AppState;
use crate::web::client_auth::AuthenticatedClient;

pub async fn token(
    State(state): State<AppState>,
    AuthenticatedClient { client, params, address }: AuthenticatedClient,
) -> Result<TokenResponse, ProtocolError> {
    let request = TokenRequest::try_from(&params)?;
    token::exchange(&state, &client, address.0, request).await
}

impl IntoResponse for TokenResponse {
    fn into_response(self) -> Response {
        let mut response = Json(self).into_response();
        // RFC 6749 §5.1: responses with tokens are never cached.
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        response
    }
}
