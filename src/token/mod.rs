//! The token endpoint (RFC 6749 §3.2): authenticates the client, then
//! dispatches on `grant_type` to the grant's module.

mod authorization_code;
mod client_credentials;
pub mod refresh_token;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::access_token::IssuedToken;
use crate::client_auth;
use crate::error::{ErrorCode, ProtocolError};
use crate::form::Form;
use crate::state::AppState;

/// RFC 6749 §5.1 successful response.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl TokenResponse {
    pub fn bearer(issued: IssuedToken) -> Self {
        Self {
            access_token: issued.token,
            token_type: "Bearer",
            expires_in: issued.expires_in,
            scope: issued.claims.scope,
            refresh_token: None,
            id_token: None,
        }
    }
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

pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(params): Form,
) -> Result<TokenResponse, ProtocolError> {
    let client = client_auth::authenticate(&state, &headers, &params).await?;
    match params.require("grant_type")? {
        "authorization_code" => authorization_code::grant(&state, &client, &params).await,
        "refresh_token" => refresh_token::grant(&state, &client, &params).await,
        "client_credentials" => client_credentials::grant(&state, &client, &params),
        other => Err(ProtocolError::new(
            ErrorCode::UnsupportedGrantType,
            format!("grant_type {other:?} is not supported"),
        )),
    }
}
