//! The browser session across authorizations: single sign-on, and the
//! `prompt` and `max_age` parameters of OIDC Core §3.1.2.1.

use std::time::Duration;

use openidconnect::core::CoreAuthPrompt;
use serde_json::json;

use super::*;
use crate::both_backends;
use crate::helpers::{Backend, TestApp};

/// Asserts that `landing` is the login page, reached through a redirect to `<issuer>/login`.
fn assert_login_page(app: &TestApp, landing: Landing) {
    let page = landing.page();
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.url.as_str().starts_with(&app.url("/login")), "{}", page.url);
    assert!(page.login_form().is_some(), "{}", page.body);
}

/// OIDC Core §3.1.2.1: without a session the request redirects to the login
/// page (`<issuer>/login?request=…`, the request sealed), whose form posts
/// to an absolute URL with hidden `csrf_token` and `request`.
async fn without_a_session_the_user_is_sent_to_the_login_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::public(&app).await;
    let ua = UserAgent::new(&app.address);
    let auth = rp.authorize(&[]);
    let response = ua.get(auth.url.as_str()).await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let login = Url::parse(&app.address).unwrap().join(&location).unwrap();
    assert!(login.as_str().starts_with(&app.url("/login?")), "{login}");
    assert!(param(&login, "request").is_some_and(|r| !r.is_empty()), "{login}");
    let mut ua = ua;
    let page = ua.follow(login.as_str()).await.page();
    let form = page.login_form().expect("a login form");
    assert!(form.method.eq_ignore_ascii_case("post"));
    assert!(form.action.as_str().starts_with(&app.address), "{}", form.action);
    assert!(form.field("csrf_token").is_some_and(|t| t.len() >= 16), "{form:?}");
    assert_eq!(form.field("request"), param(&login, "request").as_deref());
    assert_eq!(form.buttons.len(), 1, "{form:?}");
}

/// OIDC Core §3.1.2.1: a second authorization in the same browser is single
/// sign-on: straight back to the client with a code, and the ID token's
/// `auth_time` is still the time the user signed in.
async fn a_second_authorization_signs_on_without_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::public(&app).await;
    let mut ua = UserAgent::new(&app.address);
    let first = sign_in(&app, &rp, &mut ua, "alice", &[]).await;
    assert!(ua.session_cookie().is_some(), "the browser holds {}", user_agent::SESSION_COOKIE);
    app.clock.advance(2);
    let auth = rp.authorize(&[]);
    let callback = ua.follow(auth.url.as_str()).await.callback();
    let second = rp.redeem(&app, &callback, &auth).await;
    assert_eq!(second.claims.subject(), first.claims.subject());
    assert_eq!(second.claims.auth_time(), first.claims.auth_time());
    // Another browser has no session.
    let landing = UserAgent::new(&app.address).follow(rp.authorize(&[]).url.as_str()).await;
    assert_login_page(&app, landing);
}

/// OIDC Core §3.1.2.6: `prompt=none` without a session is `login_required`.
async fn prompt_none_without_a_session_is_login_required(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::public(&app).await;
    let mut ua = UserAgent::new(&app.address);
    let auth = rp.authorize_with(&[], |r| r.add_prompt(CoreAuthPrompt::None));
    assert_redirected_error(&app, ua.follow(auth.url.as_str()).await, &auth, "login_required");
}

/// OIDC Core §3.1.2.6: `prompt=none` with a session but no consent for
/// this client is `consent_required`; with consent (or for a first-party
/// client) it returns a code.
async fn prompt_none_needs_consent_and_returns_a_code_with_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::public(&app).await;
    let other = Rp::register(&app, json!({"token_endpoint_auth_method": "none"})).await;
    let first_party =
        Rp::register(&app, json!({"token_endpoint_auth_method": "none", "first_party": true})).await;
    let mut ua = UserAgent::new(&app.address);
    sign_in(&app, &rp, &mut ua, "alice", &[]).await;

    let auth = other.authorize_with(&[], |r| r.add_prompt(CoreAuthPrompt::None));
    assert_redirected_error(&app, ua.follow(auth.url.as_str()).await, &auth, "consent_required");
    for client in [&rp, &first_party] {
        let auth = client.authorize_with(&[], |r| r.add_prompt(CoreAuthPrompt::None));
        let callback = ua.follow(auth.url.as_str()).await.callback();
        client.redeem(&app, &callback, &auth).await;
    }
}

/// OIDC Core §3.1.2.1: `none` together with another prompt value is an error
/// (`invalid_request`).
async fn prompt_none_with_another_value_is_invalid_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::public(&app).await;
    let mut ua = UserAgent::new(&app.address);
    let auth =
        rp.authorize_with(&[], |r| r.add_prompt(CoreAuthPrompt::None).add_prompt(CoreAuthPrompt::Login));
    assert_redirected_error(&app, ua.follow(auth.url.as_str()).await, &auth, "invalid_request");
}

/// OIDC Core §3.1.2.1: `prompt=login` shows the login page despite a
/// session, and the new ID token's `auth_time` is the new sign-in.
async fn prompt_login_asks_for_the_password_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::public(&app).await;
    let mut ua = UserAgent::new(&app.address);
    let first = sign_in(&app, &rp, &mut ua, "alice", &[]).await;
    app.clock.advance(2);
    let auth = rp.authorize_with(&[], |r| r.add_prompt(CoreAuthPrompt::Login));
    let landing = ua.follow(auth.url.as_str()).await;
    assert_login_page(&app, landing);
    let callback = ua.sign_in("alice", PASSWORD).await.callback();
    let second = rp.redeem(&app, &callback, &auth).await;
    assert!(second.claims.auth_time().unwrap() > first.claims.auth_time().unwrap());
}

/// OIDC Core §3.1.2.1: with `max_age`, a session older than it sends the
/// user to the login page (`max_age=0` always does), the fresh sign-in goes
/// through, and `auth_time` is the new one; a younger session is used.
async fn max_age_older_than_the_session_requires_a_new_sign_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::public(&app).await;
    let mut ua = UserAgent::new(&app.address);
    let first = sign_in(&app, &rp, &mut ua, "alice", &[]).await;

    let auth = rp.authorize_with(&[], |r| r.set_max_age(Duration::from_secs(600)));
    let callback = ua.follow(auth.url.as_str()).await.callback();
    assert_eq!(rp.redeem(&app, &callback, &auth).await.claims.auth_time(), first.claims.auth_time());

    let mut previous = first.claims.auth_time().unwrap();
    for (max_age, wait) in [(1, 3), (0, 2)] {
        app.clock.advance(wait);
        let auth = rp.authorize_with(&[], |r| r.set_max_age(Duration::from_secs(max_age)));
        assert_login_page(&app, ua.follow(auth.url.as_str()).await);
        let callback = ua.sign_in("alice", PASSWORD).await.callback();
        let tokens = rp.redeem(&app, &callback, &auth).await;
        let auth_time = tokens.claims.auth_time().expect("auth_time is required with max_age");
        assert!(auth_time > previous, "max_age={max_age}");
        previous = auth_time;
    }
}

/// OIDC Core §3.1.2.3: a session is only as good as its user: once the
/// user is deleted, the browser is sent to the login page (and `prompt=none`
/// is `login_required`), never given a code for no one.
async fn a_deleted_users_session_signs_no_one_on(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = create_user(&app, "alice", json!({})).await;
    let rp = Rp::public(&app).await;
    let mut ua = UserAgent::new(&app.address);
    sign_in(&app, &rp, &mut ua, "alice", &[]).await;
    assert_eq!(app.delete_user(&user).await, 204);
    let auth = rp.authorize_with(&[], |r| r.add_prompt(CoreAuthPrompt::None));
    assert_redirected_error(&app, ua.follow(auth.url.as_str()).await, &auth, "login_required");
    assert_login_page(&app, ua.follow(rp.authorize(&[]).url.as_str()).await);
}

both_backends!(
    without_a_session_the_user_is_sent_to_the_login_page,
    a_second_authorization_signs_on_without_pages,
    prompt_none_without_a_session_is_login_required,
    prompt_none_needs_consent_and_returns_a_code_with_it,
    prompt_none_with_another_value_is_invalid_request,
    prompt_login_asks_for_the_password_again,
    max_age_older_than_the_session_requires_a_new_sign_in,
    a_deleted_users_session_signs_no_one_on,
);
