//! Introspection per audience (RFC 7662 §4): a token bound to resources is
//! described only to the clients that act for one of them (the resource's
//! `client_ids`) and to the client it was issued to; to any other caller
//! it is `{"active": false}`. A token for the issuer alone is described to
//! any authenticated confidential client, as before.

use serde_json::json;

use crate::both_backends;
use crate::helpers::{Backend, TestApp};

const ORDERS: &str = "https://api.example.com/orders";
const BILLING: &str = "https://api.example.com/billing";

both_backends!(
    a_resource_token_is_described_to_its_resource_servers_and_its_client_only,
    a_token_for_two_resources_is_described_to_the_servers_of_either,
    an_issuer_audience_token_is_described_to_any_confidential_client,
);

async fn a_resource_token_is_described_to_its_resource_servers_and_its_client_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let orders_api = app.service_client("").await;
    let other = app.service_client("").await;
    app.create_resource(ORDERS, "orders:read", &[&orders_api.0]).await;
    let caller = app.service_client_with("orders:read", json!({"resources": [ORDERS]})).await;
    let (status, body) = app.client_credentials((&caller.0, &caller.1), &[("resource", ORDERS)]).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();

    let described = app.introspect((&orders_api.0, &orders_api.1), token).await;
    assert_eq!((&described["active"], &described["aud"]), (&json!(true), &json!(ORDERS)), "{described}");
    assert_eq!(described["client_id"], caller.0.as_str());
    let own = app.introspect((&caller.0, &caller.1), token).await;
    assert_eq!(own["active"], true, "the client it was issued to: {own}");
    let stranger = app.introspect((&other.0, &other.1), token).await;
    assert_eq!(stranger, json!({"active": false}));
}

async fn a_token_for_two_resources_is_described_to_the_servers_of_either(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (orders_api, billing_api, other) =
        (app.service_client("").await, app.service_client("").await, app.service_client("").await);
    app.create_resource(ORDERS, "orders:read", &[&orders_api.0]).await;
    app.create_resource(BILLING, "billing:read", &[&billing_api.0]).await;
    let caller =
        app.service_client_with("orders:read billing:read", json!({"resources": [ORDERS, BILLING]})).await;
    let params = [("resource", ORDERS), ("resource", BILLING)];
    let (status, body) = app.client_credentials((&caller.0, &caller.1), &params).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    for server in [&orders_api, &billing_api] {
        let described = app.introspect((&server.0, &server.1), token).await;
        assert_eq!(described["aud"], json!([ORDERS, BILLING]), "{described}");
    }
    assert_eq!(app.introspect((&other.0, &other.1), token).await, json!({"active": false}));
}

async fn an_issuer_audience_token_is_described_to_any_confidential_client(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_resource(ORDERS, "orders:read", &[]).await;
    let caller = app.service_client("reports").await;
    let other = app.service_client("").await;
    let token = app.token_for(&caller.0, &caller.1, &["reports"]).await;
    let described = app.introspect((&other.0, &other.1), &token).await;
    assert_eq!((&described["active"], &described["aud"]), (&json!(true), &json!(app.address)), "{described}");
}
