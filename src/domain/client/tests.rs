use super::*;
use crate::domain::{ErrorCode, ProtocolError};

fn request(json: serde_json::Value) -> Result<ClientMetadata, ProtocolError> {
    serde_json::from_value::<ClientMetadataRequest>(json).unwrap().validate()
}

#[test]
fn defaults_follow_rfc_7591() {
    let metadata = request(serde_json::json!({"redirect_uris": ["https://a.example/cb"]})).unwrap();
    assert_eq!(metadata.grant_types, vec![GrantType::AuthorizationCode]);
    assert_eq!(metadata.response_types, vec![ResponseType::Code]);
    assert_eq!(metadata.token_endpoint_auth_method, TokenEndpointAuthMethod::ClientSecretBasic);
}

#[test]
fn a_service_client_needs_no_redirect_uri() {
    let metadata = request(serde_json::json!({
        "grant_types": ["client_credentials"], "redirect_uris": [], "response_types": []
    }))
    .unwrap();
    assert!(metadata.redirect_uris.is_empty());
}

#[test]
fn code_grant_without_redirect_uri_is_an_invalid_redirect_uri() {
    let error = request(serde_json::json!({})).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidRedirectUri);
}

#[test]
fn pkce_is_required_unless_a_confidential_clients_openid_request_has_a_nonce() {
    let redirect = serde_json::json!(["https://a.example/cb"]);
    let client = |method: &str, require: serde_json::Value| {
        request(serde_json::json!({
            "redirect_uris": redirect, "token_endpoint_auth_method": method, "require_pkce": require,
        }))
        .unwrap()
    };
    let confidential = client("client_secret_basic", serde_json::Value::Null);
    assert!(confidential.requires_pkce(false) && !confidential.requires_pkce(true));
    let always = client("client_secret_post", true.into());
    assert!(always.requires_pkce(false) && always.requires_pkce(true));
    let legacy = client("client_secret_basic", false.into());
    assert!(!legacy.requires_pkce(false) && !legacy.requires_pkce(true));
    for require in [serde_json::Value::Null, false.into(), true.into()] {
        let public = client("none", require);
        assert!(public.requires_pkce(false) && public.requires_pkce(true));
    }
}

#[test]
fn inconsistent_metadata_is_refused() {
    for json in [
        serde_json::json!({"grant_types": ["client_credentials"], "response_types": ["code"]}),
        serde_json::json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "none"}),
        serde_json::json!({"grant_types": ["implicit"]}),
        serde_json::json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt"}),
    ] {
        assert_eq!(request(json).unwrap_err().code, ErrorCode::InvalidClientMetadata);
    }
}

/// A P-256 public key (RFC 7515 Appendix A.3), as a client registers it.
fn p256_jwks() -> serde_json::Value {
    serde_json::json!({"keys": [{
        "kty": "EC", "crv": "P-256", "kid": "k1",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
    }]})
}

#[test]
fn a_private_key_jwt_client_registers_its_keys_and_is_confidential_without_a_secret() {
    let metadata = request(serde_json::json!({
        "grant_types": ["client_credentials"], "redirect_uris": [], "response_types": [],
        "token_endpoint_auth_method": "private_key_jwt", "jwks": p256_jwks(),
        "token_endpoint_auth_signing_alg": "ES256",
    }))
    .unwrap();
    let method = metadata.token_endpoint_auth_method;
    assert!(method.is_confidential() && !method.uses_secret());
    assert_eq!(metadata.token_endpoint_auth_signing_alg, Some(AssertionAlgorithm::ES256));
    let stored = serde_json::to_value(&metadata).unwrap();
    assert_eq!(stored["jwks"], p256_jwks());
    assert_eq!(serde_json::from_value::<ClientMetadata>(stored).unwrap(), metadata);
}

#[test]
fn keys_are_registered_only_for_private_key_jwt_and_must_fit_the_algorithm() {
    let service = |extra: serde_json::Value| {
        let mut json = serde_json::json!({
            "grant_types": ["client_credentials"], "redirect_uris": [], "response_types": [],
        });
        json.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        request(json)
    };
    for bad in [
        serde_json::json!({"token_endpoint_auth_method": "private_key_jwt"}),
        serde_json::json!({"token_endpoint_auth_method": "client_secret_basic", "jwks": p256_jwks()}),
        serde_json::json!({"token_endpoint_auth_signing_alg": "ES256"}),
        serde_json::json!({"token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": []}}),
        serde_json::json!({"token_endpoint_auth_method": "private_key_jwt", "jwks": p256_jwks(),
            "token_endpoint_auth_signing_alg": "RS256"}),
        serde_json::json!({"token_endpoint_auth_method": "private_key_jwt", "jwks": p256_jwks(),
            "token_endpoint_auth_signing_alg": "none"}),
        serde_json::json!({"token_endpoint_auth_method": "private_key_jwt", "jwks": p256_jwks(),
            "token_endpoint_auth_signing_alg": "HS256"}),
        serde_json::json!({"token_endpoint_auth_method": "private_key_jwt", "jwks": p256_jwks(),
            "jwks_uri": "https://client.example/jwks"}),
        serde_json::json!({"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "http://client.example/jwks"}),
        serde_json::json!({"jwks_uri": "https://client.example/jwks"}),
    ] {
        assert_eq!(service(bad.clone()).unwrap_err().code, ErrorCode::InvalidClientMetadata, "{bad}");
    }
}

#[test]
fn a_private_key_jwt_client_may_give_its_keys_by_reference() {
    let metadata = request(serde_json::json!({
        "grant_types": ["client_credentials"], "redirect_uris": [], "response_types": [],
        "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://client.example/jwks",
        "token_endpoint_auth_signing_alg": "EdDSA",
    }))
    .unwrap();
    assert_eq!(metadata.jwks_uri.as_ref().map(|uri| uri.as_str()), Some("https://client.example/jwks"));
    assert_eq!(
        (metadata.jwks.is_none(), metadata.token_endpoint_auth_signing_alg),
        (true, Some(AssertionAlgorithm::EdDSA))
    );
}
