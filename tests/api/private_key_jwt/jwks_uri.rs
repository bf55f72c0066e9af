//! A `private_key_jwt` client that publishes its keys at a `jwks_uri`
//! (RFC 7591 §2): fetched safely, cached, fetched again for a new `kid`
//! (OpenID Connect Core §10.1.1) at most once per 10 seconds.

use castellan::domain::KeyAlgorithm;
use serde_json::json;

use super::*;
use crate::helpers::document_server::{Canned, DocumentServer, test_ca_path};

both_backends!(
    a_client_is_checked_with_the_keys_at_its_jwks_uri_fetched_once,
    a_new_kid_fetches_the_set_again_at_most_once_per_ten_seconds,
    a_key_removed_from_the_jwks_uri_stops_verifying_within_an_hour,
    a_jwks_uri_that_cannot_be_fetched_safely_authenticates_no_one,
    jwks_and_jwks_uri_together_or_a_plain_http_jwks_uri_are_refused,
);

/// An app that trusts the document server's CA and reaches `docs.test`
/// (the document server, on loopback) but not `evil.test` (also loopback).
async fn spawn(backend: Backend) -> (TestApp, DocumentServer) {
    let ca = test_ca_path();
    let settings = [
        ("CASTELLAN_EXTRA_CA_CERTS", ca.as_str()),
        ("CASTELLAN_FETCH_ALLOW_HOSTS", "docs.test"),
        ("CASTELLAN_FETCH_RESOLVE", "docs.test=127.0.0.1,evil.test=127.0.0.1"),
    ];
    (TestApp::spawn_with(backend, &settings).await, DocumentServer::start().await)
}

/// Registers a client whose keys are at `jwks_uri`; returns its id.
async fn uri_client(app: &TestApp, jwks_uri: &str) -> String {
    let mut metadata = metadata(json!(null));
    metadata["jwks_uri"] = json!(jwks_uri);
    let (status, body) = app.register_client(metadata).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["jwks_uri"], jwks_uri, "{body}");
    body["client_id"].as_str().unwrap().to_owned()
}

async fn a_client_is_checked_with_the_keys_at_its_jwks_uri_fetched_once(backend: Backend) {
    let (app, server) = spawn(backend).await;
    let key = new_key(KeyAlgorithm::Rs256);
    // An encryption key beside it is skipped, not a reason to refuse the set.
    let mut encryption = new_key(KeyAlgorithm::Es256).jwk.clone();
    encryption["use"] = json!("enc");
    server.serve("/jwks.json", Canned::json(&json!({"keys": [encryption, key.jwk]})));
    let id = uri_client(&app, &server.url("docs.test", "/jwks.json")).await;
    assert_eq!(server.hits("/jwks.json"), 0, "fetched when needed, not at registration");
    for _ in 0..3 {
        access_token(&app, &assertion(&app, &key, &id, TOKEN)).await;
    }
    let stranger = new_key(KeyAlgorithm::Rs256);
    let forged = sign_raw(&stranger, &json!({"alg": "RS256", "kid": key.kid}), &claims(&app, &id, TOKEN));
    assert_error(token_request(&app, &forged).await, 401, "invalid_client").await;
    assert_eq!(server.hits("/jwks.json"), 1, "the set is cached");
}

/// The client rotates: its new key is found by fetching the set again;
/// made-up `kid`s make no more than one fetch per 10 seconds.
async fn a_new_kid_fetches_the_set_again_at_most_once_per_ten_seconds(backend: Backend) {
    let (app, server) = spawn(backend).await;
    let (old, new) = (new_key(KeyAlgorithm::Es256), new_key(KeyAlgorithm::Es256));
    server.serve("/keys", Canned::json(&jwks(&[&old])).header("cache-control", "max-age=3600"));
    let id = uri_client(&app, &server.url("docs.test", "/keys")).await;
    access_token(&app, &assertion(&app, &old, &id, TOKEN)).await;
    server.serve("/keys", Canned::json(&jwks(&[&old, &new])).header("cache-control", "max-age=3600"));
    app.clock.advance(11);
    access_token(&app, &assertion(&app, &new, &id, TOKEN)).await;
    assert_eq!(server.hits("/keys"), 2);

    let made_up = new_key(KeyAlgorithm::Es256);
    for _ in 0..5 {
        assert_error(
            token_request(&app, &assertion(&app, &made_up, &id, TOKEN)).await,
            401,
            "invalid_client",
        )
        .await;
    }
    assert_eq!(server.hits("/keys"), 2, "within 10 s of the last fetch");
    app.clock.advance(11);
    assert_error(token_request(&app, &assertion(&app, &made_up, &id, TOKEN)).await, 401, "invalid_client")
        .await;
    assert_eq!(server.hits("/keys"), 3);
    access_token(&app, &assertion(&app, &old, &id, TOKEN)).await;
}

/// A set is reused at most an hour, whatever its `Cache-Control` asks, so
/// that a key the client removed (compromised) stops verifying.
async fn a_key_removed_from_the_jwks_uri_stops_verifying_within_an_hour(backend: Backend) {
    let (app, server) = spawn(backend).await;
    let (old, new) = (new_key(KeyAlgorithm::Es256), new_key(KeyAlgorithm::Es256));
    server.serve("/keys", Canned::json(&jwks(&[&old, &new])).header("cache-control", "max-age=86400"));
    let id = uri_client(&app, &server.url("docs.test", "/keys")).await;
    access_token(&app, &assertion(&app, &old, &id, TOKEN)).await;
    server.serve("/keys", Canned::json(&jwks(&[&new])).header("cache-control", "max-age=86400"));
    app.clock.advance(3_000);
    access_token(&app, &assertion(&app, &old, &id, TOKEN)).await;
    app.clock.advance(601);
    assert_error(token_request(&app, &assertion(&app, &old, &id, TOKEN)).await, 401, "invalid_client").await;
    access_token(&app, &assertion(&app, &new, &id, TOKEN)).await;
    assert_eq!(server.hits("/keys"), 2);
}

/// The fetcher's rules hold for `jwks_uri`: a host that resolves to a
/// private address is never contacted, and a set that cannot be fetched
/// or read authenticates no one.
async fn a_jwks_uri_that_cannot_be_fetched_safely_authenticates_no_one(backend: Backend) {
    let (app, server) = spawn(backend).await;
    let key = new_key(KeyAlgorithm::Es256);
    server.serve("/jwks.json", Canned::json(&jwks(&[&key])));
    server.serve("/not-a-set", Canned::json(&json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})));
    server.serve("/moved", Canned::redirect(&server.url("docs.test", "/jwks.json")));
    for url in [
        server.url("evil.test", "/jwks.json"),
        server.url("docs.test", "/missing"),
        server.url("docs.test", "/not-a-set"),
        server.url("docs.test", "/moved"),
    ] {
        let id = uri_client(&app, &url).await;
        let response = token_request(&app, &assertion(&app, &key, &id, TOKEN)).await;
        assert_error(response, 401, "invalid_client").await;
    }
    assert_eq!(server.hits("/jwks.json"), 0, "evil.test was not contacted, the redirect not followed");
}

/// RFC 7591 §2: `jwks` and `jwks_uri` "MUST NOT both be present"; a
/// `jwks_uri` is `https`; neither belongs to a client that uses a secret.
async fn jwks_and_jwks_uri_together_or_a_plain_http_jwks_uri_are_refused(backend: Backend) {
    let (app, server) = spawn(backend).await;
    let key = new_key(KeyAlgorithm::Es256);
    let https = server.url("docs.test", "/jwks.json");
    let mut both = metadata(jwks(&[&key]));
    both["jwks_uri"] = json!(https);
    let mut plain = metadata(json!(null));
    plain["jwks_uri"] = json!("http://docs.test/jwks.json");
    let mut secret = metadata(json!(null));
    secret["jwks_uri"] = json!(https);
    secret["token_endpoint_auth_method"] = json!("client_secret_basic");
    for (case, bad) in [("both", both), ("http", plain), ("a secret client", secret)] {
        let (status, body) = app.register_client(bad).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_client_metadata")),
            "{case}: {body}"
        );
    }
}
