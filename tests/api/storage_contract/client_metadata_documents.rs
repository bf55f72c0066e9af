//! Clients known by their Client ID Metadata Document, kept in `clients`
//! beside the admins' clients without ever touching those, and the admins'
//! domain policy.

use castellan::domain::client_metadata_document::DomainPolicy;
use castellan::domain::{Client, TokenEndpointAuthMethod};

use super::{NOW, client};
use crate::both_backends;
use crate::helpers::{Backend, fresh_storage};

both_backends!(
    a_document_client_is_stored_once_even_by_concurrent_calls,
    a_document_client_never_replaces_a_client_an_admin_registered,
    only_document_clients_follow_their_document,
    the_domain_policy_is_empty_until_set_and_then_replaced_whole,
);

const URL: &str = "https://app.example/client.json";

fn document_client(name: &str, fetched_at: i64) -> Client {
    let mut client = client(URL);
    client.secret_hash = None;
    client.metadata.token_endpoint_auth_method = TokenEndpointAuthMethod::None;
    client.metadata.refresh_token_reuse_grace = Default::default();
    client.metadata.client_name = Some(name.to_owned());
    client.metadata_document_fetched_at = Some(fetched_at);
    client
}

async fn a_document_client_is_stored_once_even_by_concurrent_calls(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let store = storage.client_metadata_documents.clone();
            tokio::spawn(async move { store.insert_document_client(&document_client("App", NOW)).await })
        })
        .collect();
    let mut stored = 0;
    for task in tasks {
        stored += usize::from(task.await.expect("the task").expect("insert"));
    }
    assert_eq!(stored, 1, "exactly one call stored it");
    let read =
        storage.clients.get_client(&document_client("App", NOW).id).await.expect("read").expect("stored");
    assert_eq!(read.metadata_document_fetched_at, Some(NOW));
    assert!(read.secret_hash.is_none());
    assert_eq!(read.metadata.client_name.as_deref(), Some("App"));
}

async fn a_document_client_never_replaces_a_client_an_admin_registered(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let admins = client(URL);
    storage.clients.insert_client(&admins).await.expect("insert the admin's client");
    let documents = &storage.client_metadata_documents;
    assert!(!documents.insert_document_client(&document_client("Impostor", NOW)).await.expect("insert"));
    assert!(!documents.update_document_client(&document_client("Impostor", NOW), NOW).await.expect("update"));
    let read = storage.clients.get_client(&admins.id).await.expect("read").expect("still there");
    assert_eq!(read.metadata, admins.metadata);
    assert_eq!(read.metadata_document_fetched_at, None);
    assert!(read.secret_hash.is_some());
}

async fn only_document_clients_follow_their_document(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let documents = &storage.client_metadata_documents;
    assert!(!documents.update_document_client(&document_client("Absent", NOW), NOW).await.expect("update"));
    documents.insert_document_client(&document_client("Old", NOW)).await.expect("insert");
    let newer = document_client("New", NOW + 60);
    assert!(documents.update_document_client(&newer, NOW + 60).await.expect("update"));
    let read = storage.clients.get_client(&newer.id).await.expect("read").expect("stored");
    assert_eq!(read.metadata.client_name.as_deref(), Some("New"));
    assert_eq!((read.metadata_document_fetched_at, read.issued_at), (Some(NOW + 60), NOW));
    // An admin's upsert under the same id (the bootstrap client) makes it the admin's.
    storage.clients.upsert_client(&client(URL)).await.expect("upsert");
    let read = storage.clients.get_client(&newer.id).await.expect("read").expect("stored");
    assert_eq!(read.metadata_document_fetched_at, None);
}

async fn the_domain_policy_is_empty_until_set_and_then_replaced_whole(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let documents = &storage.client_metadata_documents;
    assert_eq!(documents.domain_policy().await.expect("read"), DomainPolicy::default());
    let list = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let first =
        DomainPolicy::parse(&list(&["example.com", "app.test"]), &list(&["bad.example.com"])).unwrap();
    documents.set_domain_policy(&first, NOW).await.expect("set");
    assert_eq!(documents.domain_policy().await.expect("read"), first);
    let second = DomainPolicy::parse(&[], &list(&["evil.test"])).unwrap();
    documents.set_domain_policy(&second, NOW + 1).await.expect("set again");
    assert_eq!(documents.domain_policy().await.expect("read"), second);
}
