//! Registered clients, the list of revoked access tokens, and the secrets
//! the server makes for itself.

use castellan::domain::secret::{Secret, SecretHash};
use castellan::domain::{PageRequest, PreviousSecret, RedirectUri, TokenEndpointAuthMethod};
use castellan::storage::{StorageError, StoredSecret};

use super::{NOW, client, jtis, set};
use crate::both_backends;
use crate::helpers::{Backend, fresh_storage};

both_backends!(
    a_client_is_inserted_read_listed_updated_and_deleted,
    inserting_a_client_id_twice_is_a_conflict,
    updating_or_deleting_an_absent_client_returns_false,
    upserting_a_client_adds_it_or_replaces_it,
    registered_redirect_uris_are_every_clients_in_id_order_up_to_the_limit,
    a_revocation_is_seen_by_revoked_since_from_its_time_on,
    revoking_the_same_jti_twice_keeps_one_revocation,
    revoked_since_never_returns_an_expired_revocation,
    pruning_revocations_deletes_only_expired_ones,
    the_first_secret_stored_under_a_name_is_the_one_everyone_gets,
    a_previous_secret_is_stored_and_read_with_its_expiry,
    a_rotation_keeps_the_replaced_secret_only_when_given_a_time,
    rotating_the_secret_of_a_public_or_absent_client_returns_false,
    a_metadata_update_never_writes_a_secret_and_a_public_client_loses_both,
);

/// Two instances starting together each offer a secret; both get the first.
async fn the_first_secret_stored_under_a_name_is_the_one_everyone_gets(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let offer = |secret: &[u8], encrypted| StoredSecret {
        name: "browser-sealing-key".to_owned(),
        secret: secret.to_vec(),
        encrypted,
        created_at: NOW,
    };
    let first = storage.keys.secret_or_insert(&offer(b"first", true)).await.expect("insert");
    assert_eq!((first.secret.as_slice(), first.encrypted, first.created_at), (&b"first"[..], true, NOW));
    let second = storage.keys.secret_or_insert(&offer(b"second", false)).await.expect("read");
    assert_eq!((second.secret.as_slice(), second.encrypted), (&b"first"[..], true));
    let other = StoredSecret { name: "other".to_owned(), ..offer(b"other", false) };
    assert_eq!(storage.keys.secret_or_insert(&other).await.expect("insert").secret, b"other");
}

async fn a_client_is_inserted_read_listed_updated_and_deleted(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let app = client("app");
    storage.clients.insert_client(&app).await.expect("insert");

    let read = storage.clients.get_client(&app.id).await.expect("get").expect("the client");
    assert_eq!((&read.id, &read.metadata, read.issued_at), (&app.id, &app.metadata, NOW));
    assert_eq!(read.secret_hash, app.secret_hash);
    let listed = storage.clients.list_clients(&PageRequest::first(100)).await.expect("list");
    assert_eq!(listed.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), vec![app.id.clone()]);

    let mut changed = app.clone();
    changed.metadata.client_name = Some("Renamed".to_owned());
    changed.metadata.first_party = true;
    assert!(storage.clients.update_client(&changed, NOW).await.expect("update"));
    let read = storage.clients.get_client(&app.id).await.expect("get").expect("the client");
    assert_eq!((&read.metadata, &read.secret_hash), (&changed.metadata, &app.secret_hash));
    assert_eq!(read.issued_at, NOW, "an update keeps the issue time");

    assert!(storage.clients.delete_client(&app.id).await.expect("delete"));
    assert!(storage.clients.get_client(&app.id).await.expect("get").is_none());
    assert!(storage.clients.list_clients(&PageRequest::first(100)).await.expect("list").is_empty());
}

async fn inserting_a_client_id_twice_is_a_conflict(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let app = client("app");
    storage.clients.insert_client(&app).await.expect("insert");

    let mut again = client("app");
    again.metadata.client_name = Some("Impostor".to_owned());
    let result = storage.clients.insert_client(&again).await;
    assert!(matches!(result, Err(StorageError::Conflict(_))), "{result:?}");
    let read = storage.clients.get_client(&app.id).await.expect("get").expect("the client");
    assert_eq!(read.metadata, app.metadata, "the first client is untouched");
}

async fn updating_or_deleting_an_absent_client_returns_false(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let ghost = client("ghost");
    assert!(!storage.clients.update_client(&ghost, NOW).await.expect("update"));
    assert!(storage.clients.get_client(&ghost.id).await.expect("get").is_none(), "update does not insert");
    assert!(!storage.clients.delete_client(&ghost.id).await.expect("delete"));
}

async fn upserting_a_client_adds_it_or_replaces_it(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let mut admin = client("admin");
    storage.clients.upsert_client(&admin).await.expect("upsert a new client");
    admin.metadata.client_name = Some("Admin".to_owned());
    admin.secret_hash = Some(SecretHash::of(&Secret::generate()));
    storage.clients.upsert_client(&admin).await.expect("upsert an existing client");

    let read = storage.clients.get_client(&admin.id).await.expect("get").expect("the client");
    assert_eq!((&read.metadata, &read.secret_hash), (&admin.metadata, &admin.secret_hash));
    assert_eq!(storage.clients.list_clients(&PageRequest::first(100)).await.expect("list").len(), 1);
}

/// What the CORS origins are made of: each client's list, as registered.
async fn registered_redirect_uris_are_every_clients_in_id_order_up_to_the_limit(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    assert!(storage.clients.registered_redirect_uris(10).await.expect("read").is_empty());
    let uris = |list: &[&str]| -> Vec<RedirectUri> {
        list.iter().map(|uri| RedirectUri::parse(uri).expect("a valid URI")).collect()
    };
    let mut spa = client("b-spa");
    spa.metadata.redirect_uris = uris(&["https://spa.example/cb", "http://localhost:3000/cb"]);
    let mut service = client("c-service");
    service.metadata.redirect_uris = Vec::new();
    let native = client("a-native");
    for one in [&spa, &service, &native] {
        storage.clients.insert_client(one).await.expect("insert");
    }
    let all = storage.clients.registered_redirect_uris(10).await.expect("read");
    assert_eq!(
        all,
        vec![native.metadata.redirect_uris.clone(), spa.metadata.redirect_uris.clone(), Vec::new()]
    );
    let first_two = storage.clients.registered_redirect_uris(2).await.expect("read");
    assert_eq!(first_two, all[..2].to_vec());
}

async fn a_revocation_is_seen_by_revoked_since_from_its_time_on(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    storage.revocations.revoke("early", NOW + 3_600, NOW).await.expect("revoke");
    storage.revocations.revoke("late", NOW + 3_600, NOW + 100).await.expect("revoke");

    let since_now = storage.revocations.revoked_since(NOW, NOW + 100).await.expect("revoked_since");
    assert_eq!(jtis(&since_now), set(&["early", "late"]));
    assert!(since_now.contains(&("early".to_owned(), NOW + 3_600)), "with its expiry: {since_now:?}");
    let since_later = storage.revocations.revoked_since(NOW + 1, NOW + 100).await.expect("revoked_since");
    assert_eq!(jtis(&since_later), set(&["late"]));
}

async fn revoking_the_same_jti_twice_keeps_one_revocation(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    storage.revocations.revoke("twice", NOW + 3_600, NOW).await.expect("revoke");
    storage.revocations.revoke("twice", NOW + 3_600, NOW + 10).await.expect("revoke again");
    let revoked = storage.revocations.revoked_since(0, NOW + 10).await.expect("revoked_since");
    assert_eq!(revoked, vec![("twice".to_owned(), NOW + 3_600)]);
}

/// A revocation stops being reported once the token would have expired anyway.
async fn revoked_since_never_returns_an_expired_revocation(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    storage.revocations.revoke("short", NOW + 10, NOW).await.expect("revoke");
    storage.revocations.revoke("long", NOW + 1_000, NOW).await.expect("revoke");

    let before = storage.revocations.revoked_since(0, NOW + 9).await.expect("revoked_since");
    assert_eq!(jtis(&before), set(&["short", "long"]));
    let at_expiry = storage.revocations.revoked_since(0, NOW + 10).await.expect("revoked_since");
    assert_eq!(jtis(&at_expiry), set(&["long"]));
    let after_all = storage.revocations.revoked_since(0, NOW + 5_000).await.expect("revoked_since");
    assert!(after_all.is_empty(), "{after_all:?}");
}

async fn pruning_revocations_deletes_only_expired_ones(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    storage.revocations.revoke("expired-1", NOW + 10, NOW).await.expect("revoke");
    storage.revocations.revoke("expired-2", NOW + 20, NOW).await.expect("revoke");
    storage.revocations.revoke("live", NOW + 1_000, NOW).await.expect("revoke");

    assert_eq!(storage.revocations.prune_revocations(NOW + 20, NOW).await.expect("prune"), 2);
    // Seen from before its expiry, only the live one is still stored.
    let left = storage.revocations.revoked_since(0, NOW).await.expect("revoked_since");
    assert_eq!(jtis(&left), set(&["live"]));
    assert_eq!(storage.revocations.prune_revocations(NOW + 20, NOW).await.expect("prune again"), 0);
}

fn new_hash() -> SecretHash {
    SecretHash::of(&Secret::generate())
}

/// Insert and upsert store the previous secret and its expiry as given, and
/// an upsert without one clears it (the bootstrap admin client's secret is
/// then the configured one alone).
async fn a_previous_secret_is_stored_and_read_with_its_expiry(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let mut app = client("app");
    let previous = PreviousSecret { hash: new_hash(), expires_at: NOW + 60 };
    app.previous_secret = Some(previous.clone());
    storage.clients.insert_client(&app).await.expect("insert");
    let read = storage.clients.get_client(&app.id).await.expect("get").expect("the client");
    assert_eq!((read.secret_hash, read.previous_secret), (app.secret_hash.clone(), Some(previous.clone())));
    let listed = storage.clients.list_clients(&PageRequest::first(10)).await.expect("list");
    assert_eq!(listed[0].previous_secret, Some(previous));

    app.previous_secret = None;
    storage.clients.upsert_client(&app).await.expect("upsert");
    let read = storage.clients.get_client(&app.id).await.expect("get").expect("the client");
    assert_eq!(read.previous_secret, None);
}

/// `rotate_client_secret` makes the new hash current and keeps the one it
/// replaced until the given time, or drops it with none; one is kept.
async fn a_rotation_keeps_the_replaced_secret_only_when_given_a_time(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let app = client("app");
    storage.clients.insert_client(&app).await.expect("insert");
    let original = app.secret_hash.clone().expect("a confidential client");

    let second = new_hash();
    assert!(
        storage.clients.rotate_client_secret(&app.id, &second, Some(NOW + 600), NOW).await.expect("rotate")
    );
    let read = storage.clients.get_client(&app.id).await.expect("get").expect("the client");
    assert_eq!(read.secret_hash, Some(second.clone()));
    assert_eq!(read.previous_secret, Some(PreviousSecret { hash: original, expires_at: NOW + 600 }));
    assert_eq!(read.metadata, app.metadata, "a rotation leaves the metadata alone");

    let third = new_hash();
    assert!(
        storage.clients.rotate_client_secret(&app.id, &third, Some(NOW + 60), NOW).await.expect("rotate")
    );
    let read = storage.clients.get_client(&app.id).await.expect("get").expect("the client");
    assert_eq!(read.previous_secret, Some(PreviousSecret { hash: second, expires_at: NOW + 60 }));

    let fourth = new_hash();
    assert!(storage.clients.rotate_client_secret(&app.id, &fourth, None, NOW).await.expect("rotate"));
    let read = storage.clients.get_client(&app.id).await.expect("get").expect("the client");
    assert_eq!((read.secret_hash, read.previous_secret), (Some(fourth), None));
}

async fn rotating_the_secret_of_a_public_or_absent_client_returns_false(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let mut public = client("public");
    public.secret_hash = None;
    public.metadata.token_endpoint_auth_method = TokenEndpointAuthMethod::None;
    storage.clients.insert_client(&public).await.expect("insert");
    let hash = new_hash();
    assert!(
        !storage.clients.rotate_client_secret(&public.id, &hash, Some(NOW + 60), NOW).await.expect("rotate")
    );
    let read = storage.clients.get_client(&public.id).await.expect("get").expect("the client");
    assert_eq!(
        (read.secret_hash, read.previous_secret),
        (None, None),
        "a public client stays without a secret"
    );
    let ghost = client("ghost");
    assert!(!storage.clients.rotate_client_secret(&ghost.id, &hash, None, NOW).await.expect("rotate"));
    assert!(storage.clients.get_client(&ghost.id).await.expect("get").is_none(), "rotate does not insert");
}

/// `update_client` leaves the stored secrets alone, whatever the `Client`
/// it is given holds (a change that read the client before a rotation must
/// not bring the replaced secret back); a client made public loses both.
async fn a_metadata_update_never_writes_a_secret_and_a_public_client_loses_both(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let app = client("app");
    storage.clients.insert_client(&app).await.expect("insert");
    let rotated = new_hash();
    storage.clients.rotate_client_secret(&app.id, &rotated, Some(NOW + 60), NOW).await.expect("rotate");

    let mut stale = app.clone();
    stale.metadata.client_name = Some("Renamed".to_owned());
    assert!(storage.clients.update_client(&stale, NOW).await.expect("update"));
    let read = storage.clients.get_client(&app.id).await.expect("get").expect("the client");
    assert_eq!(read.metadata.client_name.as_deref(), Some("Renamed"));
    assert_eq!(read.secret_hash, Some(rotated), "the rotation stands");
    assert_eq!(read.previous_secret.map(|p| p.expires_at), Some(NOW + 60));

    let mut public = stale.clone();
    public.metadata.token_endpoint_auth_method = TokenEndpointAuthMethod::None;
    assert!(storage.clients.update_client(&public, NOW).await.expect("update"));
    let read = storage.clients.get_client(&app.id).await.expect("get").expect("the client");
    assert_eq!((read.secret_hash, read.previous_secret), (None, None));
}
