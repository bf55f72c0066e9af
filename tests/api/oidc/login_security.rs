//! The login and consent forms under attack: wrong passwords that reveal
//! nothing, cross-site form posts (CSRF), password guessing (throttling),
//! and the session cookie (RFC 6749 §10.12, §10.13; OWASP session rules).

use serde_json::json;

use super::*;
use crate::both_backends;
use crate::helpers::{Backend, TestApp};

/// A browser on the login page of a fresh authorization request by `rp`.
async fn at_login_page(app: &TestApp, rp: &Rp) -> (UserAgent, Authorization) {
    let mut ua = UserAgent::new(&app.address);
    let auth = rp.authorize(&[]);
    let page = ua.follow(auth.url.as_str()).await.page();
    assert!(page.login_form().is_some(), "{}", page.body);
    (ua, auth)
}

/// Asserts `landing` is the login page again with `status` and an alert; returns the alert.
fn assert_login_again(landing: Landing, status: u16) -> String {
    let page = landing.page();
    assert_eq!(page.status, status, "{}", page.body);
    assert!(page.login_form().is_some(), "{}", page.body);
    page.alert().unwrap_or_else(|| panic!("no message on the login page:\n{}", page.body))
}

/// A wrong password is 401 with the login page and a message; an unknown
/// username gets the very same message, so accounts cannot be discovered;
/// the right password then works.
async fn a_wrong_password_shows_the_login_page_with_a_message(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::public(&app).await;
    let (mut ua, auth) = at_login_page(&app, &rp).await;
    let wrong = assert_login_again(ua.sign_in("alice", "not the password").await, 401);
    let unknown = assert_login_again(ua.sign_in("nobody", "not the password").await, 401);
    assert_eq!(wrong, unknown);
    let landing = ua.sign_in("alice", PASSWORD).await;
    let callback = complete(&mut ua, landing, "alice").await;
    rp.redeem(&app, &callback, &auth).await;
}

/// RFC 6749 §10.12: the login and consent forms carry a CSRF token; a post
/// without it or with another is refused with a 403 page, and signs no one in.
async fn form_posts_without_the_csrf_token_are_403(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::public(&app).await;
    let (mut ua, auth) = at_login_page(&app, &rp).await;
    let login = ua.page().login_form().unwrap();
    let credentials = [("username", "alice"), ("password", PASSWORD)];
    let mut without = login.clone();
    without.fields.retain(|(name, _)| name != "csrf_token");
    assert_eq!(ua.submit(&without, &credentials, None).await.page().status, 403);
    let forged =
        [("username", "alice"), ("password", PASSWORD), ("csrf_token", "forged-token-value-1234567890")];
    assert_eq!(ua.submit(&login, &forged, None).await.page().status, 403);
    // A browser without the page's cookies cannot use its token either.
    let mut stranger = UserAgent::new(&app.address);
    assert_eq!(stranger.submit(&login, &credentials, None).await.page().status, 403);

    let consent = ua.submit(&login, &credentials, None).await.page();
    let form = consent.consent_form().expect("the consent page");
    let mut without = form.clone();
    without.fields.retain(|(name, _)| name != "csrf_token");
    assert_eq!(ua.submit(&without, &[], Some("Allow")).await.page().status, 403);
    assert_eq!(
        ua.submit(&form, &[("csrf_token", "forged-token-value-1234567890")], Some("Allow"))
            .await
            .page()
            .status,
        403
    );
    let callback = ua.submit(&form, &[], Some("Allow")).await.callback();
    rp.redeem(&app, &callback, &auth).await;
}

/// After 5 consecutive failed passwords an account is locked for a while:
/// even the right password gets 429 and the login page with a message;
/// another account signs in meanwhile.
async fn login_is_throttled_after_five_failures(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    create_user(&app, "bob", json!({})).await;
    let rp = Rp::public(&app).await;
    let (mut ua, _) = at_login_page(&app, &rp).await;
    for attempt in 0..5 {
        let landing = ua.sign_in("alice", &format!("guess number {attempt}")).await;
        assert_login_again(landing, 401);
    }
    assert_login_again(ua.sign_in("alice", PASSWORD).await, 429);
    // A fresh browser makes no difference: the limit is the account's.
    let (mut other, _) = at_login_page(&app, &rp).await;
    assert_login_again(other.sign_in("alice", PASSWORD).await, 429);

    let (mut bob, auth) = at_login_page(&app, &rp).await;
    let landing = bob.sign_in("bob", PASSWORD).await;
    let callback = complete(&mut bob, landing, "bob").await;
    rp.redeem(&app, &callback, &auth).await;
}

/// OWASP session management: the session cookie `castellan_session` is
/// `HttpOnly`, and signing in issues a new session id (no fixation).
async fn signing_in_sets_a_fresh_http_only_session_cookie(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::register(&app, json!({"token_endpoint_auth_method": "none", "first_party": true})).await;
    let (ua, _) = at_login_page(&app, &rp).await;
    let before = ua.session_cookie();
    let form = ua.page().login_form().unwrap();
    let response = ua.submit_raw(&form, &[("username", "alice"), ("password", PASSWORD)], None).await;
    assert_eq!(response.status(), 303);
    let cookies: Vec<String> =
        response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with(&format!("{}=", user_agent::SESSION_COOKIE)))
        .unwrap_or_else(|| panic!("signing in sets the session cookie: {cookies:?}"));
    assert!(session.to_ascii_lowercase().contains("httponly"), "{session}");
    let after = ua.session_cookie().expect("a session cookie");
    assert_ne!(before.as_deref(), Some(after.as_str()), "the session id changes on sign-in");
}

/// A login post for an authorization request the server does not know (a
/// made-up or already finished sealed `request`) is a 4xx page: no redirect,
/// no code.
async fn a_login_for_an_unknown_or_finished_request_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::register(&app, json!({"token_endpoint_auth_method": "none", "first_party": true})).await;
    let (mut ua, auth) = at_login_page(&app, &rp).await;
    let form = ua.page().login_form().unwrap();
    let credentials = [("username", "alice"), ("password", PASSWORD)];
    let made_up = [credentials[0], credentials[1], ("request", "no-such-request-0123456789")];
    let response = ua.submit_raw(&form, &made_up, None).await;
    assert!(response.status().is_client_error(), "{}", response.status());
    let callback = ua.submit(&form, &credentials, None).await.callback();
    rp.redeem(&app, &callback, &auth).await;
    match ua.submit(&form, &credentials, None).await {
        Landing::Callback(again) => assert_eq!(param(&again, "code"), None, "a second code: {again}"),
        Landing::Page(page) => assert!((400..500).contains(&page.status), "{} {}", page.status, page.body),
    }
}

/// What the user typed comes back escaped: a username with markup does not
/// become markup on the login page.
async fn the_login_page_escapes_what_was_typed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::public(&app).await;
    let (mut ua, _) = at_login_page(&app, &rp).await;
    let typed = "\"><script>alert(1)</script>";
    let page = ua.sign_in(typed, "whatever").await.page();
    assert_eq!(page.status, 401);
    assert!(!page.body.contains("<script>"), "{}", page.body);
    assert_eq!(page.login_form().unwrap().field("username"), Some(typed));
}

/// The throttle holds under concurrency: of 20 wrong passwords posted at
/// once (each from its own browser), at most 5 are checked (401); the rest
/// are refused unchecked (429), so parallel guessing gains nothing.
async fn concurrent_guesses_are_throttled_too(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::public(&app).await;
    let mut tasks = tokio::task::JoinSet::new();
    for attempt in 0..20 {
        let (ua, _) = at_login_page(&app, &rp).await;
        let form = ua.page().login_form().unwrap();
        tasks.spawn(async move {
            let password = format!("guess number {attempt}");
            let response =
                ua.submit_raw(&form, &[("username", "alice"), ("password", &password)], None).await;
            response.status().as_u16()
        });
    }
    let statuses = tasks.join_all().await;
    assert!(statuses.iter().all(|s| matches!(s, 401 | 429)), "{statuses:?}");
    let checked = statuses.iter().filter(|&&s| s == 401).count();
    assert!(checked <= 5, "{checked} passwords checked: {statuses:?}");
}

/// The lock counts consecutive failures: a successful sign-in starts the
/// count again, so 4 failures, a success and 4 more failures lock nothing.
async fn a_successful_sign_in_resets_the_failure_count(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::public(&app).await;
    for round in 0..2 {
        let (mut ua, auth) = at_login_page(&app, &rp).await;
        for attempt in 0..4 {
            assert_login_again(ua.sign_in("alice", &format!("guess {round}.{attempt}")).await, 401);
        }
        let landing = ua.sign_in("alice", PASSWORD).await;
        let callback = complete(&mut ua, landing, "alice").await;
        rp.redeem(&app, &callback, &auth).await;
    }
}

both_backends!(
    a_wrong_password_shows_the_login_page_with_a_message,
    form_posts_without_the_csrf_token_are_403,
    login_is_throttled_after_five_failures,
    signing_in_sets_a_fresh_http_only_session_cookie,
    a_login_for_an_unknown_or_finished_request_is_refused,
    the_login_page_escapes_what_was_typed,
    concurrent_guesses_are_throttled_too,
    a_successful_sign_in_resets_the_failure_count,
);
