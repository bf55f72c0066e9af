//! Proof Key for Code Exchange (RFC 7636) as Castellan requires it: S256
//! only, mandatory for public clients, and no downgrade (RFC 9700 §4.8.2).

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
        let callback = ua.follow(url.as_str()).await.callback();
        if param(&callback, "error").as_deref() == Some("invalid_request") {
            // PKCE required of every client: stricter than RFC 9700 asks, and fine.
            return;
        }
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

both_backends!(
    a_wrong_or_missing_code_verifier_is_refused,
    a_public_client_must_send_a_code_challenge,
    only_the_s256_method_is_accepted,
    a_code_verifier_for_a_code_without_challenge_is_refused,
);
