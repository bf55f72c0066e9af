//! The admins' domain policy (draft §8.9) and the setting itself: with
//! metadata documents off, a URL `client_id` is an unknown client and
//! discovery does not advertise them (§6).

use reqwest::Method;
use serde_json::json;

use super::*;
use crate::both_backends;

const POLICY: &str = "/admin/client-metadata-documents";

/// Deny wins; a non-empty allow list admits only its domains (and their
/// subdomains); a denied client is refused before anything is fetched.
async fn admins_allow_and_deny_client_domains(backend: Backend) {
    let (app, server) = spawn(backend, &[]).await;
    let client_id = publish(&server, "/client.json", json!({}));
    let token = app.admin_token().await;
    let (status, policy) = app.admin_request(Method::GET, POLICY, Some(&token), None).await;
    assert_eq!((status, policy), (200, json!({"allow_domains": [], "deny_domains": []})));

    let deny = json!({"allow_domains": ["clients.test"], "deny_domains": ["Clients.Test"]});
    let (status, stored) = app.admin_request(Method::PUT, POLICY, Some(&token), Some(&deny)).await;
    assert_eq!((status, &stored["deny_domains"]), (200, &json!(["clients.test"])), "{stored}");
    let page = assert_error_page(authorize(&app, &client_id).await).await;
    assert!(page.contains("domain is not allowed"), "{page}");
    assert_eq!(server.hits("/client.json"), 0);

    let elsewhere = json!({"allow_domains": ["example.com"]});
    assert_eq!(app.admin_request(Method::PUT, POLICY, Some(&token), Some(&elsewhere)).await.0, 200);
    assert_error_page(authorize(&app, &client_id).await).await;

    let parent = json!({"allow_domains": ["test"], "deny_domains": []});
    assert_eq!(app.admin_request(Method::PUT, POLICY, Some(&token), Some(&parent)).await.0, 200);
    assert_accepted(authorize(&app, &client_id).await).await;
    let (_, shown) = app.admin_request(Method::GET, POLICY, Some(&token), None).await;
    assert_eq!(shown, json!({"allow_domains": ["test"], "deny_domains": []}));
}

/// Patterns, URLs and unknown members are refused; the API needs an admin.
async fn the_domain_policy_is_validated_and_admin_only(backend: Backend) {
    let (app, _server) = spawn(backend, &[]).await;
    let token = app.admin_token().await;
    for bad in [
        json!({"allow_domains": ["*.example.com"]}),
        json!({"deny_domains": ["https://example.com/"]}),
        json!({"allowed": ["example.com"]}),
        json!({"allow_domains": "example.com"}),
    ] {
        let (status, body) = app.admin_request(Method::PUT, POLICY, Some(&token), Some(&bad)).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{bad}: {body}");
    }
    assert_eq!(app.admin_request(Method::GET, POLICY, None, None).await.0, 401);
    assert_eq!(app.admin_request(Method::PUT, POLICY, None, Some(&json!({}))).await.0, 401);
}

/// Draft §6: both discovery documents advertise metadata documents exactly
/// when they are on; off, a URL `client_id` is unknown and never fetched.
async fn metadata_documents_are_advertised_only_when_on(backend: Backend) {
    let (app, server) = spawn(backend, &[]).await;
    for path in ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"] {
        let metadata: Value = app.http.get(app.url(path)).send().await.unwrap().json().await.unwrap();
        assert_eq!(metadata["client_id_metadata_document_supported"], true, "{path}");
    }
    drop(app);

    let (app, _) = spawn(backend, &[("CASTELLAN_CLIENT_METADATA_DOCUMENTS", "off")]).await;
    for path in ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"] {
        let metadata: Value = app.http.get(app.url(path)).send().await.unwrap().json().await.unwrap();
        assert!(metadata.get("client_id_metadata_document_supported").is_none(), "{path}: {metadata}");
    }
    let client_id = publish(&server, "/client.json", json!({}));
    let page = assert_error_page(authorize(&app, &client_id).await).await;
    assert!(page.contains("not registered"), "{page}");
    assert_eq!(server.hits("/client.json"), 0);
}

both_backends!(
    admins_allow_and_deny_client_domains,
    the_domain_policy_is_validated_and_admin_only,
    metadata_documents_are_advertised_only_when_on,
);
