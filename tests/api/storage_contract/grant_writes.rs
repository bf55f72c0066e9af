//! What the code and refresh grants read and write in one call each: the
//! code or refresh token with its user, and many redemptions at once (on
//! SQLite they share one commit), where one that fails fails alone.

use std::sync::Arc;

use castellan::storage::GrantStore;
use tokio::sync::Barrier;

use super::{NOW, code, family, grant, open_all_connections, redemption, user_and_client};
use crate::both_backends;
use crate::helpers::{Backend, fresh_storage};

both_backends!(
    a_code_reads_back_with_its_user,
    a_refresh_token_reads_back_with_its_family_and_user,
    of_20_concurrent_redemptions_of_different_codes_one_that_fails_fails_alone,
);

async fn a_code_reads_back_with_its_user(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let (user, client) = user_and_client(&storage, "alice", "app").await;
    let stored = code(&client, &user, NOW);
    storage.grants.insert_code(&stored).await.expect("insert the code");

    let (read, read_user) =
        storage.grants.get_code_with_user(&stored.code_hash).await.expect("get").expect("the code");
    assert_eq!((read.code_hash, read.client_id, read.scope), (stored.code_hash, client.id, stored.scope));
    assert_eq!((read_user.id, read_user.username), (user.id, user.username));
    assert_eq!((read_user.created_at, read_user.disabled_at), (user.created_at, user.disabled_at));
    assert!(storage.grants.get_code_with_user(b"no such code").await.expect("get").is_none());
}

async fn a_refresh_token_reads_back_with_its_family_and_user(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let (user, client) = user_and_client(&storage, "alice", "app").await;
    let grant = grant(&storage, &client, &user, NOW).await;

    let found = storage.grants.get_refresh_token_with_user(&grant.refresh.token_hash).await.expect("get");
    let (token, family, read_user) = found.expect("the token");
    assert_eq!((token.token_hash, token.access_jti), (grant.refresh.token_hash, grant.refresh.access_jti));
    assert_eq!((family.family_id, family.client_id, family.created_at), (grant.family_id, client.id, NOW));
    assert_eq!((read_user.id, read_user.created_at), (user.id, user.created_at));
    assert!(storage.grants.get_refresh_token_with_user(b"no such token").await.expect("get").is_none());
}

/// 20 codes redeemed at once, one of them starting a family whose id is
/// taken: that one fails and its code stays unredeemed (nothing of it is
/// kept), and the 19 others are redeemed with their families.
async fn of_20_concurrent_redemptions_of_different_codes_one_that_fails_fails_alone(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let (user, client) = user_and_client(&storage, "alice", "app").await;
    let taken = grant(&storage, &client, &user, NOW).await.family_id;
    open_all_connections(&storage).await;

    let start = Arc::new(Barrier::new(20));
    let mut tasks = Vec::new();
    for i in 0..20 {
        let stored = code(&client, &user, NOW);
        storage.grants.insert_code(&stored).await.expect("insert the code");
        let family_id = if i == 7 { taken.clone() } else { format!("family-{i}") };
        let issued = redemption(Some(family(&family_id, &client, &user, NOW)), NOW);
        let (grants, start): (Arc<dyn GrantStore>, _) = (storage.grants.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let result = grants.redeem_code(&stored.code_hash, NOW + 1, &issued).await;
            (i, stored.code_hash, issued, result)
        }));
    }
    for task in tasks {
        let (i, code_hash, issued, result) = task.await.expect("the task ran");
        let read = storage.grants.get_code(&code_hash).await.expect("get").expect("the code");
        let first = &issued.family.as_ref().expect("a family").first_token;
        let stored_token = storage.grants.get_refresh_token(&first.token_hash).await.expect("get");
        if i == 7 {
            assert!(result.is_err(), "a family id taken is an error");
            assert!(!read.redeemed, "the failed redemption left the code as it was");
            assert!(stored_token.is_none(), "and stored no refresh token");
        } else {
            assert!(result.expect("redeemed"), "redemption {i} won");
            assert!(read.redeemed);
            let (_, family) = stored_token.expect("its first refresh token");
            assert_eq!(family.family_id, format!("family-{i}"));
        }
    }
}
