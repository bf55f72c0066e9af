//! Registering a `private_key_jwt` client (RFC 7591 §2 `jwks`,
//! `token_endpoint_auth_signing_alg`) through the admin API, and changing
//! its keys.

use castellan::domain::KeyAlgorithm;
use reqwest::Method;
use serde_json::{Value, json};

use super::*;
use crate::helpers::merge;

both_backends!(
    private_key_jwt_metadata_with_missing_private_or_symmetric_keys_is_refused,
    a_key_client_is_shown_with_its_keys_and_has_no_secret_to_rotate,
    new_keys_take_effect_at_once_and_old_ones_stop,
    a_secret_client_switched_to_private_key_jwt_loses_its_secret,
);

fn with(mut base: Value, extra: Value) -> Value {
    merge(&mut base, extra);
    base
}

/// RFC 7591 §2: `jwks` is required with `private_key_jwt` and refused
/// without it; only public asymmetric keys, at most 10 (§3.2.2
/// `invalid_client_metadata`).
async fn private_key_jwt_metadata_with_missing_private_or_symmetric_keys_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = new_key(KeyAlgorithm::Es256);
    let mut private = key.jwk.clone();
    private["d"] = json!("8vPJ6dRZzKWdNpm_RlySyeRp0Mfa4LU7EBCrNJuFrzE");
    let eleven: Vec<Value> = (0..11).map(|_| new_key(KeyAlgorithm::Es256).jwk.clone()).collect();
    let pkjwt = metadata(jwks(&[&key]));
    for (case, bad) in [
        ("no jwks", with(pkjwt.clone(), json!({"jwks": null}))),
        ("a private key", with(pkjwt.clone(), json!({"jwks": {"keys": [private]}}))),
        (
            "a symmetric key",
            with(pkjwt.clone(), json!({"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}})),
        ),
        ("eleven keys", with(pkjwt.clone(), json!({"jwks": {"keys": eleven}}))),
        ("not a set", with(pkjwt.clone(), json!({"jwks": [key.jwk.clone()]}))),
        ("an alg without a key", with(pkjwt.clone(), json!({"token_endpoint_auth_signing_alg": "EdDSA"}))),
        ("alg none", with(pkjwt.clone(), json!({"token_endpoint_auth_signing_alg": "none"}))),
        (
            "jwks for a secret",
            with(pkjwt.clone(), json!({"token_endpoint_auth_method": "client_secret_basic"})),
        ),
    ] {
        let (status, body) = app.register_client(bad).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_client_metadata")),
            "{case}: {body}"
        );
    }
}

/// The admin API shows the keys as registered, never a secret; a key
/// client has no secret to rotate.
async fn a_key_client_is_shown_with_its_keys_and_has_no_secret_to_rotate(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = new_key(KeyAlgorithm::Rs256);
    let id = key_client(&app, &key).await;
    let admin = app.admin_token().await;
    let path = format!("/admin/clients/{id}");
    let (status, body) = app.admin_request(Method::GET, &path, Some(&admin), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["jwks"], &body["token_endpoint_auth_method"]),
        (&jwks(&[&key]), &json!("private_key_jwt"))
    );
    assert!(body.get("client_secret").is_none(), "{body}");
    let (status, body) = app.admin_request(Method::POST, &format!("{path}/secret"), Some(&admin), None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
}

/// A rollover through the admin API: the new key works at once, and an
/// assertion signed by the removed key is refused at once (the client
/// cache forgets the client with its parsed keys).
async fn new_keys_take_effect_at_once_and_old_ones_stop(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (old, new) = (new_key(KeyAlgorithm::Es256), new_key(KeyAlgorithm::Es256));
    let id = key_client(&app, &old).await;
    access_token(&app, &assertion(&app, &old, &id, TOKEN)).await;
    let admin = app.admin_token().await;
    let path = format!("/admin/clients/{id}");
    let both = json!({"jwks": jwks(&[&old, &new])});
    let (status, body) = app.admin_request(Method::PATCH, &path, Some(&admin), Some(&both)).await;
    assert_eq!(status, 200, "{body}");
    access_token(&app, &assertion(&app, &old, &id, TOKEN)).await;
    access_token(&app, &assertion(&app, &new, &id, TOKEN)).await;
    let only_new = json!({"jwks": jwks(&[&new])});
    let (status, body) = app.admin_request(Method::PATCH, &path, Some(&admin), Some(&only_new)).await;
    assert_eq!(status, 200, "{body}");
    assert_error(token_request(&app, &assertion(&app, &old, &id, TOKEN)).await, 401, "invalid_client").await;
    access_token(&app, &assertion(&app, &new, &id, TOKEN)).await;
}

/// A confidential client may move from its secret to keys: the secret
/// stops working. It cannot move back, as it has no secret any more.
async fn a_secret_client_switched_to_private_key_jwt_loses_its_secret(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = app.service_client("orders:read").await;
    let key = new_key(KeyAlgorithm::Es256);
    let admin = app.admin_token().await;
    let path = format!("/admin/clients/{id}");
    let to_keys = json!({"token_endpoint_auth_method": "private_key_jwt", "jwks": jwks(&[&key])});
    let (status, body) = app.admin_request(Method::PATCH, &path, Some(&admin), Some(&to_keys)).await;
    assert_eq!(status, 200, "{body}");
    access_token(&app, &assertion(&app, &key, &id, TOKEN)).await;
    let basic = app.post_form(TOKEN, "grant_type=client_credentials", Some((&id, &secret))).await;
    assert_error(basic, 401, "invalid_client").await;

    let back = json!({"token_endpoint_auth_method": "client_secret_basic", "jwks": null});
    let (status, body) = app.admin_request(Method::PATCH, &path, Some(&admin), Some(&back)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_client_metadata")), "{body}");
    let keep_jwks = json!({"token_endpoint_auth_method": "client_secret_basic"});
    let (status, body) = app.admin_request(Method::PATCH, &path, Some(&admin), Some(&keep_jwks)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_client_metadata")), "{body}");
}
