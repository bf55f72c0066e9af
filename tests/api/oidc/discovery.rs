//! OpenID Provider metadata for the browser flow (OIDC Discovery 1.0 §3,
//! RFC 8414 §2, RFC 9207 §3): what a relying party needs to find and trust.

use serde_json::Value;

use super::*;
use crate::both_backends;
use crate::helpers::{Backend, TestApp};

fn strings(metadata: &Value, field: &str) -> Vec<String> {
    let values = metadata[field].as_array().unwrap_or_else(|| panic!("{field} is a list: {metadata}"));
    values.iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

/// OIDC Discovery §3: the metadata lists the authorization, token, userinfo
/// and end-session endpoints under the issuer, the `code` response type,
/// S256 PKCE only, public subjects, RS256 and ES256 ID tokens, and
/// RFC 9207's `iss` in authorization responses; RFC 8414's document agrees.
async fn discovery_lists_the_browser_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.http.get(app.url("/.well-known/openid-configuration")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let metadata: Value = response.json().await.unwrap();
    assert_eq!(metadata["issuer"], app.address.as_str());
    for (field, path) in [
        ("authorization_endpoint", "/oauth2/authorize"),
        ("userinfo_endpoint", "/oauth2/userinfo"),
        ("end_session_endpoint", "/oauth2/logout"),
        ("token_endpoint", "/oauth2/token"),
    ] {
        assert_eq!(metadata[field], app.url(path), "{field}");
    }
    assert!(metadata["jwks_uri"].as_str().is_some_and(|uri| uri.starts_with(&app.address)));
    assert!(strings(&metadata, "response_types_supported").contains(&"code".to_owned()));
    assert_eq!(strings(&metadata, "code_challenge_methods_supported"), ["S256"]);
    assert_eq!(strings(&metadata, "subject_types_supported"), ["public"]);
    let algs = strings(&metadata, "id_token_signing_alg_values_supported");
    assert!(algs.contains(&"RS256".to_owned()) && algs.contains(&"ES256".to_owned()), "{algs:?}");
    assert_eq!(metadata["authorization_response_iss_parameter_supported"], true);
    for scope in ["openid", "profile", "email", "offline_access"] {
        assert!(strings(&metadata, "scopes_supported").contains(&scope.to_owned()), "{scope}");
    }
    for grant in ["authorization_code", "refresh_token"] {
        assert!(strings(&metadata, "grant_types_supported").contains(&grant.to_owned()), "{grant}");
    }

    let oauth = app.discovery().await;
    for field in ["authorization_endpoint", "token_endpoint", "code_challenge_methods_supported"] {
        assert_eq!(oauth[field], metadata[field], "{field}");
    }
    assert_eq!(oauth["authorization_response_iss_parameter_supported"], true);
}

/// OIDC Core §3.1.2.6: with `request_parameter_supported` and
/// `request_uri_parameter_supported` false, a `request` is
/// `request_not_supported` and a `request_uri` is `request_uri_not_supported`.
async fn request_objects_are_not_supported(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::public(&app).await;
    let mut ua = UserAgent::new(&app.address);
    let auth = rp.authorize(&[]);
    let url = with_query(&auth.url, &[("request", Some("eyJhbGciOiJub25lIn0.e30."))]);
    assert_redirected_error(&app, ua.follow(url.as_str()).await, &auth, "request_not_supported");
    let auth = rp.authorize(&[]);
    let url = with_query(&auth.url, &[("request_uri", Some("https://rp.example.com/request.jwt"))]);
    assert_redirected_error(&app, ua.follow(url.as_str()).await, &auth, "request_uri_not_supported");
}

both_backends!(discovery_lists_the_browser_flow, request_objects_are_not_supported);
