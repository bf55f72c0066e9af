//! The JWKS (RFC 7517 §5): the public half of every published signing key,
//! with `kid`, `alg` and `use`. Cached by clients for five minutes; a key
//! retired by rotation stays listed far longer than that.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::web::AppState;

pub async fn jwks(State(state): State<AppState>) -> Response {
    let body = state.keys.jwks().to_string();
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/jwk-set+json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}
