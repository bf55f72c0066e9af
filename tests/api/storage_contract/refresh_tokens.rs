//! Refresh tokens: rotation, replay detection and revoking a family (RFC 9700 §4.14.2).

use std::sync::Arc;

use castellan::storage::{FamilyAccessToken, GrantStore, RefreshTokenRecord, Retry, Rotation};
use tokio::sync::Barrier;

use super::{ACCESS_TTL, NOW, grant, jtis, open_all_connections, refresh_token, set, user_and_client};
use crate::both_backends;
use crate::helpers::{Backend, fresh_storage};

both_backends!(
    a_refresh_token_rotates_once_and_presenting_it_again_is_already_rotated,
    after_its_family_is_revoked_the_live_successor_no_longer_rotates,
    revoking_a_family_returns_the_unexpired_access_tokens_issued_under_it,
    a_refresh_token_of_an_expired_family_does_not_rotate,
    exactly_one_of_20_concurrent_rotations_of_a_refresh_token_succeeds,
    a_retry_within_the_grace_finds_the_unused_successor_and_its_access_token_is_revoked_with_the_family,
    a_retry_is_a_reuse_once_the_successor_is_used_or_the_grace_began_after_the_rotation,
    of_20_concurrent_uses_of_one_token_one_rotates_and_19_retries_find_the_same_successor,
);

async fn a_refresh_token_rotates_once_and_presenting_it_again_is_already_rotated(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let (user, client) = user_and_client(&storage, "alice", "app").await;
    let grant = grant(&storage, &client, &user, NOW).await;
    let first = &grant.refresh;

    let (read, family) =
        storage.grants.get_refresh_token(&first.token_hash).await.expect("get").expect("token");
    assert!(read.rotated_at.is_none());
    assert_eq!(
        (read.family_id.as_str(), read.access_jti.as_str()),
        (grant.family_id.as_str(), first.access_jti.as_str())
    );
    assert_eq!((family.client_id, family.user_id, family.revoked), (client.id, user.id, false));
    assert_eq!(family.resources, super::resources(&["https://api.example.com/a"]));

    let second = refresh_token(&grant.family_id, NOW + 100);
    let rotation = storage.grants.rotate_refresh_token(&first.token_hash, &second, NOW + 100).await;
    assert_eq!(rotation.expect("rotate"), Rotation::Rotated);
    let (read, _) = storage.grants.get_refresh_token(&first.token_hash).await.expect("get").expect("token");
    assert_eq!(read.rotated_at, Some(NOW + 100));
    let (read, _) = storage.grants.get_refresh_token(&second.token_hash).await.expect("get").expect("token");
    assert!(read.rotated_at.is_none());
    assert_eq!((read.issued_at, read.access_jti), (NOW + 100, second.access_jti.clone()));

    // A replay of the first token: refused, and its would-be successor is not stored.
    let third = refresh_token(&grant.family_id, NOW + 200);
    let rotation = storage.grants.rotate_refresh_token(&first.token_hash, &third, NOW + 200).await;
    assert_eq!(rotation.expect("rotate"), Rotation::AlreadyRotated);
    assert!(storage.grants.get_refresh_token(&third.token_hash).await.expect("get").is_none());
}

async fn after_its_family_is_revoked_the_live_successor_no_longer_rotates(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let (user, client) = user_and_client(&storage, "alice", "app").await;
    let grant = grant(&storage, &client, &user, NOW).await;
    let second = refresh_token(&grant.family_id, NOW + 100);
    let rotation = storage.grants.rotate_refresh_token(&grant.refresh.token_hash, &second, NOW + 100).await;
    assert_eq!(rotation.expect("rotate"), Rotation::Rotated);

    storage.grants.revoke_family(&grant.family_id, NOW + 200).await.expect("revoke the family");

    let (_, family) =
        storage.grants.get_refresh_token(&second.token_hash).await.expect("get").expect("token");
    assert!(family.revoked);
    let third = refresh_token(&grant.family_id, NOW + 300);
    let rotation = storage.grants.rotate_refresh_token(&second.token_hash, &third, NOW + 300).await;
    assert_eq!(rotation.expect("rotate"), Rotation::FamilyEnded);
    assert!(storage.grants.get_refresh_token(&third.token_hash).await.expect("get").is_none());
}

/// The code's access token and each refresh token's are revoked, except
/// those expired already (there is nothing left to revoke).
async fn revoking_a_family_returns_the_unexpired_access_tokens_issued_under_it(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let (user, client) = user_and_client(&storage, "alice", "app").await;
    let grant = grant(&storage, &client, &user, NOW).await;
    let second = refresh_token(&grant.family_id, NOW + 100);
    let rotation = storage.grants.rotate_refresh_token(&grant.refresh.token_hash, &second, NOW + 100).await;
    assert_eq!(rotation.expect("rotate"), Rotation::Rotated);
    // Another family of the same user and client is left alone.
    let other = super::grant(&storage, &client, &user, NOW).await;

    let revoked = storage.grants.revoke_family(&grant.family_id, NOW + 200).await.expect("revoke");
    let expected = set(&[&grant.code_access_jti, &grant.refresh.access_jti, &second.access_jti]);
    assert_eq!(jtis(&revoked), expected);
    let recorded = storage.revocations.revoked_since(NOW + 200, NOW + 200).await.expect("revoked_since");
    assert_eq!(jtis(&recorded), expected);

    // Once all its access tokens have expired, revoking a family reports
    // none, but still ends the family.
    let later = NOW + ACCESS_TTL + 50;
    let revoked = storage.grants.revoke_family(&other.family_id, later).await.expect("revoke");
    assert!(revoked.is_empty(), "all of the other family's access tokens expired: {revoked:?}");
    let third = refresh_token(&other.family_id, later);
    let rotation = storage.grants.rotate_refresh_token(&other.refresh.token_hash, &third, later).await;
    assert_eq!(rotation.expect("rotate"), Rotation::FamilyEnded);
}

async fn a_refresh_token_of_an_expired_family_does_not_rotate(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let (user, client) = user_and_client(&storage, "alice", "app").await;
    let grant = grant(&storage, &client, &user, NOW).await;
    let (_, family) =
        storage.grants.get_refresh_token(&grant.refresh.token_hash).await.expect("get").expect("token");

    let successor = refresh_token(&grant.family_id, family.expires_at);
    let rotation =
        storage.grants.rotate_refresh_token(&grant.refresh.token_hash, &successor, family.expires_at);
    assert_eq!(rotation.await.expect("rotate"), Rotation::FamilyEnded);
    let (read, _) =
        storage.grants.get_refresh_token(&grant.refresh.token_hash).await.expect("get").expect("token");
    assert!(read.rotated_at.is_none(), "a refused rotation leaves the token as it was");
}

/// Of 20 concurrent uses of one refresh token on a pool of 8 connections,
/// exactly one rotates; the others are replays and store no successor.
async fn exactly_one_of_20_concurrent_rotations_of_a_refresh_token_succeeds(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let (user, client) = user_and_client(&storage, "alice", "app").await;
    let grant = grant(&storage, &client, &user, NOW).await;
    open_all_connections(&storage).await;

    let start = Arc::new(Barrier::new(20));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let grants: Arc<dyn GrantStore> = storage.grants.clone();
        let start = start.clone();
        let token_hash = grant.refresh.token_hash.clone();
        let successor = refresh_token(&grant.family_id, NOW + 100);
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let rotation = grants.rotate_refresh_token(&token_hash, &successor, NOW + 100).await;
            (rotation.expect("rotate_refresh_token"), successor.token_hash)
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("the task ran"));
    }
    let rotated = outcomes.iter().filter(|(rotation, _)| *rotation == Rotation::Rotated).count();
    let replays = outcomes.iter().filter(|(rotation, _)| *rotation == Rotation::AlreadyRotated).count();
    assert_eq!((rotated, replays), (1, 19));
    let mut stored = 0;
    for (_, successor) in &outcomes {
        if storage.grants.get_refresh_token(successor).await.expect("get").is_some() {
            stored += 1;
        }
    }
    assert_eq!(stored, 1, "only the winner's successor is stored");
}

fn retry_access() -> FamilyAccessToken {
    FamilyAccessToken { jti: castellan::domain::secret::random_token(16), expires_at: NOW + ACCESS_TTL }
}

async fn a_retry_within_the_grace_finds_the_unused_successor_and_its_access_token_is_revoked_with_the_family(
    backend: Backend,
) {
    let (_database, storage) = fresh_storage(backend).await;
    let (user, client) = user_and_client(&storage, "alice", "app").await;
    let grant = grant(&storage, &client, &user, NOW).await;
    let first = &grant.refresh.token_hash;
    let second = refresh_token(&grant.family_id, NOW + 100);
    let rotation = storage.grants.rotate_refresh_token(first, &second, NOW + 100).await;
    assert_eq!(rotation.expect("rotate"), Rotation::Rotated);

    let access = retry_access();
    let retry = storage.grants.retry_rotation(first, &second.token_hash, NOW + 90, NOW + 110, &access).await;
    assert_eq!(retry.expect("retry"), Retry::SameSuccessor);
    let (read, _) = storage.grants.get_refresh_token(&second.token_hash).await.expect("get").expect("token");
    assert!(read.rotated_at.is_none(), "a retry does not rotate the successor");

    let revoked = storage.grants.revoke_family(&grant.family_id, NOW + 120).await.expect("revoke");
    assert!(jtis(&revoked).contains(&access.jti), "the retry's access token is revoked with the family");
    let retry = storage.grants.retry_rotation(first, &second.token_hash, NOW + 90, NOW + 130, &access);
    assert_eq!(retry.await.expect("retry"), Retry::FamilyEnded);
}

async fn a_retry_is_a_reuse_once_the_successor_is_used_or_the_grace_began_after_the_rotation(
    backend: Backend,
) {
    let (_database, storage) = fresh_storage(backend).await;
    let (user, client) = user_and_client(&storage, "alice", "app").await;
    let grant = grant(&storage, &client, &user, NOW).await;
    let access = retry_access();
    let first = &grant.refresh.token_hash;
    let second = refresh_token(&grant.family_id, NOW + 100);
    let rotation = storage.grants.rotate_refresh_token(first, &second, NOW + 100).await;
    assert_eq!(rotation.expect("rotate"), Rotation::Rotated);

    // Rotated at NOW + 100, before a grace that began at NOW + 101.
    let retry = storage.grants.retry_rotation(first, &second.token_hash, NOW + 101, NOW + 111, &access);
    assert_eq!(retry.await.expect("retry"), Retry::Reused);
    // A hash that is not the successor.
    let other = refresh_token(&grant.family_id, NOW + 100);
    let retry = storage.grants.retry_rotation(first, &other.token_hash, NOW + 90, NOW + 110, &access);
    assert_eq!(retry.await.expect("retry"), Retry::Reused);

    let third = refresh_token(&grant.family_id, NOW + 105);
    let rotation = storage.grants.rotate_refresh_token(&second.token_hash, &third, NOW + 105).await;
    assert_eq!(rotation.expect("rotate"), Rotation::Rotated);
    let retry = storage.grants.retry_rotation(first, &second.token_hash, NOW + 90, NOW + 110, &access);
    assert_eq!(retry.await.expect("retry"), Retry::Reused);
}

/// What the token endpoint does for a client with a grace: every use tries
/// to rotate into the same (derived) successor, and a use that finds the
/// token rotated retries. None of 20 concurrent uses is a reuse.
async fn of_20_concurrent_uses_of_one_token_one_rotates_and_19_retries_find_the_same_successor(
    backend: Backend,
) {
    let (_database, storage) = fresh_storage(backend).await;
    let (user, client) = user_and_client(&storage, "alice", "app").await;
    let grant = grant(&storage, &client, &user, NOW).await;
    open_all_connections(&storage).await;
    let successor_hash = refresh_token(&grant.family_id, NOW + 100).token_hash;

    let start = Arc::new(Barrier::new(20));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let grants: Arc<dyn GrantStore> = storage.grants.clone();
        let start = start.clone();
        let token_hash = grant.refresh.token_hash.clone();
        let successor = RefreshTokenRecord {
            token_hash: successor_hash.clone(),
            ..refresh_token(&grant.family_id, NOW + 100)
        };
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            match grants.rotate_refresh_token(&token_hash, &successor, NOW + 100).await.expect("rotate") {
                Rotation::AlreadyRotated => {
                    let access = FamilyAccessToken {
                        jti: successor.access_jti,
                        expires_at: successor.access_expires_at,
                    };
                    let retry = grants.retry_rotation(
                        &token_hash,
                        &successor.token_hash,
                        NOW + 90,
                        NOW + 100,
                        &access,
                    );
                    Err(retry.await.expect("retry"))
                }
                rotation => Ok(rotation),
            }
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("the task ran"));
    }
    let rotated = outcomes.iter().filter(|o| **o == Ok(Rotation::Rotated)).count();
    let retried = outcomes.iter().filter(|o| **o == Err(Retry::SameSuccessor)).count();
    assert_eq!((rotated, retried), (1, 19), "{outcomes:?}");
    let (read, family) =
        storage.grants.get_refresh_token(&successor_hash).await.expect("get").expect("successor");
    assert!(read.rotated_at.is_none() && !family.revoked);
}
