//! End to end in a real headless browser: Debian's Chromium, driven through
//! ChromeDriver with raw W3C WebDriver calls, signs a user in, grants consent,
//! lands on the client's redirect URI, and the client exchanges the code;
//! `cross_origin` does the same as a single-page app on another origin.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's `chromium`
//! and `chromium-driver`). Without them the tests are ignored (`build.rs`
//! decides), unless `CASTELLAN_TEST_REQUIRE_BROWSER=1` makes that a failure
//! (as in CI).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2::{PkceCodeChallenge, PkceCodeVerifier};
use serde_json::{Value, json};

mod cross_origin;
mod site;
mod webdriver;

use site::serve_site;
use webdriver::Browser;

use crate::both_backends_in_a_browser;
use crate::helpers::{Backend, TestApp};

/// The test user's password.
const PASSWORD: &str = "correct horse battery staple";

/// A user signs in and consents in a real browser, which lands on the
/// client's redirect URI with `code`, `state` and `iss`; the code then
/// buys an ID token at the token endpoint.
async fn a_user_signs_in_and_consents_in_a_real_browser(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let redirect_uri = format!("{}/callback", serve_site().await);

    let (status, client) = app
        .register_client(json!({
            "client_name": "Browser Test App",
            "redirect_uris": [redirect_uri],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "scope": "openid profile",
        }))
        .await;
    assert_eq!(status, 201, "{client}");
    let client_id = client["client_id"].as_str().expect("a client_id").to_owned();
    let client_secret = client["client_secret"].as_str().expect("a confidential client's secret").to_owned();
    let user_id = app.create_user("ada", PASSWORD).await;

    let mut browser = Browser::start().await;
    let authorized = sign_in_and_consent(&app, &browser, &client_id, &redirect_uri, "ada").await;
    browser.quit().await;

    // The client exchanges the code.
    let response = app
        .http
        .post(&authorized.token_endpoint)
        .basic_auth(&client_id, Some(&client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", authorized.code.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", authorized.verifier.secret().as_str()),
        ])
        .send()
        .await
        .expect("the token endpoint answers");
    let status = response.status().as_u16();
    let tokens: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "{tokens}");
    assert!(tokens["access_token"].is_string(), "{tokens}");
    let id_token = tokens["id_token"].as_str().unwrap_or_else(|| panic!("an id_token in {tokens}"));
    let claims = jwt_claims(id_token);
    assert_eq!(claims["iss"], authorized.issuer.as_str(), "{claims}");
    assert_eq!(claims["sub"], user_id.as_str(), "{claims}");
    let aud = &claims["aud"];
    let for_client = aud == client_id.as_str()
        || aud.as_array().is_some_and(|list| list.iter().any(|one| one == client_id.as_str()));
    assert!(for_client, "the ID token is for the client: {claims}");
    assert_eq!(claims["nonce"], authorized.nonce.as_str(), "{claims}");
}

/// What the browser brought back to the client, and what the client kept.
struct Authorized {
    issuer: String,
    token_endpoint: String,
    code: String,
    verifier: PkceCodeVerifier,
    nonce: String,
}

/// The browser goes to the authorization endpoint (found through discovery)
/// for `openid profile` with PKCE, a state and a nonce; `username` signs in
/// on the issuer's login page and allows the consent page; the browser lands
/// on `redirect_uri` with a code, the state and the issuer (RFC 9207).
async fn sign_in_and_consent(
    app: &TestApp,
    browser: &Browser,
    client_id: &str,
    redirect_uri: &str,
    username: &str,
) -> Authorized {
    let discovery = app.discovery().await;
    let issuer = discovery["issuer"].as_str().expect("discovery names the issuer").to_owned();
    let authorization_endpoint =
        discovery["authorization_endpoint"].as_str().expect("discovery lists authorization_endpoint");
    let token_endpoint = discovery["token_endpoint"].as_str().expect("discovery lists token_endpoint");

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let state = castellan::domain::secret::random_token(16);
    let nonce = castellan::domain::secret::random_token(16);
    let mut authorize = url::Url::parse(authorization_endpoint).expect("the authorization endpoint is a URL");
    authorize
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", "openid profile")
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", challenge.as_str())
        .append_pair("code_challenge_method", "S256");
    browser.go(authorize.as_str()).await;

    // The login page.
    let username_input = browser.wait_for("input[name=username]").await;
    let origin = format!("{issuer}/");
    let url = browser.url().await;
    assert!(url.starts_with(&origin), "the login page is the issuer's, not {url}");
    browser.type_into(&username_input, username).await;
    let password = browser.wait_for("input[name=password]").await;
    browser.type_into(&password, PASSWORD).await;
    let submits = browser
        .find_all(
            "css selector",
            "form button:not([type]), form button[type=submit], form input[type=submit]",
        )
        .await;
    assert_eq!(submits.len(), 1, "the login form has one submit button\n{}", browser.page().await);
    browser.click(&submits[0]).await;

    // The consent page.
    let allow = browser
        .wait_for_by(
            "xpath",
            "//button[normalize-space(.)='Allow'] | //input[@type='submit' and @value='Allow']",
        )
        .await;
    browser.click(&allow).await;

    // Back at the client.
    let landed = browser.wait_for_url(|url| url.starts_with(redirect_uri)).await;
    let landed = url::Url::parse(&landed).expect("the browser is on a URL");
    assert_eq!(&landed[..url::Position::AfterPath], redirect_uri, "the browser is at the redirect URI");
    let query =
        |name: &str| landed.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned());
    assert_eq!(query("error"), None, "no error at {landed}");
    assert_eq!(query("state").as_deref(), Some(state.as_str()), "the state comes back in {landed}");
    assert_eq!(query("iss").as_deref(), Some(issuer.as_str()), "the issuer is named in {landed}");
    let code = query("code").unwrap_or_else(|| panic!("a code in {landed}"));
    Authorized { issuer, token_endpoint: token_endpoint.to_owned(), code, verifier, nonce }
}

both_backends_in_a_browser!(a_user_signs_in_and_consents_in_a_real_browser);

/// The claims of a compact JWT, unverified (the signature is other tests' business).
fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap_or_else(|| panic!("{token} is a JWT"));
    let bytes = URL_SAFE_NO_PAD.decode(payload).expect("the payload is base64url");
    serde_json::from_slice(&bytes).expect("the payload is JSON")
}
