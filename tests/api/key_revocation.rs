//! Revoking a signing key (`castellan keys revoke <kid>`): the key leaves the
//! JWKS and every instance stops accepting its tokens within the sync
//! interval, including tokens it had already checked and remembered.

use std::process::Command;
use std::time::{Duration, Instant};

use castellan::domain::{Clock, KeyAlgorithm};
use castellan::protocol::keyring::Keyring;
use castellan::storage::Storage;
use reqwest::Method;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{ADMIN_ID, ADMIN_SECRET, Backend, SecondInstance, TestApp};

const ADMIN: (&str, &str) = (ADMIN_ID, ADMIN_SECRET);

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.expect("a kid")
}

async fn introspect_at(app: &TestApp, base: &str, token: &str) -> Value {
    let response = app
        .http
        .post(format!("{base}/oauth2/introspect"))
        .basic_auth(ADMIN_ID, Some(ADMIN_SECRET))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    response.json().await.unwrap()
}

async fn published_at(app: &TestApp, base: &str) -> Vec<String> {
    let jwks: Value = app.http.get(format!("{base}/oauth2/jwks")).send().await.unwrap().json().await.unwrap();
    jwks["keys"].as_array().unwrap().iter().filter_map(|k| k["kid"].as_str().map(str::to_owned)).collect()
}

async fn token_at(app: &TestApp, base: &str) -> String {
    let response = app
        .http
        .post(format!("{base}/oauth2/token"))
        .basic_auth(ADMIN_ID, Some(ADMIN_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().expect("a token").to_owned()
}

/// Waits (bounded) until `done` holds; real sync loops run on real time.
async fn eventually(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < Duration::from_secs(15), "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn revoke_key(app: &TestApp, kid: &str) -> String {
    let storage = Storage::connect(&app.database_url, 1).await.unwrap();
    let keyring = Keyring::load(storage.keys.clone(), None, Clock::system()).await.unwrap();
    let (algorithm, active) = keyring.revoke(kid).await.expect("the key is revoked");
    assert_eq!(algorithm, KeyAlgorithm::Es256);
    storage.health.close().await;
    active
}

/// A revoked key leaves the JWKS of every instance, its tokens (even ones
/// each instance had verified and remembered) turn inactive at introspection
/// and are refused by the admin API, and a new key signs in its place.
async fn a_revoked_key_is_unpublished_and_refused_on_every_instance(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let second: SecondInstance = app.second_instance(&[]).await;
    let token = app.admin_token().await;
    let old_kid = kid_of(&token);
    for base in [app.address.as_str(), second.address.as_str()] {
        assert_eq!(introspect_at(&app, base, &token).await["active"], true);
    }
    let new_kid = revoke_key(&app, &old_kid).await;
    assert_ne!(new_kid, old_kid);

    for base in [app.address.clone(), second.address.clone()] {
        eventually("the instance refuses the revoked key's token", async || {
            introspect_at(&app, &base, &token).await["active"] == false
        })
        .await;
        let published = published_at(&app, &base).await;
        assert!(!published.contains(&old_kid) && published.contains(&new_kid), "{published:?}");
        let response =
            app.http.get(format!("{base}/admin/clients")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), 401);
        let fresh = token_at(&app, &base).await;
        assert_eq!(kid_of(&fresh), new_kid);
        assert_eq!(introspect_at(&app, &base, &fresh).await["active"], true);
    }
}

/// Revoking a retired key (one rotated out, still published for its tokens)
/// unpublishes it and leaves the active key alone.
async fn revoking_a_retired_key_leaves_the_active_key_signing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let old_token = app.admin_token().await;
    let old_kid = kid_of(&old_token);
    let storage = Storage::connect(&app.database_url, 1).await.unwrap();
    let keyring = Keyring::load(storage.keys.clone(), None, Clock::system()).await.unwrap();
    let active = keyring.rotate(KeyAlgorithm::Es256).await.unwrap();
    eventually("the rotated-in key signs", async || kid_of(&app.admin_token().await) == active).await;
    assert_eq!(app.introspect(ADMIN, &old_token).await["active"], true, "a rotated key stays trusted");
    let (_, still_active) = keyring.revoke(&old_kid).await.unwrap();
    assert_eq!(still_active, active);
    storage.health.close().await;
    eventually("the retired key's token is refused", async || {
        app.introspect(ADMIN, &old_token).await["active"] == false
    })
    .await;
    assert_eq!(kid_of(&app.admin_token().await), active);
}

/// `castellan keys revoke <kid>` names the key now active; an unknown kid
/// is an error and changes nothing.
async fn the_keys_revoke_command_revokes_and_refuses_unknown_kids(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.admin_token().await;
    let old_kid = kid_of(&token);
    let run = |kid: &str| {
        Command::new(env!("CARGO_BIN_EXE_castellan"))
            .args(["keys", "revoke", kid])
            .env("DATABASE_URL", &app.database_url)
            .env("CASTELLAN_ISSUER", &app.address)
            .env_remove("CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_ID")
            .env_remove("CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_SECRET")
            .env_remove("CASTELLAN_KEY_ENCRYPTION_KEY")
            .output()
            .expect("the castellan binary runs")
    };
    let unknown = run("no-such-kid");
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no-such-kid"));
    assert_eq!(app.introspect(ADMIN, &token).await["active"], true);

    let output = run(&old_kid);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    eventually("the token is refused", async || app.introspect(ADMIN, &token).await["active"] == false).await;
    let new_kid = kid_of(&app.admin_token().await);
    assert!(stdout.contains(&new_kid), "the command names the new key: {stdout}");
    let (status, _) = app.admin_request(Method::GET, "/admin/clients", Some(&token), None).await;
    assert_eq!(status, 401);
}

both_backends!(
    a_revoked_key_is_unpublished_and_refused_on_every_instance,
    revoking_a_retired_key_leaves_the_active_key_signing,
    the_keys_revoke_command_revokes_and_refuses_unknown_kids,
);
