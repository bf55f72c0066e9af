//! The client configuration endpoint (RFC 7592 §2): read, replace and
//! delete with the registration access token; any other token is
//! `invalid_token`, whether or not the client exists.

use reqwest::Method;
use serde_json::json;

use super::*;
use crate::both_backends;
use crate::helpers::{ADMIN_ID, Backend, TestApp, assert_error};

both_backends!(
    the_registration_access_token_reads_replaces_and_deletes_the_client,
    a_replacement_names_the_client_and_keeps_the_registration_rules,
    any_other_token_is_invalid_token_and_tells_nothing_of_the_client,
);

async fn the_registration_access_token_reads_replaces_and_deletes_the_client(backend: Backend) {
    let app = TestApp::spawn_with(backend, OPEN).await;
    let registered = registered(&app, &web_app()).await;
    let (id, uri) =
        (registered["client_id"].as_str().unwrap(), registered["registration_client_uri"].as_str().unwrap());
    let token = registered["registration_access_token"].as_str().unwrap();

    // §2.1: the registration as it stands, with the same token; the secret is not shown again.
    let response = manage(&app, Method::GET, uri, Some(token), None).await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    let (status, read) = status_and_json(response).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(
        (read["client_id"].as_str(), read["registration_access_token"].as_str()),
        (Some(id), Some(token))
    );
    assert_eq!(read["registration_client_uri"], uri);
    assert!(read.get("client_secret").is_none(), "{read}");
    assert_eq!(read["client_secret_expires_at"], 0);

    // §2.2: the document read, changed and sent back whole (server-set fields included).
    let mut changed = read.clone();
    changed["client_name"] = json!("Renamed app");
    changed["redirect_uris"] = json!(["https://app.example.com/new-callback"]);
    let (status, replaced) =
        status_and_json(manage(&app, Method::PUT, uri, Some(token), Some(&changed)).await).await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["client_name"], "Renamed app");
    assert_eq!(replaced["redirect_uris"], json!(["https://app.example.com/new-callback"]));
    assert_eq!(replaced["registration_access_token"], token, "the token is not rotated");
    let (_, reread) = status_and_json(manage(&app, Method::GET, uri, Some(token), None).await).await;
    assert_eq!(reread["client_name"], "Renamed app");

    // §2.3: gone, with its token.
    let response = manage(&app, Method::DELETE, uri, Some(token), None).await;
    assert_eq!(response.status(), 204);
    assert_error(manage(&app, Method::GET, uri, Some(token), None).await, 401, "invalid_token").await;
    let admin = app.admin_token().await;
    let (status, _) =
        app.admin_request(Method::GET, &format!("/admin/clients/{id}"), Some(&admin), None).await;
    assert_eq!(status, 404);
}

/// §2.2: `client_id` must be the client's, a `client_secret` sent along must
/// be its current one, and the new metadata passes the registration's rules.
async fn a_replacement_names_the_client_and_keeps_the_registration_rules(backend: Backend) {
    let app = TestApp::spawn_with(backend, OPEN).await;
    let registered = registered(&app, &web_app()).await;
    let (id, uri) =
        (registered["client_id"].as_str().unwrap(), registered["registration_client_uri"].as_str().unwrap());
    let token = registered["registration_access_token"].as_str().unwrap();
    let secret = registered["client_secret"].as_str().unwrap();
    let with = |changes: serde_json::Value| {
        let mut body = web_app();
        crate::helpers::merge(&mut body, changes);
        body
    };
    for bad in [
        web_app(),
        with(json!({"client_id": "someone-else"})),
        with(json!({"client_id": id, "client_secret": "not-the-secret"})),
        with(json!({"client_id": id, "scope": "openid admin"})),
        with(json!({"client_id": id, "token_endpoint_auth_method": "private_key_jwt"})),
    ] {
        let response = manage(&app, Method::PUT, uri, Some(token), Some(&bad)).await;
        assert_error(response, 400, "invalid_client_metadata").await;
    }
    let bad_uri =
        with(json!({"client_id": id, "redirect_uris": ["http://127.0.0.1/cb"], "application_type": "web"}));
    assert_error(
        manage(&app, Method::PUT, uri, Some(token), Some(&bad_uri)).await,
        400,
        "invalid_redirect_uri",
    )
    .await;

    let good = with(json!({"client_id": id, "client_secret": secret, "first_party": true, "color": "blue"}));
    let (status, body) =
        status_and_json(manage(&app, Method::PUT, uri, Some(token), Some(&good)).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["first_party"], false, "{body}");
    assert!(body.get("color").is_none(), "{body}");
}

async fn any_other_token_is_invalid_token_and_tells_nothing_of_the_client(backend: Backend) {
    let app = TestApp::spawn_with(backend, OPEN).await;
    let first = registered(&app, &web_app()).await;
    let second = registered(&app, &native_app()).await;
    let uri = first["registration_client_uri"].as_str().unwrap();
    let others_token = second["registration_access_token"].as_str().unwrap();
    let endpoint = app.endpoint("registration_endpoint").await;
    let admin_uri = format!("{endpoint}/{ADMIN_ID}");
    let unknown_uri = format!("{endpoint}/no-such-client");
    let admin_token = app.admin_token().await;
    let mut descriptions = Vec::new();
    for (uri, token) in [
        (uri, Some(others_token)),
        (uri, Some("x")),
        (unknown_uri.as_str(), Some(others_token)),
        (admin_uri.as_str(), Some(admin_token.as_str())),
    ] {
        for method in [Method::GET, Method::PUT, Method::DELETE] {
            let body = (method == Method::PUT).then(web_app);
            let response = manage(&app, method.clone(), uri, token, body.as_ref()).await;
            let challenge =
                response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
            assert_eq!(challenge.as_deref(), Some("Bearer realm=\"castellan\", error=\"invalid_token\""));
            descriptions
                .push(assert_error(response, 401, "invalid_token").await["error_description"].clone());
        }
    }
    descriptions.dedup();
    assert_eq!(descriptions.len(), 1, "one answer for every case: {descriptions:?}");
    let response = manage(&app, Method::GET, uri, None, None).await;
    assert_error(response, 401, "invalid_token").await;
    let still = manage(&app, Method::GET, uri, first["registration_access_token"].as_str(), None).await;
    assert_eq!(still.status(), 200, "nothing was deleted");
}
