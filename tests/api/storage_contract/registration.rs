//! Dynamic client registration's storage: self-registered clients with the
//! hash of their registration access token, the cap on their number, their
//! recorded use and pruning, single-use initial access tokens, and the
//! registration counts per address.

use castellan::domain::ClientOrigin;
use castellan::domain::secret::{Secret, SecretHash};
use castellan::storage::DynamicInsert;
use serde_json::json;
use sqlx::Connection;

use super::{NOW, client};
use crate::both_backends;
use crate::helpers::{Backend, TestApp, fresh_storage};

both_backends!(
    dynamic_clients_are_capped_and_found_only_with_their_registration_token_hash,
    recorded_use_keeps_a_dynamic_client_and_the_unused_are_pruned,
    an_initial_access_token_is_spent_once_and_never_after_it_expires,
    registrations_are_counted_per_key_and_window_without_losing_any,
    the_registration_access_token_is_stored_as_its_sha256_only,
);

fn token_hash(value: &str) -> SecretHash {
    SecretHash::of(&Secret::new(value))
}

async fn dynamic_clients_are_capped_and_found_only_with_their_registration_token_hash(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let registrations = &storage.registrations;
    storage.clients.insert_client(&client("admin-made")).await.expect("an admin's client");
    let (first, second, third) = (client("dyn-1"), client("dyn-2"), client("dyn-3"));
    for (dynamic, expected) in
        [(&first, DynamicInsert::Inserted), (&second, DynamicInsert::Inserted), (&third, DynamicInsert::Full)]
    {
        let inserted =
            registrations.insert_dynamic_client(dynamic, &token_hash(dynamic.id.as_str()), 2).await;
        assert_eq!(inserted.expect("insert"), expected, "{}", dynamic.id);
    }
    let (found, hash) = registrations.dynamic_client(&first.id).await.expect("read").expect("found");
    assert_eq!(
        (found.origin, &found.metadata, found.issued_at),
        (ClientOrigin::Dynamic, &first.metadata, NOW)
    );
    assert_eq!(found.secret_hash, first.secret_hash);
    assert_eq!(hash, token_hash("dyn-1"));
    let read = storage.clients.get_client(&first.id).await.expect("get").expect("the client");
    assert_eq!(read.origin, ClientOrigin::Dynamic);
    assert!(registrations.dynamic_client(&third.id).await.expect("read").is_none(), "over the cap");
    let admin_made = client("admin-made").id;
    assert!(registrations.dynamic_client(&admin_made).await.expect("read").is_none(), "not dynamic");
    let taken = registrations.insert_dynamic_client(&first, &token_hash("x"), 10).await;
    assert!(matches!(taken, Err(castellan::storage::StorageError::Conflict(_))), "{taken:?}");
}

async fn recorded_use_keeps_a_dynamic_client_and_the_unused_are_pruned(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let registrations = &storage.registrations;
    let admin_made = client("admin-made");
    storage.clients.insert_client(&admin_made).await.expect("an admin's client");
    let (used, unused) = (client("used"), client("unused"));
    for dynamic in [&used, &unused] {
        registrations.insert_dynamic_client(dynamic, &token_hash("t"), 10).await.expect("insert");
    }
    let ids = [used.id.clone(), admin_made.id.clone(), client("absent").id];
    assert_eq!(registrations.record_client_use(&ids, NOW + 100).await.expect("record"), 1, "the dynamic one");
    assert_eq!(
        registrations.record_client_use(&ids[..1], NOW + 10).await.expect("record"),
        0,
        "never backwards"
    );
    assert_eq!(registrations.record_client_use(&[], NOW + 10).await.expect("nothing"), 0);

    let pruned = registrations.prune_unused_clients(NOW + 50).await.expect("prune");
    assert_eq!(pruned, vec![unused.id.clone()]);
    assert!(storage.clients.get_client(&used.id).await.expect("get").is_some());
    assert!(storage.clients.get_client(&admin_made.id).await.expect("get").is_some(), "admin clients stay");
    let pruned = registrations.prune_unused_clients(NOW + 101).await.expect("prune");
    assert_eq!(pruned, vec![used.id.clone()]);
    assert!(storage.clients.get_client(&admin_made.id).await.expect("get").is_some(), "admin clients stay");
}

async fn an_initial_access_token_is_spent_once_and_never_after_it_expires(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let registrations = storage.registrations.clone();
    let (token, late) = (token_hash("initial"), token_hash("late"));
    registrations.insert_initial_access_token(&token, NOW, NOW + 60).await.expect("insert");
    registrations.insert_initial_access_token(&late, NOW, NOW + 60).await.expect("insert");
    assert!(registrations.initial_access_token_usable(&token, NOW).await.expect("check"));
    assert!(!registrations.initial_access_token_usable(&token_hash("unknown"), NOW).await.expect("check"));

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (registrations, token) = (registrations.clone(), token.clone());
        tasks.spawn(async move { registrations.use_initial_access_token(&token, NOW).await.expect("use") });
    }
    let spent = tasks.join_all().await.into_iter().filter(|spent| *spent).count();
    assert_eq!(spent, 1, "ten at once: exactly one spends it");
    assert!(!registrations.initial_access_token_usable(&token, NOW).await.expect("check"));

    assert!(!registrations.initial_access_token_usable(&late, NOW + 60).await.expect("check"), "expired");
    assert!(!registrations.use_initial_access_token(&late, NOW + 60).await.expect("use"), "expired");
    assert!(registrations.use_initial_access_token(&late, NOW + 59).await.expect("use"));
    assert_eq!(registrations.prune_registration_records(NOW + 60, 0).await.expect("prune"), 2);
}

async fn registrations_are_counted_per_key_and_window_without_losing_any(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let registrations = storage.registrations.clone();
    assert_eq!(registrations.count_registration("register:a", NOW).await.expect("count"), 1);
    assert_eq!(registrations.count_registration("register:a", NOW).await.expect("count"), 2);
    assert_eq!(registrations.count_registration("register:b", NOW).await.expect("count"), 1);
    assert_eq!(registrations.count_registration("register:a", NOW + 3_600).await.expect("count"), 1);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let registrations = registrations.clone();
        tasks.spawn(async move { registrations.count_registration("register:c", NOW).await.expect("count") });
    }
    let mut counts = tasks.join_all().await;
    counts.sort_unstable();
    assert_eq!(counts, (1..=20).collect::<Vec<i64>>(), "every count seen once");
    assert_eq!(registrations.prune_registration_records(NOW, NOW + 3_600).await.expect("prune"), 2);
}

/// The stored row holds the SHA-256 of the registration access token, and
/// the token itself nowhere.
async fn the_registration_access_token_is_stored_as_its_sha256_only(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("CASTELLAN_REGISTRATION", "open")]).await;
    let endpoint = app.endpoint("registration_endpoint").await;
    let metadata = json!({"redirect_uris": ["https://app.example.com/cb"]});
    let body: serde_json::Value =
        app.http.post(endpoint).json(&metadata).send().await.unwrap().json().await.unwrap();
    let (id, token) =
        (body["client_id"].as_str().unwrap(), body["registration_access_token"].as_str().unwrap());
    let sql = "SELECT registration_token_hash, metadata FROM clients WHERE client_id = $1";
    let (stored, metadata): (Vec<u8>, String) = match backend {
        Backend::Sqlite => {
            let mut connection = sqlx::SqliteConnection::connect(&app.database_url).await.expect("connect");
            sqlx::query_as(sql).bind(id).fetch_one(&mut connection).await.expect("the row")
        }
        Backend::Postgres => {
            let mut connection = sqlx::PgConnection::connect(&app.database_url).await.expect("connect");
            sqlx::query_as(sql).bind(id).fetch_one(&mut connection).await.expect("the row")
        }
    };
    assert_eq!(stored, token_hash(token).as_bytes());
    assert!(!metadata.contains(token) && !stored.windows(token.len()).any(|w| w == token.as_bytes()));
}
