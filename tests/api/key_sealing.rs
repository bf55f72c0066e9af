//! Keys at rest: sealed under `CASTELLAN_KEY_ENCRYPTION_KEY` once one is
//! set, re-sealed under a new one by `castellan keys rewrap`, and the SQLite
//! file readable by its owner only.

use std::process::{Command, Output};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use castellan::domain::{Clock, KeyEncryptionKey};
use castellan::protocol::keyring::Keyring;
use castellan::storage::Storage;

use crate::both_backends;
use crate::helpers::{ADMIN_ID, ADMIN_SECRET, Backend, TestApp};

const ADMIN: (&str, &str) = (ADMIN_ID, ADMIN_SECRET);

fn kek(byte: u8) -> String {
    STANDARD.encode([byte; 32])
}

/// `(keys, secrets)` of the database as `(name, encrypted)`.
async fn sealing_state(database_url: &str) -> Vec<(String, bool)> {
    let storage = Storage::connect(database_url, 1).await.unwrap();
    let (keys, secrets) = storage.keys.all_sealable().await.unwrap();
    storage.health.close().await;
    keys.into_iter()
        .map(|k| (k.kid, k.encrypted))
        .chain(secrets.into_iter().map(|s| (s.name, s.encrypted)))
        .collect()
}

/// Whether the keyring loads with exactly this key encryption key.
async fn loads_with(database_url: &str, key: &str) -> bool {
    let storage = Storage::connect(database_url, 1).await.unwrap();
    let kek = KeyEncryptionKey::parse(key).unwrap();
    let loaded = Keyring::load(storage.keys.clone(), Some(kek), Clock::system()).await.is_ok();
    storage.health.close().await;
    loaded
}

fn rewrap(app: &TestApp, current: Option<&str>, previous: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_castellan"));
    command
        .args(["keys", "rewrap"])
        .env("DATABASE_URL", &app.database_url)
        .env("CASTELLAN_ISSUER", &app.address)
        .env_remove("CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_ID")
        .env_remove("CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_SECRET")
        .env_remove("CASTELLAN_KEY_ENCRYPTION_KEY")
        .env_remove("CASTELLAN_PREVIOUS_KEY_ENCRYPTION_KEY");
    if let Some(current) = current {
        command.env("CASTELLAN_KEY_ENCRYPTION_KEY", current);
    }
    if let Some(previous) = previous {
        command.env("CASTELLAN_PREVIOUS_KEY_ENCRYPTION_KEY", previous);
    }
    command.output().expect("the castellan binary runs")
}

/// Starting with a key encryption key on a database whose keys are in
/// plaintext seals every key and server secret; tokens issued before still
/// work, and the keys then need that key encryption key.
async fn setting_a_key_encryption_key_seals_plaintext_keys_and_secrets(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let token = app.admin_token().await;
    let before = sealing_state(&app.database_url).await;
    assert!(before.len() >= 3 && before.iter().all(|(_, sealed)| !sealed), "{before:?}");

    let key = kek(1);
    app.restart(&[("CASTELLAN_KEY_ENCRYPTION_KEY", &key)]).await;
    let after = sealing_state(&app.database_url).await;
    assert_eq!(after.len(), before.len());
    assert!(after.iter().all(|(_, sealed)| *sealed), "{after:?}");
    assert_eq!(app.introspect(ADMIN, &token).await["active"], true);
    assert!(app.verify_offline(&app.admin_token().await).await.is_ok());
    assert!(loads_with(&app.database_url, &key).await);
    assert!(!loads_with(&app.database_url, &kek(2)).await);
}

/// `keys rewrap` re-seals everything under the new key encryption key while
/// an instance holding the old one keeps serving; afterwards the new key
/// alone opens them, and the same keys sign after a restart.
async fn keys_rewrap_reseals_under_the_new_key_while_instances_serve(backend: Backend) {
    let (old, new) = (kek(1), kek(2));
    let mut app = TestApp::spawn_with(backend, &[("CASTELLAN_KEY_ENCRYPTION_KEY", &old)]).await;
    let token = app.admin_token().await;

    let output = rewrap(&app, Some(&new), Some(&old));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("re-sealed"));
    // The running instance, with its keys parsed, is unaffected.
    assert_eq!(app.introspect(ADMIN, &token).await["active"], true);
    assert_eq!(app.introspect(ADMIN, &app.admin_token().await).await["active"], true);

    assert!(loads_with(&app.database_url, &new).await);
    assert!(!loads_with(&app.database_url, &old).await);
    app.restart(&[("CASTELLAN_KEY_ENCRYPTION_KEY", &new)]).await;
    assert_eq!(app.introspect(ADMIN, &token).await["active"], true);
    let kid = |t: &str| jsonwebtoken::decode_header(t).unwrap().kid;
    assert_eq!(kid(&app.admin_token().await), kid(&token));
    // Running it again finds nothing to do.
    let again = rewrap(&app, Some(&new), None);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
}

/// `keys rewrap` with a new key but no previous one seals plaintext keys;
/// with keys sealed under a key it is not given, it fails and writes nothing.
async fn keys_rewrap_seals_plaintext_and_refuses_keys_it_cannot_open(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let output = rewrap(&app, Some(&kek(1)), None);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(sealing_state(&app.database_url).await.iter().all(|(_, sealed)| *sealed));

    let before = sealing_state(&app.database_url).await;
    let wrong = rewrap(&app, Some(&kek(3)), Some(&kek(2)));
    assert!(!wrong.status.success());
    assert_eq!(sealing_state(&app.database_url).await, before);
    assert!(loads_with(&app.database_url, &kek(1)).await);
    let missing = rewrap(&app, None, None);
    assert!(!missing.status.success(), "rewrap needs a key encryption key");
}

both_backends!(
    setting_a_key_encryption_key_seals_plaintext_keys_and_secrets,
    keys_rewrap_reseals_under_the_new_key_while_instances_serve,
    keys_rewrap_seals_plaintext_and_refuses_keys_it_cannot_open,
);

/// The SQLite database (and its WAL files) is created readable by its owner
/// only, in a directory created 0700; a file others could read is tightened
/// at start.
#[cfg(unix)]
#[tokio::test]
async fn the_sqlite_database_is_created_and_kept_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;

    let root = tempfile::tempdir().unwrap();
    let directory = root.path().join("data").join("castellan");
    let file = directory.join("castellan.db");
    let url = format!("sqlite://{}", file.display());
    let storage = Storage::connect(&url, 1).await.unwrap();
    storage.keys.key_generation().await.unwrap();
    assert_eq!(mode(&directory), 0o700);
    assert_eq!(mode(&root.path().join("data")), 0o700);
    assert_eq!(mode(&file), 0o600);
    for suffix in ["-wal", "-shm"] {
        let companion = directory.join(format!("castellan.db{suffix}"));
        assert_eq!(mode(&companion), 0o600, "{suffix}");
    }
    storage.health.close().await;

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let storage = Storage::connect(&url, 1).await.unwrap();
    assert_eq!(mode(&file), 0o600);
    storage.health.close().await;
}
