//! What a client may register for itself: unknown metadata is ignored
//! (RFC 7591 §2), admin-only values are replaced, the `admin` scope and
//! the scopes and resources an admin did not open are refused, and
//! `application_type` decides the redirect URIs (OpenID Registration §2,
//! RFC 8252 §7).

use serde_json::{Value, json};

use super::*;
use crate::both_backends;
use crate::helpers::{Backend, TestApp, merge};

both_backends!(
    the_admin_scope_and_scopes_or_resources_not_opened_are_refused,
    a_resource_closed_to_dynamic_clients_is_refused_to_those_registered,
    unknown_metadata_is_ignored_and_admin_only_values_are_replaced,
    application_type_decides_which_redirect_uris_are_allowed,
    malformed_or_oversized_metadata_is_invalid_client_metadata,
);

const ORDERS: &str = "https://api.example.com/orders";
const PAYROLL: &str = "https://api.example.com/payroll";

fn web_app_with(extra: Value) -> Value {
    let mut metadata = web_app();
    merge(&mut metadata, extra);
    metadata
}

async fn refused(app: &TestApp, metadata: Value, code: &str) -> String {
    let (status, body) = register(app, None, &metadata).await;
    assert_eq!((status, body["error"].as_str()), (400, Some(code)), "{metadata}: {body}");
    body["error_description"].as_str().unwrap().to_owned()
}

async fn the_admin_scope_and_scopes_or_resources_not_opened_are_refused(backend: Backend) {
    let app = TestApp::spawn_with(backend, OPEN).await;
    resource(&app, ORDERS, &["orders:read"], true).await;
    resource(&app, PAYROLL, &["payroll:read"], false).await;
    let invalid = "invalid_client_metadata";
    let admin = refused(&app, web_app_with(json!({"scope": "openid admin"})), invalid).await;
    assert!(admin.contains("admin"), "{admin}");
    let closed = refused(&app, web_app_with(json!({"resources": [PAYROLL]})), invalid).await;
    let unknown =
        refused(&app, web_app_with(json!({"resources": ["https://api.example.com/none"]})), invalid).await;
    assert_eq!(
        closed.replace(PAYROLL, "R"),
        unknown.replace("https://api.example.com/none", "R"),
        "same answer"
    );
    let default = web_app_with(json!({"default_resource": PAYROLL}));
    refused(&app, default, invalid).await;
    let scope =
        refused(&app, web_app_with(json!({"scope": "payroll:read", "resources": [ORDERS]})), invalid).await;
    assert!(scope.contains("payroll:read"), "{scope}");
    let unnamed = refused(&app, web_app_with(json!({"scope": "payroll:read"})), invalid).await;
    assert!(unnamed.contains("payroll:read"), "a closed resource's scope: {unnamed}");
    // Naming no resources, a client may ask for any open one later (as MCP
    // clients do), so it may register the scopes of any open resource.
    let any_open = registered(&app, &web_app_with(json!({"scope": "openid orders:read"}))).await;
    assert_eq!(any_open["scope"], "openid orders:read");

    let opened = web_app_with(json!({"scope": "openid profile orders:read", "resources": [ORDERS]}));
    let body = registered(&app, &opened).await;
    assert_eq!(body["scope"], "openid profile orders:read");
    assert_eq!(body["resources"], json!([ORDERS]));
}

/// An admin who closes a resource to dynamic clients closes it to those
/// already registered for it: their token requests for it are refused.
async fn a_resource_closed_to_dynamic_clients_is_refused_to_those_registered(backend: Backend) {
    let app = TestApp::spawn_with(backend, OPEN).await;
    let id = resource(&app, ORDERS, &["orders:read"], true).await;
    let service = registered(
        &app,
        &json!({
            "grant_types": ["client_credentials"], "redirect_uris": [], "response_types": [],
            "scope": "orders:read", "resources": [ORDERS], "default_resource": ORDERS,
        }),
    )
    .await;
    let client = (service["client_id"].as_str().unwrap(), service["client_secret"].as_str().unwrap());
    let (status, body) = app.client_credentials(client, &[("resource", ORDERS)]).await;
    assert_eq!(status, 200, "{body}");
    let admin = app.admin_token().await;
    let patch = json!({"dynamic_registration": false});
    let (status, _) = app
        .admin_request(reqwest::Method::PATCH, &format!("/admin/resources/{id}"), Some(&admin), Some(&patch))
        .await;
    assert_eq!(status, 200);
    let (status, body) = app.client_credentials(client, &[("resource", ORDERS)]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_target")), "{body}");
}

async fn unknown_metadata_is_ignored_and_admin_only_values_are_replaced(backend: Backend) {
    let app = TestApp::spawn_with(backend, OPEN).await;
    let body = registered(
        &app,
        &web_app_with(json!({
            "logo_uri": "https://app.example.com/logo.png", "contacts": ["ops@app.example.com"],
            "software_id": "4NRB1-0XZABZI9E6-5SM3R", "x_custom": {"nested": [1, 2]},
            "first_party": true, "refresh_token_reuse_grace": 30, "require_pkce": false,
        })),
    )
    .await;
    for ignored in
        ["logo_uri", "contacts", "software_id", "x_custom", "refresh_token_reuse_grace", "require_pkce"]
    {
        assert!(body.get(ignored).is_none(), "{ignored}: {body}");
    }
    assert_eq!(body["first_party"], false, "{body}");
}

async fn application_type_decides_which_redirect_uris_are_allowed(backend: Backend) {
    let app = TestApp::spawn_with(backend, OPEN).await;
    for web_refused in ["http://127.0.0.1/cb", "https://localhost/cb", "com.example.app:/cb"] {
        let metadata = json!({"redirect_uris": [web_refused], "application_type": "web"});
        refused(&app, metadata, "invalid_redirect_uri").await;
    }
    // Without a type, redirect URIs only a native app can use make it one
    // (RFC 8252 clients, such as MCP clients, often send none).
    for inferred in ["http://127.0.0.1:4000/callback", "com.example.app:/cb"] {
        let body = registered(&app, &json!({"redirect_uris": [inferred]})).await;
        assert_eq!(body["application_type"], "native", "{body}");
    }
    let mixed = json!({"redirect_uris": ["https://app.example.com/cb", "http://127.0.0.1/cb"]});
    refused(&app, mixed, "invalid_redirect_uri").await;
    registered(&app, &json!({"redirect_uris": ["https://app.example.com/cb"], "application_type": "web"}))
        .await;
    for native in [
        "com.example.app:/oauth2redirect",
        "http://localhost:3000/cb",
        "http://[::1]/cb",
        "https://app.example.com/cb",
    ] {
        let metadata = json!({"redirect_uris": [native], "application_type": "native", "token_endpoint_auth_method": "none"});
        assert_eq!(registered(&app, &metadata).await["application_type"], "native");
    }
    let native_web_uri = json!({"redirect_uris": ["javascript:alert(1)"], "application_type": "native"});
    refused(&app, native_web_uri, "invalid_redirect_uri").await;
    refused(
        &app,
        json!({"redirect_uris": ["https://a.example/cb"], "application_type": "tv"}),
        "invalid_client_metadata",
    )
    .await;

    // An admin's client keeps the general rules unless it names its type.
    let (status, body) = app.register_client(json!({"redirect_uris": ["http://127.0.0.1/cb"]})).await;
    assert_eq!(status, 201, "{body}");
    assert!(body.get("application_type").is_none(), "{body}");
    let typed = json!({"redirect_uris": ["http://127.0.0.1/cb"], "application_type": "web"});
    let (status, body) = app.register_client(typed).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_redirect_uri")), "{body}");
}

async fn malformed_or_oversized_metadata_is_invalid_client_metadata(backend: Backend) {
    let app = TestApp::spawn_with(backend, OPEN).await;
    let endpoint = app.endpoint("registration_endpoint").await;
    let uris: Vec<String> = (0..21).map(|n| format!("https://app.example.com/cb{n}")).collect();
    for bad in [
        json!({"redirect_uris": uris}),
        json!({"client_name": 7, "redirect_uris": ["https://a.example/cb"]}),
        json!([1]),
    ] {
        refused(&app, bad, "invalid_client_metadata").await;
    }
    let long_name = web_app_with(json!({"client_name": "n".repeat(201)}));
    refused(&app, long_name, "invalid_client_metadata").await;
    let form =
        app.http.post(&endpoint).form(&[("redirect_uris", "https://a.example/cb")]).send().await.unwrap();
    crate::helpers::assert_error(form, 400, "invalid_client_metadata").await;
    let huge =
        app.http.post(&endpoint).header("content-type", "application/json").body(vec![b' '; 70_000]).send();
    crate::helpers::assert_error(huge.await.unwrap(), 400, "invalid_client_metadata").await;
}
