use serde_json::{Value, json};

use super::*;
use crate::domain::{ClientId, GrantType};

const URL: &str = "https://app.example/oauth/client.json";

fn url() -> ClientIdUrl {
    ClientIdUrl::parse(&ClientId::parse(URL).unwrap()).unwrap()
}

fn document(extra: Value) -> Vec<u8> {
    let mut document = json!({
        "client_id": URL,
        "client_name": "App",
        "redirect_uris": ["http://127.0.0.1/callback"],
    });
    for (key, value) in extra.as_object().unwrap() {
        document[key] = value.clone();
    }
    document.to_string().into_bytes()
}

#[test]
fn a_minimal_document_gives_a_public_code_client() {
    let metadata = validate(&url(), &document(json!({}))).unwrap();
    assert_eq!(metadata.token_endpoint_auth_method, TokenEndpointAuthMethod::None);
    assert_eq!(metadata.grant_types, [GrantType::AuthorizationCode]);
    assert_eq!(metadata.client_name.as_deref(), Some("App"));
    assert!(!metadata.first_party);
}

#[test]
fn the_client_id_must_be_the_url_exactly() {
    for other in
        [json!("https://app.example/oauth/client.json/"), json!("https://APP.example/oauth/client.json")]
    {
        let refused = validate(&url(), &document(json!({"client_id": other}))).unwrap_err();
        assert!(refused.contains("client_id"), "{refused}");
    }
    let mut missing: Value = serde_json::from_slice(&document(json!({}))).unwrap();
    missing.as_object_mut().unwrap().remove("client_id");
    assert!(validate(&url(), missing.to_string().as_bytes()).is_err());
}

#[test]
fn shared_secrets_are_refused() {
    for extra in [
        json!({"client_secret": "s3cret"}),
        json!({"client_secret_expires_at": 0}),
        json!({"token_endpoint_auth_method": "client_secret_basic"}),
        json!({"token_endpoint_auth_method": "client_secret_post"}),
        json!({"token_endpoint_auth_method": "client_secret_jwt"}),
        json!({"token_endpoint_auth_methods_supported": ["client_secret_basic"]}),
    ] {
        assert!(validate(&url(), &document(extra.clone())).is_err(), "{extra}");
    }
}

#[test]
fn the_list_of_supported_methods_wins_over_the_single_method() {
    let both = json!({
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "none"],
    });
    // Without keys, private_key_jwt cannot be used: the next listed method is.
    let metadata = validate(&url(), &document(both.clone())).unwrap();
    assert_eq!(metadata.token_endpoint_auth_method, TokenEndpointAuthMethod::None);
    let mut with_keys = both;
    with_keys["jwks_uri"] = json!("https://app.example/jwks.json");
    let metadata = validate(&url(), &document(with_keys)).unwrap();
    assert_eq!(metadata.token_endpoint_auth_method, TokenEndpointAuthMethod::PrivateKeyJwt);
    assert_eq!(metadata.jwks_uri.as_ref().map(|u| u.as_str()), Some("https://app.example/jwks.json"));
    let public_with_keys = json!({"token_endpoint_auth_methods_supported": ["none"], "jwks_uri": "https://app.example/jwks.json"});
    let metadata = validate(&url(), &document(public_with_keys)).unwrap();
    assert!(metadata.jwks_uri.is_none(), "a public client keeps no keys");
    let listed = json!({"token_endpoint_auth_methods_supported": ["client_secret_basic", "none"]});
    assert!(validate(&url(), &document(listed)).is_ok(), "a usable method is chosen from the list");
}

#[test]
fn admin_only_fields_and_the_admin_scope_are_not_taken_from_a_document() {
    let metadata = validate(&url(), &document(json!({"first_party": true, "require_pkce": false}))).unwrap();
    assert!(!metadata.first_party);
    assert_eq!(metadata.require_pkce, None);
    assert!(validate(&url(), &document(json!({"scope": "admin"}))).is_err());
}

#[test]
fn a_code_client_needs_a_redirect_uri_and_bodies_are_bounded() {
    assert!(validate(&url(), &document(json!({"redirect_uris": []}))).is_err());
    assert!(validate(&url(), &document(json!({"redirect_uris": ["https://*.app.example/cb"]}))).is_err());
    let padded =
        document(json!({"client_name": "x".repeat(100), "logo_uri": "y".repeat(MAX_DOCUMENT_BYTES)}));
    assert!(validate(&url(), &padded).unwrap_err().contains("larger"));
    assert!(validate(&url(), b"[1, 2]").is_err());
    assert!(validate(&url(), b"not json").is_err());
}

#[test]
fn a_document_cannot_get_client_credentials_tokens() {
    let machine = json!({
        "grant_types": ["client_credentials"], "redirect_uris": [], "response_types": [],
        "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://app.example/jwks.json",
    });
    let refused = validate(&url(), &document(machine)).unwrap_err();
    assert!(refused.contains("client_credentials"), "{refused}");
}
