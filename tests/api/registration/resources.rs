//! Which resources a self-registered client may ask for: one that names
//! resources in its metadata, those; one that names none (as MCP clients,
//! which learn the resource from the resource server, RFC 9728), any
//! resource an admin opened to dynamic clients. A resource's scopes only
//! ever go into a token for that resource: the client's tokens for the
//! issuer carry the OpenID scopes only.

use serde_json::json;

use super::*;
use crate::both_backends;
use crate::helpers::{Backend, TestApp, claims_of};

both_backends!(
    a_client_naming_no_resources_may_ask_for_any_open_one_and_only_for_open_ones,
    a_self_registered_clients_token_for_the_issuer_carries_no_resource_scope,
);

const ORDERS: &str = "https://api.example.com/orders";
const PAYROLL: &str = "https://api.example.com/payroll";

async fn service(app: &TestApp, scope: &str) -> (String, String) {
    let body = registered(
        app,
        &json!({
            "grant_types": ["client_credentials"], "redirect_uris": [], "response_types": [], "scope": scope,
        }),
    )
    .await;
    (body["client_id"].as_str().unwrap().to_owned(), body["client_secret"].as_str().unwrap().to_owned())
}

async fn a_client_naming_no_resources_may_ask_for_any_open_one_and_only_for_open_ones(backend: Backend) {
    let app = TestApp::spawn_with(backend, OPEN).await;
    resource(&app, ORDERS, &["orders:read"], true).await;
    resource(&app, PAYROLL, &["payroll:read"], false).await;
    let (id, secret) = service(&app, "orders:read").await;
    let client = (id.as_str(), secret.as_str());

    let (status, body) = app.client_credentials(client, &[("resource", ORDERS)]).await;
    assert_eq!(status, 200, "{body}");
    let claims = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], ORDERS);
    assert_eq!(claims["scope"], "orders:read");

    let (status, body) = app.client_credentials(client, &[("resource", PAYROLL)]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_target")), "{body}");
    let (status, body) =
        app.client_credentials(client, &[("resource", "https://api.example.com/none")]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_target")), "{body}");
}

async fn a_self_registered_clients_token_for_the_issuer_carries_no_resource_scope(backend: Backend) {
    let app = TestApp::spawn_with(backend, OPEN).await;
    resource(&app, ORDERS, &["orders:read"], true).await;
    let (id, secret) = service(&app, "orders:read").await;
    let client = (id.as_str(), secret.as_str());

    let (status, body) = app.client_credentials(client, &[("scope", "orders:read")]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "{body}");
    let (status, body) = app.client_credentials(client, &[]).await;
    assert_eq!(status, 200, "{body}");
    let claims = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], app.address.as_str());
    assert!(!claims["scope"].as_str().unwrap_or("").contains("orders:read"), "{claims}");
}
