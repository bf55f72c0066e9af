//! Authorization server metadata (RFC 8414 §2) and OpenID Provider metadata
//! (OpenID Connect Discovery 1.0 §3), listing exactly what is implemented.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::config::Config;
use crate::routes;
use crate::state::AppState;

const CLIENT_AUTH_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];

pub fn metadata(config: &Config) -> Value {
    json!({
        "issuer": config.issuer,
        "token_endpoint": config.endpoint(routes::TOKEN),
        "jwks_uri": config.endpoint(routes::JWKS),
        "introspection_endpoint": config.endpoint(routes::INTROSPECTION),
        "revocation_endpoint": config.endpoint(routes::REVOCATION),
        "grant_types_supported": ["client_credentials"],
        // No authorization endpoint yet, so no response type is offered.
        "response_types_supported": [],
        "scopes_supported": ["admin"],
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        // RFC 7009 §5: public clients may revoke their own tokens by client_id.
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "access_token_signing_alg_values_supported": ["ES256"],
    })
}

pub async fn discovery(State(state): State<AppState>) -> Response {
    let mut response = Json(metadata(&state.config)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}
