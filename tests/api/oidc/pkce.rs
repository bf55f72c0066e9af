//! Proof Key for Code Exchange (RFC 7636) as Castellan requires it: S256
//! only, mandatory for every client unless a confidential client's OpenID
//! request carries a nonce (RFC 9700 §2.1.1; `require_pkce` changes that),
//! and no downgrade (RFC 9700 §4.8.2).

use serde_json::json;

use super::*;
use crate::both_backends;
use crate::helpers::{Backend, TestApp, status_and_json};

/// A user `alice` signed in to `rp` in a fresh browser.
async fn signed_in(app: &TestApp, rp: &Rp) -> UserAgent {
    create_user(app, "alice", json!({})).await;
    let mut ua = UserAgent::new(&app.address);
    sign_in(app, rp, &mut ua, "alice", &[]).await;
    ua
}

/// RFC 7636 §4.6: a code verifier that does not match the challenge is
/// `invalid_grant`, and so is a missing one (or `invalid_request`).
async fn a_wrong_or_missing_code_verifier_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::public(&app).await;
    let mut ua = signed_in(&app, &rp).await;
    let auth = rp.authorize(&[]);
    let code = code_of(&app, &ua.follow(auth.url.as_str()).await.callback(), &auth);
    let wrong = "a-verifier-of-the-right-length-but-not-the-right-one-0123456789";
    assert_eq!(error_code(rp.exchange(&app, &code, wrong).await), "invalid_grant");

    let auth = rp.authorize(&[]);
    let code = code_of(&app, &ua.follow(auth.url.as_str()).await.callback(), &auth);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT_URI),
        ("client_id", &rp.id),
    ];
    let (status, body) = status_and_json(raw_exchange(&app, &form, None).await).await;
    assert_eq!(status, 400, "{body}");
    assert!(matches!(body["error"].as_str(), Some("invalid_grant" | "invalid_request")), "{body}");
}

/// RFC 7636 §4.4.1: a public client that sends no `code_challenge` gets
/// `invalid_request` at the redirect URI.
async fn a_public_client_must_send_a_code_challenge(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::public(&app).await;
    let mut ua = signed_in(&app, &rp).await;
    let auth = rp.authorize(&[]);
    let url = with_query(&auth.url, &[("code_challenge", None), ("code_challenge_method", None)]);
    assert_redirected_error(&app, ua.follow(url.as_str()).await, &auth, "invalid_request");
}

/// RFC 7636 §4.3 and RFC 9700 §2.1.1: only `S256` is accepted; `plain`, an
/// unknown method and a challenge without its method (which would mean
/// `plain`) are `invalid_request`.
async fn only_the_s256_method_is_accepted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::public(&app).await;
    let mut ua = signed_in(&app, &rp).await;
    for method in [Some("plain"), Some("S512"), Some("s256"), None] {
        let auth = rp.authorize(&[]);
        let url = with_query(&auth.url, &[("code_challenge_method", method)]);
        assert_redirected_error(&app, ua.follow(url.as_str()).await, &auth, "invalid_request");
    }
}

/// RFC 9700 §4.8.2: a code issued without a `code_challenge` is refused
/// when the token request carries a `code_verifier` (a PKCE downgrade); a
/// confidential client that sent no challenge redeems without a verifier.
async fn a_code_verifier_for_a_code_without_challenge_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::confidential(&app).await;
    let mut ua = signed_in(&app, &rp).await;
    let mut codes = Vec::new();
    for _ in 0..2 {
        let auth = rp.authorize(&[]);
        let url = with_query(&auth.url, &[("code_challenge", None), ("code_challenge_method", None)]);
        // An OpenID request with a nonce: this client may leave PKCE out.
        let callback = ua.follow(url.as_str()).await.callback();
        codes.push(code_of(&app, &callback, &auth));
    }
    let verifier = "a-verifier-of-the-right-length-that-was-never-challenged-0123456";
    let form = |code: &str, verifier: Option<&str>| {
        let mut form = vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("code".to_owned(), code.to_owned()),
            ("redirect_uri".to_owned(), REDIRECT_URI.to_owned()),
        ];
        form.extend(verifier.map(|v| ("code_verifier".to_owned(), v.to_owned())));
        form
    };
    let downgraded = form(&codes[0], Some(verifier));
    let downgraded: Vec<(&str, &str)> = downgraded.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let (status, body) = status_and_json(raw_exchange(&app, &downgraded, Some(rp.credentials())).await).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");

    let plain = form(&codes[1], None);
    let plain: Vec<(&str, &str)> = plain.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let (status, body) = status_and_json(raw_exchange(&app, &plain, Some(rp.credentials())).await).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id_token"].is_string(), "{body}");
}

/// The authorization request's parameters without PKCE.
const NO_PKCE: [(&str, Option<&str>); 2] = [("code_challenge", None), ("code_challenge_method", None)];

/// Follows `auth`'s request, changed by `changes`, and returns where the
/// browser lands (the user is signed in and has consented to `openid`).
async fn redirected(ua: &mut UserAgent, auth: &Authorization, changes: &[(&str, Option<&str>)]) -> Landing {
    ua.follow(with_query(&auth.url, changes).as_str()).await
}

/// Redeems `code` as `rp` without a `code_verifier`.
async fn redeem_without_verifier(app: &TestApp, rp: &Rp, code: &str) -> (u16, Value) {
    let form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", REDIRECT_URI)];
    status_and_json(raw_exchange(app, &form, Some(rp.credentials())).await).await
}

/// RFC 9700 §2.1.1: PKCE is required of a confidential client too, unless
/// its request is an OpenID request carrying a `nonce`: without one, or
/// with a nonce but without `openid`, no challenge is `invalid_request`.
async fn pkce_is_required_of_a_confidential_client_without_a_nonce(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::confidential(&app).await;
    let mut ua = signed_in(&app, &rp).await;
    let auth = rp.authorize(&[]);
    let changes = [NO_PKCE[0], NO_PKCE[1], ("nonce", None)];
    assert_redirected_error(&app, redirected(&mut ua, &auth, &changes).await, &auth, "invalid_request");
    let auth = rp.authorize(&[]);
    let changes = [NO_PKCE[0], NO_PKCE[1], ("scope", Some("profile"))];
    assert_redirected_error(&app, redirected(&mut ua, &auth, &changes).await, &auth, "invalid_request");
}

/// RFC 9700 §2.1.1: a confidential client's OpenID request with a `nonce`
/// needs no PKCE; its code is redeemed without a verifier.
async fn an_openid_request_with_a_nonce_needs_no_pkce_from_a_confidential_client(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::confidential(&app).await;
    let mut ua = signed_in(&app, &rp).await;
    let auth = rp.authorize(&[]);
    let code = code_of(&app, &redirected(&mut ua, &auth, &NO_PKCE).await.callback(), &auth);
    let (status, body) = redeem_without_verifier(&app, &rp, &code).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(jwt_payload(body["id_token"].as_str().unwrap())["nonce"], auth.nonce.secret().as_str());
}

/// Client metadata `require_pkce: true`: PKCE always, even in an OpenID
/// request with a `nonce`.
async fn require_pkce_true_requires_it_even_with_a_nonce(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::register(&app, json!({"require_pkce": true})).await;
    let mut ua = signed_in(&app, &rp).await;
    let auth = rp.authorize(&[]);
    assert_redirected_error(&app, redirected(&mut ua, &auth, &NO_PKCE).await, &auth, "invalid_request");
}

/// Client metadata `require_pkce: false` lets a confidential client go
/// without PKCE (and without a nonce), for legacy relying parties; a public
/// client must use PKCE whatever its metadata says (RFC 7636 §1).
async fn require_pkce_false_exempts_a_confidential_client_but_never_a_public_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let legacy = Rp::register(&app, json!({"require_pkce": false})).await;
    let mut ua = signed_in(&app, &legacy).await;
    let auth = legacy.authorize(&[]);
    let changes = [NO_PKCE[0], NO_PKCE[1], ("nonce", None)];
    let code = code_of(&app, &redirected(&mut ua, &auth, &changes).await.callback(), &auth);
    let (status, body) = redeem_without_verifier(&app, &legacy, &code).await;
    assert_eq!(status, 200, "{body}");

    let public =
        Rp::register(&app, json!({"require_pkce": false, "token_endpoint_auth_method": "none"})).await;
    sign_in(&app, &public, &mut ua, "alice", &[]).await;
    let auth = public.authorize(&[]);
    assert_redirected_error(&app, redirected(&mut ua, &auth, &NO_PKCE).await, &auth, "invalid_request");
}

/// `require_pkce` is stored and shown by the admin API: set at `POST`,
/// shown by `GET`, replaced by `PUT` (and left out when not set); a value
/// that is not a boolean is `invalid_client_metadata`.
async fn require_pkce_round_trips_through_the_admin_api(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.admin_token().await;
    let metadata = |require: Value| json!({"redirect_uris": [REDIRECT_URI], "require_pkce": require});
    let (status, created) = app.register_client(metadata(json!(true))).await;
    assert_eq!((status, &created["require_pkce"]), (201, &json!(true)), "{created}");
    let path = format!("/admin/clients/{}", created["client_id"].as_str().unwrap());
    let (_, shown) = app.admin_request(reqwest::Method::GET, &path, Some(&token), None).await;
    assert_eq!(shown["require_pkce"], true, "{shown}");
    let (status, replaced) =
        app.admin_request(reqwest::Method::PUT, &path, Some(&token), Some(&metadata(json!(false)))).await;
    assert_eq!((status, &replaced["require_pkce"]), (200, &json!(false)), "{replaced}");
    let (_, shown) = app.admin_request(reqwest::Method::GET, &path, Some(&token), None).await;
    assert_eq!(shown["require_pkce"], false, "{shown}");
    let unset = json!({"redirect_uris": [REDIRECT_URI]});
    let (status, replaced) = app.admin_request(reqwest::Method::PUT, &path, Some(&token), Some(&unset)).await;
    assert_eq!(status, 200, "{replaced}");
    assert!(replaced.get("require_pkce").is_none(), "{replaced}");
    let (status, body) = app.register_client(metadata(json!("yes"))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_client_metadata")), "{body}");
}

both_backends!(
    a_wrong_or_missing_code_verifier_is_refused,
    a_public_client_must_send_a_code_challenge,
    only_the_s256_method_is_accepted,
    a_code_verifier_for_a_code_without_challenge_is_refused,
    pkce_is_required_of_a_confidential_client_without_a_nonce,
    an_openid_request_with_a_nonce_needs_no_pkce_from_a_confidential_client,
    require_pkce_true_requires_it_even_with_a_nonce,
    require_pkce_false_exempts_a_confidential_client_but_never_a_public_one,
    require_pkce_round_trips_through_the_admin_api,
);
