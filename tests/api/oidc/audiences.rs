//! RFC 8707 resource indicators in the code flow, through the real
//! `openidconnect` client: `resource` at the authorization endpoint, narrowed
//! (never widened) at the code exchange and at each refresh; an OpenID token
//! also names the userinfo endpoint (not the issuer), so userinfo still takes it.

use openidconnect::{AuthorizationCode, OAuth2TokenResponse, PkceCodeVerifier, RefreshToken};
use serde_json::json;

use super::*;
use crate::both_backends;
use crate::helpers::{Backend, TestApp, claims_of};

const ORDERS: &str = "https://api.example.com/orders";
const BILLING: &str = "https://api.example.com/billing";
const HR: &str = "https://api.example.com/hr";

both_backends!(
    the_code_flow_grants_the_resources_asked_for_and_the_exchange_may_narrow_them,
    the_code_exchange_cannot_widen_the_resources,
    a_refresh_narrows_the_resources_and_never_widens_them,
    a_resource_not_allowed_at_the_authorization_endpoint_is_redirected_as_invalid_target,
    a_resource_only_token_is_invalid_token_at_userinfo,
    an_exchange_narrowed_to_one_resource_leaves_the_others_to_a_refresh,
);

/// Three resources; a client that may use all three, and a user.
async fn setup(app: &TestApp) -> Rp {
    app.create_resource(ORDERS, "orders:read", &[]).await;
    app.create_resource(BILLING, "billing:read", &[]).await;
    app.create_resource(HR, "hr:read", &[]).await;
    create_user(app, "alice", json!({})).await;
    Rp::register(
        app,
        json!({"scope": "orders:read billing:read hr:read", "resources": [ORDERS, BILLING, HR]}),
    )
    .await
}

/// Signs alice in for `scopes` and `resources`; returns the authorization and the callback.
async fn authorize(
    app: &TestApp,
    rp: &Rp,
    scopes: &[&str],
    resources: &[&'static str],
) -> (Authorization, Url) {
    let auth = rp.authorize_with(scopes, |mut request| {
        for resource in resources {
            request = request.add_extra_param("resource", *resource);
        }
        request
    });
    let mut ua = UserAgent::new(&app.address);
    let landing = ua.follow(auth.url.as_str()).await;
    let callback = complete(&mut ua, landing, "alice").await;
    (auth, callback)
}

/// The code exchange with `resources` named.
async fn exchange(
    app: &TestApp,
    rp: &Rp,
    code: &str,
    verifier: &str,
    resources: &[&str],
) -> Result<openidconnect::core::CoreTokenResponse, TokenError> {
    let mut request = rp
        .oidc
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .unwrap()
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()));
    for resource in resources {
        request = request.add_extra_param("resource", *resource);
    }
    request.request_async(&app.http).await
}

async fn the_code_flow_grants_the_resources_asked_for_and_the_exchange_may_narrow_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = setup(&app).await;
    let (auth, callback) = authorize(&app, &rp, &["orders:read", "billing:read"], &[ORDERS, BILLING]).await;
    let code = code_of(&app, &callback, &auth);
    let response = exchange(&app, &rp, &code, &auth.verifier, &[ORDERS]).await.expect("the code is redeemed");
    let access = response.access_token().secret().clone();
    let claims = app.verify_offline(&access).await.expect("a valid token");
    let userinfo = format!("{}/oauth2/userinfo", app.address);
    assert_eq!(claims["aud"], json!([ORDERS, userinfo]), "the resource, and userinfo (not the issuer)");
    assert_eq!(claims["scope"], "openid orders:read", "the other resource's scope is left out");
    let endpoint = oidc_endpoint(&app, "userinfo_endpoint").await;
    let userinfo = app.http.get(endpoint).bearer_auth(&access).send().await.unwrap();
    assert_eq!(userinfo.status(), 200);
}

/// RFC 8707 §2.2: narrowing the code exchange to one resource shapes that
/// access token only; the refresh token keeps the whole grant, so a refresh
/// for another granted resource gets that resource's scopes.
async fn an_exchange_narrowed_to_one_resource_leaves_the_others_to_a_refresh(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = setup(&app).await;
    let scopes = ["orders:read", "billing:read", "offline_access"];
    let (auth, callback) = authorize(&app, &rp, &scopes, &[ORDERS, BILLING]).await;
    let code = code_of(&app, &callback, &auth);
    let response = exchange(&app, &rp, &code, &auth.verifier, &[ORDERS]).await.expect("the code is redeemed");
    assert_eq!(claims_of(response.access_token().secret())["scope"], "openid orders:read offline_access");
    let token = RefreshToken::new(response.refresh_token().expect("a refresh token").secret().clone());
    let refreshed = rp
        .oidc
        .exchange_refresh_token(&token)
        .unwrap()
        .add_extra_param("resource", BILLING)
        .request_async(&app.http)
        .await
        .expect("a refresh for the other resource");
    let claims = claims_of(refreshed.access_token().secret());
    assert_eq!(claims["scope"], "openid billing:read offline_access", "{claims}");
}

async fn the_code_exchange_cannot_widen_the_resources(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = setup(&app).await;
    let (auth, callback) = authorize(&app, &rp, &["orders:read"], &[ORDERS]).await;
    let code = code_of(&app, &callback, &auth);
    let widened = exchange(&app, &rp, &code, &auth.verifier, &[ORDERS, HR]).await;
    assert_eq!(error_code(widened), "invalid_target");
}

async fn a_refresh_narrows_the_resources_and_never_widens_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = setup(&app).await;
    let scopes = ["orders:read", "billing:read", "offline_access"];
    let (auth, callback) = authorize(&app, &rp, &scopes, &[ORDERS, BILLING]).await;
    let tokens = rp.redeem(&app, &callback, &auth).await;
    let userinfo = format!("{}/oauth2/userinfo", app.address);
    assert_eq!(claims_of(&tokens.access_token)["aud"], json!([ORDERS, BILLING, userinfo]));
    let refresh = |token: String, resources: &'static [&'static str]| {
        let rp = &rp;
        let app = &app;
        async move {
            let token = RefreshToken::new(token);
            let mut request = rp.oidc.exchange_refresh_token(&token).unwrap();
            for resource in resources {
                request = request.add_extra_param("resource", *resource);
            }
            request.request_async(&app.http).await
        }
    };
    let narrowed = refresh(tokens.refresh_token.clone().unwrap(), &[BILLING]).await.expect("narrowed");
    let claims = claims_of(narrowed.access_token().secret());
    assert_eq!(claims["aud"], json!([BILLING, userinfo]));
    assert_eq!(claims["scope"], "openid billing:read offline_access");
    let next = narrowed.refresh_token().unwrap().secret().clone();
    // HR is the client's, but was not granted: refused, whatever was granted before.
    assert_eq!(error_code(refresh(next.clone(), &[HR]).await), "invalid_target");
    let whole = refresh(next, &[]).await.expect("the whole grant again");
    assert_eq!(claims_of(whole.access_token().secret())["aud"], json!([ORDERS, BILLING, userinfo]));
}

async fn a_resource_not_allowed_at_the_authorization_endpoint_is_redirected_as_invalid_target(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let rp = setup(&app).await;
    app.create_resource("urn:example:other", "other:read", &[]).await;
    for resource in ["urn:example:other", "https://api.example.com/unknown", "not-absolute"] {
        let auth = rp.authorize_with(&[], |request| request.add_extra_param("resource", resource));
        let landing = UserAgent::new(&app.address).follow(auth.url.as_str()).await;
        assert_redirected_error(&app, landing, &auth, "invalid_target");
    }
    let auth = rp.authorize_with(&["billing:read"], |request| request.add_extra_param("resource", ORDERS));
    let landing = UserAgent::new(&app.address).follow(auth.url.as_str()).await;
    assert_redirected_error(&app, landing, &auth, "invalid_scope");
}

/// RFC 9068 §4: a token only for other resources is not for userinfo.
async fn a_resource_only_token_is_invalid_token_at_userinfo(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_resource(ORDERS, "orders:read", &[]).await;
    let (id, secret) = app.service_client_with("orders:read", json!({"default_resource": ORDERS})).await;
    let (status, body) = app.client_credentials((&id, &secret), &[]).await;
    assert_eq!(status, 200, "{body}");
    let endpoint = oidc_endpoint(&app, "userinfo_endpoint").await;
    let token = body["access_token"].as_str().unwrap();
    let response = app.http.get(endpoint).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 401);
}
