//! Anonymous authorization requests cost the server no storage: the request
//! waiting for a sign-in is sealed into the login page's URL and form, bound
//! to the browser by a cookie, good for 15 minutes, and every parameter kept
//! has a bound.

use serde_json::json;
use url::Url;

use super::{PASSWORD, Rp, UserAgent, create_user, param, with_query};
use crate::both_backends;
use crate::helpers::{Backend, TestApp};

/// The number of rows in every table of the app's database.
async fn rows_in_database(app: &TestApp) -> i64 {
    let mut total = 0;
    match app.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            for table in tables {
                let sql = format!("SELECT COUNT(*) FROM \"{table}\"");
                let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&pool).await.unwrap();
                total += count;
            }
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            for table in tables {
                let sql = format!("SELECT COUNT(*) FROM \"{table}\"");
                let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&pool).await.unwrap();
                total += count;
            }
        }
    }
    total
}

/// Hardening item 1: anonymous authorization requests, each from a new
/// browser and with a 2 KiB `state`, write nothing to the database: not a
/// session, not the pending request, not a CSRF token.
async fn anonymous_authorization_requests_write_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::public(&app).await;
    let before = rows_in_database(&app).await;
    let state = "s".repeat(2048);
    for _ in 0..50 {
        let ua = UserAgent::new(&app.address);
        let auth = rp.authorize(&[]);
        let url = with_query(&auth.url, &[("state", Some(&state))]);
        let response = ua.get(url.as_str()).await;
        assert_eq!(response.status(), 303);
        let login = response.headers()["location"].to_str().unwrap().to_owned();
        let page = ua.get(&login).await;
        assert_eq!(page.status(), 200);
    }
    assert_eq!(rows_in_database(&app).await, before);
}

/// RFC 6749 §4.1.2.1: a `state` over 2 KiB, or not printable ASCII
/// (Appendix A.5), is `invalid_request`, sent back without that `state`;
/// 2 KiB exactly is accepted.
async fn a_state_over_2_kib_is_an_invalid_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::public(&app).await;
    let ua = UserAgent::new(&app.address);
    let auth = rp.authorize(&[]);
    let too_long = "s".repeat(2049);
    let response = ua.get(with_query(&auth.url, &[("state", Some(&too_long))]).as_str()).await;
    assert_eq!(response.status(), 303);
    let location = Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(&auth.redirect_uri()), "{location}");
    assert_eq!(param(&location, "error").as_deref(), Some("invalid_request"));
    assert_eq!(param(&location, "state"), None);
    let control = "state\u{1}with a control character";
    let response = ua.get(with_query(&auth.url, &[("state", Some(control))]).as_str()).await;
    let location = Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(param(&location, "error").as_deref(), Some("invalid_request"));
    assert_eq!(param(&location, "state"), None);
    let fits = "s".repeat(2048);
    let response = ua.get(with_query(&auth.url, &[("state", Some(&fits))]).as_str()).await;
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.contains("/login?request="), "{location}");
}

/// Every parameter kept during sign-in is bounded: an over-long `nonce` or
/// `login_hint` is `invalid_request`.
async fn over_long_parameters_are_invalid_requests(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::public(&app).await;
    let ua = UserAgent::new(&app.address);
    let auth = rp.authorize(&[]);
    for (name, length) in [("nonce", 513), ("login_hint", 257), ("scope", 2049)] {
        let value = "a".repeat(length);
        let response = ua.get(with_query(&auth.url, &[(name, Some(&value))]).as_str()).await;
        let location = Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
        assert_eq!(param(&location, "error").as_deref(), Some("invalid_request"), "{name}: {location}");
    }
}

/// The sealed request is bound to the browser that started it: another
/// browser opening the same login URL, or posting the form, gets a 4xx page.
async fn a_login_request_works_only_in_the_browser_that_started_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::register(&app, json!({"token_endpoint_auth_method": "none", "first_party": true})).await;
    let mut ua = UserAgent::new(&app.address);
    let auth = rp.authorize(&[]);
    let page = ua.follow(auth.url.as_str()).await.page();
    let form = page.login_form().expect("the login page");
    let mut stranger = UserAgent::new(&app.address);
    let opened = stranger.follow(page.url.as_str()).await.page();
    assert_eq!(opened.status, 400, "{}", opened.body);
    let posted = stranger.submit_raw(&form, &[("username", "alice"), ("password", PASSWORD)], None).await;
    assert!(posted.status().is_client_error(), "{}", posted.status());
    assert!(posted.headers().get("location").is_none());
    // The browser that started it still signs in.
    let callback = ua.submit(&form, &[("username", "alice"), ("password", PASSWORD)], None).await.callback();
    rp.redeem(&app, &callback, &auth).await;
}

/// The sealed request lasts 15 minutes, and cannot be altered.
async fn a_login_request_expires_after_15_minutes_and_cannot_be_altered(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::public(&app).await;
    let mut ua = UserAgent::new(&app.address);
    let page = ua.follow(rp.authorize(&[]).url.as_str()).await.page();
    let form = page.login_form().unwrap();
    let sealed = form.field("request").unwrap().to_owned();
    let mut altered = sealed.clone().into_bytes();
    altered[sealed.len() / 2] = if altered[sealed.len() / 2] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    let credentials = [("username", "alice"), ("password", PASSWORD)];
    let response = ua.submit_raw(&form, &[credentials[0], credentials[1], ("request", &altered)], None).await;
    assert_eq!(response.status(), 400);
    app.clock.advance(15 * 60);
    let response = ua.submit_raw(&form, &credentials, None).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("expired"));
}

both_backends!(
    anonymous_authorization_requests_write_nothing,
    a_state_over_2_kib_is_an_invalid_request,
    over_long_parameters_are_invalid_requests,
    a_login_request_works_only_in_the_browser_that_started_it,
    a_login_request_expires_after_15_minutes_and_cannot_be_altered,
);
