//! The consent page (RFC 6749 §4.1.1, OIDC Core §3.1.2.4): what it shows,
//! what Allow and Deny do, and when it is not asked again.

use serde_json::json;

use super::*;
use crate::both_backends;
use crate::helpers::{Backend, TestApp};

/// Signs `username` in at the login page `landing` must be, and returns the consent page that follows.
async fn consent_page_after_sign_in(
    app: &TestApp,
    ua: &mut UserAgent,
    landing: Landing,
    username: &str,
) -> Page {
    assert!(landing.page().login_form().is_some());
    let page = ua.sign_in(username, PASSWORD).await.page();
    assert!(page.url.as_str().starts_with(&app.url("/consent?")), "{}", page.url);
    assert!(page.consent_form().is_some(), "{}", page.body);
    page
}

/// interface.md and OIDC Core §3.1.2.4: the consent page names the client
/// and the scopes asked for, and posts `csrf_token`, `rid` and a
/// `decision` of `Allow` or `Deny`.
async fn the_consent_page_names_the_client_and_the_scopes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp =
        Rp::register(&app, json!({"client_name": "Photo Printer", "token_endpoint_auth_method": "none"}))
            .await;
    let mut ua = UserAgent::new(&app.address);
    let landing = ua.follow(rp.authorize(&["profile", "email"]).url.as_str()).await;
    let page = consent_page_after_sign_in(&app, &mut ua, landing, "alice").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Photo Printer"), "{}", page.body);
    for scope in ["profile", "email"] {
        assert!(page.body.contains(scope), "{scope}: {}", page.body);
    }
    let form = page.consent_form().unwrap();
    assert!(form.field("csrf_token").is_some_and(|t| t.len() >= 16), "{form:?}");
    assert!(form.field("rid").is_some_and(|r| !r.is_empty()), "{form:?}");
    let decisions: Vec<(&str, &str)> =
        form.buttons.iter().map(|(name, value, _)| (name.as_str(), value.as_str())).collect();
    assert_eq!(decisions, [("decision", "Allow"), ("decision", "Deny")]);
}

/// RFC 6749 §4.1.2.1: denying is `access_denied` at the redirect URI, with
/// `state` and `iss`; nothing is remembered, so the next request asks again.
async fn denying_consent_is_access_denied(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::public(&app).await;
    let mut ua = UserAgent::new(&app.address);
    let auth = rp.authorize(&[]);
    let landing = ua.follow(auth.url.as_str()).await;
    consent_page_after_sign_in(&app, &mut ua, landing, "alice").await;
    assert_redirected_error(&app, ua.consent("Deny").await, &auth, "access_denied");

    let page = ua.follow(rp.authorize(&[]).url.as_str()).await.page();
    assert!(page.consent_form().is_some(), "consent is asked again: {}", page.body);
}

/// OIDC Core §3.1.2.4: consent once given is remembered for the user and
/// client: a new browser session asks only for the password; asking for a
/// scope not yet granted asks again.
async fn consent_is_remembered_for_the_granted_scopes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::public(&app).await;
    sign_in(&app, &rp, &mut UserAgent::new(&app.address), "alice", &["profile"]).await;

    let mut ua = UserAgent::new(&app.address);
    let auth = rp.authorize(&["profile"]);
    let landing = ua.follow(auth.url.as_str()).await;
    assert!(landing.page().login_form().is_some());
    let callback = ua.sign_in("alice", PASSWORD).await.callback();
    rp.redeem(&app, &callback, &auth).await;

    let auth = rp.authorize(&["profile", "email"]);
    let page = ua.follow(auth.url.as_str()).await.page();
    assert!(page.consent_form().is_some(), "{}", page.body);
    let callback = ua.consent("Allow").await.callback();
    let tokens = rp.redeem(&app, &callback, &auth).await;
    let scope = app.verify_offline(&tokens.access_token).await.unwrap()["scope"].clone();
    assert!(scope.as_str().unwrap().split(' ').any(|s| s == "email"), "{scope}");
}

/// Castellan's `first_party` clients: the user is never asked to consent.
async fn a_first_party_client_asks_no_consent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::register(&app, json!({"token_endpoint_auth_method": "none", "first_party": true})).await;
    let mut ua = UserAgent::new(&app.address);
    let auth = rp.authorize(&["profile", "email", "offline_access"]);
    let landing = ua.follow(auth.url.as_str()).await;
    assert!(landing.page().login_form().is_some());
    let callback = ua.sign_in("alice", PASSWORD).await.callback();
    rp.redeem(&app, &callback, &auth).await;
}

/// RFC 6749 §4.1.2 (one authorization, one code): once answered, the
/// consent form cannot be posted again for a second code.
async fn a_consent_form_is_answered_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::public(&app).await;
    let mut ua = UserAgent::new(&app.address);
    let auth = rp.authorize(&[]);
    let landing = ua.follow(auth.url.as_str()).await;
    let page = consent_page_after_sign_in(&app, &mut ua, landing, "alice").await;
    let form = page.consent_form().unwrap();
    let callback = ua.submit(&form, &[], Some("Allow")).await.callback();
    rp.redeem(&app, &callback, &auth).await;
    match ua.submit(&form, &[], Some("Allow")).await {
        Landing::Callback(again) => assert_eq!(param(&again, "code"), None, "a second code: {again}"),
        Landing::Page(page) => assert!((400..500).contains(&page.status), "{} {}", page.status, page.body),
    }
}

/// OIDC Core §3.1.2.1: `prompt=consent` asks for consent even when it was
/// given before.
async fn prompt_consent_asks_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::public(&app).await;
    let mut ua = UserAgent::new(&app.address);
    sign_in(&app, &rp, &mut ua, "alice", &[]).await;
    let auth = rp.authorize_with(&[], |r| r.add_prompt(openidconnect::core::CoreAuthPrompt::Consent));
    let page = ua.follow(auth.url.as_str()).await.page();
    assert!(page.consent_form().is_some(), "{}", page.body);
    let callback = ua.consent("Allow").await.callback();
    rp.redeem(&app, &callback, &auth).await;
}

/// OIDC Core §3.1.2.1: a request sent to the login page (here by
/// `prompt=login`) cannot skip that step by going to the consent page with
/// its request id: the fresh sign-in it asked for would be skipped.
async fn a_request_waiting_for_sign_in_cannot_be_consented_to(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::public(&app).await;
    let mut ua = UserAgent::new(&app.address);
    sign_in(&app, &rp, &mut ua, "alice", &[]).await;
    let auth = rp.authorize_with(&["profile"], |r| r.add_prompt(openidconnect::core::CoreAuthPrompt::Login));
    let landing = ua.follow(auth.url.as_str()).await;
    let login = landing.page();
    assert!(login.login_form().is_some(), "{}", login.body);
    let sealed = login.url.query_pairs().find(|(k, _)| k == "request").map(|(_, v)| v.into_owned()).unwrap();
    let consent = ua.get(&app.url(&format!("/consent?rid={sealed}"))).await;
    assert_eq!(consent.status(), 400);
    assert!(consent.headers().get("location").is_none());
}

both_backends!(
    a_request_waiting_for_sign_in_cannot_be_consented_to,
    the_consent_page_names_the_client_and_the_scopes,
    denying_consent_is_access_denied,
    consent_is_remembered_for_the_granted_scopes,
    a_first_party_client_asks_no_consent,
    a_consent_form_is_answered_once,
    prompt_consent_asks_again,
);
