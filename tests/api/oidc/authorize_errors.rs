//! Errors at the authorization endpoint (RFC 6749 §4.1.2.1, §3.1.2.4):
//! before the client and its redirect URI are known to be good, an HTML
//! error page that never redirects; after, a redirect with `error`,
//! `state` and `iss` (RFC 9207).

use serde_json::json;

use super::*;
use crate::both_backends;
use crate::helpers::{Backend, TestApp};

/// Asserts a 400 HTML error page with no redirect.
async fn assert_error_page(ua: &UserAgent, url: &Url) {
    let response = ua.get(url.as_str()).await;
    assert_eq!(response.status(), 400, "{url}");
    assert!(response.headers().get("location").is_none(), "{url}");
    let kind = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    assert!(kind.as_deref().is_some_and(|k| k.starts_with("text/html")), "{url}: {kind:?}");
}

/// RFC 6749 §4.1.2.1: an unknown or missing `client_id` is not redirected
/// anywhere: the user sees an error page (400).
async fn an_unknown_or_missing_client_gets_an_error_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::public(&app).await;
    let ua = UserAgent::new(&app.address);
    let auth = rp.authorize(&[]);
    for client in [Some("no-such-client"), Some(""), None] {
        assert_error_page(&ua, &with_query(&auth.url, &[("client_id", client)])).await;
    }
}

/// RFC 6749 §3.1.2.4 and RFC 9700 §4.1.3: a redirect URI that is not
/// registered exactly (other host, path, trailing slash, added query,
/// different case, userinfo) gets an error page, never a redirect.
async fn an_unregistered_redirect_uri_gets_an_error_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::public(&app).await;
    let ua = UserAgent::new(&app.address);
    let auth = rp.authorize(&[]);
    for uri in [
        "https://attacker.example.com/callback",
        "https://rp.example.com/callback/",
        "https://rp.example.com/callback?next=x",
        "https://rp.example.com/callback/../evil",
        "https://RP.example.com/callback",
        "https://rp.example.com.attacker.example/callback",
        "https://rp.example.com@attacker.example/callback",
        "https://rp.example.com/callbackx",
        "http://rp.example.com/callback",
        "",
    ] {
        assert_error_page(&ua, &with_query(&auth.url, &[("redirect_uri", Some(uri))])).await;
    }
    // Another client's redirect URI is just as foreign.
    let other = Rp::register(&app, json!({"redirect_uris": ["https://other.example.com/cb"]})).await;
    let url = with_query(&auth.url, &[("client_id", Some(&other.id))]);
    assert_error_page(&ua, &url).await;
}

/// RFC 6749 §4.1.2.1: a `response_type` other than `code` is
/// `unsupported_response_type`; a missing one is `invalid_request`.
async fn an_unsupported_response_type_is_redirected_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::public(&app).await;
    let mut ua = UserAgent::new(&app.address);
    for response_type in ["token", "id_token", "code id_token"] {
        let auth = rp.authorize(&[]);
        let url = with_query(&auth.url, &[("response_type", Some(response_type))]);
        assert_redirected_error(&app, ua.follow(url.as_str()).await, &auth, "unsupported_response_type");
    }
    let auth = rp.authorize(&[]);
    let url = with_query(&auth.url, &[("response_type", None)]);
    assert_redirected_error(&app, ua.follow(url.as_str()).await, &auth, "invalid_request");
}

/// RFC 6749 §3.3 and §4.1.2.1: a scope the client may not ask for is
/// `invalid_scope`; one in its registered `scope` is fine.
async fn a_scope_the_client_may_not_ask_for_is_invalid_scope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::register(&app, json!({"token_endpoint_auth_method": "none", "scope": "orders:read"})).await;
    let mut ua = UserAgent::new(&app.address);
    for scope in ["admin", "orders:write", "openid\"x"] {
        let auth = rp.authorize(&[scope]);
        assert_redirected_error(&app, ua.follow(auth.url.as_str()).await, &auth, "invalid_scope");
    }
    let tokens = sign_in(&app, &rp, &mut ua, "alice", &["orders:read"]).await;
    let access = app.verify_offline(&tokens.access_token).await.unwrap();
    assert!(access["scope"].as_str().unwrap().split(' ').any(|s| s == "orders:read"), "{access}");
}

/// RFC 6749 §3.1 and §4.1.2.1: a repeated `client_id` or `redirect_uri`
/// cannot be trusted (error page); any other parameter sent twice is
/// `invalid_request` at the (then known) redirect URI.
async fn a_repeated_parameter_is_invalid_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::public(&app).await;
    let mut ua = UserAgent::new(&app.address);
    let repeated = |auth: &Authorization, name: &str| {
        let mut url = auth.url.clone();
        url.query_pairs_mut().append_pair(name, &param(&auth.url, name).unwrap());
        url
    };
    for name in ["client_id", "redirect_uri"] {
        assert_error_page(&ua, &repeated(&rp.authorize(&[]), name)).await;
    }
    for name in ["scope", "response_type", "code_challenge"] {
        let auth = rp.authorize(&[]);
        let url = repeated(&auth, name);
        assert_redirected_error(&app, ua.follow(url.as_str()).await, &auth, "invalid_request");
    }
}

/// OIDC Core §3.1.2.1 and RFC 6749 §3.1.2.3: `redirect_uri` is required
/// (the client has two registered), so without it the user sees an error page.
async fn a_missing_redirect_uri_gets_an_error_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::public(&app).await;
    let ua = UserAgent::new(&app.address);
    let auth = rp.authorize(&[]);
    assert_error_page(&ua, &with_query(&auth.url, &[("redirect_uri", None)])).await;
}

both_backends!(
    an_unknown_or_missing_client_gets_an_error_page,
    an_unregistered_redirect_uri_gets_an_error_page,
    an_unsupported_response_type_is_redirected_back,
    a_scope_the_client_may_not_ask_for_is_invalid_scope,
    a_repeated_parameter_is_invalid_request,
    a_missing_redirect_uri_gets_an_error_page,
);
