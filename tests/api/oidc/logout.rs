//! OpenID Connect RP-Initiated Logout 1.0: the end-session endpoint, its
//! redirect back to the client, and its confirmation page.

use openidconnect::core::CoreAuthPrompt;
use serde_json::json;

use super::*;
use crate::both_backends;
use crate::helpers::{Backend, TestApp};

/// Alice signed in to a fresh public client; returns the client, her browser and tokens.
async fn signed_in(app: &TestApp) -> (Rp, UserAgent, Tokens) {
    create_user(app, "alice", json!({})).await;
    let rp = Rp::public(app).await;
    let mut ua = UserAgent::new(&app.address);
    let tokens = sign_in(app, &rp, &mut ua, "alice", &[]).await;
    (rp, ua, tokens)
}

/// Asserts whether the browser is still signed in, by a `prompt=none` request.
async fn assert_signed_in(app: &TestApp, rp: &Rp, ua: &mut UserAgent, expected: bool) {
    let auth = rp.authorize_with(&[], |r| r.add_prompt(CoreAuthPrompt::None));
    let landing = ua.follow(auth.url.as_str()).await;
    if expected {
        code_of(app, &landing.callback(), &auth);
    } else {
        assert_redirected_error(app, landing, &auth, "login_required");
    }
}

/// The end-session URL with `params`.
async fn end_session(app: &TestApp, params: &[(&str, &str)]) -> Url {
    let mut url = Url::parse(&oidc_endpoint(app, "end_session_endpoint").await).unwrap();
    url.query_pairs_mut().extend_pairs(params);
    url
}

/// RP-Initiated Logout §2-3: with `id_token_hint` and a registered
/// `post_logout_redirect_uri`, the user is signed out and sent there with
/// the same `state`; `prompt=none` then answers `login_required`.
async fn logout_with_an_id_token_hint_redirects_back_with_state(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (rp, mut ua, tokens) = signed_in(&app).await;
    let url = end_session(
        &app,
        &[
            ("id_token_hint", &tokens.id_token),
            ("post_logout_redirect_uri", POST_LOGOUT_URI),
            ("state", "s-123"),
        ],
    )
    .await;
    let response = ua.get(url.as_str()).await;
    assert_eq!(response.status(), 303);
    let location = Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(POST_LOGOUT_URI), "{location}");
    assert_eq!(param(&location, "state").as_deref(), Some("s-123"));
    assert_signed_in(&app, &rp, &mut ua, false).await;
}

/// RP-Initiated Logout §3: a `post_logout_redirect_uri` not registered for
/// the client is an error page (400), never a redirect; the session stays.
async fn an_unregistered_post_logout_redirect_uri_is_an_error_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (rp, mut ua, tokens) = signed_in(&app).await;
    for uri in ["https://attacker.example.com/", REDIRECT_URI, "https://rp.example.com/signed-out/"] {
        let url =
            end_session(&app, &[("id_token_hint", &tokens.id_token), ("post_logout_redirect_uri", uri)])
                .await;
        let response = ua.get(url.as_str()).await;
        assert_eq!(response.status(), 400, "{uri}");
        assert!(response.headers().get("location").is_none(), "{uri}");
    }
    assert_signed_in(&app, &rp, &mut ua, true).await;
}

/// RP-Initiated Logout §2 and §6: without `id_token_hint` the OP asks the
/// user (a page with a form, 200) and signs out only when the form is
/// submitted.
async fn logout_without_a_hint_asks_for_confirmation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (rp, mut ua, _) = signed_in(&app).await;
    let page = ua.follow(end_session(&app, &[]).await.as_str()).await.page();
    assert_eq!(page.status, 200, "{}", page.body);
    let form = page.form();
    assert!(form.field("csrf_token").is_some_and(|t| !t.is_empty()), "{form:?}");
    assert_signed_in(&app, &rp, &mut ua, true).await;

    let landing = ua.submit(&form, &[], None).await;
    if let Landing::Page(page) = &landing {
        assert_eq!(page.status, 200, "{}", page.body);
    }
    assert_signed_in(&app, &rp, &mut ua, false).await;
}

/// RP-Initiated Logout §6 (cross-site logout): posting the confirmation
/// without its `csrf_token`, or with a wrong one, signs no one out (403, or
/// the confirmation page again, since the endpoint also takes a client's POST).
async fn the_logout_confirmation_needs_its_csrf_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (rp, mut ua, _) = signed_in(&app).await;
    let form = ua.follow(end_session(&app, &[]).await.as_str()).await.page().form();
    let mut without = form.clone();
    without.fields.retain(|(name, _)| name != "csrf_token");
    let forged = [("csrf_token", "forged-token-value-1234567890")];
    for (form, values) in [(&without, &[][..]), (&form, &forged[..])] {
        let page = ua.submit(form, values, None).await.page();
        let asks_again = page.status == 200 && page.forms().iter().any(|f| f.has_field("csrf_token"));
        assert!(page.status == 403 || asks_again, "{} {}", page.status, page.body);
        assert_signed_in(&app, &rp, &mut ua, true).await;
    }
}

/// RP-Initiated Logout §3: without a way to check which client asks (no
/// `id_token_hint`, no `client_id`), the OP never redirects to the
/// `post_logout_redirect_uri` given.
async fn logout_never_redirects_to_an_unverified_uri(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, mut ua, _) = signed_in(&app).await;
    let url =
        end_session(&app, &[("post_logout_redirect_uri", "https://attacker.example.com/"), ("state", "x")])
            .await;
    let response = ua.get(url.as_str()).await;
    let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
    assert!(!location.as_deref().unwrap_or_default().contains("attacker"), "{location:?}");
    if response.status() == 200 {
        let page = ua.follow(url.as_str()).await.page();
        if let Landing::Callback(callback) = ua.submit(&page.form(), &[], None).await {
            assert!(!callback.as_str().contains("attacker"), "{callback}");
        }
    } else {
        assert_eq!(response.status(), 400);
    }
}

/// RP-Initiated Logout §2 (and OWASP session rules): signing out ends the
/// session on the server, so a copy of the old session cookie is worthless.
async fn a_session_cookie_is_worthless_after_logout(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (rp, mut ua, tokens) = signed_in(&app).await;
    let cookie = ua.session_cookie().expect("a session cookie");
    let url = end_session(&app, &[("id_token_hint", &tokens.id_token)]).await;
    let landing = ua.follow(url.as_str()).await;
    assert!(matches!(landing, Landing::Page(ref page) if page.status == 200), "{landing:?}");
    let auth = rp.authorize_with(&[], |r| r.add_prompt(CoreAuthPrompt::None));
    let response = app
        .http
        .get(auth.url.as_str())
        .header("cookie", format!("{}={cookie}", user_agent::SESSION_COOKIE))
        .send()
        .await
        .unwrap();
    let location = Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(param(&location, "error").as_deref(), Some("login_required"), "{location}");
}

both_backends!(
    logout_with_an_id_token_hint_redirects_back_with_state,
    an_unregistered_post_logout_redirect_uri_is_an_error_page,
    logout_without_a_hint_asks_for_confirmation,
    the_logout_confirmation_needs_its_csrf_token,
    logout_never_redirects_to_an_unverified_uri,
    a_session_cookie_is_worthless_after_logout,
);
