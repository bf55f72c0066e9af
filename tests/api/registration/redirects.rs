//! A self-registered client's redirect URIs are whatever anyone registered,
//! so Castellan never sends a browser there unseen (RFC 9700 §4.11.2): an
//! invalid authorization request is told on a page, and RP-initiated logout
//! redirects only with the client's ID token as proof. An admin's client
//! keeps the RFC 6749 §4.1.2.1 error redirect.

use serde_json::json;

use super::*;
use crate::both_backends;
use crate::helpers::{Backend, TestApp};

both_backends!(
    an_invalid_request_of_a_self_registered_client_is_shown_not_redirected,
    logout_never_sends_anyone_to_a_self_registered_clients_address_without_its_id_token,
);

const EVIL: &str = "https://evil.example/landing";

async fn an_invalid_request_of_a_self_registered_client_is_shown_not_redirected(backend: Backend) {
    let app = TestApp::spawn_with(backend, OPEN).await;
    let client =
        registered(&app, &json!({"redirect_uris": [EVIL], "token_endpoint_auth_method": "none"})).await;
    let id = client["client_id"].as_str().unwrap();
    let authorize = app.endpoint("authorization_endpoint").await;
    let url = format!(
        "{authorize}?response_type=code&client_id={id}&redirect_uri={EVIL}&scope=bogus&state=s\
         &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
    );
    let response = app.http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
    assert!(response.text().await.unwrap().contains("cannot be answered"));

    let (admin_id, _) = app
        .service_client_with(
            "",
            json!({
                "grant_types": ["authorization_code"], "response_types": ["code"], "redirect_uris": [EVIL],
            }),
        )
        .await;
    let url = url.replace(id, &admin_id);
    let response = app.http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 303, "an admin's client gets the error at its redirect URI");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("{EVIL}?error=invalid_scope")), "{location}");
}

async fn logout_never_sends_anyone_to_a_self_registered_clients_address_without_its_id_token(
    backend: Backend,
) {
    let app = TestApp::spawn_with(backend, OPEN).await;
    let client = registered(
        &app,
        &json!({"redirect_uris": [EVIL], "post_logout_redirect_uris": [EVIL], "token_endpoint_auth_method": "none"}),
    )
    .await;
    let id = client["client_id"].as_str().unwrap();
    let logout = app.endpoint("end_session_endpoint").await;
    let response = app
        .http
        .get(format!("{logout}?client_id={id}&post_logout_redirect_uri={EVIL}"))
        .send()
        .await
        .unwrap();
    assert!(response.headers().get("location").is_none(), "not redirected: {:?}", response.headers());
    assert!(response.status().is_success(), "{}", response.status());
}
