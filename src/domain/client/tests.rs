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
