//! Browser sessions as stored, and the failed sign-in counters.

use castellan::storage::SessionRecord;

use super::{NOW, random_hash};
use crate::both_backends;
use crate::helpers::{Backend, fresh_storage};

/// A session no one has signed in with yet.
pub fn session<'a>(id_hash: &'a [u8], data: &'a [u8], expires_at: i64) -> SessionRecord<'a> {
    SessionRecord { id_hash, data, user_id: None, expires_at }
}

both_backends!(
    a_session_is_created_loaded_saved_and_deleted,
    creating_a_session_under_a_taken_id_returns_false,
    saving_a_deleted_session_does_not_bring_it_back,
    an_expired_session_does_not_load_and_is_pruned,
    login_failures_count_up_and_restart_after_the_window,
    a_forgiven_or_cleared_login_failure_no_longer_counts,
    pruning_login_failures_forgets_only_counters_older_than_the_window,
);

async fn a_session_is_created_loaded_saved_and_deleted(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let id = random_hash();
    assert!(storage.sessions.create_session(&session(&id, b"first", NOW + 3_600)).await.expect("create"));
    let loaded = storage.sessions.load_session(&id, NOW).await.expect("load");
    assert_eq!(loaded.as_deref(), Some(&b"first"[..]));

    storage.sessions.save_session(&session(&id, b"second", NOW + 7_200)).await.expect("save");
    let loaded = storage.sessions.load_session(&id, NOW + 5_000).await.expect("load");
    assert_eq!(loaded.as_deref(), Some(&b"second"[..]), "new data and new expiry");

    storage.sessions.delete_session(&id).await.expect("delete");
    assert!(storage.sessions.load_session(&id, NOW).await.expect("load").is_none());
    storage.sessions.delete_session(&id).await.expect("deleting again is no error");
}

async fn creating_a_session_under_a_taken_id_returns_false(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let id = random_hash();
    assert!(storage.sessions.create_session(&session(&id, b"mine", NOW + 3_600)).await.expect("create"));
    assert!(
        !storage.sessions.create_session(&session(&id, b"theirs", NOW + 3_600)).await.expect("create again")
    );
    let loaded = storage.sessions.load_session(&id, NOW).await.expect("load");
    assert_eq!(loaded.as_deref(), Some(&b"mine"[..]), "the first session is untouched");
}

/// A request that still holds a session signed out meanwhile must not
/// resurrect it when it saves.
async fn saving_a_deleted_session_does_not_bring_it_back(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let id = random_hash();
    assert!(storage.sessions.create_session(&session(&id, b"signed in", NOW + 3_600)).await.expect("create"));
    storage.sessions.delete_session(&id).await.expect("delete");

    storage.sessions.save_session(&session(&id, b"late write", NOW + 3_600)).await.expect("save");
    assert!(storage.sessions.load_session(&id, NOW).await.expect("load").is_none());
    // Never created at all: saving does not create it either.
    let unknown = random_hash();
    storage.sessions.save_session(&session(&unknown, b"data", NOW + 3_600)).await.expect("save");
    assert!(storage.sessions.load_session(&unknown, NOW).await.expect("load").is_none());
}

async fn an_expired_session_does_not_load_and_is_pruned(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let (short, long) = (random_hash(), random_hash());
    assert!(storage.sessions.create_session(&session(&short, b"short", NOW + 10)).await.expect("create"));
    assert!(storage.sessions.create_session(&session(&long, b"long", NOW + 1_000)).await.expect("create"));

    assert!(storage.sessions.load_session(&short, NOW + 9).await.expect("load").is_some());
    assert!(storage.sessions.load_session(&short, NOW + 10).await.expect("load").is_none(), "at expiry");
    assert_eq!(storage.sessions.prune_sessions(NOW + 10).await.expect("prune"), 1);
    assert!(storage.sessions.load_session(&short, NOW).await.expect("load").is_none(), "pruned");
    assert!(storage.sessions.load_session(&long, NOW + 10).await.expect("load").is_some());
}

/// Failures count within the window; a failure after the window starts the count again.
async fn login_failures_count_up_and_restart_after_the_window(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let throttle = &storage.login_throttle;
    let window = 300;
    assert!(throttle.login_failures("user:alice").await.expect("read").is_none());

    for (i, at) in [NOW, NOW + 10, NOW + 20].into_iter().enumerate() {
        let count = throttle.record_login_failure("user:alice", at, at - window).await.expect("record");
        assert_eq!(count, i as i64 + 1);
    }
    assert_eq!(throttle.login_failures("user:alice").await.expect("read"), Some((3, NOW + 20)));
    // Another key counts on its own.
    let other = throttle.record_login_failure("ip:192.0.2.1", NOW + 20, NOW + 20 - window).await;
    assert_eq!(other.expect("record"), 1);

    // The last failure (NOW + 20) is before this window: counting restarts.
    let later = NOW + 20 + window + 1;
    let count = throttle.record_login_failure("user:alice", later, later - window).await.expect("record");
    assert_eq!(count, 1);
    assert_eq!(throttle.login_failures("user:alice").await.expect("read"), Some((1, later)));
}

async fn a_forgiven_or_cleared_login_failure_no_longer_counts(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let throttle = &storage.login_throttle;
    for at in [NOW, NOW + 1] {
        throttle.record_login_failure("user:alice", at, at - 300).await.expect("record");
    }
    throttle.forgive_login_failure("user:alice").await.expect("forgive");
    assert_eq!(throttle.login_failures("user:alice").await.expect("read"), Some((1, NOW + 1)));
    throttle.forgive_login_failure("user:alice").await.expect("forgive");
    throttle.forgive_login_failure("user:alice").await.expect("forgive below zero");
    assert_eq!(throttle.login_failures("user:alice").await.expect("read"), Some((0, NOW + 1)));

    throttle.record_login_failure("user:alice", NOW + 2, NOW + 2 - 300).await.expect("record");
    throttle.clear_login_failures("user:alice").await.expect("clear");
    assert!(throttle.login_failures("user:alice").await.expect("read").is_none());
}

async fn pruning_login_failures_forgets_only_counters_older_than_the_window(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let throttle = &storage.login_throttle;
    throttle.record_login_failure("old", NOW, NOW - 300).await.expect("record");
    throttle.record_login_failure("recent", NOW + 100, NOW - 200).await.expect("record");

    assert_eq!(throttle.prune_login_failures(NOW + 50).await.expect("prune"), 1);
    assert!(throttle.login_failures("old").await.expect("read").is_none());
    assert_eq!(throttle.login_failures("recent").await.expect("read"), Some((1, NOW + 100)));
    assert_eq!(throttle.prune_login_failures(NOW + 100).await.expect("prune at the last failure"), 0);
}
