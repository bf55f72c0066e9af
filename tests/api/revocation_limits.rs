//! How far one client can grow every instance's revocation list: at most
//! `CASTELLAN_REVOCATION_RATE` revocations a minute, counted across all
//! instances; past it the answer is RFC 7009 §2.2.1's 503 with Retry-After,
//! and the token stays valid (nothing is lost: the client retries).

use std::time::Duration;

use serde_json::Value;

use crate::both_backends;
use crate::helpers::{ADMIN_ID, ADMIN_SECRET, Backend, TestApp};

const ADMIN: (&str, &str) = (ADMIN_ID, ADMIN_SECRET);

/// Moves the server's clock to the start of a rate window, so that a test's
/// revocations all fall in one window (they take far less than its minute).
fn start_of_a_window(app: &TestApp) {
    app.clock.advance(60 - app.clock.now().rem_euclid(60));
}

async fn revoke_at(app: &TestApp, base: &str, caller: (&str, &str), token: &str) -> reqwest::Response {
    app.http
        .post(format!("{base}/oauth2/revoke"))
        .basic_auth(caller.0, Some(caller.1))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
}

/// Past its rate a client gets 503 `temporarily_unavailable` with a
/// Retry-After within the minute, on every instance; the token stays active
/// until a retry in the next minute revokes it. Another client is unaffected.
async fn a_client_past_its_revocation_rate_is_told_to_retry_and_the_token_stays_valid(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("CASTELLAN_REVOCATION_RATE", "3")]).await;
    let second = app.second_instance(&[("CASTELLAN_REVOCATION_RATE", "3")]).await;
    let (id, secret) = app.service_client("orders:read").await;
    let client = (id.as_str(), secret.as_str());
    let mut tokens = Vec::new();
    for _ in 0..5 {
        tokens.push(app.token_for(&id, &secret, &[]).await);
    }
    start_of_a_window(&app);
    for token in &tokens[..2] {
        assert_eq!(revoke_at(&app, &app.address, client, token).await.status(), 200);
    }
    assert_eq!(revoke_at(&app, &second.address, client, &tokens[2]).await.status(), 200);

    for base in [&app.address, &second.address] {
        let refused = revoke_at(&app, base, client, &tokens[3]).await;
        assert_eq!(refused.status(), 503);
        let retry_after: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"], "temporarily_unavailable");
    }
    assert_eq!(
        app.introspect(ADMIN, &tokens[3]).await["active"],
        true,
        "a refused revocation revokes nothing"
    );
    // Revoking again what is revoked already adds nothing, and is not refused.
    assert_eq!(revoke_at(&app, &app.address, client, &tokens[0]).await.status(), 200);
    // Another client has a rate of its own.
    let admin_token = app.admin_token().await;
    assert_eq!(app.revoke(ADMIN, &admin_token).await, 200);

    app.clock.advance(60);
    assert_eq!(revoke_at(&app, &app.address, client, &tokens[3]).await.status(), 200);
    assert_eq!(app.introspect(ADMIN, &tokens[3]).await["active"], false);
    assert_eq!(app.introspect(ADMIN, &tokens[4]).await["active"], true);
}

/// Many revocations reach another instance, each exactly once, through the
/// numbered sync; none is missed.
async fn every_revocation_reaches_another_instance(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let second = app.second_instance(&[]).await;
    let (id, secret) = app.service_client("orders:read").await;
    let mut tokens = Vec::new();
    for _ in 0..30 {
        tokens.push(app.token_for(&id, &secret, &[]).await);
    }
    let mut revocations = tokio::task::JoinSet::new();
    for token in tokens.iter().step_by(2).cloned() {
        let (http, url, id, secret) =
            (app.http.clone(), format!("{}/oauth2/revoke", app.address), id.clone(), secret.clone());
        revocations.spawn(async move {
            http.post(url)
                .basic_auth(id, Some(secret))
                .form(&[("token", token)])
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    assert!(revocations.join_all().await.iter().all(|s| s.as_u16() == 200));
    let introspect_on_second = async |token: &str| -> bool {
        let response = app
            .http
            .post(second.url("/oauth2/introspect"))
            .basic_auth(ADMIN_ID, Some(ADMIN_SECRET))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap();
        response.json::<Value>().await.unwrap()["active"] == true
    };
    let start = std::time::Instant::now();
    for (i, token) in tokens.iter().enumerate() {
        if i % 2 == 1 {
            assert!(introspect_on_second(token).await, "token {i} was not revoked");
            continue;
        }
        while introspect_on_second(token).await {
            assert!(start.elapsed() < std::time::Duration::from_secs(15), "token {i} never seen revoked");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// One user may spend a tenth of the client's rate: a user revoking their
/// own tokens in a loop cannot have everyone else's revocations (a sign-out,
/// often) refused. The client's own tokens spend only the client's rate.
async fn one_user_cannot_spend_a_clients_whole_revocation_rate(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("CASTELLAN_REVOCATION_RATE", "20")]).await;
    let (id, secret) = app.service_client("orders:read").await;
    let client = (id.as_str(), secret.as_str());
    let user_token = |user: &str| {
        let mut claims = app.claims_for(&id, "orders:read");
        claims["sub"] = Value::from(user);
        let app = &app;
        async move { app.sign_with_server_key("at+jwt", &claims).await }
    };
    let tokens = [user_token("user-a").await, user_token("user-a").await, user_token("user-a").await];
    let other = user_token("user-b").await;
    start_of_a_window(&app);
    for token in &tokens[..2] {
        assert_eq!(revoke_at(&app, &app.address, client, token).await.status(), 200);
    }
    let refused = revoke_at(&app, &app.address, client, &tokens[2]).await;
    assert_eq!(refused.status(), 503, "past user-a's share of 2");
    assert_eq!(revoke_at(&app, &app.address, client, &other).await.status(), 200);
    for _ in 0..3 {
        let own = app.token_for(&id, &secret, &[]).await;
        assert_eq!(revoke_at(&app, &app.address, client, &own).await.status(), 200);
    }
}

both_backends!(
    one_user_cannot_spend_a_clients_whole_revocation_rate,
    a_client_past_its_revocation_rate_is_told_to_retry_and_the_token_stays_valid,
    every_revocation_reaches_another_instance,
);

/// Not a rule: a measurement (`cargo test --test api measure_ -- --ignored
/// --nocapture`). 100,000 revocations in the database; one instance's
/// memory for them, the time to load them, and what a sync then costs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn measure_revocation_list_memory_and_sync_cost() {
    use std::time::Instant;

    use castellan::domain::Clock;
    use castellan::protocol::revocation_list::RevocationList;

    fn rss_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
    const COUNT: usize = 100_000;
    let (_database, storage) = crate::helpers::fresh_storage(Backend::Sqlite).await;
    let now = crate::helpers::now();
    let jtis: Vec<String> = (0..COUNT).map(|_| castellan::domain::secret::random_token(16)).collect();
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in jtis.chunks(COUNT / 8) {
        let (store, chunk) = (storage.revocations.clone(), chunk.to_vec());
        tasks.spawn(async move {
            for jti in chunk {
                store.revoke(&jti, now + 3_600, now).await.unwrap();
            }
        });
    }
    tasks.join_all().await;

    // The maps alone, as this list keeps them and as a map of strings would.
    let start = rss_kib();
    let compact: std::collections::HashMap<[u8; 16], i64> =
        jtis.iter().map(|jti| (castellan::protocol::revocation_list::jti_key(jti), now)).collect();
    let compact_kib = rss_kib() - start;
    let start = rss_kib();
    let strings: std::collections::HashMap<String, i64> = jtis.iter().map(|jti| (jti.clone(), now)).collect();
    let strings_kib = rss_kib() - start;
    println!("map of 16-byte keys: +{compact_kib} KiB; map of strings: +{strings_kib} KiB");
    drop((compact, strings));

    let before = rss_kib();
    let started = Instant::now();
    let list = RevocationList::load(storage.revocations.clone(), Duration::from_secs(1), Clock::system())
        .await
        .unwrap();
    let load = started.elapsed();
    let after = rss_kib();
    let again = RevocationList::load(storage.revocations.clone(), Duration::from_secs(1), Clock::system())
        .await
        .unwrap();
    println!("a second list loaded beside it: +{} KiB", rss_kib().saturating_sub(after));
    drop(again);
    let started = Instant::now();
    list.sync().await.unwrap();
    let idle_sync = started.elapsed();
    for jti in jtis.iter().take(1_000) {
        storage.revocations.revoke(&format!("{jti}x"), now + 3_600, now).await.unwrap();
    }
    let started = Instant::now();
    list.sync().await.unwrap();
    let sync_1000 = started.elapsed();
    let started = Instant::now();
    let hits = jtis.iter().filter(|jti| list.is_revoked(jti)).count();
    let lookup = started.elapsed() / COUNT as u32;
    println!(
        "{} entries: RSS {before} KiB -> {after} KiB (+{} KiB, {} bytes/entry incl. transient); \
         load {load:?}; sync with nothing new {idle_sync:?}; sync with 1,000 new {sync_1000:?}; \
         lookup {lookup:?} ({hits} hits)",
        list.len(),
        after.saturating_sub(before),
        after.saturating_sub(before) * 1024 / list.len() as u64,
    );
}
