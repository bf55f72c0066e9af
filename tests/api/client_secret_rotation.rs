//! `POST /admin/clients/{client_id}/secret` (interface.md): a new secret,
//! shown once; the old one stops at once, or after the grace period asked
//! for (`previous_secret_valid_for`, at most 30 days).

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{ADMIN_ID, Backend, TestApp, security_events, security_log, status_and_json};

const THIRTY_DAYS: i64 = 30 * 24 * 3_600;

/// Rotates `id`'s secret with `body` (none: an empty POST).
async fn rotate(app: &TestApp, id: &str, body: Option<&Value>) -> (u16, Value) {
    let token = app.admin_token().await;
    app.admin_request(Method::POST, &format!("/admin/clients/{id}/secret"), Some(&token), body).await
}

/// Whether `secret` authenticates `id` at the token endpoint now (200), or
/// is refused as RFC 6749 §5.2 says (401 `invalid_client`).
async fn authenticates(app: &TestApp, id: &str, secret: &str) -> bool {
    let response = app.post_form("/oauth2/token", "grant_type=client_credentials", Some((id, secret))).await;
    let (status, body) = status_and_json(response).await;
    match status {
        200 => true,
        401 if body["error"] == "invalid_client" => false,
        _ => panic!("neither accepted nor invalid_client: {status} {body}"),
    }
}

fn secret_of(body: &Value) -> String {
    body["client_secret"].as_str().unwrap_or_else(|| panic!("a client_secret: {body}")).to_owned()
}

/// Without a grace period the old secret stops at once and the new one
/// works; the answer carries the new secret with the metadata, and nothing
/// else ever shows it again.
async fn a_rotated_secret_stops_at_once_and_the_new_one_works(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, old) = app.service_client("reports").await;
    assert!(authenticates(&app, &id, &old).await);

    let (status, body) = rotate(&app, &id, None).await;
    assert_eq!(status, 200, "{body}");
    let new = secret_of(&body);
    assert_ne!(new, old);
    assert!(new.len() >= 43, "256 bits");
    assert_eq!(
        (body["client_id"].as_str(), body["client_secret_expires_at"].as_i64()),
        (Some(id.as_str()), Some(0))
    );
    assert_eq!(body["scope"], "reports");
    assert!(body.get("previous_secret_expires_at").is_none(), "{body}");

    assert!(!authenticates(&app, &id, &old).await, "the old secret stops at once");
    assert!(authenticates(&app, &id, &new).await);
    let token = app.admin_token().await;
    let (_, shown) =
        app.admin_request(Method::GET, &format!("/admin/clients/{id}"), Some(&token), None).await;
    assert!(shown.get("client_secret").is_none(), "{shown}");

    let changes = security_events("admin_change", "client_id", ADMIN_ID);
    assert!(
        changes.iter().any(|e| e["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with(&format!("rotated the secret of client {id}")))),
        "{changes:?}"
    );
    assert!(!security_log().contains(&new), "the secret is never logged");
}

/// With `previous_secret_valid_for`, the old secret keeps working until
/// then, by the server's clock, and not a second longer; the new one works
/// throughout.
async fn with_a_grace_period_the_old_secret_works_until_it_ends(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, old) = app.service_client("reports").await;
    let before = app.clock.now();
    let (status, body) = rotate(&app, &id, Some(&json!({"previous_secret_valid_for": 3_600}))).await;
    assert_eq!(status, 200, "{body}");
    let new = secret_of(&body);
    let expires_at = body["previous_secret_expires_at"].as_i64().expect("previous_secret_expires_at");
    assert!((before + 3_600..=app.clock.now() + 3_600).contains(&expires_at), "{expires_at}");

    assert!(authenticates(&app, &id, &old).await && authenticates(&app, &id, &new).await);
    // Five seconds' margin: the wall clock under the test clock moves on.
    app.clock.advance(expires_at - app.clock.now() - 5);
    assert!(authenticates(&app, &id, &old).await, "seconds before the end");
    app.clock.advance(5);
    assert!(!authenticates(&app, &id, &old).await, "at the end");
    assert!(authenticates(&app, &id, &new).await);
}

/// One previous secret is kept: a second rotation ends the first one's
/// grace period, whatever it asks for itself.
async fn a_second_rotation_ends_the_first_grace_period(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, first) = app.service_client("reports").await;
    let grace = json!({"previous_secret_valid_for": 600});
    let (_, body) = rotate(&app, &id, Some(&grace)).await;
    let second = secret_of(&body);
    let (status, body) = rotate(&app, &id, Some(&grace)).await;
    assert_eq!(status, 200, "{body}");
    let third = secret_of(&body);
    assert!(!authenticates(&app, &id, &first).await);
    assert!(authenticates(&app, &id, &second).await, "the one just replaced has its grace period");
    assert!(authenticates(&app, &id, &third).await);
    let (_, body) = rotate(&app, &id, None).await;
    assert!(!authenticates(&app, &id, &second).await && !authenticates(&app, &id, &third).await);
    assert!(authenticates(&app, &id, &secret_of(&body)).await);
}

/// A public client has no secret to rotate (400 `invalid_request`); an
/// unknown client is 404.
async fn a_public_client_has_no_secret_to_rotate(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let public = app.public_client().await;
    let (status, body) = rotate(&app, &public, None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
    assert!(body.get("client_secret").is_none());
    let (status, body) = rotate(&app, "no-such-client", None).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")), "{body}");
}

/// The grace period is whole seconds up to 30 days; anything else in the
/// body (a longer period, a negative or non-numeric one, an unknown member,
/// a body that is not JSON) is 400 `invalid_request` and rotates nothing.
async fn a_bad_rotation_request_is_refused_and_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = app.service_client("reports").await;
    for bad in [
        json!({"previous_secret_valid_for": THIRTY_DAYS + 1}),
        json!({"previous_secret_valid_for": -1}),
        json!({"previous_secret_valid_for": 1.5}),
        json!({"previous_secret_valid_for": "3600"}),
        json!({"previous_secret_valid_fro": 3_600}),
        json!([3_600]),
    ] {
        let (status, body) = rotate(&app, &id, Some(&bad)).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{bad}: {body}");
    }
    let response = app
        .http
        .post(app.url(&format!("/admin/clients/{id}/secret")))
        .bearer_auth(app.admin_token().await)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("previous_secret_valid_for=3600")
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
    assert!(authenticates(&app, &id, &secret).await, "nothing was rotated");

    let (status, body) = rotate(&app, &id, Some(&json!({"previous_secret_valid_for": THIRTY_DAYS}))).await;
    assert_eq!(status, 200, "thirty days exactly: {body}");
    assert!(authenticates(&app, &id, &secret).await);
}

/// Another instance sharing the database drops the old secret within its
/// `CASTELLAN_CLIENT_CACHE_TTL` (its cache holds clients that long).
async fn a_rotation_reaches_other_instances_within_the_cache_ttl(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let second = app.second_instance(&[("CASTELLAN_CLIENT_CACHE_TTL", "1")]).await;
    let (id, old) = app.service_client("reports").await;
    let old_works_on_second = async || {
        let response = app
            .http
            .post(second.url("/oauth2/token"))
            .basic_auth(&id, Some(&old))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        response.status() == 200
    };
    assert!(old_works_on_second().await, "the second instance now has the client cached");
    let (status, body) = rotate(&app, &id, None).await;
    assert_eq!(status, 200, "{body}");
    let rotated_at = std::time::Instant::now();
    while old_works_on_second().await {
        assert!(rotated_at.elapsed().as_secs() < 4, "the second instance still takes the old secret");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

both_backends!(
    a_rotated_secret_stops_at_once_and_the_new_one_works,
    with_a_grace_period_the_old_secret_works_until_it_ends,
    a_second_rotation_ends_the_first_grace_period,
    a_public_client_has_no_secret_to_rotate,
    a_bad_rotation_request_is_refused_and_changes_nothing,
    a_rotation_reaches_other_instances_within_the_cache_ttl,
);
