//! What is refused, and how: every refused `client_id` URL gets the HTML
//! error page at the authorization endpoint (400, nothing redirected: the
//! redirect URI is not trusted) and `invalid_client` at the token endpoint.

use std::time::Duration;

use serde_json::json;

use super::*;
use crate::both_backends;
use crate::helpers::assert_error;

/// Draft §4: the document's `client_id` must be the URL it was fetched
/// from, exactly (a trailing slash, another host or port is another client).
async fn a_document_whose_client_id_is_not_its_url_is_refused(backend: Backend) {
    let (app, server) = spawn(backend, &[]).await;
    let client_id = server.url("clients.test", "/client.json");
    for other in [format!("{client_id}/"), server.url("docs.test", "/client.json")] {
        server.serve("/client.json", Canned::json(&document(&other, json!({}))));
        let page = assert_error_page(authorize(&app, &client_id).await).await;
        assert!(page.contains("client_id is not the URL it was fetched from"), "{page}");
        app.clock.advance(11);
    }
    let form = format!(
        "grant_type=authorization_code&code=x&client_id={}",
        url::form_urlencoded::byte_serialize(client_id.as_bytes()).collect::<String>()
    );
    assert_error(app.post_form("/oauth2/token", &form, None).await, 401, "invalid_client").await;
}

/// Draft §4.1: a document cannot hold a shared secret, so a secret-based
/// authentication method (or a `client_secret`) refuses it.
async fn a_document_naming_client_secret_basic_is_refused(backend: Backend) {
    let (app, server) = spawn(backend, &[]).await;
    let basic = publish(&server, "/basic.json", json!({"token_endpoint_auth_method": "client_secret_basic"}));
    let page = assert_error_page(authorize(&app, &basic).await).await;
    assert!(page.contains("shared secret"), "{page}");
    let secret = publish(&server, "/secret.json", json!({"client_secret": "hunter2"}));
    assert_error_page(authorize(&app, &secret).await).await;
}

/// A document listing `token_endpoint_auth_methods_supported` is judged by
/// that list, not by its single `token_endpoint_auth_method`.
async fn token_endpoint_auth_methods_supported_wins_over_the_single_method(backend: Backend) {
    let (app, server) = spawn(backend, &[]).await;
    let listed = publish(
        &server,
        "/listed.json",
        json!({
            "token_endpoint_auth_method": "client_secret_basic",
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
        }),
    );
    assert_accepted(authorize(&app, &listed).await).await;
    let unusable = publish(
        &server,
        "/unusable.json",
        json!({"token_endpoint_auth_method": "none", "token_endpoint_auth_methods_supported": ["client_secret_post"]}),
    );
    assert_error_page(authorize(&app, &unusable).await).await;
}

/// Draft §8.6 (SSRF): a host that resolves to a loopback address is not
/// fetched unless an operator allowed it (CASTELLAN_FETCH_ALLOW_HOSTS), nor
/// is a loopback IP literal: nothing even connects.
async fn a_client_id_that_resolves_to_loopback_is_never_fetched(backend: Backend) {
    let (app, server) = spawn(backend, &[]).await;
    server
        .serve("/client.json", Canned::json(&document(&server.url("evil.test", "/client.json"), json!({}))));
    for client_id in [server.url("evil.test", "/client.json"), server.url("127.0.0.1", "/client.json")] {
        let page = assert_error_page(authorize(&app, &client_id).await).await;
        assert!(page.contains("could not be fetched"), "{page}");
    }
    assert_eq!(server.connections(), 0, "nothing reached the document server");
}

/// Draft §5 (no redirects) and §8.7 (bounded size), and a time limit: a
/// redirect, a document over 5 KiB (or far over the fetcher's limit) and a
/// server too slow to answer are all refused.
async fn redirects_oversized_and_slow_documents_are_refused(backend: Backend) {
    let (app, server) = spawn(backend, &[]).await;
    let target = publish(&server, "/target.json", json!({}));
    server.serve("/moved.json", Canned::redirect(&target));
    let big = server.url("clients.test", "/big.json");
    server.serve(
        "/big.json",
        Canned::json(&document(
            &big,
            json!({"logo_uri": format!("https://clients.test/{}", "x".repeat(6000))}),
        )),
    );
    let huge = server.url("clients.test", "/huge.json");
    server.serve("/huge.json", Canned::json(&document(&huge, json!({"padding": "x".repeat(100_000)}))));
    let slow = server.url("clients.test", "/slow.json");
    let mut answer = Canned::json(&document(&slow, json!({})));
    answer.delay = Duration::from_secs(10);
    server.serve("/slow.json", answer);
    for client_id in [server.url("clients.test", "/moved.json"), big, huge, slow] {
        assert_error_page(authorize(&app, &client_id).await).await;
    }
    assert_eq!(server.hits("/target.json"), 0, "the redirect was not followed");
}

/// Draft §3: a URL without a path, with a query, or not in normal form is
/// not a Client Identifier URL (and is not fetched).
async fn malformed_client_id_urls_are_refused_without_fetching(backend: Backend) {
    let (app, server) = spawn(backend, &[]).await;
    for client_id in [
        server.url("clients.test", "/"),
        server.url("clients.test", "/client.json?v=2"),
        server.url("clients.test", "/a/../client.json"),
        server.url("CLIENTS.test", "/client.json"),
    ] {
        assert_error_page(authorize(&app, &client_id).await).await;
    }
    assert_eq!(server.connections(), 0);
}

both_backends!(
    a_document_whose_client_id_is_not_its_url_is_refused,
    a_document_naming_client_secret_basic_is_refused,
    token_endpoint_auth_methods_supported_wins_over_the_single_method,
    a_client_id_that_resolves_to_loopback_is_never_fetched,
    redirects_oversized_and_slow_documents_are_refused,
    malformed_client_id_urls_are_refused_without_fetching,
);
