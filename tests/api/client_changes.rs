//! A change to a client reaches the tokens it already holds: a token is good
//! only while the client, as registered now, would still be given it.

use reqwest::Method;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{ADMIN_ID, ADMIN_SECRET, Backend, TestApp};

const ADMIN: (&str, &str) = (ADMIN_ID, ADMIN_SECRET);

fn service(scope: &str, grant_types: &[&str]) -> serde_json::Value {
    json!({"grant_types": grant_types, "redirect_uris": [], "response_types": [], "scope": scope})
}

/// Narrowing a client's scope cuts its tokens that carry the removed scope:
/// an admin client demoted by PUT loses the admin API at once.
async fn narrowing_a_clients_scope_cuts_tokens_with_the_removed_scope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = app.service_client("admin reports").await;
    let admin_token = app.token_for(&id, &secret, &["admin"]).await;
    let reports_token = app.token_for(&id, &secret, &["reports"]).await;
    let (status, _) = app.admin_request(Method::GET, "/admin/clients", Some(&admin_token), None).await;
    assert_eq!(status, 200);

    let admin = app.admin_token().await;
    let path = format!("/admin/clients/{id}");
    let (status, body) = app
        .admin_request(Method::PUT, &path, Some(&admin), Some(&service("reports", &["client_credentials"])))
        .await;
    assert_eq!(status, 200, "{body}");

    let (status, _) = app.admin_request(Method::GET, "/admin/clients", Some(&admin_token), None).await;
    assert_eq!(status, 401, "a token with a scope the client lost is refused");
    assert_eq!(app.introspect(ADMIN, &admin_token).await["active"], false);
    assert_eq!(app.introspect(ADMIN, &reports_token).await["active"], true, "the kept scope still works");
}

/// Removing `client_credentials` from a client cuts the tokens it got
/// through that grant.
async fn removing_the_client_credentials_grant_cuts_its_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = app.service_client("reports").await;
    let token = app.token_for(&id, &secret, &[]).await;
    let admin = app.admin_token().await;
    let metadata = json!({
        "grant_types": ["authorization_code"],
        "redirect_uris": ["https://app.example.com/cb"],
        "scope": "reports",
    });
    let (status, body) =
        app.admin_request(Method::PUT, &format!("/admin/clients/{id}"), Some(&admin), Some(&metadata)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.introspect(ADMIN, &token).await["active"], false);
}

both_backends!(
    narrowing_a_clients_scope_cuts_tokens_with_the_removed_scope,
    removing_the_client_credentials_grant_cuts_its_tokens,
);
