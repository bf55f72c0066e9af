//! The three policies: `off` (no endpoint), `token` (an admin's initial
//! access token, single use, RFC 7591 §3) and `open`; what a registration
//! answers (RFC 7591 §3.2.1).

use serde_json::{Value, json};

use super::*;
use crate::both_backends;
use crate::helpers::{Backend, TestApp, assert_error, security_events};

both_backends!(
    registration_is_off_by_default_absent_from_discovery_and_answers_404,
    an_enabled_registration_endpoint_is_in_both_discovery_documents,
    the_token_policy_needs_an_unused_unexpired_initial_access_token,
    initial_access_tokens_are_made_by_admins_within_bounds,
    a_registration_answers_the_client_information_uncached_and_the_client_works,
);

async fn discovery_documents(app: &TestApp) -> [Value; 2] {
    let mut documents = Vec::new();
    for path in ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        documents.push(response.json::<Value>().await.unwrap());
    }
    [documents[0].clone(), documents[1].clone()]
}

async fn registration_is_off_by_default_absent_from_discovery_and_answers_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for document in discovery_documents(&app).await {
        assert!(document.get("registration_endpoint").is_none(), "{document}");
    }
    let response = app.http.post(app.url("/oauth2/register")).json(&web_app()).send().await.unwrap();
    assert_error(response, 404, "not_found").await;
    let response =
        app.http.get(app.url("/oauth2/register/some-client")).bearer_auth("x").send().await.unwrap();
    assert_error(response, 404, "not_found").await;
}

async fn an_enabled_registration_endpoint_is_in_both_discovery_documents(backend: Backend) {
    for settings in [OPEN, TOKEN] {
        let app = TestApp::spawn_with(backend, settings).await;
        let expected = app.url("/oauth2/register");
        for document in discovery_documents(&app).await {
            assert_eq!(document["registration_endpoint"], expected, "{document}");
        }
    }
}

/// RFC 7591 §3 and RFC 6750 §3: without a token, or with one unknown,
/// spent or expired, 401 `invalid_token` with a challenge; a request with
/// bad metadata does not spend the token.
async fn the_token_policy_needs_an_unused_unexpired_initial_access_token(backend: Backend) {
    let app = TestApp::spawn_with(backend, TOKEN).await;
    let endpoint = app.endpoint("registration_endpoint").await;
    let response = app.http.post(&endpoint).json(&web_app()).send().await.unwrap();
    assert!(
        response.headers().get("www-authenticate").is_some_and(|v| v.to_str().unwrap().starts_with("Bearer"))
    );
    assert_error(response, 401, "invalid_token").await;
    let (status, body) = register(&app, Some("not-a-token"), &web_app()).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_token")), "{body}");

    let token = initial_access_token(&app, None).await;
    let (status, body) = register(&app, Some(&token), &json!({"redirect_uris": ["ftp://x"]})).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_redirect_uri")), "{body}");
    let (status, body) = register(&app, Some(&token), &web_app()).await;
    assert_eq!(status, 201, "the token was not spent by the bad request: {body}");
    let (status, body) = register(&app, Some(&token), &web_app()).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_token")), "single use: {body}");

    let short = initial_access_token(&app, Some(json!({"expires_in": 60}))).await;
    app.clock.advance(61);
    let (status, body) = register(&app, Some(&short), &web_app()).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_token")), "expired: {body}");
}

async fn initial_access_tokens_are_made_by_admins_within_bounds(backend: Backend) {
    let app = TestApp::spawn_with(backend, TOKEN).await;
    let path = "/admin/initial-access-tokens";
    let (status, _) = app.admin_request(reqwest::Method::POST, path, None, None).await;
    assert_eq!(status, 401);
    let admin = app.admin_token().await;
    for bad in [json!({"expires_in": 0}), json!({"expires_in": 2_592_001}), json!({"expires_after": 60})] {
        let (status, body) = app.admin_request(reqwest::Method::POST, path, Some(&admin), Some(&bad)).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{bad}: {body}");
    }
    let (status, body) = app.admin_request(reqwest::Method::POST, path, Some(&admin), None).await;
    assert_eq!(status, 201, "{body}");
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.len(), 43, "256 random bits, base64url");
    let expires_at = body["expires_at"].as_i64().unwrap();
    assert!((app.clock.now() + 86_300..=app.clock.now() + 86_400).contains(&expires_at), "one day");
}

/// RFC 7591 §3.2.1: the registered metadata with `client_id`,
/// `client_id_issued_at`, the secret (expiring never: 0), and RFC 7592's
/// `registration_access_token` and `registration_client_uri`; not cached.
async fn a_registration_answers_the_client_information_uncached_and_the_client_works(backend: Backend) {
    let app = TestApp::spawn_with(backend, OPEN).await;
    let endpoint = app.endpoint("registration_endpoint").await;
    let metadata = json!({
        "client_name": "Report exporter", "grant_types": ["client_credentials"],
        "redirect_uris": [], "response_types": [],
    });
    let response = app.http.post(&endpoint).json(&metadata).send().await.unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 201, "{body}");
    let id = body["client_id"].as_str().unwrap();
    let secret = body["client_secret"].as_str().unwrap();
    assert_eq!(body["client_secret_expires_at"], 0);
    assert!(body["client_id_issued_at"].as_i64().unwrap() >= app.clock.now() - 5);
    assert_eq!(body["registration_client_uri"], format!("{endpoint}/{id}"));
    assert_eq!(body["registration_access_token"].as_str().map(str::len), Some(43));
    assert_eq!(body["application_type"], "web");
    assert_eq!(body["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(body["client_name"], "Report exporter");

    app.token_for(id, secret, &[]).await;
    let admin = app.admin_token().await;
    let (status, shown) =
        app.admin_request(reqwest::Method::GET, &format!("/admin/clients/{id}"), Some(&admin), None).await;
    assert_eq!((status, shown["origin"].as_str()), (200, Some("dynamic")), "{shown}");
    assert!(shown.get("client_secret").is_none());
    assert_eq!(security_events("client_registered", "client_id", id).len(), 1);
}
