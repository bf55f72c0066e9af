//! Sign-in throttling that cannot be turned against other people: client
//! addresses come from trusted proxies only, a known device has its own
//! budget, one address cannot lock an account for everyone, and guessing
//! that goes on stays locked at the maximum.

use serde_json::json;

use super::{Landing, PASSWORD, Rp, UserAgent, complete, create_user};
use crate::both_backends;
use crate::helpers::{Backend, TestApp};

const PROXY: (&str, &str) = ("CASTELLAN_TRUSTED_PROXIES", "127.0.0.1");
const ATTACKER: &str = "203.0.113.66";

/// A browser at `address` (behind the trusted proxy) on the login page.
async fn at_login_page(app: &TestApp, rp: &Rp, address: &str) -> UserAgent {
    let mut ua = UserAgent::behind_proxy(&app.address, address);
    let page = ua.follow(rp.authorize(&[]).url.as_str()).await.page();
    assert!(page.login_form().is_some(), "{}", page.body);
    ua
}

fn status(landing: &Landing) -> u16 {
    match landing {
        Landing::Page(page) => page.status,
        Landing::Callback(_) => 303,
    }
}

/// Signs in with the right password and completes the flow to a code.
async fn signs_in(app: &TestApp, rp: &Rp, ua: &mut UserAgent) {
    let auth = rp.authorize(&[]);
    let landing = ua.follow(auth.url.as_str()).await;
    let landing = match landing {
        Landing::Page(ref page) if page.login_form().is_some() => ua.sign_in("alice", PASSWORD).await,
        other => other,
    };
    assert!(!matches!(&landing, Landing::Page(page) if page.status != 200), "{:?}", status(&landing));
    let callback = complete(ua, landing, "alice").await;
    rp.redeem(app, &callback, &auth).await;
}

/// Hardening item 2's target: an attacker at one address making 1,000
/// wrong attempts on an account does not refuse its owner a correct sign-in,
/// neither from a browser that has signed in before (even at the attacker's
/// own address, a shared NAT) nor from a new browser at another address.
async fn an_attacker_at_one_address_locks_out_no_one_else(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[PROXY]).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::register(&app, json!({"token_endpoint_auth_method": "none", "first_party": true})).await;
    let mut known = UserAgent::behind_proxy(&app.address, ATTACKER);
    signs_in(&app, &rp, &mut known).await;

    let attacker = at_login_page(&app, &rp, ATTACKER).await;
    let form = attacker.page().login_form().unwrap();
    let mut refused = 0;
    for attempt in 0..1000 {
        let guess = format!("guess {attempt}");
        let response = attacker.submit_raw(&form, &[("username", "alice"), ("password", &guess)], None).await;
        match response.status().as_u16() {
            401 => {}
            429 => refused += 1,
            other => panic!("attempt {attempt}: {other}"),
        }
    }
    assert!(refused >= 990, "the attacker is throttled: {refused} of 1000 refused");

    let mut again = at_login_page(&app, &rp, ATTACKER).await;
    assert_eq!(status(&again.sign_in("alice", PASSWORD).await), 429, "a stranger at the attacker's address");
    // The known device signs in at once (prompt=login makes it show the form).
    let auth = rp.authorize_with(&[], |r| r.add_prompt(openidconnect::core::CoreAuthPrompt::Login));
    let page = known.follow(auth.url.as_str()).await.page();
    assert!(page.login_form().is_some(), "{}", page.body);
    let landing = known.sign_in("alice", PASSWORD).await;
    let callback = complete(&mut known, landing, "alice").await;
    rp.redeem(&app, &callback, &auth).await;
    // So does a new browser at another address.
    let mut elsewhere = UserAgent::behind_proxy(&app.address, "198.51.100.7");
    signs_in(&app, &rp, &mut elsewhere).await;
}

/// Without `CASTELLAN_TRUSTED_PROXIES`, `X-Forwarded-For` is not believed:
/// a client cannot escape its address's lock by claiming another.
async fn forwarded_addresses_are_believed_only_from_trusted_proxies(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::public(&app).await;
    for attempt in 0..5 {
        let mut ua = at_login_page(&app, &rp, &format!("198.51.100.{attempt}")).await;
        assert_eq!(status(&ua.sign_in("alice", "wrong password").await), 401);
    }
    let mut ua = at_login_page(&app, &rp, "198.51.100.99").await;
    assert_eq!(status(&ua.sign_in("alice", PASSWORD).await), 429, "all came from 127.0.0.1");
}

/// Failures are remembered for 24 hours, so a lock that has reached its
/// maximum (15 minutes) is back at the maximum after each further failure.
async fn while_guessing_goes_on_the_lock_stays_at_its_maximum(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::public(&app).await;
    let mut ua = at_login_page(&app, &rp, "198.51.100.1").await;
    for _ in 0..5 {
        assert_eq!(status(&ua.sign_in("alice", "wrong password").await), 401);
    }
    // Each further failure, once the lock has passed, doubles it: 30 s … 900 s.
    for lock in [30, 60, 120, 240, 480, 900, 900, 900] {
        assert_eq!(status(&ua.sign_in("alice", "wrong password").await), 429);
        app.clock.advance(lock + 1);
        // A login page lasts 15 minutes: a new one.
        ua = at_login_page(&app, &rp, "198.51.100.1").await;
        assert_eq!(status(&ua.sign_in("alice", "wrong password").await), 401, "after {lock} s");
    }
    let response = ua
        .submit_raw(&ua.page().login_form().unwrap(), &[("username", "alice"), ("password", PASSWORD)], None)
        .await;
    assert_eq!(response.status(), 429);
    // The clock runs on between the failure and this request (the system
    // clock plus the test's offset): a loaded machine may take a second.
    let retry_after: i64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((898..=900).contains(&retry_after), "the lock is still 900 s: Retry-After {retry_after}");
}

both_backends!(
    an_attacker_at_one_address_locks_out_no_one_else,
    forwarded_addresses_are_believed_only_from_trusted_proxies,
    while_guessing_goes_on_the_lock_stays_at_its_maximum,
);
