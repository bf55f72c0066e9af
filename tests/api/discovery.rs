//! Discovery (RFC 8414, OpenID Connect Discovery), the JWKS (RFC 7517) and
//! the health endpoints.

use serde_json::Value;

use crate::both_backends;
use crate::helpers::{Backend, TestApp, status_and_json};

const DOCUMENTS: [&str; 2] = ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"];

/// RFC 8414 §3: both well-known documents answer JSON naming the issuer
/// exactly as configured, with every endpoint as an absolute URL under it.
async fn both_metadata_documents_name_the_issuer_and_every_endpoint(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for path in DOCUMENTS {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with("application/json"), "{path}: {content_type}");
        let metadata: Value = response.json().await.unwrap();
        assert_eq!(metadata["issuer"], app.address.as_str(), "{path}");
        for field in ["token_endpoint", "jwks_uri", "introspection_endpoint", "revocation_endpoint"] {
            let url = metadata[field].as_str().unwrap_or_else(|| panic!("{path} lists {field}"));
            assert!(url.starts_with(&format!("{}/", app.address)), "{path}: {field} = {url}");
        }
        let methods = metadata["token_endpoint_auth_methods_supported"].as_array().expect("auth methods");
        assert!(methods.iter().any(|m| m == "client_secret_basic"), "{path}");
        assert!(
            metadata["grant_types_supported"].as_array().unwrap().iter().any(|g| g == "client_credentials")
        );
    }
}

/// RFC 8414 §3: the two documents describe one server, so they agree on
/// every field they both carry.
async fn both_metadata_documents_agree(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, oauth) = status_and_json(app.http.get(app.url(DOCUMENTS[0])).send().await.unwrap()).await;
    let (_, openid) = status_and_json(app.http.get(app.url(DOCUMENTS[1])).send().await.unwrap()).await;
    for (field, value) in oauth.as_object().unwrap() {
        if let Some(other) = openid.get(field) {
            assert_eq!(value, other, "{field}");
        }
    }
}

/// RFC 8414 §2: the issuer is used exactly as configured, even with a path
/// and a trailing slash, and the endpoints are found under it.
async fn the_issuer_is_published_exactly_as_configured(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let issuer = format!("{}/tenant/", app.address);
    let second = app.second_instance(&[("CASTELLAN_ISSUER", &issuer)]).await;
    let (status, metadata) =
        status_and_json(app.http.get(second.url(DOCUMENTS[0])).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(metadata["issuer"], issuer.as_str());
    let token_endpoint = metadata["token_endpoint"].as_str().unwrap();
    assert!(token_endpoint.starts_with(issuer.trim_end_matches('/')), "{token_endpoint}");
    assert!(!token_endpoint.contains("//oauth2"), "{token_endpoint}");
}

/// Clients find every endpoint through discovery, and each one found there
/// answers: the JWKS with keys, the others a JSON error rather than 404.
async fn every_endpoint_listed_in_discovery_answers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let metadata = app.discovery().await;
    let jwks = app.http.get(metadata["jwks_uri"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(jwks.status(), 200);
    for field in ["token_endpoint", "introspection_endpoint", "revocation_endpoint"] {
        let url = metadata[field].as_str().unwrap();
        let response = app
            .http
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("token=x&grant_type=client_credentials")
            .send()
            .await
            .unwrap();
        let (status, body) = status_and_json(response).await;
        assert_eq!(status, 401, "{field}: {body}");
        assert_eq!(body["error"], "invalid_client", "{field}");
    }
    let token = app.admin_token().await;
    assert!(app.verify_offline(&token).await.is_ok());
}

/// RFC 7517 §4 and RFC 7518 §6: every published key has `kid`, `alg` and
/// `use: sig`, distinct kids, and no private member at all.
async fn the_jwks_publishes_only_public_keys_with_kid_alg_and_use(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.http.get(app.endpoint("jwks_uri").await).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let (_, jwks) = status_and_json(response).await;
    let keys = jwks["keys"].as_array().expect("a keys array");
    assert!(!keys.is_empty());
    let mut kids: Vec<&str> = Vec::new();
    for key in keys {
        let kid = key["kid"].as_str().expect("kid");
        assert!(!kids.contains(&kid), "duplicate kid {kid}");
        kids.push(kid);
        assert!(key["alg"].is_string(), "{key}");
        assert_eq!(key["use"], "sig", "{key}");
        for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
            assert!(key.get(private).is_none(), "the JWKS leaks {private}: {key}");
        }
    }
    // The key that signs access tokens is among them.
    let token = app.admin_token().await;
    let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
    assert!(kids.contains(&kid.as_str()));
}

/// Resource servers cache the JWKS and the metadata, so both say for how
/// long (Cache-Control), and the JWKS is served as a JWK set.
async fn jwks_and_metadata_carry_cache_control(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let jwks = app.http.get(app.endpoint("jwks_uri").await).send().await.unwrap();
    let cache = jwks.headers().get("cache-control").expect("Cache-Control on the JWKS").to_str().unwrap();
    assert!(cache.contains("max-age"), "{cache}");
    let content_type = jwks.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("application/jwk-set+json") || content_type.starts_with("application/json"),
        "{content_type}"
    );
    let metadata = app.http.get(app.url(DOCUMENTS[0])).send().await.unwrap();
    assert!(metadata.headers().contains_key("cache-control"));
}

/// interface.md: `/healthz` answers 200 while the process runs, `/readyz`
/// 200 while the database answers.
async fn health_and_readiness_answer_200(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for path in ["/healthz", "/readyz"] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
}

both_backends!(
    both_metadata_documents_name_the_issuer_and_every_endpoint,
    both_metadata_documents_agree,
    the_issuer_is_published_exactly_as_configured,
    every_endpoint_listed_in_discovery_answers,
    the_jwks_publishes_only_public_keys_with_kid_alg_and_use,
    jwks_and_metadata_carry_cache_control,
    health_and_readiness_answer_200,
);
