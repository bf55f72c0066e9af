//! Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document-02)
//! with `CASTELLAN_CLIENT_METADATA_DOCUMENTS=on`: a `client_id` that is an
//! `https` URL is fetched from a real HTTPS server the test controls
//! (`DocumentServer`, as `clients.test`), validated, cached and used for
//! the whole code flow. Every refusal at the authorization endpoint is the
//! HTML error page, never a redirect (no redirect URI is trusted then).

mod admin;
mod caching;
mod flow;
mod refusals;

use serde_json::{Value, json};
use url::Url;

use crate::helpers::document_server::{Canned, DocumentServer, test_ca_path};
use crate::helpers::{Backend, TestApp};
use crate::oidc::{PASSWORD, PKCE_CHALLENGE, UserAgent, create_user, param};

/// The redirect URI the test documents register.
pub const REDIRECT_URI: &str = "https://app.clients.test/callback";

/// A server with metadata documents on, reaching the test's document server
/// as `clients.test` (allowed although it is loopback) and `evil.test`
/// (loopback, not allowed); `extra` settings override these.
pub async fn spawn(backend: Backend, extra: &[(&str, &str)]) -> (TestApp, DocumentServer) {
    let server = DocumentServer::start().await;
    let ca = test_ca_path();
    let mut settings = vec![
        ("CASTELLAN_CLIENT_METADATA_DOCUMENTS", "on"),
        ("CASTELLAN_FETCH_RESOLVE", "clients.test=127.0.0.1,evil.test=127.0.0.1"),
        ("CASTELLAN_FETCH_ALLOW_HOSTS", "clients.test"),
        ("CASTELLAN_EXTRA_CA_CERTS", ca.as_str()),
    ];
    settings.extend_from_slice(extra);
    (TestApp::spawn_with(backend, &settings).await, server)
}

/// A valid document for `client_id`, with `extra` fields over the defaults.
pub fn document(client_id: &str, extra: Value) -> Value {
    let mut document = json!({
        "client_id": client_id,
        "client_name": "Test MCP Client",
        "redirect_uris": [REDIRECT_URI],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
    });
    for (key, value) in extra.as_object().expect("extra fields are an object") {
        document[key] = value.clone();
    }
    document
}

/// Serves a valid document at `path` of `server` (`max-age` 120 s) and
/// returns its `client_id`.
pub fn publish(server: &DocumentServer, path: &str, extra: Value) -> String {
    let client_id = server.url("clients.test", path);
    let canned = Canned::json(&document(&client_id, extra)).header("cache-control", "max-age=120");
    server.serve(path, canned);
    client_id
}

/// An authorization request with PKCE ([`PKCE_CHALLENGE`]) and `state`.
pub fn authorize_url(app: &TestApp, client_id: &str, redirect_uri: &str, scope: &str) -> String {
    let mut url = Url::parse(&app.url("/oauth2/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", scope)
        .append_pair("state", "st-1")
        .append_pair("code_challenge", PKCE_CHALLENGE)
        .append_pair("code_challenge_method", "S256");
    url.to_string()
}

/// The authorization endpoint's first answer to a browser without a session.
pub async fn authorize(app: &TestApp, client_id: &str) -> reqwest::Response {
    app.http.get(authorize_url(app, client_id, REDIRECT_URI, "openid")).send().await.unwrap()
}

/// Asserts the HTML error page (400, no redirect) and returns its text.
pub async fn assert_error_page(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none(), "nothing is redirected");
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    response.text().await.unwrap()
}

/// Asserts that the request was accepted: the browser is sent to sign in.
pub async fn assert_accepted(response: reqwest::Response) {
    let status = response.status().as_u16();
    let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
    let body = response.text().await.unwrap_or_default();
    assert_eq!(status, 303, "{body}");
    assert!(location.is_some_and(|l| l.contains("/login")), "{body}");
}

/// A user `alice` signs in and allows `client_id`; returns the code and the
/// consent page's HTML.
pub async fn grant(app: &TestApp, client_id: &str, redirect_uri: &str, scope: &str) -> (String, String) {
    create_user(app, "alice", json!({})).await;
    let mut ua = UserAgent::new(&app.address);
    ua.follow(&authorize_url(app, client_id, redirect_uri, scope)).await.page();
    let consent = ua.sign_in("alice", PASSWORD).await.page();
    assert!(consent.consent_form().is_some(), "{}", consent.body);
    let callback = ua.consent("Allow").await.callback();
    assert!(callback.as_str().starts_with(redirect_uri), "{callback}");
    assert_eq!(param(&callback, "state").as_deref(), Some("st-1"));
    let code = param(&callback, "code").unwrap_or_else(|| panic!("no code in {callback}"));
    (code, consent.body)
}

/// The path of the admin API resource of `client_id` (percent-encoded).
pub fn admin_client_path(client_id: &str) -> String {
    format!(
        "/admin/clients/{}",
        url::form_urlencoded::byte_serialize(client_id.as_bytes()).collect::<String>()
    )
}
