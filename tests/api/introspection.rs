//! Token introspection (RFC 7662): active only for a token Castellan issued
//! that is still good; `{"active": false}` for anything else.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{
    ADMIN_ID, ADMIN_SECRET, Backend, TestApp, assert_error, now, sign_raw, status_and_json,
};

const ADMIN: (&str, &str) = (ADMIN_ID, ADMIN_SECRET);

/// Replaces the payload of `token` by `claims`, keeping header and signature.
fn with_payload(token: &str, claims: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(claims.to_string()), parts[2])
}

/// The decoded payload of `token`, without any check.
fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// RFC 7662 §2.2: a good token is active, with its scope, client, subject,
/// issuer and times, and the answer is not cached.
async fn a_good_token_is_active_with_its_claims(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = app.service_client("orders:read orders:write").await;
    let token = app.token_for(&id, &secret, &["orders:read"]).await;
    let response = app.post_form("/oauth2/introspect", &format!("token={token}"), Some(ADMIN)).await;
    assert_eq!(response.status(), 200);
    let cache = response.headers().get("cache-control").map(|v| v.to_str().unwrap().to_owned());
    assert!(cache.is_some_and(|c| c.contains("no-store")));
    let answer: Value = response.json().await.unwrap();
    let claims = payload(&token);
    assert_eq!(answer["active"], true);
    assert_eq!(answer["scope"], "orders:read");
    assert_eq!(answer["client_id"], id.as_str());
    assert_eq!(answer["sub"], id.as_str());
    assert_eq!(answer["iss"], app.address.as_str());
    for field in ["exp", "iat", "jti"] {
        assert_eq!(answer[field], claims[field], "{field}");
    }
    // A token_type_hint is only a hint (§2.1).
    let body = format!("token={token}&token_type_hint=refresh_token");
    let (_, answer) = status_and_json(app.post_form("/oauth2/introspect", &body, Some(ADMIN)).await).await;
    assert_eq!(answer["active"], true);
}

/// RFC 7662 §2.2: garbage is not an error but an inactive token, and the
/// answer then says nothing else.
async fn garbage_is_inactive(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let long = "a".repeat(20_000);
    for token in ["garbage", "a.b.c", "...", "eyJhbGciOiJFUzI1NiJ9.e30.", long.as_str(), "\u{e9}t\u{e9}"] {
        assert_eq!(app.introspect(ADMIN, token).await, json!({"active": false}), "{token:.40}");
    }
}

/// RFC 7515 §5.2: a changed payload or a changed signature fails
/// verification, so the token is inactive.
async fn a_tampered_token_is_inactive(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = app.service_client("orders:read").await;
    let token = app.token_for(&id, &secret, &[]).await;
    let mut claims = payload(&token);
    claims["scope"] = json!("orders:read admin");
    assert_eq!(app.introspect(ADMIN, &with_payload(&token, &claims)).await["active"], false);

    let (rest, signature) = token.rsplit_once('.').unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    bytes[10] ^= 0x01;
    let tampered = format!("{rest}.{}", URL_SAFE_NO_PAD.encode(&bytes));
    assert_eq!(app.introspect(ADMIN, &tampered).await["active"], false);
    assert_eq!(app.introspect(ADMIN, rest).await["active"], false, "no signature at all");
    assert_eq!(app.introspect(ADMIN, &token).await["active"], true);
}

/// RFC 8725 §3.1: an unsigned token (`alg: none`) is never accepted, even
/// with a known kid and good claims.
async fn an_unsigned_alg_none_token_is_inactive(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.admin_token().await;
    let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
    let header = json!({"alg": "none", "typ": "at+jwt", "kid": kid});
    let claims = app.claims_for(ADMIN_ID, "admin");
    let encode = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    for forged in [
        format!("{}.{}.", encode(&header), encode(&claims)),
        format!("{}.{}", encode(&header), encode(&claims)),
    ] {
        assert_eq!(app.introspect(ADMIN, &forged).await["active"], false);
        let (status, _) = app.admin_request(Method::GET, "/admin/clients", Some(&forged), None).await;
        assert_eq!(status, 401);
    }
}

/// RFC 8725 §3.1: algorithm confusion fails: an HS256 token whose HMAC key
/// is the server's public key (as published) is inactive.
async fn an_hs256_token_keyed_with_the_public_key_is_inactive(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.admin_token().await;
    let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
    let (_, jwks) = status_and_json(app.http.get(app.endpoint("jwks_uri").await).send().await.unwrap()).await;
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).unwrap().clone();
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(kid);
    let claims = app.claims_for(ADMIN_ID, "admin");
    let secrets = [jwk.to_string(), jwk["x"].as_str().unwrap_or_default().to_owned()];
    for secret in secrets {
        let forged =
            jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap();
        assert_eq!(app.introspect(ADMIN, &forged).await["active"], false);
    }
}

/// RFC 9068 §4: a token signed by a key not in the JWKS is inactive, though
/// well-formed and with the right kid.
async fn a_token_signed_by_another_server_is_inactive(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let other = TestApp::spawn(backend).await;
    let foreign = other.admin_token().await;
    let kid = jsonwebtoken::decode_header(&app.admin_token().await).unwrap().kid.unwrap();
    // Claims `app` would issue, signed by `other`'s key under `app`'s kid.
    let header = json!({"alg": "ES256", "typ": "at+jwt", "kid": kid});
    let relabelled = sign_raw(&*other.server_key().await, &header, &app.claims_for(ADMIN_ID, "admin"));
    assert_eq!(app.introspect(ADMIN, &foreign).await["active"], false);
    assert_eq!(app.introspect(ADMIN, &relabelled).await["active"], false);
}

/// RFC 7662 §2.2, RFC 9068 §4: with a good signature, a token that has
/// expired, names another issuer, lacks `at+jwt`, or lacks `exp` is inactive.
async fn a_signed_token_with_bad_claims_or_type_is_inactive(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let good = app.claims_for(ADMIN_ID, "admin");
    let valid = app.sign_with_server_key("at+jwt", &good).await;
    assert_eq!(app.introspect(ADMIN, &valid).await["active"], true, "the crafted token is otherwise good");

    let mut expired = good.clone();
    expired["iat"] = json!(now() - 120);
    expired["exp"] = json!(now() - 1);
    let mut foreign_issuer = good.clone();
    foreign_issuer["iss"] = json!("https://evil.example");
    let mut no_exp = good.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    for (what, typ, claims) in [
        ("expired", "at+jwt", &expired),
        ("another issuer", "at+jwt", &foreign_issuer),
        ("no exp", "at+jwt", &no_exp),
        ("an ID token type", "JWT", &good),
    ] {
        let token = app.sign_with_server_key(typ, claims).await;
        assert_eq!(app.introspect(ADMIN, &token).await, json!({"active": false}), "{what}");
    }
}

/// RFC 7662 §2.2: a token really expires: one issued with a 10 s lifetime is
/// active, then inactive once the 10 s are over.
async fn a_token_is_inactive_once_its_lifetime_is_over(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("CASTELLAN_ACCESS_TOKEN_TTL", "10")]).await;
    let token = app.admin_token().await;
    assert_eq!(app.introspect(ADMIN, &token).await["active"], true);
    app.clock.advance(11);
    assert_eq!(app.introspect(ADMIN, &token).await, json!({"active": false}));
}

/// interface.md: a deleted client's tokens stop working: inactive on
/// introspection, whoever asks.
async fn a_token_of_a_deleted_client_is_inactive(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = app.service_client("orders:read").await;
    let (reader, reader_secret) = app.service_client("").await;
    let token = app.token_for(&id, &secret, &[]).await;
    assert_eq!(app.introspect((&reader, &reader_secret), &token).await["active"], true);
    let admin = app.admin_token().await;
    let (status, _) =
        app.admin_request(Method::DELETE, &format!("/admin/clients/{id}"), Some(&admin), None).await;
    assert_eq!(status, 204);
    assert_eq!(app.introspect((&reader, &reader_secret), &token).await, json!({"active": false}));
}

/// RFC 7662 §2.1: the caller must authenticate: no or bad credentials are
/// 401 `invalid_client`, and nothing about the token is disclosed.
async fn introspection_requires_client_authentication(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.admin_token().await;
    let body = format!("token={token}");
    let response = app.post_form("/oauth2/introspect", &body, None).await;
    assert!(response.headers().contains_key("www-authenticate"));
    assert_error(response, 401, "invalid_client").await;
    let response = app.post_form("/oauth2/introspect", &body, Some((ADMIN_ID, "wrong"))).await;
    let error = assert_error(response, 401, "invalid_client").await;
    assert!(error.get("active").is_none());
}

/// RFC 7662 §4: public clients cannot introspect (a token scanner with no
/// secret); the answer is 401 `invalid_client`.
async fn a_public_client_cannot_introspect(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = &app.public_client().await;
    let token = app.admin_token().await;
    let response = app.post_form("/oauth2/introspect", &format!("token={token}&client_id={id}"), None).await;
    assert_error(response, 401, "invalid_client").await;
}

/// RFC 7662 §2.1: `token` is required: without it, `invalid_request`.
async fn introspection_without_a_token_is_invalid_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for body in ["", "token=", "token_type_hint=access_token"] {
        assert_error(app.post_form("/oauth2/introspect", body, Some(ADMIN)).await, 400, "invalid_request")
            .await;
    }
}

both_backends!(
    a_good_token_is_active_with_its_claims,
    garbage_is_inactive,
    a_tampered_token_is_inactive,
    an_unsigned_alg_none_token_is_inactive,
    an_hs256_token_keyed_with_the_public_key_is_inactive,
    a_token_signed_by_another_server_is_inactive,
    a_signed_token_with_bad_claims_or_type_is_inactive,
    a_token_is_inactive_once_its_lifetime_is_over,
    a_token_of_a_deleted_client_is_inactive,
    introspection_requires_client_authentication,
    a_public_client_cannot_introspect,
    introspection_without_a_token_is_invalid_request,
);
