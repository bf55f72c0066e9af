//! RFC 8707 resource indicators at the token endpoint (`client_credentials`):
//! the access token's `aud` is the resource(s) granted; a resource that is
//! unknown, malformed or not allowed for the client is `invalid_target`;
//! scopes must belong to the resources; clients without resources keep
//! the issuer as the audience.

use reqwest::Method;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{Backend, TestApp, claims_of};

const ORDERS: &str = "https://api.example.com/orders";
const BILLING: &str = "urn:example:billing";

both_backends!(
    a_token_for_one_resource_has_that_resource_as_its_string_audience,
    a_token_for_two_resources_has_both_as_an_array_audience,
    a_request_without_resource_gets_the_default_resource,
    a_client_without_resources_keeps_the_issuer_as_audience,
    a_token_for_the_issuer_never_carries_a_resources_scopes,
    an_unknown_malformed_or_not_allowed_resource_is_invalid_target,
    more_than_ten_resources_are_invalid_target,
    a_scope_not_belonging_to_the_resource_is_invalid_scope,
    a_resource_only_token_is_refused_by_the_admin_api,
    a_resource_taken_from_a_client_ends_its_tokens_for_it,
);

/// Two resources, and a service client that may request both.
async fn setup(app: &TestApp) -> (String, String) {
    app.create_resource(ORDERS, "orders:read orders:write", &[]).await;
    app.create_resource(BILLING, "billing:read", &[]).await;
    app.service_client_with("orders:read billing:read other", json!({"resources": [ORDERS, BILLING]})).await
}

async fn a_token_for_one_resource_has_that_resource_as_its_string_audience(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = setup(&app).await;
    let (status, body) = app.client_credentials((&id, &secret), &[("resource", ORDERS)]).await;
    assert_eq!(status, 200, "{body}");
    let claims = app.verify_offline(body["access_token"].as_str().unwrap()).await.expect("a valid token");
    assert_eq!(claims["aud"], ORDERS);
    assert_eq!(claims["scope"], "orders:read", "the registered scope, narrowed to the resource's");
}

async fn a_token_for_two_resources_has_both_as_an_array_audience(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = setup(&app).await;
    let params = [("resource", ORDERS), ("resource", BILLING), ("scope", "orders:read billing:read")];
    let (status, body) = app.client_credentials((&id, &secret), &params).await;
    assert_eq!(status, 200, "{body}");
    let claims = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], json!([ORDERS, BILLING]));
    assert_eq!(body["scope"], "orders:read billing:read");
}

async fn a_request_without_resource_gets_the_default_resource(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_resource(ORDERS, "orders:read", &[]).await;
    let (id, secret) = app.service_client_with("orders:read", json!({"default_resource": ORDERS})).await;
    let (status, body) = app.client_credentials((&id, &secret), &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(claims_of(body["access_token"].as_str().unwrap())["aud"], ORDERS);
}

async fn a_client_without_resources_keeps_the_issuer_as_audience(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_resource(ORDERS, "orders:read", &[]).await;
    let (id, secret) = app.service_client("orders:read").await;
    let (status, body) = app.client_credentials((&id, &secret), &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(claims_of(body["access_token"].as_str().unwrap())["aud"], app.address.as_str());
    let (status, body) = app.client_credentials((&id, &secret), &[("resource", ORDERS)]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_target")), "{body}");
}

async fn an_unknown_malformed_or_not_allowed_resource_is_invalid_target(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = setup(&app).await;
    app.create_resource("https://api.example.com/hr", "hr:read", &[]).await;
    let too_long = format!("https://api.example.com/{}", "a".repeat(2048));
    for resource in [
        "https://api.example.com/hr",
        "https://api.example.com/unknown",
        "orders",
        "https://api.example.com/orders#x",
        too_long.as_str(),
    ] {
        let (status, body) = app.client_credentials((&id, &secret), &[("resource", resource)]).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_target")), "{resource}: {body}");
    }
    // Allowed to the client once, but deleted since: refused, not ignored.
    let token = app.admin_token().await;
    let (_, list) = app.admin_request(Method::GET, "/admin/resources", Some(&token), None).await;
    let billing = list.as_array().unwrap().iter().find(|r| r["identifier"] == BILLING).unwrap();
    let path = format!("/admin/resources/{}", billing["id"].as_str().unwrap());
    assert_eq!(app.admin_request(Method::DELETE, &path, Some(&token), None).await.0, 204);
    let (status, body) = app.client_credentials((&id, &secret), &[("resource", BILLING)]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_target")), "{body}");
    // Every other parameter still may not repeat.
    let (status, body) = app.client_credentials((&id, &secret), &[("scope", "a"), ("scope", "b")]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
}

async fn more_than_ten_resources_are_invalid_target(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = setup(&app).await;
    let eleven: Vec<(&str, &str)> =
        std::iter::repeat_n(("resource", ORDERS), 10).chain(std::iter::once(("resource", BILLING))).collect();
    let (status, body) = app.client_credentials((&id, &secret), &eleven).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_target")), "{body}");
}

async fn a_scope_not_belonging_to_the_resource_is_invalid_scope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = setup(&app).await;
    for scope in ["billing:read", "other", "orders:read billing:read"] {
        let params = [("resource", ORDERS), ("scope", scope)];
        let (status, body) = app.client_credentials((&id, &secret), &params).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "{scope}: {body}");
    }
    let params = [("resource", ORDERS), ("scope", "orders:write")];
    let (status, body) = app.client_credentials((&id, &secret), &params).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "not the client's: {body}");
}

/// A client that may name resources but has no default gets the issuer's
/// audience when it names none: such a token is accepted by every server
/// that trusts the issuer, so it never carries a scope a resource defines.
async fn a_token_for_the_issuer_never_carries_a_resources_scopes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_resource(ORDERS, "orders:read", &[]).await;
    let (id, secret) = app.service_client_with("reports orders:read", json!({"resources": [ORDERS]})).await;
    let (status, body) = app.client_credentials((&id, &secret), &[]).await;
    assert_eq!(status, 200, "{body}");
    let claims = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!((&claims["aud"], &claims["scope"]), (&json!(app.address), &json!("reports")), "{claims}");
    let (status, body) = app.client_credentials((&id, &secret), &[("scope", "orders:read")]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "{body}");
    let (status, body) = app.client_credentials((&id, &secret), &[("resource", ORDERS)]).await;
    assert_eq!(status, 200, "named, the resource's scope is given: {body}");
}

/// RFC 9068 §4: the admin API is the issuer's resource. Castellan's `admin`
/// scope is never put in a token for another resource (no resource defines
/// it), and a token only for another resource is `invalid_token` there.
async fn a_resource_only_token_is_refused_by_the_admin_api(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_resource(ORDERS, "orders:read", &[]).await;
    let (id, secret) = app.service_client_with("admin orders:read", json!({"resources": [ORDERS]})).await;
    let params = [("resource", ORDERS), ("scope", "admin")];
    let (status, body) = app.client_credentials((&id, &secret), &params).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "{body}");

    let params = [("resource", ORDERS), ("scope", "orders:read")];
    let (status, body) = app.client_credentials((&id, &secret), &params).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let (status, answer) = app.admin_request(Method::GET, "/admin/clients", Some(token), None).await;
    assert_eq!((status, answer["error"].as_str()), (401, Some("invalid_token")), "{answer}");
    let issuer_token = app.token_for(&id, &secret, &["admin"]).await;
    let (status, _) = app.admin_request(Method::GET, "/admin/clients", Some(&issuer_token), None).await;
    assert_eq!(status, 200);
}

async fn a_resource_taken_from_a_client_ends_its_tokens_for_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = setup(&app).await;
    let (_, body) = app.client_credentials((&id, &secret), &[("resource", ORDERS)]).await;
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.introspect((&id, &secret), &token).await["active"], true);
    let admin = app.admin_token().await;
    let patch = json!({"resources": [BILLING]});
    let (status, _) =
        app.admin_request(Method::PATCH, &format!("/admin/clients/{id}"), Some(&admin), Some(&patch)).await;
    assert_eq!(status, 200);
    assert_eq!(app.introspect((&id, &secret), &token).await, json!({"active": false}));
}
