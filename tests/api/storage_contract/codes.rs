//! Authorization codes: single redemption, and revoking what a replayed code issued.

use std::sync::Arc;

use castellan::storage::{GrantStore, Rotation};
use tokio::sync::Barrier;

use super::{
    NOW, code, family, grant, jtis, open_all_connections, redemption, refresh_token, set, user_and_client,
};
use crate::both_backends;
use crate::helpers::{Backend, fresh_storage};

both_backends!(
    a_stored_code_reads_back_unredeemed,
    a_code_is_redeemed_exactly_once_under_20_concurrent_redemptions,
    an_expired_code_is_not_redeemed_and_creates_no_family,
    revoking_a_redeemed_code_grant_revokes_its_access_token_and_its_family,
    revoking_an_unknown_code_grant_revokes_nothing,
);

async fn a_stored_code_reads_back_unredeemed(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let (user, client) = user_and_client(&storage, "alice", "app").await;
    let stored = code(&client, &user, NOW);
    storage.grants.insert_code(&stored).await.expect("insert the code");

    let read = storage.grants.get_code(&stored.code_hash).await.expect("get").expect("the code");
    assert_eq!(read.code_hash, stored.code_hash);
    assert_eq!((read.client_id, read.user_id), (client.id, user.id));
    assert_eq!(read.redirect_uri, stored.redirect_uri);
    assert_eq!((read.scope, read.resources), (stored.scope, stored.resources));
    assert_eq!((read.nonce, read.code_challenge), (stored.nonce, stored.code_challenge));
    assert_eq!((read.auth_time, read.expires_at), (NOW, NOW + 60));
    assert!(!read.redeemed);
    assert!(storage.grants.get_code(b"no such code").await.expect("get").is_none());
}

/// RFC 6749 §4.1.2: a code is used once. Of 20 concurrent redemptions on a
/// pool of 8 connections exactly one wins, and what it issued is what is recorded.
async fn a_code_is_redeemed_exactly_once_under_20_concurrent_redemptions(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let (user, client) = user_and_client(&storage, "alice", "app").await;
    let stored = code(&client, &user, NOW);
    storage.grants.insert_code(&stored).await.expect("insert the code");
    open_all_connections(&storage).await;

    let start = Arc::new(Barrier::new(20));
    let mut tasks = Vec::new();
    for i in 0..20 {
        let grants: Arc<dyn GrantStore> = storage.grants.clone();
        let start = start.clone();
        let code_hash = stored.code_hash.clone();
        let issued = redemption(Some(family(&format!("family-{i}"), &client, &user, NOW)), NOW);
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let won = grants.redeem_code(&code_hash, NOW + 1, &issued).await.expect("redeem_code");
            (won, issued)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (won, issued) = task.await.expect("the task ran");
        if won {
            winners.push(issued);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one redemption wins: {winners:?}");
    let winner = &winners[0];
    let first_token = winner.family.as_ref().map(|new| new.first_token.clone()).expect("a family");
    let read = storage.grants.get_code(&stored.code_hash).await.expect("get").expect("the code");
    assert!(read.redeemed);

    // The winner's access tokens (for the code, and with its family's first
    // refresh token) are the ones a replay revokes; its family was stored.
    let revoked = storage.grants.revoke_code_grant(&stored.code_hash, NOW + 2).await.expect("revoke");
    assert_eq!(jtis(&revoked), set(&[&winner.access_jti, &first_token.access_jti]));
    let (_, family) = storage
        .grants
        .get_refresh_token(&first_token.token_hash)
        .await
        .expect("get")
        .expect("the first token");
    assert!(family.revoked);
}

/// A code past its expiry (or expired by disabling its user while the
/// redemption was on its way) is not claimed: nothing is recorded for it.
async fn an_expired_code_is_not_redeemed_and_creates_no_family(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let (user, client) = user_and_client(&storage, "alice", "app").await;
    let stored = code(&client, &user, NOW);
    storage.grants.insert_code(&stored).await.expect("insert the code");
    let issued = redemption(Some(family("late-family", &client, &user, NOW)), NOW);

    let expires_at = stored.expires_at;
    assert!(!storage.grants.redeem_code(&stored.code_hash, expires_at, &issued).await.expect("redeem_code"));
    let read = storage.grants.get_code(&stored.code_hash).await.expect("get").expect("the code");
    assert!(!read.redeemed, "an expired code stays unredeemed, so a later try is no replay");
    let revoked = storage.grants.revoke_code_grant(&stored.code_hash, NOW + 61).await.expect("revoke");
    assert!(revoked.is_empty(), "nothing was issued for it");
}

/// RFC 6749 §4.1.2: when a code is replayed, the access token issued for it
/// and the refresh token family created with it are revoked.
async fn revoking_a_redeemed_code_grant_revokes_its_access_token_and_its_family(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let (user, client) = user_and_client(&storage, "alice", "app").await;
    let grant = grant(&storage, &client, &user, NOW).await;

    let revoked = storage.grants.revoke_code_grant(&grant.code_hash, NOW + 10).await.expect("revoke");
    assert_eq!(jtis(&revoked), set(&[&grant.code_access_jti, &grant.refresh.access_jti]));
    let recorded = storage.revocations.revoked_since(NOW + 10, NOW + 10).await.expect("revoked_since");
    assert_eq!(jtis(&recorded), set(&[&grant.code_access_jti, &grant.refresh.access_jti]));

    let (_, family) =
        storage.grants.get_refresh_token(&grant.refresh.token_hash).await.expect("get").expect("the token");
    assert!(family.revoked);
    let successor = refresh_token(&grant.family_id, NOW + 11);
    let rotation = storage.grants.rotate_refresh_token(&grant.refresh.token_hash, &successor, NOW + 11);
    assert_eq!(rotation.await.expect("rotate"), Rotation::FamilyEnded);
    // The code is expired at once, so a further replay fails early.
    let read = storage.grants.get_code(&grant.code_hash).await.expect("get").expect("the code");
    assert!(read.expires_at <= NOW + 10);
}

async fn revoking_an_unknown_code_grant_revokes_nothing(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let revoked = storage.grants.revoke_code_grant(b"no such code", NOW).await.expect("revoke");
    assert!(revoked.is_empty());
    assert!(storage.revocations.revoked_since(0, NOW).await.expect("revoked_since").is_empty());
}
