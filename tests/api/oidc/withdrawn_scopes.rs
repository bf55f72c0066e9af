//! RFC 6749 §3.3, §6: a token carries what the client may have *now*,
//! intersected with what was granted. An admin who narrows a client's
//! `scope` narrows what its refresh tokens issue and report.

use openidconnect::OAuth2TokenResponse;
use reqwest::Method;
use serde_json::json;

use super::*;
use crate::both_backends;
use crate::helpers::{Backend, TestApp};

const GRANTED: [&str; 4] = ["orders:read", "orders:write", "offline_access", "profile"];

fn sorted(scope: &str) -> Vec<&str> {
    let mut scopes: Vec<&str> = scope.split(' ').collect();
    scopes.sort_unstable();
    scopes
}

/// A client allowed `orders:read orders:write`, a user's refresh token for
/// all of [`GRANTED`], and then the client narrowed to `orders:read`.
async fn narrowed_after_granting(app: &TestApp) -> (Rp, String) {
    let rp = Rp::register(app, json!({"scope": "orders:read orders:write"})).await;
    create_user(app, "alice", json!({})).await;
    let tokens = sign_in(app, &rp, &mut UserAgent::new(&app.address), "alice", &GRANTED).await;
    let refresh = tokens.refresh_token.expect("offline_access gives a refresh token");
    let admin = app.admin_token().await;
    let path = format!("/admin/clients/{}", rp.id);
    let (status, mut metadata) = app.admin_request(Method::GET, &path, Some(&admin), None).await;
    assert_eq!(status, 200, "{metadata}");
    metadata["scope"] = json!("orders:read");
    let (status, body) = app.admin_request(Method::PUT, &path, Some(&admin), Some(&metadata)).await;
    assert_eq!(status, 200, "{body}");
    (rp, refresh)
}

/// The refresh grant stops issuing a scope the admin withdrew from the
/// client: the new access token lacks it, and asking for it is `invalid_scope`.
async fn a_refresh_does_not_issue_a_scope_withdrawn_from_the_client(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (rp, refresh) = narrowed_after_granting(&app).await;
    let asked = ["orders:write", "openid"];
    assert_eq!(error_code(rp.refresh(&app, &refresh, Some(&asked)).await), "invalid_scope");
    let response = rp.refresh(&app, &refresh, None).await.expect("the refresh token still works");
    let access = app.verify_offline(response.access_token().secret()).await.unwrap();
    assert_eq!(
        sorted(access["scope"].as_str().unwrap()),
        ["offline_access", "openid", "orders:read", "profile"]
    );
}

/// RFC 7662 §2.2: introspecting the refresh token reports the narrowed scope.
async fn introspection_reports_a_refresh_token_with_the_narrowed_scope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (rp, refresh) = narrowed_after_granting(&app).await;
    let described = app.introspect(rp.credentials(), &refresh).await;
    assert_eq!(described["active"], true, "{described}");
    assert_eq!(
        sorted(described["scope"].as_str().unwrap()),
        ["offline_access", "openid", "orders:read", "profile"]
    );
}

both_backends!(
    a_refresh_does_not_issue_a_scope_withdrawn_from_the_client,
    introspection_reports_a_refresh_token_with_the_narrowed_scope,
);
