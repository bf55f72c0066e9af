//! Changing users: what an update may touch, and what disabling a user (or
//! revoking everything they hold) ends, in one transaction.

use castellan::domain::User;
use castellan::storage::{Rotation, SessionRecord, Storage};

use super::{NOW, code, grant, jtis, random_hash, refresh_token, set, user, user_and_client};
use crate::both_backends;
use crate::helpers::{Backend, fresh_storage};

both_backends!(
    an_update_changes_email_name_and_roles_and_the_password_changes_alone,
    disabling_a_user_ends_their_sessions_families_codes_and_live_tokens_only,
    disabling_again_keeps_the_first_time_and_enabling_revives_nothing,
    revoking_a_users_grants_ends_what_they_hold_and_leaves_them_enabled,
    deleting_a_user_ends_their_sessions,
    changing_an_absent_user_reports_it,
);

/// Stores a session signed in as `user`; returns its id hash.
async fn signed_in_session(storage: &Storage, user: &User) -> Vec<u8> {
    let id_hash = random_hash();
    let record = SessionRecord {
        id_hash: &id_hash,
        data: b"signed in",
        user_id: Some(&user.id),
        expires_at: NOW + 3_600,
    };
    assert!(storage.sessions.create_session(&record).await.expect("create the session"));
    id_hash
}

async fn session_exists(storage: &Storage, id_hash: &[u8]) -> bool {
    storage.sessions.load_session(id_hash, NOW).await.expect("load the session").is_some()
}

async fn an_update_changes_email_name_and_roles_and_the_password_changes_alone(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let alice = user("Alice");
    storage.users.insert_user(&alice).await.expect("insert");
    let changed = User {
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3".to_owned(),
        email: None,
        email_verified: false,
        name: Some("Alice Liddell".to_owned()),
        roles: vec!["editor".to_owned(), "viewer".to_owned()],
        // Not the update's to change:
        username: castellan::domain::Username::parse("Mallory").unwrap(),
        created_at: NOW + 99,
        disabled_at: Some(NOW),
        ..alice.clone()
    };
    assert!(storage.users.update_user(&changed).await.expect("update"));
    let read = storage.users.get_user(&alice.id).await.expect("get").expect("the user");
    assert_eq!(read.password_hash, alice.password_hash, "a profile update never writes the password hash");

    assert!(storage.users.set_password_hash(&alice.id, &changed.password_hash).await.expect("set"));
    let read = storage.users.get_user(&alice.id).await.expect("get").expect("the user");
    assert_eq!(
        (&read.password_hash, &read.email, read.email_verified),
        (&changed.password_hash, &None, false)
    );
    assert_eq!((&read.name, &read.roles), (&changed.name, &changed.roles));
    assert_eq!((read.username.as_str(), read.created_at, read.disabled_at), ("Alice", NOW, None));
    assert!(storage.users.find_user("alice").await.expect("find").is_some(), "still found by username");
    assert!(storage.users.find_user("mallory").await.expect("find").is_none());
}

/// Disabling marks the user and, at once, ends their sessions, revokes their
/// families, expires their codes and revokes the live access tokens from
/// codes and refresh tokens; another user's are untouched.
async fn disabling_a_user_ends_their_sessions_families_codes_and_live_tokens_only(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let (alice, app) = user_and_client(&storage, "alice", "app").await;
    let bob = user("bob");
    storage.users.insert_user(&bob).await.expect("insert bob");
    let alices = grant(&storage, &app, &alice, NOW).await;
    let pending = code(&app, &alice, NOW);
    storage.grants.insert_code(&pending).await.expect("insert code");
    let bobs = grant(&storage, &app, &bob, NOW).await;
    let (alices_session, bobs_session) =
        (signed_in_session(&storage, &alice).await, signed_in_session(&storage, &bob).await);

    let revoked = storage.users.disable_user(&alice.id, NOW + 10).await.expect("disable").expect("a user");
    let expected = set(&[&alices.code_access_jti, &alices.refresh.access_jti]);
    assert_eq!(jtis(&revoked), expected);
    let recorded = storage.revocations.revoked_since(NOW + 10, NOW + 10).await.expect("revoked_since");
    assert_eq!(jtis(&recorded), expected);

    let read = storage.users.get_user(&alice.id).await.expect("get").expect("still stored");
    assert_eq!(read.disabled_at, Some(NOW + 10));
    assert!(read.is_disabled());
    assert!(!session_exists(&storage, &alices_session).await, "her session ended");
    let successor = refresh_token(&alices.family_id, NOW + 20);
    let rotation = storage.grants.rotate_refresh_token(&alices.refresh.token_hash, &successor, NOW + 20);
    assert_eq!(rotation.await.expect("rotate"), Rotation::FamilyEnded);
    let pending = storage.grants.get_code(&pending.code_hash).await.expect("get").expect("the code");
    assert!(pending.expires_at <= NOW + 10, "an unredeemed code dies");

    assert!(session_exists(&storage, &bobs_session).await, "Bob's session stays");
    assert!(!storage.users.get_user(&bob.id).await.expect("get").expect("bob").is_disabled());
    let successor = refresh_token(&bobs.family_id, NOW + 20);
    let rotation = storage.grants.rotate_refresh_token(&bobs.refresh.token_hash, &successor, NOW + 20);
    assert_eq!(rotation.await.expect("rotate"), Rotation::Rotated);
}

/// A second disable keeps the first time; enabling clears it, and what the
/// disabling ended stays ended.
async fn disabling_again_keeps_the_first_time_and_enabling_revives_nothing(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let (alice, app) = user_and_client(&storage, "alice", "app").await;
    let alices = grant(&storage, &app, &alice, NOW).await;
    storage.users.disable_user(&alice.id, NOW + 10).await.expect("disable").expect("a user");
    let again =
        storage.users.disable_user(&alice.id, NOW + 20).await.expect("disable again").expect("a user");
    // Reported again (as revoked, not newly), and nothing else.
    assert!(jtis(&again).is_subset(&set(&[&alices.code_access_jti, &alices.refresh.access_jti])));
    let read = storage.users.get_user(&alice.id).await.expect("get").expect("the user");
    assert_eq!(read.disabled_at, Some(NOW + 10));

    assert!(storage.users.enable_user(&alice.id).await.expect("enable"));
    let read = storage.users.get_user(&alice.id).await.expect("get").expect("the user");
    assert_eq!(read.disabled_at, None);
    let successor = refresh_token(&alices.family_id, NOW + 30);
    let rotation = storage.grants.rotate_refresh_token(&alices.refresh.token_hash, &successor, NOW + 30);
    assert_eq!(rotation.await.expect("rotate"), Rotation::FamilyEnded, "the family stays revoked");
    assert!(storage.users.enable_user(&alice.id).await.expect("enabling twice is no error"));
}

/// What a password change does: everything the user holds ends, but they
/// stay enabled.
async fn revoking_a_users_grants_ends_what_they_hold_and_leaves_them_enabled(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let (alice, app) = user_and_client(&storage, "alice", "app").await;
    let alices = grant(&storage, &app, &alice, NOW).await;
    let session = signed_in_session(&storage, &alice).await;

    let revoked =
        storage.users.revoke_user_grants(&alice.id, NOW + 10).await.expect("revoke").expect("a user");
    assert_eq!(jtis(&revoked), set(&[&alices.code_access_jti, &alices.refresh.access_jti]));
    assert!(!session_exists(&storage, &session).await);
    let successor = refresh_token(&alices.family_id, NOW + 20);
    let rotation = storage.grants.rotate_refresh_token(&alices.refresh.token_hash, &successor, NOW + 20);
    assert_eq!(rotation.await.expect("rotate"), Rotation::FamilyEnded);
    assert!(!storage.users.get_user(&alice.id).await.expect("get").expect("the user").is_disabled());
}

async fn deleting_a_user_ends_their_sessions(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let alice = user("alice");
    storage.users.insert_user(&alice).await.expect("insert");
    let session = signed_in_session(&storage, &alice).await;
    storage.users.delete_user(&alice.id, NOW).await.expect("delete").expect("a user");
    assert!(!session_exists(&storage, &session).await);
}

/// Every change to a user that does not exist says so, and changes nothing.
async fn changing_an_absent_user_reports_it(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let ghost = user("ghost");
    assert!(!storage.users.update_user(&ghost).await.expect("update"));
    assert!(!storage.users.set_password_hash(&ghost.id, "x").await.expect("set"));
    assert!(storage.users.disable_user(&ghost.id, NOW).await.expect("disable").is_none());
    assert!(!storage.users.enable_user(&ghost.id).await.expect("enable"));
    assert!(storage.users.revoke_user_grants(&ghost.id, NOW).await.expect("revoke").is_none());
    assert!(storage.users.get_user(&ghost.id).await.expect("get").is_none(), "nothing was created");
}
