//! Token revocation (RFC 7009), on one instance and across instances.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{ADMIN_ID, ADMIN_SECRET, Backend, TestApp, assert_error};

const ADMIN: (&str, &str) = (ADMIN_ID, ADMIN_SECRET);

/// RFC 7009 §2.2: once revoked, a token is inactive on introspection and
/// refused by the admin API; revoking it again is still 200.
async fn a_revoked_token_is_inactive_everywhere_on_the_instance(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.admin_token().await;
    let other = app.admin_token().await;
    assert_eq!(app.revoke(ADMIN, &token).await, 200);
    assert_eq!(app.introspect(ADMIN, &token).await, json!({"active": false}));
    let (status, _) = app.admin_request(Method::GET, "/admin/clients", Some(&token), None).await;
    assert_eq!(status, 401);
    assert_eq!(app.revoke(ADMIN, &token).await, 200, "revoking twice");
    // Only that token: another of the same client is untouched.
    assert_eq!(app.introspect(ADMIN, &other).await["active"], true);
}

/// RFC 7009 §2.2: an unknown, malformed or foreign-signed token answers 200
/// (the client cannot tell, and has nothing to do).
async fn revoking_an_unknown_or_garbage_token_is_200(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let foreign = TestApp::spawn(backend).await.admin_token().await;
    for token in ["garbage", "a.b.c", foreign.as_str()] {
        assert_eq!(app.revoke(ADMIN, token).await, 200, "{token:.20}");
    }
    let body = "token=whatever&token_type_hint=refresh_token";
    assert_eq!(app.post_form("/oauth2/revoke", body, Some(ADMIN)).await.status(), 200);
}

/// RFC 7009 §2.1: `token` is required: without it, `invalid_request`.
async fn revocation_without_a_token_is_invalid_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for body in ["", "token=", "token_type_hint=access_token"] {
        assert_error(app.post_form("/oauth2/revoke", body, Some(ADMIN)).await, 400, "invalid_request").await;
    }
}

/// RFC 7009 §2.1: the caller authenticates; without or with bad credentials
/// the answer is 401 `invalid_client` and nothing is revoked.
async fn revocation_requires_client_authentication(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.admin_token().await;
    let body = format!("token={token}");
    assert_error(app.post_form("/oauth2/revoke", &body, None).await, 401, "invalid_client").await;
    let response = app.post_form("/oauth2/revoke", &body, Some((ADMIN_ID, "wrong"))).await;
    assert_error(response, 401, "invalid_client").await;
    assert_eq!(app.introspect(ADMIN, &token).await["active"], true);
}

/// RFC 7009 §2.1: the server checks the token was issued to the client that
/// asks; another client's token is refused (400 `unauthorized_client`) and
/// stays active.
async fn a_client_cannot_revoke_another_clients_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = app.service_client("orders:read").await;
    let (thief, thief_secret) = app.service_client("orders:read").await;
    let token = app.token_for(&id, &secret, &[]).await;
    let response =
        app.post_form("/oauth2/revoke", &format!("token={token}"), Some((&thief, &thief_secret))).await;
    assert_error(response, 400, "unauthorized_client").await;
    assert_eq!(app.introspect(ADMIN, &token).await["active"], true);
    // Its owner can.
    assert_eq!(app.revoke((&id, &secret), &token).await, 200);
    assert_eq!(app.introspect(ADMIN, &token).await["active"], false);
}

/// RFC 7009 §2.1: `client_secret_post` credentials work for revocation too,
/// for a client registered with that method.
async fn revocation_accepts_client_secret_post(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, client) = app
        .register_client(json!({
            "grant_types": ["client_credentials"], "redirect_uris": [], "response_types": [],
            "token_endpoint_auth_method": "client_secret_post", "scope": "a",
        }))
        .await;
    assert_eq!(status, 201, "{client}");
    let (id, secret) = (client["client_id"].as_str().unwrap(), client["client_secret"].as_str().unwrap());
    let body = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    let issued: Value = app.post_form("/oauth2/token", &body, None).await.json().await.unwrap();
    let token = issued["access_token"].as_str().unwrap();
    let body = format!("token={token}&client_id={id}&client_secret={secret}");
    assert_eq!(app.post_form("/oauth2/revoke", &body, None).await.status(), 200);
    assert_eq!(app.introspect(ADMIN, token).await["active"], false);
}

/// A revocation made on one instance is seen by another instance sharing
/// the database within the sync interval (`CASTELLAN_SYNC_INTERVAL`, 1 s).
async fn a_revocation_reaches_other_instances_within_the_sync_interval(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let second = app.second_instance(&[]).await;
    let token = app.admin_token().await;
    let introspect_on_second = async || {
        let response = app
            .http
            .post(second.url("/oauth2/introspect"))
            .basic_auth(ADMIN_ID, Some(ADMIN_SECRET))
            .form(&[("token", token.as_str())])
            .send()
            .await
            .unwrap();
        response.json::<Value>().await.unwrap()
    };
    assert_eq!(introspect_on_second().await["active"], true);
    assert_eq!(app.revoke(ADMIN, &token).await, 200);
    let revoked_at = Instant::now();
    // One interval, plus slack for a loaded machine.
    while introspect_on_second().await["active"] == true {
        assert!(
            revoked_at.elapsed() < Duration::from_secs(4),
            "the second instance never saw the revocation"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// RFC 7009 §1 and RFC 9068: a revoked JWT still verifies offline by its
/// signature (only introspection knows it is revoked); that is expected.
async fn a_revoked_token_still_verifies_offline(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.admin_token().await;
    assert_eq!(app.revoke(ADMIN, &token).await, 200);
    assert!(app.verify_offline(&token).await.is_ok());
    assert_eq!(app.introspect(ADMIN, &token).await["active"], false);
}

/// A revocation is stored, not only remembered: after a restart the token is
/// still inactive.
async fn a_revocation_survives_a_restart(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let token = app.admin_token().await;
    assert_eq!(app.revoke(ADMIN, &token).await, 200);
    app.restart(&[]).await;
    assert_eq!(app.introspect(ADMIN, &token).await, json!({"active": false}));
}

both_backends!(
    a_revoked_token_is_inactive_everywhere_on_the_instance,
    revoking_an_unknown_or_garbage_token_is_200,
    revocation_without_a_token_is_invalid_request,
    revocation_requires_client_authentication,
    a_client_cannot_revoke_another_clients_token,
    revocation_accepts_client_secret_post,
    a_revocation_reaches_other_instances_within_the_sync_interval,
    a_revoked_token_still_verifies_offline,
    a_revocation_survives_a_restart,
);
