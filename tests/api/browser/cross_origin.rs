//! A single-page app in the real browser, on an origin other than the
//! server's: registered as a public client with a redirect URI on its own
//! origin, it signs the user in, and then its own script (the page's
//! JavaScript, run through WebDriver) reads discovery, redeems the code with
//! PKCE, calls userinfo and revokes the token: CORS lets it read every
//! answer. A page on an origin no client registered reads discovery and the
//! JWKS, but the browser keeps the token endpoint's answer from it.

use serde_json::{Value, json};

use super::site::serve_site;
use super::webdriver::Browser;
use super::{PASSWORD, sign_in_and_consent};
use crate::both_backends_in_a_browser;
use crate::helpers::{Backend, TestApp};

both_backends_in_a_browser!(
    a_browser_app_on_a_registered_origin_redeems_its_code_calls_userinfo_and_revokes,
    a_page_on_an_unregistered_origin_reads_discovery_and_jwks_but_not_the_token_endpoint,
);

/// The app's script: what an SPA does after landing on its redirect URI.
/// Every answer is read (status, body, headers), so a missing CORS header
/// would reject the fetch and show as `error`.
const REDEEM_AND_USE: &str = r#"
const [discoveryUrl, code, redirectUri, clientId, verifier, done] = arguments;
(async () => {
  const discovery = await (await fetch(discoveryUrl)).json();
  const form = (fields) => ({ method: 'POST', body: new URLSearchParams(fields) });
  const token = await fetch(discovery.token_endpoint, form({
    grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: clientId,
    code_verifier: verifier,
  }));
  const tokens = await token.json();
  const bearer = { headers: { Authorization: 'Bearer ' + tokens.access_token } };
  const userinfo = await fetch(discovery.userinfo_endpoint, bearer);
  const claims = await userinfo.json();
  const revoke = await fetch(discovery.revocation_endpoint, form({
    token: tokens.access_token, token_type_hint: 'access_token', client_id: clientId,
  }));
  const afterRevoke = await fetch(discovery.userinfo_endpoint, bearer);
  return {
    origin: location.origin,
    issuer: discovery.issuer,
    token_status: token.status, tokens,
    userinfo_status: userinfo.status, claims,
    revoke_status: revoke.status,
    after_revoke_status: afterRevoke.status,
    after_revoke_challenge: afterRevoke.headers.get('WWW-Authenticate'),
  };
})().then(done, (error) => done({ error: String(error) }));
"#;

/// A page's script trying to read each of `requests` (`[url, method, form]`): the
/// status and body, or how the fetch was rejected.
const TRY_TO_READ: &str = r#"
const [requests, done] = arguments;
(async () => {
  const results = [];
  for (const [url, method, fields] of requests) {
    const init = method === 'POST' ? { method, body: new URLSearchParams(fields) } : {};
    try {
      const response = await fetch(url, init);
      results.push({ url, status: response.status, body: await response.text() });
    } catch (error) {
      results.push({ url, rejected: error.name });
    }
  }
  return results;
})().then(done, (error) => done({ error: String(error) }));
"#;

/// Registers a public client (an SPA) with its redirect URI at `origin`; its id.
async fn spa_client(app: &TestApp, origin: &str) -> String {
    let (status, client) = app
        .register_client(json!({
            "client_name": "Single-page app",
            "redirect_uris": [format!("{origin}/callback")],
            "token_endpoint_auth_method": "none",
            "scope": "openid profile",
        }))
        .await;
    assert_eq!(status, 201, "{client}");
    client["client_id"].as_str().expect("a client_id").to_owned()
}

async fn a_browser_app_on_a_registered_origin_redeems_its_code_calls_userinfo_and_revokes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let spa = serve_site().await;
    assert_ne!(spa, app.address, "the app is on an origin other than the server's");
    let redirect_uri = format!("{spa}/callback");
    let client_id = spa_client(&app, &spa).await;
    let user_id = app.create_user("grace", PASSWORD).await;

    let mut browser = Browser::start().await;
    let authorized = sign_in_and_consent(&app, &browser, &client_id, &redirect_uri, "grace").await;
    let discovery_url = app.url("/.well-known/openid-configuration");
    let args = [&discovery_url, &authorized.code, &redirect_uri, &client_id, authorized.verifier.secret()];
    let result = browser.execute_async(REDEEM_AND_USE, args.iter().map(|arg| json!(arg)).collect()).await;
    browser.quit().await;

    assert_eq!(result["error"], Value::Null, "every answer was readable: {result}");
    assert_eq!(result["origin"], spa.as_str(), "the script ran on the app's origin");
    assert_eq!(result["issuer"], authorized.issuer.as_str(), "{result}");
    assert_eq!(result["token_status"], 200, "{result}");
    assert!(result["tokens"]["access_token"].is_string(), "{result}");
    assert!(result["tokens"]["id_token"].is_string(), "{result}");
    assert_eq!(result["userinfo_status"], 200, "{result}");
    assert_eq!(result["claims"]["sub"], user_id.as_str(), "{result}");
    assert_eq!(result["revoke_status"], 200, "{result}");
    assert_eq!(result["after_revoke_status"], 401, "the revoked token no longer works: {result}");
    let challenge = result["after_revoke_challenge"].as_str().unwrap_or_default();
    assert!(challenge.contains("invalid_token"), "the app reads WWW-Authenticate: {result}");
}

async fn a_page_on_an_unregistered_origin_reads_discovery_and_jwks_but_not_the_token_endpoint(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let registered = serve_site().await;
    let client_id = spa_client(&app, &registered).await;
    let stranger = serve_site().await;

    let token_request = json!({
        "grant_type": "authorization_code", "code": "a-code", "client_id": client_id,
        "redirect_uri": format!("{registered}/callback"), "code_verifier": "v".repeat(43),
    });
    let requests = json!([
        [app.url("/.well-known/openid-configuration"), "GET", {}],
        [app.url("/.well-known/oauth-authorization-server"), "GET", {}],
        [app.url("/oauth2/jwks"), "GET", {}],
        [app.url("/oauth2/token"), "POST", token_request],
        [app.url("/oauth2/revoke"), "POST", {"token": "a-token", "client_id": client_id}],
    ]);
    let mut browser = Browser::start().await;
    browser.go(&format!("{stranger}/")).await;
    let results = browser.execute_async(TRY_TO_READ, vec![requests]).await;
    browser.quit().await;

    let results = results.as_array().unwrap_or_else(|| panic!("a result per request: {results}"));
    for readable in &results[..3] {
        assert_eq!(readable["status"], 200, "public documents are readable from anywhere: {readable}");
        let body: Value = serde_json::from_str(readable["body"].as_str().unwrap_or_default())
            .unwrap_or_else(|_| panic!("a JSON document: {readable}"));
        assert!(body["issuer"].is_string() || body["keys"].is_array(), "{readable}");
    }
    for hidden in &results[3..] {
        assert_eq!(hidden["rejected"], "TypeError", "the browser keeps the answer from the page: {hidden}");
    }
}
