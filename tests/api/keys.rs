//! Signing keys: kept in the database across restarts, and rotated without
//! breaking tokens already issued.

use std::process::Command;

use castellan::domain::{Clock, KeyAlgorithm};
use castellan::protocol::keyring::Keyring;
use castellan::storage::Storage;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{ADMIN_ID, ADMIN_SECRET, Backend, TestApp};

const ADMIN: (&str, &str) = (ADMIN_ID, ADMIN_SECRET);

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.expect("a kid")
}

async fn published_kids(app: &TestApp) -> Vec<String> {
    app.jwks().await.keys.iter().filter_map(|k| k.common.key_id.clone()).collect()
}

/// Rotates the ES256 key through the library, as `castellan keys rotate`
/// does; returns the new kid.
async fn rotate(app: &TestApp) -> String {
    let storage = Storage::connect(&app.database_url, 1).await.unwrap();
    let keyring = Keyring::load(storage.keys.clone(), None, Clock::system()).await.unwrap();
    let kid = keyring.rotate(KeyAlgorithm::Es256).await.unwrap();
    storage.health.close().await;
    kid
}

/// Keys live in the database: after a restart the same kids are published,
/// the same key signs, and tokens issued before the restart are still active.
async fn keys_and_tokens_survive_a_restart(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let token = app.admin_token().await;
    let kids = published_kids(&app).await;
    app.restart(&[]).await;
    assert_eq!(published_kids(&app).await, kids);
    assert_eq!(kid_of(&app.admin_token().await), kid_of(&token));
    assert_eq!(app.introspect(ADMIN, &token).await["active"], true);
    assert!(app.verify_offline(&token).await.is_ok());
}

/// After a rotation a new kid signs; the old key stays in the JWKS, so tokens
/// it signed still verify offline and introspect as active.
async fn after_rotation_a_new_key_signs_and_old_tokens_stay_valid(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let old_token = app.admin_token().await;
    let old_kid = kid_of(&old_token);
    let new_kid = rotate(&app).await;
    assert_ne!(new_kid, old_kid);
    app.restart(&[]).await;

    let new_token = app.admin_token().await;
    assert_eq!(kid_of(&new_token), new_kid);
    let kids = published_kids(&app).await;
    assert!(kids.contains(&old_kid) && kids.contains(&new_kid), "{kids:?}");
    for token in [&old_token, &new_token] {
        assert!(app.verify_offline(token).await.is_ok());
        assert_eq!(app.introspect(ADMIN, token).await["active"], true);
    }
    // The admin API takes both, too.
    let (status, _) = app.admin_request(reqwest::Method::GET, "/admin/clients", Some(&old_token), None).await;
    assert_eq!(status, 200);
}

/// A running instance accepts at once a token signed by a key another
/// instance rotated in (it reloads the keys on an unknown kid).
async fn a_key_rotated_in_elsewhere_is_accepted_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let new_kid = rotate(&app).await;
    // A fresh instance signs with the new key at once.
    let second = app.second_instance(&[]).await;
    let response = app
        .http
        .post(second.url("/oauth2/token"))
        .basic_auth(ADMIN_ID, Some(ADMIN_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    let token = body["access_token"].as_str().expect("a token from the second instance").to_owned();
    assert_eq!(kid_of(&token), new_kid);
    assert_eq!(app.introspect(ADMIN, &token).await["active"], true, "the first instance refused the new key");
    assert!(published_kids(&app).await.contains(&new_kid));
}

/// The `castellan keys rotate` command rotates the keys of the configured
/// database and prints the new kid; the server signs with it after a restart.
async fn the_keys_rotate_command_rotates_the_signing_key(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let old_token = app.admin_token().await;
    let output = Command::new(env!("CARGO_BIN_EXE_castellan"))
        .args(["keys", "rotate", "--alg", "ES256"])
        .env("DATABASE_URL", &app.database_url)
        .env("CASTELLAN_ISSUER", &app.address)
        .env_remove("CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_ID")
        .env_remove("CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_SECRET")
        .env_remove("CASTELLAN_KEY_ENCRYPTION_KEY")
        .output()
        .expect("the castellan binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    app.restart(&[]).await;
    let new_kid = kid_of(&app.admin_token().await);
    assert_ne!(new_kid, kid_of(&old_token));
    assert!(stdout.contains(&new_kid), "the command names the new key: {stdout}");
    assert_eq!(app.introspect(ADMIN, &old_token).await["active"], json!(true));
}

both_backends!(
    keys_and_tokens_survive_a_restart,
    after_rotation_a_new_key_signs_and_old_tokens_stay_valid,
    a_key_rotated_in_elsewhere_is_accepted_at_once,
    the_keys_rotate_command_rotates_the_signing_key,
);
