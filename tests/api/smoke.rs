//! The whole service-to-service path, end to end.

use serde_json::Value;

use crate::both_backends;
use crate::helpers::{Backend, TestApp};

/// A client registered by an admin gets a token that verifies offline
/// against the JWKS, introspects as active, and is inactive once revoked.
async fn service_to_service_path_works_end_to_end(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = app.service_client("orders:read orders:write").await;
    let token = app.token_for(&id, &secret, &["orders:read"]).await;

    let claims = app.verify_offline(&token).await.expect("the token verifies against the JWKS");
    assert_eq!(claims["client_id"], id.as_str());
    assert_eq!(claims["scope"], "orders:read");

    let answer = app.introspect((&id, &secret), &token).await;
    assert_eq!(answer["active"], true);

    assert_eq!(app.revoke((&id, &secret), &token).await, 200);
    let answer: Value = app.introspect((&id, &secret), &token).await;
    assert_eq!(answer, serde_json::json!({"active": false}));
}

both_backends!(service_to_service_path_works_end_to_end);
