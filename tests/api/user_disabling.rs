//! What changing a user's password and disabling them end (interface.md:
//! "a disabled user cannot sign in, and their sessions and tokens stop
//! working"): their browser sessions, refresh tokens and access tokens, at
//! once on this instance and within the revocation sync interval on others.
//! A re-enabled user signs in again; nothing that was ended comes back.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use url::Url;

use crate::both_backends;
use crate::helpers::{ADMIN_ID, ADMIN_SECRET, Backend, TestApp, status_and_json};
use crate::oidc::{
    Landing, PASSWORD, Rp, Tokens, UserAgent, create_user, error_code, oidc_endpoint, sign_in,
};

const ADMIN: (&str, &str) = (ADMIN_ID, ADMIN_SECRET);
const NEW_PASSWORD: &str = "a brand new passphrase";

both_backends!(
    a_new_password_signs_in_and_the_old_one_does_not,
    a_new_password_ends_the_sessions_and_tokens_of_the_old_one,
    a_disabled_user_cannot_sign_in_and_what_they_hold_stops_working,
    a_re_enabled_user_signs_in_again_but_old_tokens_stay_dead,
    a_user_disabled_at_the_consent_page_gets_no_code,
    a_session_is_checked_against_the_stored_user_at_every_use,
    disabling_reaches_another_instance_within_the_sync_interval,
);

/// `alice`, signed in to a confidential client with `offline_access` in
/// the returned browser: her id, the browser and the tokens.
async fn signed_in_alice(app: &TestApp, rp: &Rp) -> (String, UserAgent, Tokens) {
    let id = create_user(app, "alice", json!({"name": "Alice"})).await;
    let mut ua = UserAgent::new(&app.address);
    let tokens = sign_in(app, rp, &mut ua, "alice", &["profile", "offline_access"]).await;
    assert!(tokens.refresh_token.is_some());
    (id, ua, tokens)
}

async fn userinfo_status(app: &TestApp, base: &str, token: &str) -> u16 {
    let endpoint = Url::parse(&oidc_endpoint(app, "userinfo_endpoint").await).unwrap();
    let response =
        app.http.get(format!("{base}{}", endpoint.path())).bearer_auth(token).send().await.unwrap();
    response.status().as_u16()
}

/// The page of `landing`, checked to be the login page.
fn assert_login_page(landing: Landing) {
    let page = landing.page();
    assert!(page.login_form().is_some(), "the login page: {} {}\n{}", page.status, page.url, page.body);
}

/// Signs in as `alice` with `password` from a new browser, allowing if asked.
async fn fresh_sign_in(app: &TestApp, rp: &Rp, password: &str) -> (Landing, crate::oidc::Authorization) {
    let mut ua = UserAgent::new(&app.address);
    let auth = rp.authorize(&["profile", "offline_access"]);
    assert_login_page(ua.follow(auth.url.as_str()).await);
    let mut landing = ua.sign_in("alice", password).await;
    if let Landing::Page(page) = &landing
        && page.consent_form().is_some()
    {
        landing = ua.consent("Allow").await;
    }
    (landing, auth)
}

/// The alert of the login page `landing` must be, with its status.
fn login_refusal(landing: Landing) -> (u16, String) {
    let page = landing.page();
    assert!(page.login_form().is_some(), "{}", page.body);
    (page.status, page.alert().unwrap_or_default())
}

/// interface.md: after `PATCH {"password": …}` the user signs in with the
/// new password, not the old one, and their tokens keep the same `sub`.
async fn a_new_password_signs_in_and_the_old_one_does_not(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::confidential(&app).await;
    let id = create_user(&app, "alice", json!({})).await;
    let (status, user) = app.patch_user(&id, json!({"password": NEW_PASSWORD})).await;
    assert_eq!(status, 200, "{user}");
    assert!(!user.to_string().contains(NEW_PASSWORD) && !user.to_string().contains("password"), "{user}");

    let (landing, _) = fresh_sign_in(&app, &rp, PASSWORD).await;
    assert_eq!(login_refusal(landing), (401, "Incorrect username or password.".to_owned()));
    let (landing, auth) = fresh_sign_in(&app, &rp, NEW_PASSWORD).await;
    let tokens = rp.redeem(&app, &landing.callback(), &auth).await;
    assert_eq!(tokens.id_claims["sub"], id.as_str(), "the id never changes");
}

/// A password is reset because someone else may know it: whatever was
/// signed in with the old one ends (the browser session, the refresh token
/// and the access token).
async fn a_new_password_ends_the_sessions_and_tokens_of_the_old_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::confidential(&app).await;
    let (id, mut ua, tokens) = signed_in_alice(&app, &rp).await;
    assert_eq!(app.patch_user(&id, json!({"password": NEW_PASSWORD})).await.0, 200);

    assert_eq!(app.introspect(ADMIN, &tokens.access_token).await["active"], false);
    assert_eq!(userinfo_status(&app, &app.address, &tokens.access_token).await, 401);
    let refreshed = rp.refresh(&app, tokens.refresh_token.as_deref().unwrap(), None).await;
    assert_eq!(error_code(refreshed), "invalid_grant");
    assert_login_page(ua.follow(rp.authorize(&[]).url.as_str()).await);
}

/// A disabled user's session, refresh token and access token stop working
/// at once; they cannot sign in, and the page says the account is disabled
/// only to someone who gave the right password.
async fn a_disabled_user_cannot_sign_in_and_what_they_hold_stops_working(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::confidential(&app).await;
    let (id, mut ua, tokens) = signed_in_alice(&app, &rp).await;
    assert_eq!(app.introspect(ADMIN, &tokens.access_token).await["active"], true);
    assert_eq!(userinfo_status(&app, &app.address, &tokens.access_token).await, 200);

    let before = crate::helpers::now();
    let (status, user) = app.patch_user(&id, json!({"disabled": true})).await;
    assert_eq!(
        (status, &user["disabled"], user["id"].as_str()),
        (200, &json!(true), Some(id.as_str())),
        "{user}"
    );
    let disabled_at = user["disabled_at"].as_i64().expect("disabled_at");
    assert!((before - 1..=before + 60).contains(&disabled_at), "{user}");
    assert_eq!(app.get_user(&id).await, (200, user));

    assert_eq!(app.introspect(ADMIN, &tokens.access_token).await["active"], false);
    assert_eq!(userinfo_status(&app, &app.address, &tokens.access_token).await, 401);
    let refreshed = rp.refresh(&app, tokens.refresh_token.as_deref().unwrap(), None).await;
    assert_eq!(error_code(refreshed), "invalid_grant");
    assert_login_page(ua.follow(rp.authorize(&[]).url.as_str()).await);

    let (landing, _) = fresh_sign_in(&app, &rp, "not her password at all").await;
    assert_eq!(login_refusal(landing), (401, "Incorrect username or password.".to_owned()));
    let (landing, _) = fresh_sign_in(&app, &rp, PASSWORD).await;
    let (status, alert) = login_refusal(landing);
    assert_eq!(status, 403);
    assert!(alert.contains("disabled"), "{alert}");
}

/// `disabled: false` lets the user sign in again; the tokens and refresh
/// families ended by the disabling stay ended.
async fn a_re_enabled_user_signs_in_again_but_old_tokens_stay_dead(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::confidential(&app).await;
    let (id, _, tokens) = signed_in_alice(&app, &rp).await;
    assert_eq!(app.patch_user(&id, json!({"disabled": true})).await.0, 200);
    let (status, user) = app.patch_user(&id, json!({"disabled": false})).await;
    assert_eq!((status, &user["disabled"]), (200, &json!(false)), "{user}");
    assert!(user.get("disabled_at").is_none(), "{user}");

    assert_eq!(app.introspect(ADMIN, &tokens.access_token).await["active"], false);
    let refreshed = rp.refresh(&app, tokens.refresh_token.as_deref().unwrap(), None).await;
    assert_eq!(error_code(refreshed), "invalid_grant");
    let (landing, auth) = fresh_sign_in(&app, &rp, PASSWORD).await;
    let fresh = rp.redeem(&app, &landing.callback(), &auth).await;
    assert_eq!(app.introspect(ADMIN, &fresh.access_token).await["active"], true);
    assert!(rp.refresh(&app, fresh.refresh_token.as_deref().unwrap(), None).await.is_ok());
}

/// Disabled between sign-in and consent, the user's `Allow` gives the
/// client no code, and the browser is signed out.
async fn a_user_disabled_at_the_consent_page_gets_no_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = create_user(&app, "alice", json!({})).await;
    let rp = Rp::public(&app).await;
    let mut ua = UserAgent::new(&app.address);
    assert_login_page(ua.follow(rp.authorize(&["profile"]).url.as_str()).await);
    let page = ua.sign_in("alice", PASSWORD).await.page();
    assert!(page.consent_form().is_some(), "{}", page.body);

    assert_eq!(app.patch_user(&id, json!({"disabled": true})).await.0, 200);
    // The session, and the form's CSRF token with it, ended: no redirect.
    let page = ua.consent("Allow").await.page();
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("expired"), "{}", page.body);
    assert_login_page(ua.follow(rp.authorize(&["profile"]).url.as_str()).await);
}

/// Marks `id` disabled in the database directly, as an instance would whose
/// deletion of the user's sessions a session being created escaped.
async fn mark_disabled_behind_the_servers_back(app: &TestApp, id: &str) {
    use sqlx::Connection;
    let sql = "UPDATE users SET disabled_at = 1 WHERE user_id = $1";
    let updated = match app.backend {
        Backend::Sqlite => {
            let mut connection = sqlx::SqliteConnection::connect(&app.database_url).await.unwrap();
            sqlx::query(sql).bind(id).execute(&mut connection).await.unwrap().rows_affected()
        }
        Backend::Postgres => {
            let mut connection = sqlx::PgConnection::connect(&app.database_url).await.unwrap();
            sqlx::query(sql).bind(id).execute(&mut connection).await.unwrap().rows_affected()
        }
    };
    assert_eq!(updated, 1);
}

/// The session's user is read at every use: a session that survived (its
/// user marked disabled without it being deleted) signs no one on, and
/// `prompt=none` is `login_required`.
async fn a_session_is_checked_against_the_stored_user_at_every_use(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::confidential(&app).await;
    let (id, mut ua, _) = signed_in_alice(&app, &rp).await;
    mark_disabled_behind_the_servers_back(&app, &id).await;
    let auth = rp.authorize_with(&[], |r| r.add_prompt(openidconnect::core::CoreAuthPrompt::None));
    crate::oidc::assert_redirected_error(&app, ua.follow(auth.url.as_str()).await, &auth, "login_required");
    assert_login_page(ua.follow(rp.authorize(&[]).url.as_str()).await);
}

/// On several instances sharing a database: the user's access token stops
/// passing introspection on the other instance within the sync interval
/// (`CASTELLAN_SYNC_INTERVAL`, 1 s), and userinfo there, which reads the
/// user, refuses it at once.
async fn disabling_reaches_another_instance_within_the_sync_interval(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let second = app.second_instance(&[]).await;
    let rp = Rp::confidential(&app).await;
    let (id, _, tokens) = signed_in_alice(&app, &rp).await;
    let introspect_on_second = async || {
        let response = app
            .http
            .post(second.url("/oauth2/introspect"))
            .basic_auth(ADMIN_ID, Some(ADMIN_SECRET))
            .form(&[("token", tokens.access_token.as_str())])
            .send()
            .await
            .unwrap();
        status_and_json(response).await.1
    };
    assert_eq!(introspect_on_second().await["active"], true);
    assert_eq!(userinfo_status(&app, &second.address, &tokens.access_token).await, 200);

    assert_eq!(app.patch_user(&id, json!({"disabled": true})).await.0, 200);
    let disabled_at = Instant::now();
    assert_eq!(userinfo_status(&app, &second.address, &tokens.access_token).await, 401);
    // One interval, plus slack for a loaded machine.
    while introspect_on_second().await["active"] == Value::Bool(true) {
        assert!(disabled_at.elapsed() < Duration::from_secs(4), "the second instance never saw it");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
