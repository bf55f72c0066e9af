//! Users and their consents: uniqueness, deletion and withdrawal, with what
//! they cascade to.

use castellan::domain::PageRequest;
use castellan::storage::{Consent, Rotation, StorageError};

use super::{NOW, client, code, grant, jtis, refresh_token, scope, set, user, user_and_client};
use crate::both_backends;
use crate::helpers::{Backend, fresh_storage};

both_backends!(
    a_stored_user_reads_back_by_id_and_by_username_key,
    usernames_are_unique_regardless_of_case,
    users_are_listed_in_pages_by_id_and_searched_by_username_or_email,
    deleting_a_user_removes_their_consents_codes_and_families_and_revokes_their_live_tokens,
    deleting_an_absent_user_returns_none,
    a_saved_consent_reads_back_and_the_next_save_replaces_it,
    revoking_a_consent_revokes_the_families_and_live_tokens_of_that_user_and_client_only,
    revoking_a_consent_that_does_not_exist_returns_none,
);

async fn a_stored_user_reads_back_by_id_and_by_username_key(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let alice = user("Alice");
    storage.users.insert_user(&alice).await.expect("insert");

    let read = storage.users.get_user(&alice.id).await.expect("get").expect("the user");
    assert_eq!(
        (&read.id, &read.username, &read.password_hash),
        (&alice.id, &alice.username, &alice.password_hash)
    );
    assert_eq!((&read.email, read.email_verified, &read.name), (&alice.email, true, &alice.name));
    assert_eq!((&read.roles, read.created_at), (&alice.roles, NOW));
    let found = storage.users.find_user("alice").await.expect("find").expect("the user");
    assert_eq!((found.id, found.username.as_str()), (alice.id.clone(), "Alice"));
    assert!(storage.users.find_user("Alice").await.expect("find").is_none(), "looked up by the folded key");
    let listed = storage.users.list_users(&PageRequest::first(100), None).await.expect("list");
    assert_eq!(listed.iter().map(|u| u.id.clone()).collect::<Vec<_>>(), vec![alice.id]);
}

async fn usernames_are_unique_regardless_of_case(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let first = user("Alice");
    storage.users.insert_user(&first).await.expect("insert");

    let second = user("aLICE");
    let result = storage.users.insert_user(&second).await;
    assert!(matches!(result, Err(StorageError::Conflict(_))), "{result:?}");
    assert!(storage.users.get_user(&second.id).await.expect("get").is_none());
    assert_eq!(storage.users.list_users(&PageRequest::first(100), None).await.expect("list").len(), 1);
}

/// Pages follow the id order without gaps or repeats; a search matches a
/// part of the username or of the email, any case, with `%` and `_` taken
/// literally.
async fn users_are_listed_in_pages_by_id_and_searched_by_username_or_email(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    for name in ["Alice", "Bob", "Carol", "Dave", "Eve"] {
        storage.users.insert_user(&user(name)).await.expect("insert");
    }
    let mut seen = Vec::new();
    let mut page = PageRequest::first(2);
    loop {
        let fetched = storage.users.list_users(&page, None).await.expect("list");
        assert!(fetched.len() <= 3, "at most one more than the page");
        seen.extend(fetched.iter().take(2).map(|u| u.id.to_string()));
        if fetched.len() < 3 {
            break;
        }
        page.after = Some(fetched[1].id.to_string());
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!((seen.len(), &seen), (5, &sorted), "every user once, in id order");

    let found = |search: &'static str| {
        let storage = storage.clone();
        async move {
            let users =
                storage.users.list_users(&PageRequest::first(100), Some(search)).await.expect("search");
            let mut names: Vec<String> = users.iter().map(|u| u.username.as_str().to_owned()).collect();
            names.sort();
            names
        }
    };
    assert_eq!(found("aro").await, vec!["Carol"], "a part of the username");
    assert_eq!(found("eve@example").await, vec!["Eve"], "a part of the email");
    assert_eq!(found("v").await, vec!["Dave", "Eve"]);
    assert!(found("%").await.is_empty(), "% is a literal");
    assert!(found("_").await.is_empty(), "_ is a literal");
}

/// Deleting a user takes with it everything they authorized, and revokes
/// the access tokens still live from it; another user's data stays.
async fn deleting_a_user_removes_their_consents_codes_and_families_and_revokes_their_live_tokens(
    backend: Backend,
) {
    let (_database, storage) = fresh_storage(backend).await;
    let (alice, app) = user_and_client(&storage, "alice", "app").await;
    let bob = user("bob");
    storage.users.insert_user(&bob).await.expect("insert bob");
    for someone in [&alice, &bob] {
        let consent = Consent { client_id: app.id.clone(), scope: scope("openid"), granted_at: NOW };
        storage.consents.save_consent(&someone.id, &consent).await.expect("save consent");
    }
    let alices = grant(&storage, &app, &alice, NOW).await;
    let pending = code(&app, &alice, NOW);
    storage.grants.insert_code(&pending).await.expect("insert code");
    let bobs = grant(&storage, &app, &bob, NOW).await;

    let revoked = storage.users.delete_user(&alice.id, NOW + 10).await.expect("delete").expect("a user");
    let expected = set(&[&alices.code_access_jti, &alices.refresh.access_jti]);
    assert_eq!(jtis(&revoked), expected);
    let recorded = storage.revocations.revoked_since(NOW + 10, NOW + 10).await.expect("revoked_since");
    assert_eq!(jtis(&recorded), expected);

    assert!(storage.users.get_user(&alice.id).await.expect("get").is_none());
    assert!(storage.users.find_user("alice").await.expect("find").is_none());
    assert!(storage.consents.list_consents(&alice.id).await.expect("list").is_empty());
    assert!(storage.grants.get_code(&alices.code_hash).await.expect("get").is_none());
    assert!(storage.grants.get_code(&pending.code_hash).await.expect("get").is_none());
    assert!(storage.grants.get_refresh_token(&alices.refresh.token_hash).await.expect("get").is_none());

    // Bob keeps his consent, code and family.
    assert_eq!(storage.consents.list_consents(&bob.id).await.expect("list").len(), 1);
    assert!(storage.grants.get_code(&bobs.code_hash).await.expect("get").is_some());
    let successor = refresh_token(&bobs.family_id, NOW + 20);
    let rotation = storage.grants.rotate_refresh_token(&bobs.refresh.token_hash, &successor, NOW + 20).await;
    assert_eq!(rotation.expect("rotate"), Rotation::Rotated);

    assert!(storage.users.delete_user(&alice.id, NOW + 30).await.expect("delete again").is_none());
}

async fn deleting_an_absent_user_returns_none(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let ghost = user("ghost");
    assert!(storage.users.delete_user(&ghost.id, NOW).await.expect("delete").is_none());
}

/// Saving a consent replaces the stored one: merging scopes is the caller's business.
async fn a_saved_consent_reads_back_and_the_next_save_replaces_it(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let (alice, app) = user_and_client(&storage, "alice", "app").await;
    let other = client("other-app");
    storage.clients.insert_client(&other).await.expect("insert client");
    assert!(storage.consents.get_consent(&alice.id, &app.id).await.expect("get").is_none());

    let first = Consent { client_id: app.id.clone(), scope: scope("openid profile email"), granted_at: NOW };
    storage.consents.save_consent(&alice.id, &first).await.expect("save");
    let read = storage.consents.get_consent(&alice.id, &app.id).await.expect("get").expect("a consent");
    assert_eq!((&read.client_id, &read.scope, read.granted_at), (&app.id, &first.scope, NOW));

    let narrower = Consent { client_id: app.id.clone(), scope: scope("openid"), granted_at: NOW + 10 };
    storage.consents.save_consent(&alice.id, &narrower).await.expect("save again");
    let read = storage.consents.get_consent(&alice.id, &app.id).await.expect("get").expect("a consent");
    assert_eq!((read.scope, read.granted_at), (scope("openid"), NOW + 10), "replaced, not merged");

    let for_other = Consent { client_id: other.id.clone(), scope: scope("openid"), granted_at: NOW + 20 };
    storage.consents.save_consent(&alice.id, &for_other).await.expect("save");
    let listed = storage.consents.list_consents(&alice.id).await.expect("list");
    let listed: Vec<_> = listed.into_iter().map(|c| (c.client_id, c.granted_at)).collect();
    assert_eq!(listed, vec![(app.id, NOW + 10), (other.id, NOW + 20)]);
}

/// Withdrawing a consent ends the families of that user and client, revokes
/// their live access tokens and kills unredeemed codes; the same user's
/// grants to another client, and another user's, are untouched.
async fn revoking_a_consent_revokes_the_families_and_live_tokens_of_that_user_and_client_only(
    backend: Backend,
) {
    let (_database, storage) = fresh_storage(backend).await;
    let (alice, app) = user_and_client(&storage, "alice", "app").await;
    let other = client("other-app");
    storage.clients.insert_client(&other).await.expect("insert client");
    let bob = user("bob");
    storage.users.insert_user(&bob).await.expect("insert bob");
    for (someone, to) in [(&alice, &app), (&alice, &other), (&bob, &app)] {
        let consent = Consent { client_id: to.id.clone(), scope: scope("openid"), granted_at: NOW };
        storage.consents.save_consent(&someone.id, &consent).await.expect("save consent");
    }
    let withdrawn = grant(&storage, &app, &alice, NOW).await;
    let pending = code(&app, &alice, NOW);
    storage.grants.insert_code(&pending).await.expect("insert code");
    let kept = [grant(&storage, &other, &alice, NOW).await, grant(&storage, &app, &bob, NOW).await];

    let revoked = storage.consents.revoke_consent(&alice.id, &app.id, NOW + 10).await.expect("revoke");
    let revoked = revoked.expect("there was a consent");
    assert_eq!(jtis(&revoked), set(&[&withdrawn.code_access_jti, &withdrawn.refresh.access_jti]));
    assert!(storage.consents.get_consent(&alice.id, &app.id).await.expect("get").is_none());

    let successor = refresh_token(&withdrawn.family_id, NOW + 20);
    let rotation = storage.grants.rotate_refresh_token(&withdrawn.refresh.token_hash, &successor, NOW + 20);
    assert_eq!(rotation.await.expect("rotate"), Rotation::FamilyEnded);
    let pending = storage.grants.get_code(&pending.code_hash).await.expect("get").expect("the code");
    assert!(pending.expires_at <= NOW + 10, "an unredeemed code dies with the consent");

    assert!(storage.consents.get_consent(&alice.id, &other.id).await.expect("get").is_some());
    assert!(storage.consents.get_consent(&bob.id, &app.id).await.expect("get").is_some());
    for grant in &kept {
        let successor = refresh_token(&grant.family_id, NOW + 20);
        let rotation = storage.grants.rotate_refresh_token(&grant.refresh.token_hash, &successor, NOW + 20);
        assert_eq!(rotation.await.expect("rotate"), Rotation::Rotated);
    }
}

async fn revoking_a_consent_that_does_not_exist_returns_none(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let (alice, app) = user_and_client(&storage, "alice", "app").await;
    let revoked = storage.consents.revoke_consent(&alice.id, &app.id, NOW).await.expect("revoke");
    assert!(revoked.is_none());
    // Nor for a user or client that does not exist at all.
    let ghost = user("ghost");
    let revoked = storage.consents.revoke_consent(&ghost.id, &client("ghost-app").id, NOW).await;
    assert!(revoked.expect("revoke").is_none());
}
