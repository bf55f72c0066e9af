//! Authorization server metadata (RFC 8414 §2) and OpenID Provider metadata
//! (OpenID Connect Discovery 1.0 §3), listing exactly what is implemented.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::domain::client::AssertionAlgorithm;
use crate::domain::scope::{ADMIN_SCOPE, OIDC_SCOPES};
use crate::domain::{IdTokenAlgorithm, Issuer, KeyAlgorithm};
use crate::protocol::authorize::PROMPT_VALUES;
use crate::protocol::id_token::CLAIMS;
use crate::protocol::registration::RegistrationPolicy;
use crate::protocol::{client_auth, token};
use crate::web::{AppState, routes};

/// Built from the registries the endpoints dispatch on, so discovery lists
/// exactly what is implemented; `registration_endpoint` (RFC 8414 §2) only
/// while the registration policy lets anyone use it.
pub fn metadata(issuer: &Issuer, registration: RegistrationPolicy) -> Value {
    let grant_types: Vec<&str> = token::GRANT_TYPES.iter().map(|g| g.as_str()).collect();
    let auth_methods: Vec<&str> = client_auth::METHODS.iter().map(|m| m.as_str()).collect();
    let confidential_methods: Vec<&str> =
        client_auth::METHODS.iter().filter(|m| m.is_confidential()).map(|m| m.as_str()).collect();
    let scopes: Vec<&str> = OIDC_SCOPES.into_iter().chain([ADMIN_SCOPE]).collect();
    let id_token_algorithms: Vec<&str> = IdTokenAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
    // The algorithms the private_key_jwt verifier accepts, and no others.
    let assertion_algorithms: Vec<&str> = AssertionAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
    let mut metadata = json!({
        "issuer": issuer.as_str(),
        "authorization_endpoint": issuer.endpoint(routes::AUTHORIZATION),
        "token_endpoint": issuer.endpoint(routes::TOKEN),
        "userinfo_endpoint": issuer.endpoint(routes::USERINFO),
        "end_session_endpoint": issuer.endpoint(routes::END_SESSION),
        "jwks_uri": issuer.endpoint(routes::JWKS),
        "introspection_endpoint": issuer.endpoint(routes::INTROSPECTION),
        "revocation_endpoint": issuer.endpoint(routes::REVOCATION),
        "grant_types_supported": grant_types,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "scopes_supported": scopes,
        "claims_supported": CLAIMS,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": id_token_algorithms,
        // RFC 7636 §4.2, RFC 9700 §2.1.1: only S256; `plain` is refused.
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": PROMPT_VALUES,
        // RFC 9207: every authorization response carries `iss`.
        "authorization_response_iss_parameter_supported": true,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": assertion_algorithms,
        "introspection_endpoint_auth_methods_supported": confidential_methods,
        "introspection_endpoint_auth_signing_alg_values_supported": assertion_algorithms,
        // RFC 7009 §5: public clients may revoke their own tokens by client_id.
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_signing_alg_values_supported": assertion_algorithms,
        "userinfo_signing_alg_values_supported": [],
        "access_token_signing_alg_values_supported": [KeyAlgorithm::ACCESS_TOKEN.name()],
    });
    if registration.is_enabled() {
        metadata["registration_endpoint"] = Value::from(issuer.endpoint(routes::REGISTRATION));
    }
    metadata
}

pub async fn discovery(State(state): State<AppState>) -> Response {
    let settings = &state.settings;
    let mut metadata = metadata(&settings.issuer, settings.registration.policy);
    // Draft-ietf-oauth-client-id-metadata-document-02 §6: advertised exactly
    // when a `client_id` URL is resolved.
    if state.clients.metadata_documents().is_some() {
        metadata["client_id_metadata_document_supported"] = Value::Bool(true);
    }
    let mut response = Json(metadata).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}
