//! The `jti`s of client assertions (RFC 7523 §3): recorded once, by one
//! statement whose answer says whether the assertion is new.

use castellan::domain::ClientId;

use super::NOW;
use crate::both_backends;
use crate::helpers::{Backend, fresh_storage};

both_backends!(
    a_jti_is_new_once_per_client,
    of_many_concurrent_uses_of_one_jti_exactly_one_is_new,
    pruning_forgets_only_jtis_whose_assertions_expired,
);

fn client(id: &str) -> ClientId {
    ClientId::parse(id).expect("a valid client id")
}

async fn a_jti_is_new_once_per_client(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let jtis = &storage.assertions;
    assert!(jtis.record_assertion_jti(&client("a"), "j1", NOW + 60).await.expect("record"));
    assert!(!jtis.record_assertion_jti(&client("a"), "j1", NOW + 60).await.expect("again"), "a replay");
    assert!(!jtis.record_assertion_jti(&client("a"), "j1", NOW + 999).await.expect("again"), "any expiry");
    assert!(jtis.record_assertion_jti(&client("b"), "j1", NOW + 60).await.expect("record"), "another client");
    assert!(jtis.record_assertion_jti(&client("a"), "j2", NOW + 60).await.expect("record"));
    let long = "j".repeat(256);
    assert!(jtis.record_assertion_jti(&client("a"), &long, NOW + 60).await.expect("a 256-character jti"));
}

/// Two instances that get the same assertion at once: the database
/// decides, and only one of them accepts it.
async fn of_many_concurrent_uses_of_one_jti_exactly_one_is_new(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let uses = (0..16).map(|_| {
        let jtis = storage.assertions.clone();
        tokio::spawn(async move { jtis.record_assertion_jti(&client("a"), "raced", NOW + 60).await })
    });
    let mut fresh = 0;
    for used in uses {
        if used.await.expect("the task runs").expect("record") {
            fresh += 1;
        }
    }
    assert_eq!(fresh, 1);
}

async fn pruning_forgets_only_jtis_whose_assertions_expired(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let jtis = &storage.assertions;
    jtis.record_assertion_jti(&client("a"), "old", NOW - 1).await.expect("record");
    jtis.record_assertion_jti(&client("a"), "now", NOW).await.expect("record");
    jtis.record_assertion_jti(&client("a"), "later", NOW + 60).await.expect("record");
    assert_eq!(jtis.prune_assertion_jtis(NOW).await.expect("prune"), 1);
    assert!(jtis.record_assertion_jti(&client("a"), "old", NOW + 60).await.expect("record"), "forgotten");
    assert!(!jtis.record_assertion_jti(&client("a"), "now", NOW + 60).await.expect("record"), "kept");
    assert!(!jtis.record_assertion_jti(&client("a"), "later", NOW + 60).await.expect("record"), "kept");
}
