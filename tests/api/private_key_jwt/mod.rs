//! `private_key_jwt` client authentication (RFC 7523 §2.2 and §3, OpenID
//! Connect Core §9) at the token, introspection and revocation endpoints:
//! assertions signed in the test with keys made in the test.

mod claims;
mod jwks_uri;
mod metadata;

use castellan::domain::secret::random_token;
use castellan::domain::{KeyAlgorithm, KeyMaterial};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, TestApp, assert_error, sign_raw, status_and_json};

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
pub const TOKEN: &str = "/oauth2/token";
pub const INTROSPECTION: &str = "/oauth2/introspect";
pub const REVOCATION: &str = "/oauth2/revoke";

/// A new key pair of `algorithm`; its public JWK carries `kid`, `alg` and `use`.
pub fn new_key(algorithm: KeyAlgorithm) -> KeyMaterial {
    let der = algorithm.generate().expect("a new key");
    KeyMaterial::from_pkcs8(algorithm, &der).expect("the new key parses")
}

pub fn jwks(keys: &[&KeyMaterial]) -> Value {
    json!({ "keys": keys.iter().map(|key| key.jwk.clone()).collect::<Vec<_>>() })
}

/// The metadata of a `client_credentials` client authenticating with `jwks`.
pub fn metadata(jwks: Value) -> Value {
    json!({
        "client_name": "key service", "grant_types": ["client_credentials"], "redirect_uris": [],
        "response_types": [], "scope": "orders:read", "token_endpoint_auth_method": "private_key_jwt",
        "jwks": jwks,
    })
}

/// Registers a `private_key_jwt` client with the public half of `key`; returns its id.
pub async fn key_client(app: &TestApp, key: &KeyMaterial) -> String {
    let (status, body) = app.register_client(metadata(jwks(&[key]))).await;
    assert_eq!(status, 201, "{body}");
    assert!(body.get("client_secret").is_none(), "no secret for a key client: {body}");
    body["client_id"].as_str().unwrap().to_owned()
}

/// The claims of a good assertion by `client_id` for the endpoint at `path`.
pub fn claims(app: &TestApp, client_id: &str, path: &str) -> Value {
    // The server's clock, which a test may have moved.
    let now = app.clock.now();
    json!({
        "iss": client_id, "sub": client_id, "aud": app.url(path),
        "exp": now + 60, "iat": now, "jti": random_token(16),
    })
}

/// `claims` signed by `key`, with its `kid`.
pub fn sign(key: &KeyMaterial, claims: &Value) -> String {
    sign_raw(key, &json!({"alg": key.algorithm.name(), "kid": key.kid, "typ": "JWT"}), claims)
}

/// A good assertion by `client_id` for `path`, signed by `key`.
pub fn assertion(app: &TestApp, key: &KeyMaterial, client_id: &str, path: &str) -> String {
    sign(key, &claims(app, client_id, path))
}

/// `body` (form-encoded, without the credentials) posted to `url` with `assertion`.
pub async fn post_with_assertion(app: &TestApp, url: &str, body: &str, assertion: &str) -> reqwest::Response {
    let body = format!("{body}&client_assertion_type={ASSERTION_TYPE}&client_assertion={assertion}");
    app.http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// A `client_credentials` request to this app's token endpoint with `assertion`.
pub async fn token_request(app: &TestApp, assertion: &str) -> reqwest::Response {
    post_with_assertion(app, &app.url(TOKEN), "grant_type=client_credentials", assertion).await
}

/// The access token of a successful `client_credentials` request.
pub async fn access_token(app: &TestApp, assertion: &str) -> String {
    let (status, body) = status_and_json(token_request(app, assertion).await).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

both_backends!(
    a_client_with_an_es256_or_rs256_key_gets_a_token_with_client_credentials,
    introspection_and_revocation_authenticate_a_client_by_its_assertion,
    a_replayed_assertion_is_refused,
    an_assertion_used_on_one_instance_is_refused_on_another,
    an_assertion_signed_by_another_key_or_naming_an_unknown_kid_is_refused,
    discovery_lists_private_key_jwt_and_exactly_the_accepted_algorithms,
);

/// RFC 7523 §2.2: a signed assertion authenticates the client, with `aud`
/// the token endpoint's URL or the issuer (OpenID Connect Core §9).
async fn a_client_with_an_es256_or_rs256_key_gets_a_token_with_client_credentials(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for algorithm in [KeyAlgorithm::Es256, KeyAlgorithm::Rs256] {
        let key = new_key(algorithm);
        let id = key_client(&app, &key).await;
        let token = access_token(&app, &assertion(&app, &key, &id, TOKEN)).await;
        let claims = app.verify_offline(&token).await.expect("a valid access token");
        assert_eq!(
            (claims["sub"].as_str(), claims["scope"].as_str()),
            (Some(id.as_str()), Some("orders:read"))
        );
        let mut to_issuer = self::claims(&app, &id, TOKEN);
        to_issuer["aud"] = json!(app.address);
        access_token(&app, &sign(&key, &to_issuer)).await;
        let mut among_others = self::claims(&app, &id, TOKEN);
        among_others["aud"] = json!(["https://elsewhere.example", app.url(TOKEN)]);
        access_token(&app, &sign(&key, &among_others)).await;
    }
}

/// RFC 7662 §2.1 and RFC 7009 §2.1 authenticate the caller as the token
/// endpoint does; an assertion's `aud` is the issuer or the endpoint called.
async fn introspection_and_revocation_authenticate_a_client_by_its_assertion(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = new_key(KeyAlgorithm::Es256);
    let id = key_client(&app, &key).await;
    let token = access_token(&app, &assertion(&app, &key, &id, TOKEN)).await;
    let form = format!("token={token}");

    let at = |path: &str| app.url(path);

    let good = assertion(&app, &key, &id, INTROSPECTION);
    let (status, body) =
        status_and_json(post_with_assertion(&app, &at(INTROSPECTION), &form, &good).await).await;
    assert_eq!((status, &body["active"]), (200, &json!(true)), "{body}");
    // An assertion made for the token endpoint is not one for introspection.
    let for_token = assertion(&app, &key, &id, TOKEN);
    let elsewhere = post_with_assertion(&app, &at(INTROSPECTION), &form, &for_token).await;
    assert_error(elsewhere, 401, "invalid_client").await;

    let good = assertion(&app, &key, &id, REVOCATION);
    assert_eq!(post_with_assertion(&app, &at(REVOCATION), &form, &good).await.status(), 200);
    let mut to_issuer = claims(&app, &id, INTROSPECTION);
    to_issuer["aud"] = json!(app.address);
    let introspected = post_with_assertion(&app, &at(INTROSPECTION), &form, &sign(&key, &to_issuer)).await;
    let (status, body) = status_and_json(introspected).await;
    assert_eq!((status, &body["active"]), (200, &json!(false)), "revoked: {body}");
}

/// RFC 7523 §3: a `jti` is accepted once; the same assertion again is
/// `invalid_client`, and so is any assertion reusing its `jti`.
async fn a_replayed_assertion_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = new_key(KeyAlgorithm::Es256);
    let id = key_client(&app, &key).await;
    let claims = claims(&app, &id, TOKEN);
    let first = sign(&key, &claims);
    access_token(&app, &first).await;
    let body = assert_error(token_request(&app, &first).await, 401, "invalid_client").await;
    assert!(body["error_description"].as_str().unwrap().contains("used before"), "{body}");
    // Signed anew (another signature), the jti is still the one used.
    let mut resigned = claims.clone();
    resigned["exp"] = json!(claims["exp"].as_i64().unwrap() + 1);
    assert_error(token_request(&app, &sign(&key, &resigned)).await, 401, "invalid_client").await;
    access_token(&app, &assertion(&app, &key, &id, TOKEN)).await;
}

/// The `jti`s are shared through the database: an assertion one instance
/// accepted is refused by every other.
async fn an_assertion_used_on_one_instance_is_refused_on_another(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let second = app.second_instance(&[]).await;
    let key = new_key(KeyAlgorithm::Es256);
    let id = key_client(&app, &key).await;
    let once = assertion(&app, &key, &id, TOKEN);
    access_token(&app, &once).await;
    let again = post_with_assertion(&app, &second.url(TOKEN), "grant_type=client_credentials", &once).await;
    assert_error(again, 401, "invalid_client").await;
    // The other way round too; the second instance is the same server (one issuer).
    let other = assertion(&app, &key, &id, TOKEN);
    let response =
        post_with_assertion(&app, &second.url(TOKEN), "grant_type=client_credentials", &other).await;
    assert_eq!(response.status(), 200);
    assert_error(token_request(&app, &other).await, 401, "invalid_client").await;
}

/// Only the client's registered keys verify its assertions: another key,
/// under the registered `kid` or an unknown one, is `invalid_client`.
async fn an_assertion_signed_by_another_key_or_naming_an_unknown_kid_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = new_key(KeyAlgorithm::Es256);
    let id = key_client(&app, &key).await;
    let stranger = new_key(KeyAlgorithm::Es256);
    let claims = claims(&app, &id, TOKEN);
    let as_registered = sign_raw(&stranger, &json!({"alg": "ES256", "kid": key.kid}), &claims);
    assert_error(token_request(&app, &as_registered).await, 401, "invalid_client").await;
    assert_error(token_request(&app, &sign(&stranger, &claims)).await, 401, "invalid_client").await;
    let without_kid = sign_raw(&stranger, &json!({"alg": "ES256"}), &claims);
    assert_error(token_request(&app, &without_kid).await, 401, "invalid_client").await;
    // The client's own key without a kid is found among its keys.
    let own = sign_raw(&key, &json!({"alg": "ES256"}), &claims);
    access_token(&app, &own).await;
}

/// RFC 8414 §2: discovery lists the method at every endpoint that takes it,
/// and the algorithms the verifier accepts (never `none` or HMAC).
async fn discovery_lists_private_key_jwt_and_exactly_the_accepted_algorithms(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let metadata = app.discovery().await;
    let expected = json!(["RS256", "PS256", "ES256", "ES384", "EdDSA"]);
    for endpoint in ["token_endpoint", "introspection_endpoint", "revocation_endpoint"] {
        let methods = &metadata[format!("{endpoint}_auth_methods_supported")];
        assert!(methods.as_array().unwrap().iter().any(|m| m == "private_key_jwt"), "{endpoint}: {methods}");
        assert_eq!(metadata[format!("{endpoint}_auth_signing_alg_values_supported")], expected, "{endpoint}");
    }
}
