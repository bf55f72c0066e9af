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
        "authorization_endpoint": config.endpoint(routes::AUTHORIZATION),
        "token_endpoint": config.endpoint(routes::TOKEN),
        "userinfo_endpoint": config.endpoint(routes::USERINFO),
        "end_session_endpoint": config.endpoint(routes::END_SESSION),
        "jwks_uri": config.endpoint(routes::JWKS),
        "introspection_endpoint": config.endpoint(routes::INTROSPECTION),
        "revocation_endpoint": config.endpoint(routes::REVOCATION),
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "scopes_supported": ["openid", "profile", "email", "offline_access", "admin"],
        "claims_supported": CLAIMS,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        // RFC 7636 §4.2, RFC 9700 §2.1.1: only S256; `plain` is refused.
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent"],
        // RFC 9207: every authorization response carries `iss`.
        "authorization_response_iss_parameter_supported": true,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        // RFC 7009 §5: public clients may revoke their own tokens by client_id.
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "userinfo_signing_alg_values_supported": [],
        "access_token_signing_alg_values_supported": ["ES256"],
    })
}

/// Every claim an ID token or userinfo answer may carry.
const CLAIMS: [&str; 13] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    "azp",
    "name",
    "preferred_username",
    "email",
    "email_verified",
];

pub async fn discovery(State(state): State<AppState>) -> Response {
    let mut response = Json(metadata(&state.config)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}
