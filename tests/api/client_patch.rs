//! `PATCH /admin/clients/{client_id}` (interface.md): an RFC 7396 merge
//! patch of the metadata as the admin API shows it, validated as a
//! registration is; and the redirect URI rules every way metadata comes in.

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, TestApp, assert_error, status_and_json};

const CB: &str = "https://app.example.com/cb";

fn web_app() -> Value {
    json!({
        "client_name": "shop",
        "redirect_uris": [CB],
        "grant_types": ["authorization_code", "refresh_token"],
        "scope": "orders:read",
        "post_logout_redirect_uris": ["https://app.example.com/bye"],
        "require_pkce": true,
        "first_party": true,
    })
}

/// Sends `patch` with `content_type`; returns status and body.
async fn patch_with(app: &TestApp, id: &str, patch: &Value, content_type: &str) -> (u16, Value) {
    let response = app
        .http
        .patch(app.url(&format!("/admin/clients/{id}")))
        .bearer_auth(app.admin_token().await)
        .header("content-type", content_type)
        .body(patch.to_string())
        .send()
        .await
        .unwrap();
    status_and_json(response).await
}

async fn patch(app: &TestApp, id: &str, patch: &Value) -> (u16, Value) {
    patch_with(app, id, patch, "application/merge-patch+json").await
}

async fn show(app: &TestApp, id: &str) -> Value {
    let token = app.admin_token().await;
    let (status, body) =
        app.admin_request(Method::GET, &format!("/admin/clients/{id}"), Some(&token), None).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn register(app: &TestApp, metadata: Value) -> (String, Value) {
    let (status, body) = app.register_client(metadata).await;
    assert_eq!(status, 201, "{body}");
    (body["client_id"].as_str().unwrap().to_owned(), body)
}

/// RFC 7396 §1: members the patch does not name stay as they are; the
/// answer is 200 with the stored metadata and never the secret.
async fn patching_one_member_keeps_the_others(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, _) = register(&app, web_app()).await;
    let before = show(&app, &id).await;

    let (status, body) = patch(&app, &id, &json!({"client_name": "shop v2"})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("client_secret").is_none(), "{body}");
    let mut expected = before.clone();
    expected["client_name"] = json!("shop v2");
    assert_eq!(body, expected);
    assert_eq!(show(&app, &id).await, expected);

    // `application/json` is accepted as well as `application/merge-patch+json`.
    let (status, body) =
        patch_with(&app, &id, &json!({"scope": "orders:read orders:write"}), "application/json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["scope"].as_str(), body["client_name"].as_str()),
        (Some("orders:read orders:write"), Some("shop v2"))
    );
    let (status, body) = patch_with(&app, &id, &json!({"client_name": "x"}), "text/plain").await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_client_metadata")), "{body}");
}

/// A service client keeps its secret through a patch, and the change is in
/// force at once on this instance (its client cache forgets the client).
async fn a_patch_keeps_the_secret_and_takes_effect_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = app.service_client("reports invoices").await;
    app.token_for(&id, &secret, &["reports"]).await;
    let (status, body) = patch(&app, &id, &json!({"scope": "invoices"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["grant_types"], json!(["client_credentials"]));
    let response = app
        .post_form("/oauth2/token", "grant_type=client_credentials&scope=reports", Some((&id, &secret)))
        .await;
    assert_error(response, 400, "invalid_scope").await;
    app.token_for(&id, &secret, &["invoices"]).await;
}

/// RFC 7396 §1: `null` removes a member, which then takes its RFC 7591
/// default as it would at registration.
async fn null_resets_a_member_to_its_default(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, _) = register(&app, web_app()).await;
    let reset = json!({
        "client_name": null, "require_pkce": null, "scope": null,
        "post_logout_redirect_uris": null, "first_party": null, "grant_types": null,
    });
    let (status, body) = patch(&app, &id, &reset).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("client_name").is_none() && body.get("require_pkce").is_none(), "{body}");
    assert_eq!(body["scope"], "");
    assert_eq!(body["post_logout_redirect_uris"], json!([]));
    assert_eq!(body["first_party"], false);
    assert_eq!(body["grant_types"], json!(["authorization_code"]));
    assert_eq!(body["redirect_uris"], json!([CB]), "what the patch did not name stays");
    assert_eq!(show(&app, &id).await, body);
}

/// The patched metadata is checked as a registration is: a patch that
/// would make it invalid is 400 and changes nothing, and server-set members
/// (`client_id`, `client_id_issued_at`, the secret) cannot be patched.
async fn a_patch_to_invalid_metadata_is_refused_and_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, created) = register(&app, web_app()).await;
    let before = show(&app, &id).await;
    for (bad, code) in [
        (json!({"grant_types": ["implicit"]}), "invalid_client_metadata"),
        (json!({"grant_types": ["client_credentials"], "client_name": "half"}), "invalid_client_metadata"),
        (json!({"response_types": []}), "invalid_client_metadata"),
        (json!({"scope": ["orders:read"]}), "invalid_client_metadata"),
        (json!({"token_endpoint_auth_method": "private_key_jwt"}), "invalid_client_metadata"),
        (json!({"redirect_uris": []}), "invalid_redirect_uri"),
        (json!({"redirect_uris": null}), "invalid_redirect_uri"),
        (json!({"redirect_uris": ["http://app.example.com/cb"]}), "invalid_redirect_uri"),
        (json!({"post_logout_redirect_uris": ["javascript:alert(1)"]}), "invalid_redirect_uri"),
        (json!({"client_id": "mine-now"}), "invalid_client_metadata"),
        (json!({"client_id_issued_at": 0}), "invalid_client_metadata"),
        (json!({"client_secret": "chosen-by-caller"}), "invalid_client_metadata"),
        (json!(["client_name"]), "invalid_client_metadata"),
        (json!("shop"), "invalid_client_metadata"),
    ] {
        let (status, body) = patch(&app, &id, &bad).await;
        assert_eq!((status, body["error"].as_str()), (400, Some(code)), "{bad}: {body}");
    }
    assert_eq!(show(&app, &id).await, before);
    // The document as read may be sent back whole: its server-set members
    // are accepted when unchanged.
    let mut echoed = created.clone();
    echoed
        .as_object_mut()
        .unwrap()
        .retain(|name, _| name != "client_secret" && name != "client_secret_expires_at");
    echoed["client_name"] = json!("echoed");
    let (status, body) = patch(&app, &id, &echoed).await;
    assert_eq!((status, body["client_name"].as_str()), (200, Some("echoed")), "{body}");

    let (status, body) = patch(&app, "no-such-client", &json!({"client_name": "x"})).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")), "{body}");
}

/// As with PUT, a public client cannot be patched confidential (it has no
/// secret); a confidential client patched public loses its secret, so it
/// cannot be patched back either.
async fn a_patch_makes_a_client_public_but_never_confidential(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let public = app.public_client().await;
    let confidential = json!({"token_endpoint_auth_method": "client_secret_basic"});
    let (status, body) = patch(&app, &public, &confidential).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_client_metadata")), "{body}");
    assert_eq!(show(&app, &public).await["token_endpoint_auth_method"], "none");

    let (id, created) = register(&app, web_app()).await;
    let secret = created["client_secret"].as_str().unwrap();
    let (status, body) = patch(&app, &id, &json!({"token_endpoint_auth_method": "none"})).await;
    assert_eq!((status, body["token_endpoint_auth_method"].as_str()), (200, Some("none")), "{body}");
    let (status, body) = patch(&app, &id, &confidential).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_client_metadata")), "{body}");
    let response =
        app.post_form("/oauth2/token", "grant_type=refresh_token&refresh_token=x", Some((&id, secret))).await;
    assert_error(response, 401, "invalid_client").await;
}

/// RFC 7591 §3.2.2: redirect URIs that are relative, carry a fragment, use
/// plain http off loopback, or a script scheme are `invalid_redirect_uri`.
async fn unsafe_redirect_uris_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for uri in [
        "/callback",
        "app.example.com/cb",
        "https://app.example.com/cb#fragment",
        "http://app.example.com/cb",
        "http://localhost.evil.example/cb",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "",
    ] {
        let (status, body) = app.register_client(json!({"redirect_uris": [uri]})).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_redirect_uri")), "{uri:?}: {body}");
    }
    let (status, body) = app
        .register_client(json!({
            "redirect_uris": ["https://app.example.com/cb"],
            "post_logout_redirect_uris": ["javascript:alert(1)"],
        }))
        .await;
    assert_eq!(status, 400, "post_logout_redirect_uris: {body}");
    for uri in ["http://127.0.0.1:8400/cb", "http://[::1]/cb", "com.example.app:/oauth2redirect"] {
        let (status, body) = app.register_client(json!({"redirect_uris": [uri]})).await;
        assert_eq!(status, 201, "{uri}: {body}");
    }
}

/// RFC 9700 §2.1: redirect URIs are matched exactly, so one with a `*`
/// anywhere (a wildcard to whoever wrote it) is `invalid_redirect_uri`, in
/// `redirect_uris` and `post_logout_redirect_uris`, by POST, PUT and PATCH.
async fn wildcard_redirect_uris_are_refused_on_post_put_and_patch(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.admin_token().await;
    let (id, _) = register(&app, web_app()).await;
    let path = format!("/admin/clients/{id}");
    let before = show(&app, &id).await;
    for wildcard in [
        "https://*.example.com/cb",
        "https://app.example.com/*",
        "https://app.example.com/cb?next=*",
        "http://127.0.0.1:*/cb",
    ] {
        for member in ["redirect_uris", "post_logout_redirect_uris"] {
            let mut metadata = web_app();
            metadata[member] = json!([CB, wildcard]);
            let (status, body) = app.register_client(metadata.clone()).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (400, Some("invalid_redirect_uri")),
                "POST {metadata}"
            );
            let (status, body) = app.admin_request(Method::PUT, &path, Some(&token), Some(&metadata)).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (400, Some("invalid_redirect_uri")),
                "PUT {metadata}"
            );
            let (status, body) = patch(&app, &id, &json!({member: [wildcard]})).await;
            assert_eq!((status, body["error"].as_str()), (400, Some("invalid_redirect_uri")), "PATCH {body}");
        }
    }
    assert_eq!(show(&app, &id).await, before);
}

both_backends!(
    unsafe_redirect_uris_are_refused,
    patching_one_member_keeps_the_others,
    a_patch_keeps_the_secret_and_takes_effect_at_once,
    null_resets_a_member_to_its_default,
    a_patch_to_invalid_metadata_is_refused_and_changes_nothing,
    a_patch_makes_a_client_public_but_never_confidential,
    wildcard_redirect_uris_are_refused_on_post_put_and_patch,
);
