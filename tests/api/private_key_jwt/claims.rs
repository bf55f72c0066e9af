//! What an assertion must say (RFC 7523 §3) and how it must be signed
//! (RFC 7515, RFC 8725 §3.1): anything else is `invalid_client`.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use castellan::domain::KeyAlgorithm;
use serde_json::{Value, json};

use super::*;
use crate::helpers::merge;

both_backends!(
    assertions_with_wrong_claims_are_refused,
    unsigned_hmac_and_unlisted_algorithms_are_refused,
    a_client_id_or_assertion_type_that_does_not_fit_is_refused,
    a_secret_client_cannot_use_an_assertion_nor_a_key_client_a_secret,
);

/// Asserts that `assertion` is refused at the token endpoint, then that a
/// good one is not (which also forgets the failure, so the throttle never
/// locks the client in the middle of a test).
async fn refused(app: &TestApp, key: &KeyMaterial, id: &str, assertion: &str, case: &str) -> Value {
    let (status, body) = status_and_json(token_request(app, assertion).await).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{case}: {body}");
    access_token(app, &super::assertion(app, key, id, TOKEN)).await;
    body
}

/// RFC 7523 §3 items A to G: `iss` and `sub` are the client, `aud` this
/// server, `exp` present, in the future and at most 5 minutes away (with
/// 30 s for clock skew), `nbf` and `iat` not ahead, a `jti` of at most 256
/// characters.
async fn assertions_with_wrong_claims_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = new_key(KeyAlgorithm::Es256);
    let id = key_client(&app, &key).await;
    let other = key_client(&app, &new_key(KeyAlgorithm::Es256)).await;
    let now = app.clock.now();
    let cases: Vec<(&str, Value)> = vec![
        ("iss is another client", json!({"iss": other})),
        ("iss is missing", json!({"iss": null})),
        ("aud is another server", json!({"aud": "https://other.example/token"})),
        ("aud is the issuer with a slash", json!({"aud": format!("{}/", app.address)})),
        ("aud is missing", json!({"aud": null})),
        ("aud is the revocation endpoint", json!({"aud": app.url(REVOCATION)})),
        ("exp is past", json!({"exp": now - 31})),
        ("exp is missing", json!({"exp": null})),
        ("exp is too far", json!({"exp": now + 400})),
        ("exp is a string", json!({"exp": (now + 60).to_string()})),
        ("nbf is ahead", json!({"nbf": now + 120})),
        ("iat is ahead", json!({"iat": now + 120})),
        ("jti is missing", json!({"jti": null})),
        ("jti is empty", json!({"jti": ""})),
        ("jti is too long", json!({"jti": "j".repeat(257)})),
    ];
    for (case, changes) in cases {
        let mut claims = claims(&app, &id, TOKEN);
        for (name, value) in changes.as_object().unwrap() {
            match value {
                Value::Null => claims.as_object_mut().unwrap().remove(name),
                value => claims.as_object_mut().unwrap().insert(name.clone(), value.clone()),
            };
        }
        refused(&app, &key, &id, &sign(&key, &claims), case).await;
    }
    // sub names the client looked up: another client's sub is checked with its keys.
    let mut claims = claims(&app, &id, TOKEN);
    claims["sub"] = json!(other);
    refused(&app, &key, &id, &sign(&key, &claims), "sub is another client").await;
    // Within the leeway, and with fractional NumericDates, it is accepted.
    let mut claims = self::claims(&app, &id, TOKEN);
    claims["exp"] = json!(now as f64 + 290.5);
    claims["nbf"] = json!(now + 10);
    access_token(&app, &sign(&key, &claims)).await;
}

/// RFC 8725 §3.1: `alg: none` and HMAC (here keyed with the client's public
/// key, the classic confusion) are refused before any key is looked up, as
/// are algorithms discovery does not list.
async fn unsigned_hmac_and_unlisted_algorithms_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = new_key(KeyAlgorithm::Rs256);
    let id = key_client(&app, &key).await;
    let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let claims = claims(&app, &id, TOKEN);
    let unsigned = format!("{}.{}.", encode(&json!({"alg": "none"})), encode(&claims));
    let body = refused(&app, &key, &id, &unsigned, "alg none").await;
    assert!(body["error_description"].as_str().unwrap().contains("not accepted"), "{body}");
    for alg in ["HS256", "RS512"] {
        let input = format!("{}.{}", encode(&json!({"alg": alg, "kid": key.kid})), encode(&claims));
        let secret = hmac::Key::new(hmac::HMAC_SHA256, key.jwk.to_string().as_bytes());
        let signed = format!("{input}.{}", URL_SAFE_NO_PAD.encode(hmac::sign(&secret, input.as_bytes())));
        refused(&app, &key, &id, &signed, alg).await;
    }
    // A registered token_endpoint_auth_signing_alg is the only one accepted.
    // (The key's JWK says RS256; without that member it may sign PS256 too.)
    let mut any_rsa_alg = key.jwk.clone();
    any_rsa_alg.as_object_mut().unwrap().remove("alg");
    let mut ps256 = metadata(json!({"keys": [any_rsa_alg]}));
    merge(&mut ps256, json!({"token_endpoint_auth_signing_alg": "PS256"}));
    let (status, body) = app.register_client(ps256).await;
    assert_eq!(status, 201, "{body}");
    let ps_only = body["client_id"].as_str().unwrap();
    let rs256 = assertion(&app, &key, ps_only, TOKEN);
    assert_error(token_request(&app, &rs256).await, 401, "invalid_client").await;
}

/// RFC 7521 §4.2: `client_assertion_type` must be the JWT bearer type, a
/// `client_id` sent too must be the assertion's, and an assertion is one
/// method: not combined with a secret (RFC 6749 §2.3).
async fn a_client_id_or_assertion_type_that_does_not_fit_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = new_key(KeyAlgorithm::Es256);
    let id = key_client(&app, &key).await;
    let form = |extra: &str, assertion: &str| {
        format!("grant_type=client_credentials{extra}&client_assertion={assertion}")
    };
    let post = async |body: String| app.post_form(TOKEN, &body, None).await;
    let good = assertion(&app, &key, &id, TOKEN);
    let saml = "&client_assertion_type=urn:ietf:params:oauth:client-assertion-type:saml2-bearer";
    assert_error(post(form(saml, &good)).await, 401, "invalid_client").await;
    assert_error(post(form("", &good)).await, 401, "invalid_client").await;
    let typed = format!("&client_assertion_type={ASSERTION_TYPE}");
    let other_id = format!("{typed}&client_id=someone-else");
    assert_error(post(form(&other_id, &good)).await, 400, "invalid_request").await;
    let with_secret = format!("{typed}&client_secret=guess");
    assert_error(post(form(&with_secret, &good)).await, 400, "invalid_request").await;
    let with_basic = app.post_form(TOKEN, &form(&typed, &good), Some((&id, "guess"))).await;
    assert_error(with_basic, 400, "invalid_request").await;
    let missing = format!("grant_type=client_credentials{typed}");
    assert_error(post(missing).await, 400, "invalid_request").await;
    assert_error(post(form(&typed, "not.a.jwt")).await, 401, "invalid_client").await;
    assert_error(post(form(&typed, &"a".repeat(9_000))).await, 401, "invalid_client").await;
    // None of that used the good assertion up; with its own client_id it works.
    let own_id = format!("{typed}&client_id={id}");
    let (status, body) = status_and_json(post(form(&own_id, &good)).await).await;
    assert_eq!(status, 200, "{body}");
}

/// RFC 7591 §2: the registered method is the only one. A client registered
/// for a secret cannot authenticate with an assertion (whatever key signed
/// it), and a key client has no secret and no bare `client_id` to use.
async fn a_secret_client_cannot_use_an_assertion_nor_a_key_client_a_secret(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (secret_id, secret) = app.service_client("orders:read").await;
    let key = new_key(KeyAlgorithm::Es256);
    let assertion_for_secret_client = assertion(&app, &key, &secret_id, TOKEN);
    assert_error(token_request(&app, &assertion_for_secret_client).await, 401, "invalid_client").await;
    assert!(!app.token_for(&secret_id, &secret, &[]).await.is_empty());

    let key_id = key_client(&app, &key).await;
    let grant = "grant_type=client_credentials";
    let basic = app.post_form(TOKEN, grant, Some((&key_id, "anything"))).await;
    assert_error(basic, 401, "invalid_client").await;
    let posted = format!("{grant}&client_id={key_id}&client_secret=anything");
    assert_error(app.post_form(TOKEN, &posted, None).await, 401, "invalid_client").await;
    let bare = format!("{grant}&client_id={key_id}");
    assert_error(app.post_form(TOKEN, &bare, None).await, 401, "invalid_client").await;
    access_token(&app, &assertion(&app, &key, &key_id, TOKEN)).await;
}
