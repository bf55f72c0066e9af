//! Password hashing is not queued without bound: a sign-in that finds every
//! hashing place taken (the slots and a short queue) is answered at once with
//! 429 and `Retry-After` (RFC 6585 §4), and is not counted as a failure.

use serde_json::json;

use super::*;
use crate::both_backends;
use crate::helpers::{Backend, TestApp};

const BROWSERS: usize = 24;

/// With one hashing slot (five places with its queue), of 24 sign-ins posted
/// at once, each by its own user, those that find no place are refused with
/// 429, `Retry-After` and the login page; the others sign in. Nobody is
/// locked out afterwards.
async fn sign_ins_beyond_the_hashing_places_get_429_with_retry_after_instead_of_queueing(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("CASTELLAN_PASSWORD_HASHING_SLOTS", "1")]).await;
    let rp = Rp::register(&app, json!({"token_endpoint_auth_method": "none", "first_party": true})).await;
    let mut browsers = Vec::new();
    for index in 0..BROWSERS {
        let username = format!("user{index}");
        create_user(&app, &username, json!({})).await;
        let mut ua = UserAgent::new(&app.address);
        ua.follow(rp.authorize(&[]).url.as_str()).await;
        let form = ua.page().login_form().expect("the login page");
        browsers.push((ua, form, username));
    }
    // All at once, once every browser is on its login page.
    let mut tasks = tokio::task::JoinSet::new();
    for (ua, form, username) in browsers {
        tasks.spawn(async move {
            let response =
                ua.submit_raw(&form, &[("username", &username), ("password", PASSWORD)], None).await;
            let status = response.status().as_u16();
            let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
            (status, retry_after, response.text().await.unwrap())
        });
    }
    let answers = tasks.join_all().await;
    let mut refused = 0;
    for (status, retry_after, body) in &answers {
        match status {
            303 => {}
            429 => {
                refused += 1;
                let seconds: u64 = retry_after.as_deref().expect("Retry-After").parse().expect("seconds");
                assert!(seconds >= 1, "{seconds}");
                assert!(body.contains("Too many sign-ins at once"), "{body}");
                assert!(body.contains("name=\"password\""), "the login page again: {body}");
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert!(refused > 0, "every sign-in was queued: {:?}", answers.iter().map(|a| a.0).collect::<Vec<_>>());
    assert!(refused < BROWSERS, "nobody signed in");

    // The refusals counted against no one: every user signs in now.
    for index in 0..BROWSERS {
        let mut ua = UserAgent::new(&app.address);
        sign_in(&app, &rp, &mut ua, &format!("user{index}"), &[]).await;
    }
}

both_backends!(sign_ins_beyond_the_hashing_places_get_429_with_retry_after_instead_of_queueing);
