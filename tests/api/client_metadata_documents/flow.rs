//! A metadata-document client through the whole code flow: sign-in,
//! consent (always asked, naming the client's host), code with PKCE,
//! tokens and refresh; stored once granted, and only deletable by admins.

use serde_json::json;

use super::*;
use crate::both_backends;
use crate::helpers::{ADMIN_ID, ADMIN_SECRET, security_events, status_and_json};
use crate::oidc::{PKCE_VERIFIER, raw_exchange};

const ADMIN: (&str, &str) = (ADMIN_ID, ADMIN_SECRET);

/// Redeems `code` as the public client `client_id`; returns the token response.
async fn redeem(app: &TestApp, client_id: &str, code: &str) -> (u16, Value) {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", PKCE_VERIFIER),
        ("client_id", client_id),
    ];
    status_and_json(raw_exchange(app, &form, None).await).await
}

async fn refresh(app: &TestApp, client_id: &str, refresh_token: &str) -> (u16, Value) {
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("client_id", client_id)];
    status_and_json(raw_exchange(app, &form, None).await).await
}

/// Draft §3–§5 and MCP's authorization flow: the client's URL is its id;
/// the code flow with PKCE gives it tokens for the user, and refreshes them;
/// it is stored (a first-seen event) once the user allows it; the consent
/// page names the URL's host (§8.5) and is shown again next time.
async fn a_metadata_document_client_completes_the_code_flow_with_pkce(backend: Backend) {
    let (app, server) = spawn(backend, &[]).await;
    let client_id = publish(&server, "/mcp/client.json", json!({}));
    assert_eq!(
        app.admin_request(
            reqwest::Method::GET,
            &admin_client_path(&client_id),
            Some(&app.admin_token().await),
            None
        )
        .await
        .0,
        404,
        "not stored before a grant"
    );

    let (code, consent) = grant(&app, &client_id, REDIRECT_URI, "openid offline_access").await;
    assert!(consent.contains("Test MCP Client (from <b>clients.test</b>)"), "{consent}");
    assert!(consent.contains("sent back to <b>app.clients.test</b>"), "{consent}");
    assert!(!consent.contains("role=\"alert\""), "no loopback warning for an https redirect");
    let (status, tokens) = redeem(&app, &client_id, &code).await;
    assert_eq!(status, 200, "{tokens}");
    let access_token = tokens["access_token"].as_str().unwrap();
    let claims = app.verify_offline(access_token).await.unwrap();
    assert_eq!(claims["client_id"], client_id.as_str());
    assert_eq!(app.introspect(ADMIN, access_token).await["active"], true);
    let (status, refreshed) = refresh(&app, &client_id, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(security_events("metadata_document_client_first_seen", "client_id", &client_id).len(), 1);

    // Consent is asked again, though the user allowed this client before.
    let mut ua = UserAgent::new(&app.address);
    ua.follow(&authorize_url(&app, &client_id, REDIRECT_URI, "openid offline_access")).await.page();
    let again = ua.sign_in("alice", PASSWORD).await.page();
    assert!(again.consent_form().is_some(), "{}", again.body);
}

/// Draft §8.5 (and MCP's security considerations): any document may name
/// a loopback redirect URI, so the consent page warns when the browser is
/// to be sent to this device.
async fn the_consent_page_warns_of_a_loopback_redirect_uri(backend: Backend) {
    let (app, server) = spawn(backend, &[]).await;
    let client_id = publish(&server, "/native.json", json!({"redirect_uris": ["http://127.0.0.1/callback"]}));
    let (_, consent) = grant(&app, &client_id, "http://127.0.0.1:53682/callback", "openid").await;
    assert!(consent.contains("class=\"warning\" role=\"alert\""), "{consent}");
    assert!(consent.contains("sent back to <b>127.0.0.1</b>"), "{consent}");
}

/// The document is the client's metadata: admins cannot replace or patch
/// it (400), but may delete the client (204).
async fn admins_cannot_change_a_metadata_document_client_but_can_delete_it(backend: Backend) {
    let (app, server) = spawn(backend, &[]).await;
    let client_id = publish(&server, "/client.json", json!({}));
    grant(&app, &client_id, REDIRECT_URI, "openid").await;
    let token = app.admin_token().await;
    let path = admin_client_path(&client_id);
    let (status, shown) = app.admin_request(reqwest::Method::GET, &path, Some(&token), None).await;
    assert_eq!(status, 200, "{shown}");
    assert!(shown["metadata_document_fetched_at"].is_i64(), "{shown}");
    assert_eq!(shown["token_endpoint_auth_method"], "none");
    let put = json!({"client_name": "Renamed", "redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none"});
    let (status, body) = app.admin_request(reqwest::Method::PUT, &path, Some(&token), Some(&put)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_client_metadata")), "{body}");
    let patch = json!({"client_name": "Renamed"});
    let (status, body) = app.admin_request(reqwest::Method::PATCH, &path, Some(&token), Some(&patch)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_client_metadata")), "{body}");
    assert_eq!(app.admin_request(reqwest::Method::DELETE, &path, Some(&token), None).await.0, 204);
    assert_eq!(app.admin_request(reqwest::Method::GET, &path, Some(&token), None).await.0, 404);
}

/// Draft §5.1 and §8.4: a document that goes away makes the client unknown
/// once the cached copy expires: refreshing is `invalid_client`, a new
/// authorization the error page; the stored client stays.
async fn a_client_whose_document_disappears_stops_working(backend: Backend) {
    let (app, server) = spawn(backend, &[]).await;
    let client_id = publish(&server, "/client.json", json!({}));
    let (code, _) = grant(&app, &client_id, REDIRECT_URI, "openid offline_access").await;
    let (_, tokens) = redeem(&app, &client_id, &code).await;
    let mut gone = Canned::json(&json!({}));
    gone.status = 404;
    server.serve("/client.json", gone);
    app.clock.advance(121);
    let (status, body) = refresh(&app, &client_id, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");
    assert_error_page(authorize(&app, &client_id).await).await;
    let path = admin_client_path(&client_id);
    assert_eq!(
        app.admin_request(reqwest::Method::GET, &path, Some(&app.admin_token().await), None).await.0,
        200
    );
}

both_backends!(
    a_metadata_document_client_completes_the_code_flow_with_pkce,
    the_consent_page_warns_of_a_loopback_redirect_uri,
    admins_cannot_change_a_metadata_document_client_but_can_delete_it,
    a_client_whose_document_disappears_stops_working,
);
