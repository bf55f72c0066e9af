//! Security events (hardening item 11) and client authentication throttling
//! (item 7): each event is one structured line with the client's address
//! (after trusted proxies), the client id and the user id, never a secret.

use serde_json::json;

use super::{PASSWORD, Rp, UserAgent, code_of, complete, create_user, raw_exchange, sign_in};
use crate::both_backends;
use crate::helpers::{ADMIN_ID, Backend, TestApp, security_events, security_log};

const PROXY: (&str, &str) = ("CASTELLAN_TRUSTED_PROXIES", "127.0.0.1");

/// Failed and successful sign-ins and the lock they cause are logged with
/// the address the trusted proxy gave, the client and the user; the
/// password is never in the log.
async fn sign_ins_and_locks_are_security_events(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[PROXY]).await;
    let user_id = create_user(&app, "alice", json!({})).await;
    let rp = Rp::register(&app, json!({"token_endpoint_auth_method": "none", "first_party": true})).await;
    let mut ua = UserAgent::behind_proxy(&app.address, "203.0.113.77");
    ua.follow(rp.authorize(&[]).url.as_str()).await;
    for attempt in 0..5 {
        ua.sign_in("alice", &format!("wrong-password-{attempt}")).await;
    }
    let failed = security_events("sign_in_failed", "user_id", &user_id);
    assert_eq!(failed.len(), 5, "{failed:?}");
    assert!(failed.iter().all(|e| e["client_address"] == "203.0.113.77" && e["client_id"] == rp.id.as_str()));
    assert_eq!(failed[0]["level"], "WARN");
    let locked = security_events("sign_in_locked", "user_id", &user_id);
    assert_eq!(locked.len(), 1, "{locked:?}");
    let mut elsewhere = UserAgent::behind_proxy(&app.address, "198.51.100.8");
    sign_in(&app, &rp, &mut elsewhere, "alice", &[]).await;
    let succeeded = security_events("sign_in_succeeded", "user_id", &user_id);
    assert_eq!(succeeded.len(), 1, "{succeeded:?}");
    assert_eq!(succeeded[0]["client_address"], "198.51.100.8");
    let log = security_log();
    assert!(!log.contains("wrong-password-") && !log.contains(PASSWORD));
}

/// A replayed code and a reused refresh token are logged with the client
/// and the user.
async fn replays_are_security_events(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user_id = create_user(&app, "alice", json!({})).await;
    let rp = Rp::register(
        &app,
        json!({"first_party": true, "grant_types": ["authorization_code", "refresh_token"]}),
    )
    .await;
    let mut ua = UserAgent::new(&app.address);
    let auth = rp.authorize(&["offline_access"]);
    let landing = ua.follow(auth.url.as_str()).await;
    let callback = complete(&mut ua, landing, "alice").await;
    let code = code_of(&app, &callback, &auth);
    let tokens = rp.redeem(&app, &callback, &auth).await;
    let refresh_token = tokens.refresh_token.expect("a refresh token");
    rp.refresh(&app, &refresh_token, None).await.expect("the first use");
    assert!(rp.refresh(&app, &refresh_token, None).await.is_err());
    let reused = security_events("refresh_token_replayed", "client_id", &rp.id);
    assert_eq!(reused.len(), 1, "{reused:?}");
    assert_eq!(reused[0]["user_id"], user_id.as_str());
    let params = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", &auth.redirect_uri()),
        ("code_verifier", auth.verifier.as_str()),
    ];
    assert_eq!(raw_exchange(&app, &params, Some(rp.credentials())).await.status(), 400);
    let replayed = security_events("authorization_code_replayed", "client_id", &rp.id);
    assert_eq!(replayed.len(), 1, "{replayed:?}");
    assert_eq!(replayed[0]["user_id"], user_id.as_str());
    assert_eq!(replayed[0]["client_address"], "127.0.0.1");

    assert!(!security_log().contains(&refresh_token) && !security_log().contains(&code));
}

/// Refused admin requests, and admin changes with the acting admin client.
async fn admin_refusals_and_changes_are_security_events(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (service, secret) = app.service_client("inventory:read").await;
    let token = app.token_for(&service, &secret, &[]).await;
    let (status, _) = app.admin_request(reqwest::Method::GET, "/admin/clients", Some(&token), None).await;
    assert_eq!(status, 403);
    let refused = security_events("admin_request_refused", "client_id", &service);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["detail"], "insufficient_scope");
    let registered = security_events("admin_change", "client_id", ADMIN_ID);
    assert!(
        registered.iter().any(|e| e["detail"] == format!("registered client {service}")),
        "{registered:?}"
    );
    let user_id = app.create_user("bob", "a long enough password").await;
    let created = security_events("admin_change", "user_id", &user_id);
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0]["client_id"], ADMIN_ID);
    assert!(!security_log().contains(&secret));
}

/// Client authentication is throttled per client at an address: after ten
/// wrong secrets that client is refused there (429, `Retry-After`), even
/// with its right secret, while it still authenticates from elsewhere. Each
/// failure and the lock are security events.
async fn failed_client_authentication_is_throttled_at_its_address(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[PROXY]).await;
    let (service, secret) = app.service_client("inventory:read").await;
    let token_request = |address: &'static str, secret: String| {
        app.http
            .post(app.url("/oauth2/token"))
            .header("x-forwarded-for", address)
            .basic_auth(service.clone(), Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
    };
    for attempt in 0..15 {
        let response = token_request("203.0.113.99", format!("wrong-secret-{attempt}")).await.unwrap();
        let status = response.status().as_u16();
        assert!(if attempt < 10 { status == 401 } else { status == 429 }, "attempt {attempt}: {status}");
    }
    let refused = token_request("203.0.113.99", secret.clone()).await.unwrap();
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(token_request("198.51.100.3", secret).await.unwrap().status(), 200);
    let failed = security_events("client_authentication_failed", "client_id", &service);
    assert_eq!(failed.len(), 10, "refused attempts are not checked, nor logged one by one");
    assert!(failed.iter().all(|e| e["client_address"] == "203.0.113.99"));
    assert_eq!(security_events("client_authentication_locked", "client_id", &service).len(), 1);
    assert!(!security_log().contains("wrong-secret-"));
}

/// Refused admin requests count against their address: past 100 the
/// address gets 429 before its token is looked at, and no line each, so an
/// anonymous flood fills neither the log nor the disk.
async fn refused_admin_requests_from_one_address_are_throttled(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[PROXY]).await;
    // The log is the test process's: each backend's run has its own address.
    let attacker = if backend == Backend::Sqlite { "203.0.113.50" } else { "203.0.113.51" };
    let request = || app.http.get(app.url("/admin/clients")).header("x-forwarded-for", attacker).send();
    let mut statuses = Vec::new();
    for _ in 0..110 {
        let response = request().await.unwrap();
        if response.status() == 429 {
            assert!(response.headers().contains_key("retry-after"));
        }
        statuses.push(response.status().as_u16());
    }
    assert!(statuses[..100].iter().all(|s| *s == 401), "{statuses:?}");
    // Each lock lasts two seconds at first, doubling: most of the rest are refused.
    assert!(statuses[100..].iter().filter(|s| **s == 429).count() >= 5, "{statuses:?}");
    let logged = security_events("admin_request_refused", "client_address", attacker).len();
    assert!((100..=105).contains(&logged), "{logged} lines");
    // Another address is not affected.
    let token = app.admin_token().await;
    let other = app.http.get(app.url("/admin/clients")).bearer_auth(token).send().await.unwrap();
    assert_eq!(other.status(), 200);
}

both_backends!(
    refused_admin_requests_from_one_address_are_throttled,
    sign_ins_and_locks_are_security_events,
    replays_are_security_events,
    admin_refusals_and_changes_are_security_events,
    failed_client_authentication_is_throttled_at_its_address,
);
