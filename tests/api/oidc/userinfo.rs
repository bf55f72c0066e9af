//! The UserInfo endpoint (OIDC Core §5.3) with bearer tokens (RFC 6750):
//! claims by scope, the header and form-body ways to send the token, and
//! the errors for bad tokens.

use openidconnect::core::CoreUserInfoClaims;
use openidconnect::{AccessToken, SubjectIdentifier};
use serde_json::{Value, json};

use super::*;
use crate::both_backends;
use crate::helpers::{ADMIN_ID, ADMIN_SECRET, Backend, TestApp, status_and_json};

const ALICE: &str = "alice";

async fn alice(app: &TestApp) -> String {
    create_user(
        app,
        ALICE,
        json!({"name": "Alice Liddell", "email": "alice@example.com", "email_verified": true}),
    )
    .await
}

async fn userinfo_get(app: &TestApp, token: &str) -> (u16, Value) {
    let endpoint = oidc_endpoint(app, "userinfo_endpoint").await;
    status_and_json(app.http.get(endpoint).bearer_auth(token).send().await.unwrap()).await
}

/// The `WWW-Authenticate` challenge of `response`.
fn challenge(response: &reqwest::Response) -> String {
    let header = response.headers().get("www-authenticate").expect("a WWW-Authenticate challenge");
    header.to_str().unwrap().to_owned()
}

/// OIDC Core §5.3.2 and §5.4: `sub` always; `name` and
/// `preferred_username` with `profile`; `email` and `email_verified` with
/// `email`; nothing a scope did not ask for.
async fn userinfo_returns_the_claims_of_the_granted_scopes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = alice(&app).await;
    let rp = Rp::public(&app).await;
    let mut ua = UserAgent::new(&app.address);

    let tokens = sign_in(&app, &rp, &mut ua, ALICE, &[]).await;
    let (status, claims) = userinfo_get(&app, &tokens.access_token).await;
    assert_eq!(status, 200, "{claims}");
    assert_eq!(claims["sub"], user.as_str());
    for absent in ["name", "preferred_username", "email", "email_verified"] {
        assert!(claims.get(absent).is_none(), "{absent}: {claims}");
    }

    let tokens = sign_in(&app, &rp, &mut ua, ALICE, &["profile", "email"]).await;
    let (status, claims) = userinfo_get(&app, &tokens.access_token).await;
    assert_eq!(status, 200, "{claims}");
    assert_eq!(claims["sub"], user.as_str());
    assert_eq!(claims["name"], "Alice Liddell");
    assert_eq!(claims["preferred_username"], ALICE);
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["email_verified"], true);
    // OIDC Core §5.3.2: the `sub` matches the ID token's.
    assert_eq!(tokens.id_claims["sub"], claims["sub"]);
}

/// OIDC Core §5.3.1: the `openidconnect` crate reads userinfo, with the
/// subject checked against the ID token's.
async fn the_openidconnect_client_reads_userinfo(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    alice(&app).await;
    let rp = Rp::public(&app).await;
    let tokens = sign_in(&app, &rp, &mut UserAgent::new(&app.address), ALICE, &["profile", "email"]).await;
    let subject = SubjectIdentifier::new(tokens.claims.subject().to_string());
    let claims: CoreUserInfoClaims = rp
        .oidc
        .user_info(AccessToken::new(tokens.access_token.clone()), Some(subject))
        .unwrap()
        .request_async(&app.http)
        .await
        .expect("userinfo works");
    assert_eq!(claims.preferred_username().map(|u| u.as_str()), Some(ALICE));
    assert_eq!(claims.email().map(|e| e.as_str()), Some("alice@example.com"));
    assert_eq!(claims.email_verified(), Some(true));
}

/// RFC 6750 §2.2 and OIDC Core §5.3.1: the token may be sent as
/// `access_token` in a form-encoded POST body.
async fn userinfo_accepts_the_token_in_a_post_body(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = alice(&app).await;
    let rp = Rp::public(&app).await;
    let tokens = sign_in(&app, &rp, &mut UserAgent::new(&app.address), ALICE, &["email"]).await;
    let endpoint = oidc_endpoint(&app, "userinfo_endpoint").await;
    let response = app
        .http
        .post(&endpoint)
        .form(&[("access_token", tokens.access_token.as_str())])
        .send()
        .await
        .unwrap();
    let (status, claims) = status_and_json(response).await;
    assert_eq!(status, 200, "{claims}");
    assert_eq!(claims["sub"], user.as_str());
    assert_eq!(claims["email"], "alice@example.com");
    // POST with the header works as well.
    let response = app.http.post(&endpoint).bearer_auth(&tokens.access_token).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

/// RFC 6750 §3.1: an invalid, revoked or missing token is 401 with a
/// `Bearer` challenge, carrying `error="invalid_token"` when a token was sent.
async fn a_bad_token_is_401_invalid_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    alice(&app).await;
    let rp = Rp::confidential(&app).await;
    let tokens = sign_in(&app, &rp, &mut UserAgent::new(&app.address), ALICE, &["offline_access"]).await;
    let endpoint = oidc_endpoint(&app, "userinfo_endpoint").await;
    assert_eq!(app.revoke(rp.credentials(), &tokens.access_token).await, 200);
    let foreign = TestApp::spawn(backend).await.admin_token().await;
    // Neither an ID token nor a refresh token is an access token.
    let others = [tokens.id_token.as_str(), tokens.refresh_token.as_deref().unwrap()];
    for token in ["garbage", "a.b.c", tokens.access_token.as_str(), foreign.as_str(), others[0], others[1]] {
        let response = app.http.get(&endpoint).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status(), 401, "{token:.20}");
        let challenge = challenge(&response);
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    }
    let response = app.http.get(&endpoint).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert!(challenge(&response).starts_with("Bearer"));
}

/// RFC 6750 §3.1 and OIDC Core §5.3: a token without the `openid` scope
/// (here from `client_credentials`) is 403 `insufficient_scope`.
async fn a_token_without_openid_is_403_insufficient_scope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token_for(ADMIN_ID, ADMIN_SECRET, &["admin"]).await;
    let endpoint = oidc_endpoint(&app, "userinfo_endpoint").await;
    let response = app.http.get(&endpoint).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 403);
    let challenge = challenge(&response);
    assert!(
        challenge.starts_with("Bearer") && challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
}

/// RFC 6750 §3.1 and OIDC Core §5.3.3: once the user is deleted, their
/// access token gets 401 `invalid_token` at userinfo, not claims of no one.
async fn a_deleted_users_token_is_401_at_userinfo(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = alice(&app).await;
    let rp = Rp::public(&app).await;
    let tokens = sign_in(&app, &rp, &mut UserAgent::new(&app.address), ALICE, &["profile"]).await;
    assert_eq!(app.delete_user(&user).await, 204);
    let endpoint = oidc_endpoint(&app, "userinfo_endpoint").await;
    let response = app.http.get(&endpoint).bearer_auth(&tokens.access_token).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert!(challenge(&response).contains("error=\"invalid_token\""));
}

both_backends!(
    userinfo_returns_the_claims_of_the_granted_scopes,
    the_openidconnect_client_reads_userinfo,
    userinfo_accepts_the_token_in_a_post_body,
    a_bad_token_is_401_invalid_token,
    a_token_without_openid_is_403_insufficient_scope,
    a_deleted_users_token_is_401_at_userinfo,
);
