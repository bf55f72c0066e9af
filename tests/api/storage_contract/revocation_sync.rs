//! What instances sync revocations by: a sequence number per revocation,
//! and the per-client count that bounds how fast a client can add to it.

use super::NOW;
use crate::both_backends;
use crate::helpers::{Backend, fresh_storage};

both_backends!(
    revocations_are_numbered_in_order_and_read_after_a_cursor_or_by_number,
    a_revocation_of_a_jti_already_revoked_is_not_read_again,
    client_revocations_are_counted_per_client_and_per_window,
    pruning_forgets_the_counts_of_past_windows,
);

async fn revocations_are_numbered_in_order_and_read_after_a_cursor_or_by_number(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    for jti in ["a", "b", "c"] {
        storage.revocations.revoke(jti, NOW + 3_600, NOW).await.expect("revoke");
    }
    let all = storage.revocations.revoked_after(-1, &[], 1_000).await.expect("revoked_after");
    let jtis: Vec<&str> = all.iter().map(|r| r.jti.as_str()).collect();
    assert_eq!(jtis, ["a", "b", "c"]);
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq), "numbers rise");
    assert_eq!(all[0].expires_at, NOW + 3_600);

    let first_two = storage.revocations.revoked_after(-1, &[], 2).await.expect("a page");
    assert_eq!(first_two.iter().map(|r| r.jti.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    let after_b = storage.revocations.revoked_after(all[1].seq, &[], 1_000).await.expect("after b");
    assert_eq!(after_b.iter().map(|r| r.jti.as_str()).collect::<Vec<_>>(), ["c"]);
    let with_a =
        storage.revocations.revoked_after(all[2].seq, &[all[0].seq, 9_999], 1_000).await.expect("by number");
    assert_eq!(with_a.iter().map(|r| r.jti.as_str()).collect::<Vec<_>>(), ["a"]);
    assert!(storage.revocations.revoked_after(all[2].seq, &[], 1_000).await.expect("nothing new").is_empty());
}

async fn a_revocation_of_a_jti_already_revoked_is_not_read_again(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    storage.revocations.revoke("once", NOW + 3_600, NOW).await.expect("revoke");
    let first = storage.revocations.revoked_after(-1, &[], 1_000).await.expect("read");
    storage.revocations.revoke("once", NOW + 3_600, NOW + 5).await.expect("revoke again");
    let cursor = first.last().expect("one row").seq;
    assert!(storage.revocations.revoked_after(cursor, &[], 1_000).await.expect("read").is_empty());
}

async fn client_revocations_are_counted_per_client_and_per_window(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let count = |client: &'static str, window: i64| {
        let storage = storage.clone();
        async move { storage.revocations.count_revocation(client, window).await.expect("count") }
    };
    assert_eq!(count("a", NOW).await, 1);
    assert_eq!(count("a", NOW).await, 2);
    assert_eq!(count("b", NOW).await, 1);
    assert_eq!(count("a", NOW + 60).await, 1, "a new window starts again");
    // Counted at once from many connections, no count is lost.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        tasks.spawn(count("c", NOW));
    }
    let counts = tasks.join_all().await;
    assert_eq!(counts.iter().max(), Some(&20));
}

async fn pruning_forgets_the_counts_of_past_windows(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    storage.revocations.count_revocation("old", NOW).await.expect("count");
    storage.revocations.count_revocation("new", NOW + 60).await.expect("count");
    storage.revocations.prune_revocations(NOW + 60, NOW + 60).await.expect("prune");
    assert_eq!(storage.revocations.count_revocation("old", NOW).await.expect("count"), 1);
    assert_eq!(storage.revocations.count_revocation("new", NOW + 60).await.expect("count"), 2);
}
