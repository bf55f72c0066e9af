//! Transport and cookies: what an https issuer means is decided from the
//! parsed URL; with one, cookies are `__Host-` prefixed and `Secure`, and
//! browsers are told to stay on https (RFC 6797). Session cookies have no
//! `Max-Age`: the server's expiry is the one that counts.

use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{ADMIN_ID, ADMIN_SECRET, Backend, TestApp, status_and_json};

/// The `Set-Cookie` headers of `response` whose cookie is called `name`.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with(&format!("{name}=")))
}

fn cookie_value(set_cookie: &str) -> &str {
    set_cookie.split(';').next().unwrap().split_once('=').unwrap().1
}

fn hidden_field(html: &str, name: &str) -> String {
    let at = html.find(&format!("name=\"{name}\"")).unwrap_or_else(|| panic!("no {name} in {html}"));
    let value = &html[at..];
    let start = value.find("value=\"").unwrap() + 7;
    let end = start + value[start..].find('"').unwrap();
    value[start..end].to_owned()
}

/// Registers a public client and a user through raw requests (the issuer's
/// URLs are not where the test server listens).
async fn client_and_user(app: &TestApp) -> String {
    let response = app
        .post_form(
            "/oauth2/token",
            "grant_type=client_credentials&scope=admin",
            Some((ADMIN_ID, ADMIN_SECRET)),
        )
        .await;
    let (_, body) = status_and_json(response).await;
    let token = body["access_token"].as_str().unwrap().to_owned();
    let client = json!({"redirect_uris": ["https://rp.example.com/cb"], "token_endpoint_auth_method": "none",
        "first_party": true});
    let (status, client) =
        app.admin_request(reqwest::Method::POST, "/admin/clients", Some(&token), Some(&client)).await;
    assert_eq!(status, 201, "{client}");
    let user = json!({"username": "alice", "password": "correct horse battery staple"});
    let (status, _) =
        app.admin_request(reqwest::Method::POST, "/admin/users", Some(&token), Some(&user)).await;
    assert_eq!(status, 201);
    client["client_id"].as_str().unwrap().to_owned()
}

/// Hardening item 6: an issuer spelled `HTTPS://` is https: every response
/// carries `Strict-Transport-Security`, and the login binding and session
/// cookies are `__Host-` prefixed, `Secure`, `HttpOnly`, with no `Max-Age`.
async fn an_https_issuer_gets_host_prefixed_secure_cookies_and_hsts(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("CASTELLAN_ISSUER", "HTTPS://login.example")]).await;
    let client_id = client_and_user(&app).await;
    let discovery = app.http.get(app.url("/.well-known/openid-configuration")).send().await.unwrap();
    assert_eq!(discovery.headers()["strict-transport-security"], "max-age=31536000");
    let query = format!(
        "response_type=code&client_id={client_id}&redirect_uri=https%3A%2F%2Frp.example.com%2Fcb&scope=openid\
         &nonce=n&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
    );
    let authorize = app.http.get(app.url(&format!("/oauth2/authorize?{query}"))).send().await.unwrap();
    assert_eq!(authorize.status(), 303);
    let binding = set_cookie(&authorize, "__Host-castellan_login").expect("a host-prefixed binding cookie");
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(binding.contains(attribute), "{attribute}: {binding}");
    }
    assert!(!binding.contains("Max-Age") && !binding.contains("Domain"), "{binding}");
    let login = authorize.headers()["location"].to_str().unwrap();
    let login = app.url(&login[login.find("/login?").expect("the login page")..]);
    let cookie = format!("__Host-castellan_login={}", cookie_value(&binding));
    let page = app.http.get(&login).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let form = [
        ("csrf_token", hidden_field(&html, "csrf_token")),
        ("request", hidden_field(&html, "request")),
        ("username", "alice".to_owned()),
        ("password", "correct horse battery staple".to_owned()),
    ];
    let signed_in =
        app.http.post(app.url("/login")).header("cookie", &cookie).form(&form).send().await.unwrap();
    assert_eq!(signed_in.status(), 303, "{:?}", signed_in.text().await);
    let session = set_cookie(&signed_in, "__Host-castellan_session").expect("a host-prefixed session cookie");
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(session.contains(attribute), "{attribute}: {session}");
    }
    assert!(!session.contains("Max-Age") && !session.contains("Expires"), "{session}");
}

/// With a plain-http loopback issuer there is no `Strict-Transport-Security`
/// (it would be ignored over http, and wrong) and no `__Host-` prefix.
async fn a_loopback_http_issuer_gets_plain_cookies_and_no_hsts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.http.get(app.url("/.well-known/openid-configuration")).send().await.unwrap();
    assert!(response.headers().get("strict-transport-security").is_none());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["issuer"], app.address.as_str());
}

both_backends!(
    an_https_issuer_gets_host_prefixed_secure_cookies_and_hsts,
    a_loopback_http_issuer_gets_plain_cookies_and_no_hsts,
);
