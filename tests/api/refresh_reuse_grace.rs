//! Refresh-token reuse grace per client (FAPI 2.0 security profile
//! §5.3.2.1, RFC 9700 §4.14.2): a confidential client registered with
//! `refresh_token_reuse_grace` that retries a refresh within it (its answer
//! was lost) gets the same successor again with a new access token; every
//! other reuse of a rotated refresh token revokes the family, as before.

use openidconnect::core::CoreTokenResponse;
use openidconnect::{OAuth2TokenResponse, TokenResponse};
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{ADMIN_ID, ADMIN_SECRET, Backend, TestApp, status_and_json};
use crate::oidc::{Rp, UserAgent, create_user, error_code, sign_in};

both_backends!(
    a_retry_within_the_grace_returns_the_same_refresh_token_with_a_new_access_token,
    a_retry_after_the_grace_revokes_the_family,
    without_a_grace_a_retry_revokes_the_family,
    once_the_successor_is_used_a_retry_revokes_the_family,
    two_concurrent_refreshes_with_one_token_both_get_the_same_successor,
    a_public_client_cannot_register_a_grace_and_a_grace_is_at_most_60_seconds,
    the_admin_api_shows_the_grace_and_a_merge_patch_changes_it,
);

const ADMIN: (&str, &str) = (ADMIN_ID, ADMIN_SECRET);

/// A confidential client with `grace` seconds (none if `None`) and the first
/// refresh token of `alice`, signed in with `openid offline_access`.
async fn client_and_refresh_token(app: &TestApp, grace: Option<i64>) -> (Rp, String) {
    let metadata = match grace {
        Some(seconds) => json!({"refresh_token_reuse_grace": seconds}),
        None => json!({}),
    };
    let rp = Rp::register(app, metadata).await;
    create_user(app, "alice", json!({"name": "Alice"})).await;
    let tokens = sign_in(app, &rp, &mut UserAgent::new(&app.address), "alice", &["offline_access"]).await;
    (rp, tokens.refresh_token.expect("offline_access gives a refresh token"))
}

fn refresh_token(response: &CoreTokenResponse) -> String {
    response.refresh_token().expect("a new refresh token").secret().clone()
}

fn access_token(response: &CoreTokenResponse) -> String {
    response.access_token().secret().clone()
}

async fn active(app: &TestApp, token: &str) -> bool {
    app.introspect(ADMIN, token).await["active"] == true
}

async fn a_retry_within_the_grace_returns_the_same_refresh_token_with_a_new_access_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (rp, first) = client_and_refresh_token(&app, Some(10)).await;
    let answered = rp.refresh(&app, &first, None).await.expect("the first refresh works");
    let (second, lost_access) = (refresh_token(&answered), access_token(&answered));

    app.clock.advance(9);
    let retried = rp.refresh(&app, &first, None).await.expect("a retry within the grace works");
    assert_eq!(refresh_token(&retried), second, "the same successor");
    let access = access_token(&retried);
    assert_ne!(access, lost_access, "a new access token");
    assert!(retried.id_token().is_some(), "an ID token, as for any openid refresh");
    assert!(active(&app, &access).await && active(&app, &lost_access).await, "the family is intact");

    let next = rp.refresh(&app, &second, None).await.expect("the successor works");
    assert_ne!(refresh_token(&next), second);
    assert!(active(&app, &access_token(&next)).await);
}

async fn a_retry_after_the_grace_revokes_the_family(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (rp, first) = client_and_refresh_token(&app, Some(10)).await;
    let answered = rp.refresh(&app, &first, None).await.unwrap();
    let (second, access) = (refresh_token(&answered), access_token(&answered));

    app.clock.advance(11);
    assert_eq!(error_code(rp.refresh(&app, &first, None).await), "invalid_grant");
    assert_eq!(error_code(rp.refresh(&app, &second, None).await), "invalid_grant");
    assert!(!active(&app, &access).await);
}

async fn without_a_grace_a_retry_revokes_the_family(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (rp, first) = client_and_refresh_token(&app, None).await;
    let answered = rp.refresh(&app, &first, None).await.unwrap();
    let (second, access) = (refresh_token(&answered), access_token(&answered));

    assert_eq!(error_code(rp.refresh(&app, &first, None).await), "invalid_grant");
    assert_eq!(error_code(rp.refresh(&app, &second, None).await), "invalid_grant");
    assert!(!active(&app, &access).await);
}

/// A retry after the successor was used cannot be a lost answer: someone
/// else holds a copy of the token, so the family goes, with the access
/// tokens of earlier retries.
async fn once_the_successor_is_used_a_retry_revokes_the_family(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (rp, first) = client_and_refresh_token(&app, Some(30)).await;
    let second = refresh_token(&rp.refresh(&app, &first, None).await.unwrap());
    let retried_access = access_token(&rp.refresh(&app, &first, None).await.expect("a retry"));
    let used = rp.refresh(&app, &second, None).await.expect("the successor works");
    let (third, access) = (refresh_token(&used), access_token(&used));

    app.clock.advance(1);
    assert_eq!(error_code(rp.refresh(&app, &first, None).await), "invalid_grant");
    assert_eq!(error_code(rp.refresh(&app, &third, None).await), "invalid_grant");
    assert!(!active(&app, &access).await && !active(&app, &retried_access).await);
}

async fn two_concurrent_refreshes_with_one_token_both_get_the_same_successor(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (rp, first) = client_and_refresh_token(&app, Some(10)).await;
    let (a, b) = tokio::join!(rp.refresh(&app, &first, None), rp.refresh(&app, &first, None));
    let (a, b) = (a.expect("one refresh works"), b.expect("the other works too"));
    assert_eq!(refresh_token(&a), refresh_token(&b));
    assert!(active(&app, &access_token(&a)).await && active(&app, &access_token(&b)).await);
    rp.refresh(&app, &refresh_token(&a), None).await.expect("the successor works");
}

async fn a_public_client_cannot_register_a_grace_and_a_grace_is_at_most_60_seconds(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let base = json!({
        "redirect_uris": ["https://rp.example.com/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
    });
    let with = |extra: Value| {
        let mut body = base.clone();
        for (key, value) in extra.as_object().unwrap() {
            body[key] = value.clone();
        }
        body
    };
    for refused in [
        json!({"token_endpoint_auth_method": "none", "refresh_token_reuse_grace": 5}),
        json!({"refresh_token_reuse_grace": 61}),
        json!({"refresh_token_reuse_grace": -1}),
    ] {
        let (status, body) = app.register_client(with(refused.clone())).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_client_metadata")), "{refused}");
    }
    let (status, body) = app
        .register_client(with(json!({"token_endpoint_auth_method": "none", "refresh_token_reuse_grace": 0})))
        .await;
    assert_eq!(status, 201, "a public client may say it has none: {body}");
}

async fn the_admin_api_shows_the_grace_and_a_merge_patch_changes_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app
        .register_client(json!({
            "redirect_uris": ["https://rp.example.com/callback"],
            "grant_types": ["authorization_code", "refresh_token"],
            "refresh_token_reuse_grace": 20,
        }))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["refresh_token_reuse_grace"], 20);
    let id = body["client_id"].as_str().unwrap().to_owned();
    let token = app.admin_token().await;
    let path = format!("/admin/clients/{id}");
    let (_, shown) = app.admin_request(Method::GET, &path, Some(&token), None).await;
    assert_eq!(shown["refresh_token_reuse_grace"], 20);

    let patch = |value: Value| {
        app.http
            .patch(app.url(&path))
            .bearer_auth(&token)
            .header("content-type", "application/merge-patch+json")
            .body(value.to_string())
            .send()
    };
    let (status, body) =
        status_and_json(patch(json!({"refresh_token_reuse_grace": 45})).await.unwrap()).await;
    assert_eq!((status, &body["refresh_token_reuse_grace"]), (200, &json!(45)), "{body}");
    // Turning the client public needs its grace removed too.
    let public = json!({"token_endpoint_auth_method": "none"});
    let (status, body) = status_and_json(patch(public).await.unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_client_metadata")), "{body}");
    let (status, body) =
        status_and_json(patch(json!({"refresh_token_reuse_grace": null})).await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.get("refresh_token_reuse_grace"), None, "none is the default and is not shown");
}
