//! Dynamic client registration (RFC 7591) and client management (RFC 7592)
//! under each `CASTELLAN_REGISTRATION` policy, through the endpoint that
//! discovery names.

mod code_flow;
mod limits;
mod management;
mod metadata;
mod policies;
mod redirects;
mod resources;

use serde_json::{Value, json};

use crate::helpers::{TestApp, status_and_json};

pub const OPEN: &[(&str, &str)] = &[("CASTELLAN_REGISTRATION", "open")];
pub const TOKEN: &[(&str, &str)] = &[("CASTELLAN_REGISTRATION", "token")];

/// A web app's metadata: a confidential client with one https redirect URI.
pub fn web_app() -> Value {
    json!({"client_name": "Web app", "redirect_uris": ["https://app.example.com/callback"]})
}

/// A native app's metadata: a public client redirecting to loopback http.
pub fn native_app() -> Value {
    json!({
        "client_name": "Native app", "application_type": "native", "token_endpoint_auth_method": "none",
        "redirect_uris": ["http://127.0.0.1/callback"],
    })
}

/// `POST` to the registration endpoint discovery names, with `token` as
/// the bearer if given; returns status and body.
pub async fn register(app: &TestApp, token: Option<&str>, metadata: &Value) -> (u16, Value) {
    let endpoint = app.endpoint("registration_endpoint").await;
    let mut request = app.http.post(endpoint).json(metadata);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    status_and_json(request.send().await.unwrap()).await
}

/// Registers `metadata` openly and returns the client information (201).
pub async fn registered(app: &TestApp, metadata: &Value) -> Value {
    let (status, body) = register(app, None, metadata).await;
    assert_eq!(status, 201, "{body}");
    body
}

/// A request to a client configuration endpoint (RFC 7592) with `token`.
pub async fn manage(
    app: &TestApp,
    method: reqwest::Method,
    uri: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> reqwest::Response {
    let mut request = app.http.request(method, uri);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.unwrap()
}

/// `POST /admin/initial-access-tokens` with `body`; returns the token (201).
pub async fn initial_access_token(app: &TestApp, body: Option<Value>) -> String {
    let token = app.admin_token().await;
    let (status, created) = app
        .admin_request(reqwest::Method::POST, "/admin/initial-access-tokens", Some(&token), body.as_ref())
        .await;
    assert_eq!(status, 201, "{created}");
    created["token"].as_str().expect("the token").to_owned()
}

/// Registers a resource `identifier` defining `scopes`, open to dynamic
/// clients or not; returns its id.
pub async fn resource(app: &TestApp, identifier: &str, scopes: &[&str], open: bool) -> String {
    let (status, body) = app
        .create_resource_with(json!({
            "identifier": identifier, "scopes": scopes, "dynamic_registration": open,
        }))
        .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().expect("the resource's id").to_owned()
}
