//! The admin resource API (interface.md, "Resources (APIs) and audiences"):
//! register, list, show, patch (RFC 7396) and delete resources; and client
//! metadata may name only registered resources.

use reqwest::Method;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{Backend, TestApp};

both_backends!(
    a_registered_resource_is_shown_listed_patched_and_deleted,
    a_resource_identifier_must_be_an_absolute_uri_without_fragment,
    a_second_resource_with_the_same_identifier_is_a_conflict,
    a_patch_cannot_change_a_resource_identifier,
    an_unknown_resource_id_is_a_json_404,
    client_metadata_may_name_only_registered_resources,
    the_resource_api_needs_an_admin_token,
);

async fn a_registered_resource_is_shown_listed_patched_and_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.admin_token().await;
    let (status, created) = app
        .create_resource_with(json!({
            "identifier": "https://api.example.com/orders", "name": "Orders",
            "scopes": ["orders:read", "orders:write"], "client_ids": ["orders-api"],
        }))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("an id").to_owned();
    assert_eq!(created["identifier"], "https://api.example.com/orders");
    assert_eq!(created["name"], "Orders");
    assert_eq!(created["scopes"], json!(["orders:read", "orders:write"]));
    assert_eq!(created["client_ids"], json!(["orders-api"]));
    assert_eq!(created["dynamic_registration"], false);

    let path = format!("/admin/resources/{id}");
    let (status, shown) = app.admin_request(Method::GET, &path, Some(&token), None).await;
    assert_eq!((status, &shown), (200, &created));
    let (status, list) = app.admin_request(Method::GET, "/admin/resources", Some(&token), None).await;
    assert_eq!((status, list), (200, json!([created])));

    let patch = json!({"name": null, "scopes": ["orders:read"], "dynamic_registration": true});
    let (status, patched) = app.admin_request(Method::PATCH, &path, Some(&token), Some(&patch)).await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["name"], serde_json::Value::Null);
    assert_eq!(patched["scopes"], json!(["orders:read"]));
    assert_eq!(patched["dynamic_registration"], true);
    assert_eq!(
        (&patched["identifier"], &patched["client_ids"]),
        (&created["identifier"], &created["client_ids"])
    );

    let (status, _) = app.admin_request(Method::DELETE, &path, Some(&token), None).await;
    assert_eq!(status, 204);
    let (status, body) = app.admin_request(Method::GET, &path, Some(&token), None).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
}

async fn a_resource_identifier_must_be_an_absolute_uri_without_fragment(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for body in [
        json!({}),
        json!({"identifier": "orders"}),
        json!({"identifier": "/orders"}),
        json!({"identifier": "https://api.example.com/#orders"}),
        json!({"identifier": format!("https://api.example.com/{}", "a".repeat(2048))}),
        json!({"identifier": "https://api.example.com", "scopes": ["bad\"scope"]}),
        json!({"identifier": "https://api.example.com", "client_ids": [""]}),
        json!({"identifier": "https://api.example.com", "unknown": 1}),
    ] {
        let (status, answer) = app.create_resource_with(body.clone()).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_request")), "{body}: {answer}");
    }
    // The issuer's own URL would make a resource's tokens pass for the issuer's.
    for own in [app.address.clone(), format!("{}/", app.address), format!("{}/oauth2/userinfo", app.address)]
    {
        let (status, answer) = app.create_resource_with(json!({"identifier": own})).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_request")), "{own}: {answer}");
    }
    let (status, _) = app.create_resource_with(json!({"identifier": "urn:example:orders"})).await;
    assert_eq!(status, 201, "a URN is an absolute URI");
}

async fn a_second_resource_with_the_same_identifier_is_a_conflict(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_resource("https://api.example.com/orders", "", &[]).await;
    let (status, body) =
        app.create_resource_with(json!({"identifier": "https://api.example.com/orders"})).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("conflict")), "{body}");
}

async fn a_patch_cannot_change_a_resource_identifier(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.admin_token().await;
    let id = app.create_resource("https://api.example.com/orders", "read", &[]).await;
    let path = format!("/admin/resources/{id}");
    for patch in [json!({"identifier": "https://api.example.com/other"}), json!({"identifier": null})] {
        let (status, body) = app.admin_request(Method::PATCH, &path, Some(&token), Some(&patch)).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{patch}");
    }
    let same = json!({"identifier": "https://api.example.com/orders", "name": "Orders"});
    let (status, body) = app.admin_request(Method::PATCH, &path, Some(&token), Some(&same)).await;
    assert_eq!((status, body["name"].as_str()), (200, Some("Orders")), "{body}");
}

async fn an_unknown_resource_id_is_a_json_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.admin_token().await;
    for (method, path) in [
        (Method::GET, "/admin/resources/nope"),
        (Method::PATCH, "/admin/resources/nope"),
        (Method::DELETE, "/admin/resources/nope"),
        (Method::GET, "/admin/resources/no%20such"),
    ] {
        let body = json!({"name": "x"});
        let (status, answer) = app.admin_request(method, path, Some(&token), Some(&body)).await;
        assert_eq!((status, answer["error"].as_str()), (404, Some("not_found")), "{path}");
    }
}

/// A client may name only registered resources in `resources` and
/// `default_resource`; the default must be one of `resources` when both are given.
async fn client_metadata_may_name_only_registered_resources(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_resource("https://api.example.com/orders", "orders:read", &[]).await;
    let service = |extra: serde_json::Value| {
        let mut metadata = json!({
            "grant_types": ["client_credentials"], "redirect_uris": [], "response_types": [],
        });
        crate::helpers::merge(&mut metadata, extra);
        metadata
    };
    let (status, body) = app
        .register_client(service(json!({
            "resources": ["https://api.example.com/orders"], "default_resource": "https://api.example.com/orders",
        })))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["resources"], json!(["https://api.example.com/orders"]));
    assert_eq!(body["default_resource"], "https://api.example.com/orders");
    let client_id = body["client_id"].as_str().expect("an id").to_owned();
    for extra in [
        json!({"resources": ["https://api.example.com/unknown"]}),
        json!({"default_resource": "https://api.example.com/unknown"}),
        json!({"resources": ["https://api.example.com/orders"], "default_resource": "https://api.example.com/x"}),
        json!({"resources": ["not a uri"]}),
    ] {
        let (status, answer) = app.register_client(service(extra.clone())).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_client_metadata")), "{extra}");
    }
    let token = app.admin_token().await;
    let patch = json!({"resources": ["https://api.example.com/unknown"], "default_resource": null});
    let path = format!("/admin/clients/{client_id}");
    let (status, answer) = app.admin_request(Method::PATCH, &path, Some(&token), Some(&patch)).await;
    assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_client_metadata")), "{answer}");
}

async fn the_resource_api_needs_an_admin_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, _) = app.admin_request(Method::GET, "/admin/resources", None, None).await;
    assert_eq!(status, 401);
    let (id, secret) = app.service_client("reports").await;
    let token = app.token_for(&id, &secret, &["reports"]).await;
    let (status, _) = app.admin_request(Method::GET, "/admin/resources", Some(&token), None).await;
    assert_eq!(status, 403);
}
