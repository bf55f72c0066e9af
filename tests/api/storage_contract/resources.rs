//! Resources (RFC 8707): stored, found by id and by identifier, listed by
//! keyset pages, changed and deleted; an identifier is unique.

use castellan::domain::{PageRequest, Resource, ResourceId};
use castellan::storage::StorageError;

use super::{NOW, indicator, scope};
use crate::both_backends;
use crate::helpers::{Backend, fresh_storage};

both_backends!(
    a_stored_resource_reads_back_by_id_and_by_identifier,
    a_resource_identifier_is_unique,
    resources_are_listed_in_id_order_a_page_at_a_time,
    an_update_changes_all_but_identifier_and_creation_and_delete_removes,
);

fn resource(id: &str, identifier: &str) -> Resource {
    Resource {
        id: ResourceId::parse(id).expect("a valid id"),
        identifier: indicator(identifier),
        name: Some(format!("API {id}")),
        scopes: scope("orders:read orders:write"),
        client_ids: vec![castellan::domain::ClientId::parse("api-server").expect("a client id")],
        dynamic_registration: true,
        created_at: NOW,
        updated_at: NOW,
    }
}

async fn a_stored_resource_reads_back_by_id_and_by_identifier(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let orders = resource("r1", "https://api.example.com/orders");
    storage.resources.insert_resource(&orders).await.expect("insert");
    let by_id = storage.resources.get_resource(&orders.id).await.expect("get").expect("the resource");
    assert_eq!(by_id, orders);
    let by_identifier =
        storage.resources.find_resource(&orders.identifier).await.expect("find").expect("the resource");
    assert_eq!(by_identifier, orders);
    let unknown = indicator("https://api.example.com/other");
    assert!(storage.resources.find_resource(&unknown).await.expect("find").is_none());
}

async fn a_resource_identifier_is_unique(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    storage.resources.insert_resource(&resource("r1", "urn:example:orders")).await.expect("insert");
    let again = storage.resources.insert_resource(&resource("r2", "urn:example:orders")).await;
    assert!(matches!(again, Err(StorageError::Conflict(_))), "{again:?}");
}

async fn resources_are_listed_in_id_order_a_page_at_a_time(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    for id in ["c", "a", "b"] {
        let stored = resource(id, &format!("https://api.example.com/{id}"));
        storage.resources.insert_resource(&stored).await.expect("insert");
    }
    let ids = |page: Vec<Resource>| page.into_iter().map(|r| r.id.to_string()).collect::<Vec<_>>();
    let first = storage.resources.list_resources(&PageRequest::first(1)).await.expect("list");
    assert_eq!(ids(first), ["a", "b"], "one more than the page, to know more follow");
    let next = PageRequest { after: Some("a".to_owned()), limit: 5 };
    assert_eq!(ids(storage.resources.list_resources(&next).await.expect("list")), ["b", "c"]);
}

async fn an_update_changes_all_but_identifier_and_creation_and_delete_removes(backend: Backend) {
    let (_database, storage) = fresh_storage(backend).await;
    let stored = resource("r1", "https://api.example.com/orders");
    storage.resources.insert_resource(&stored).await.expect("insert");
    let changed = Resource {
        identifier: indicator("https://api.example.com/ignored"),
        name: None,
        scopes: scope("orders:read"),
        client_ids: Vec::new(),
        dynamic_registration: false,
        created_at: NOW + 50,
        updated_at: NOW + 100,
        ..stored.clone()
    };
    assert!(storage.resources.update_resource(&changed).await.expect("update"));
    let read = storage.resources.get_resource(&stored.id).await.expect("get").expect("the resource");
    let expected = Resource { identifier: stored.identifier.clone(), created_at: NOW, ..changed };
    assert_eq!(read, expected);
    assert!(storage.resources.delete_resource(&stored.id).await.expect("delete"));
    assert!(!storage.resources.delete_resource(&stored.id).await.expect("delete again"));
    assert!(storage.resources.get_resource(&stored.id).await.expect("get").is_none());
    let missing = resource("r9", "urn:example:missing");
    assert!(!storage.resources.update_resource(&missing).await.expect("update a missing one"));
}
