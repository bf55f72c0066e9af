//! Client authentication by the method the client registered (RFC 6749
//! §2.3, RFC 7591 §2 `token_endpoint_auth_method`): the other secret method
//! is refused, and a confidential client is never authenticated by its bare
//! `client_id`.

use oauth2::basic::BasicErrorResponseType;
use oauth2::{AuthType, RequestTokenError};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{ADMIN_ID, ADMIN_SECRET, Backend, TestApp, assert_error};

/// A `client_credentials` client registered with `method`; returns (id, secret).
async fn client_with(app: &TestApp, method: &str) -> (String, String) {
    let (status, body) = app
        .register_client(json!({
            "grant_types": ["client_credentials"], "redirect_uris": [], "response_types": [],
            "token_endpoint_auth_method": method, "scope": "orders:read",
        }))
        .await;
    assert_eq!(status, 201, "{body}");
    (body["client_id"].as_str().unwrap().to_owned(), body["client_secret"].as_str().unwrap().to_owned())
}

/// The error of a `client_credentials` request through the `oauth2` crate.
async fn refused(app: &TestApp, id: &str, secret: &str, auth: AuthType) -> BasicErrorResponseType {
    let client = app.oauth_client(id, secret).await.set_auth_type(auth);
    match client.exchange_client_credentials().request_async(&app.http).await {
        Err(RequestTokenError::ServerResponse(error)) => error.error().clone(),
        other => panic!("expected an error response, got {other:?}"),
    }
}

/// RFC 7591 §2: a client registered for `client_secret_basic` that sends its
/// (right) secret in the body is `invalid_client`.
async fn a_client_secret_basic_client_is_refused_with_its_secret_in_the_body(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = client_with(&app, "client_secret_basic").await;
    assert_eq!(
        refused(&app, &id, &secret, AuthType::RequestBody).await,
        BasicErrorResponseType::InvalidClient
    );
    let body = format!("grant_type=client_credentials&client_id={ADMIN_ID}&client_secret={ADMIN_SECRET}");
    assert_error(app.post_form("/oauth2/token", &body, None).await, 401, "invalid_client").await;
    // Its own method still works.
    assert!(!app.token_for(&id, &secret, &[]).await.is_empty());
}

/// RFC 7591 §2: a client registered for `client_secret_post` that sends its
/// (right) secret with HTTP Basic is `invalid_client`, with a Basic challenge.
async fn a_client_secret_post_client_is_refused_with_http_basic(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = client_with(&app, "client_secret_post").await;
    let response =
        app.post_form("/oauth2/token", "grant_type=client_credentials", Some((&id, &secret))).await;
    let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
    assert!(challenge.is_some_and(|c| c.starts_with("Basic")));
    assert_error(response, 401, "invalid_client").await;
    // Its own method still works.
    let body = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    let issued: Value = app.post_form("/oauth2/token", &body, None).await.json().await.unwrap();
    assert!(issued["access_token"].is_string(), "{issued}");
}

/// RFC 6749 §2.3: the registered method holds at introspection and
/// revocation too, and neither takes a confidential client's bare `client_id`.
async fn introspection_and_revocation_hold_clients_to_their_registered_method(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.admin_token().await;
    for path in ["/oauth2/introspect", "/oauth2/revoke"] {
        let posted = format!("token={token}&client_id={ADMIN_ID}&client_secret={ADMIN_SECRET}");
        assert_error(app.post_form(path, &posted, None).await, 401, "invalid_client").await;
        let bare = format!("token={token}&client_id={ADMIN_ID}");
        assert_error(app.post_form(path, &bare, None).await, 401, "invalid_client").await;
    }
    assert_eq!(app.introspect((ADMIN_ID, ADMIN_SECRET), &token).await["active"], true);
}

/// RFC 7591 §2 `none`: a public client has no secret, so one presented
/// for it (in the body or with Basic) authenticates nothing.
async fn a_public_client_cannot_present_a_secret(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app
        .register_client(json!({
            "redirect_uris": ["https://app.example/cb"], "token_endpoint_auth_method": "none",
        }))
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["client_id"].as_str().unwrap();
    let posted = format!("grant_type=authorization_code&code=x&client_id={id}&client_secret=guess");
    assert_error(app.post_form("/oauth2/token", &posted, None).await, 401, "invalid_client").await;
    let basic =
        app.post_form("/oauth2/token", "grant_type=authorization_code&code=x", Some((id, "guess"))).await;
    assert_error(basic, 401, "invalid_client").await;
    // By its bare client_id it gets as far as the grant.
    let bare = format!("grant_type=authorization_code&code=x&client_id={id}");
    assert_error(app.post_form("/oauth2/token", &bare, None).await, 400, "invalid_grant").await;
}

both_backends!(
    a_client_secret_basic_client_is_refused_with_its_secret_in_the_body,
    a_client_secret_post_client_is_refused_with_http_basic,
    introspection_and_revocation_hold_clients_to_their_registered_method,
    a_public_client_cannot_present_a_secret,
);
