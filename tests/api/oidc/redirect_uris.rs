//! Redirect URIs beyond exact matching: the loopback port of native apps
//! (RFC 8252 §7.3) and a redirect URI left out (RFC 6749 §3.1.2.3, §4.1.3);
//! and where a user's token stops (the admin API).

use serde_json::json;

use super::*;
use crate::both_backends;
use crate::helpers::{Backend, TestApp};

/// A confidential non-OpenID client and its secret, registered with `metadata`.
async fn plain_client(app: &TestApp, metadata: Value) -> (String, String) {
    let (status, client) = app.register_client(metadata).await;
    assert_eq!(status, 201, "{client}");
    (client["client_id"].as_str().unwrap().to_owned(), client["client_secret"].as_str().unwrap().to_owned())
}

/// Signs alice in and allows, from an authorization request with `query`;
/// returns where the browser was sent.
async fn authorize(app: &TestApp, query: &[(&str, &str)]) -> Url {
    let mut url = Url::parse(&app.url("/oauth2/authorize")).unwrap();
    url.query_pairs_mut().extend_pairs(query);
    let mut ua = UserAgent::new(&app.address);
    let landing = ua.follow(url.as_str()).await;
    complete(&mut ua, landing, "alice").await
}

/// RFC 8252 §7.3: a loopback IP redirect URI may come with any port, chosen
/// by the native app at run time; the code is bound to the URI as sent.
async fn a_loopback_redirect_uri_may_use_any_port(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let (id, secret) =
        plain_client(&app, json!({"redirect_uris": ["http://127.0.0.1/cb"], "scope": "photos"})).await;
    let sent = "http://127.0.0.1:53211/cb";
    let params = [
        ("response_type", "code"),
        ("client_id", &id),
        ("redirect_uri", sent),
        ("scope", "photos"),
        ("code_challenge", PKCE_CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let callback = authorize(&app, &params).await;
    assert!(callback.as_str().starts_with(sent), "{callback}");
    let code = param(&callback, "code").unwrap();
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", sent),
        ("code_verifier", PKCE_VERIFIER),
    ];
    assert_eq!(raw_exchange(&app, &exchange, Some((&id, &secret))).await.status(), 200);
}

/// RFC 6749 §3.1.2.3 and §4.1.3: a client with one redirect URI may leave
/// it out of a (non-OpenID) request, and then of the token request too.
async fn an_omitted_redirect_uri_is_the_only_registered_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let (id, secret) =
        plain_client(&app, json!({"redirect_uris": ["https://app.example/cb"], "scope": "photos"})).await;
    let params = [
        ("response_type", "code"),
        ("client_id", id.as_str()),
        ("scope", "photos"),
        ("code_challenge", PKCE_CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let callback = authorize(&app, &params).await;
    assert!(callback.as_str().starts_with("https://app.example/cb?"), "{callback}");
    let code = param(&callback, "code").unwrap();
    let exchange =
        [("grant_type", "authorization_code"), ("code", code.as_str()), ("code_verifier", PKCE_VERIFIER)];
    assert_eq!(raw_exchange(&app, &exchange, Some((&id, &secret))).await.status(), 200);
}

/// interface.md: admin tokens come from `client_credentials`; a user's
/// token through a client that may ask for `admin` is not one (403).
async fn a_users_token_with_the_admin_scope_is_not_an_admin_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::register(&app, json!({"scope": "admin", "first_party": true})).await;
    let mut ua = UserAgent::new(&app.address);
    let tokens = sign_in(&app, &rp, &mut ua, "alice", &["admin"]).await;
    assert!(jwt_payload(&tokens.access_token)["scope"].as_str().unwrap().contains("admin"));
    let (status, _) =
        app.admin_request(reqwest::Method::GET, "/admin/clients", Some(&tokens.access_token), None).await;
    assert_eq!(status, 403);
}

both_backends!(
    a_loopback_redirect_uri_may_use_any_port,
    an_omitted_redirect_uri_is_the_only_registered_one,
    a_users_token_with_the_admin_scope_is_not_an_admin_token,
);
