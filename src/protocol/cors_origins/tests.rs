//! The origin set's cache, against a store that counts its loads.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;

use super::*;
use crate::domain::secret::SecretHash;
use crate::domain::{Client, ClientId, PageRequest};
use crate::storage::StorageError;

/// A client store that only lists redirect URIs: slowly, counting calls,
/// and failing while `failing` is set.
#[derive(Default)]
struct CountingStore {
    loads: AtomicUsize,
    redirect_uris: Mutex<Vec<Vec<RedirectUri>>>,
    failing: std::sync::atomic::AtomicBool,
}

impl CountingStore {
    fn set(&self, uris: &[&str]) {
        let parsed = uris.iter().map(|uri| RedirectUri::parse(uri).expect("a valid redirect URI")).collect();
        *self.redirect_uris.lock().expect("not poisoned") = vec![parsed];
    }
}

#[async_trait]
impl ClientStore for CountingStore {
    async fn insert_client(&self, _: &Client) -> Result<(), StorageError> {
        unreachable!("not used here")
    }
    async fn upsert_client(&self, _: &Client) -> Result<(), StorageError> {
        unreachable!("not used here")
    }
    async fn get_client(&self, _: &ClientId) -> Result<Option<Client>, StorageError> {
        unreachable!("not used here")
    }
    async fn list_clients(&self, _: &PageRequest) -> Result<Vec<Client>, StorageError> {
        unreachable!("not used here")
    }
    async fn update_client(&self, _: &Client, _: i64) -> Result<bool, StorageError> {
        unreachable!("not used here")
    }
    async fn delete_client(&self, _: &ClientId) -> Result<bool, StorageError> {
        unreachable!("not used here")
    }
    async fn rotate_client_secret(
        &self,
        _: &ClientId,
        _: &SecretHash,
        _: Option<i64>,
        _: i64,
    ) -> Result<bool, StorageError> {
        unreachable!("not used here")
    }
    async fn registered_redirect_uris(
        &self,
        max_clients: usize,
    ) -> Result<Vec<Vec<RedirectUri>>, StorageError> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        if self.failing.load(Ordering::SeqCst) {
            return Err(StorageError::Corrupt("the test says so".to_owned()));
        }
        let uris = self.redirect_uris.lock().expect("not poisoned").clone();
        Ok(uris.into_iter().take(max_clients).collect())
    }
}

fn origins_over(store: &Arc<CountingStore>, ttl_secs: u64) -> (Arc<CorsOrigins>, Arc<ClientRegistry>, Clock) {
    let clock = Clock::system();
    let clients = Arc::new(ClientRegistry::new(store.clone(), Duration::from_secs(ttl_secs)));
    let origins =
        CorsOrigins::new(store.clone(), clients.clone(), Duration::from_secs(ttl_secs), clock.clone());
    (Arc::new(origins), clients, clock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_requests_waiting_for_the_origins_cause_one_load() {
    let store = Arc::new(CountingStore::default());
    store.set(&["https://spa.example/cb"]);
    let (origins, _, _) = origins_over(&store, 60);
    let requests: Vec<_> = (0..50)
        .map(|_| {
            let origins = origins.clone();
            tokio::spawn(async move { origins.allows("https://spa.example").await })
        })
        .collect();
    for request in requests {
        assert!(request.await.expect("the request finished"));
    }
    assert_eq!(store.loads.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_origins_are_reloaded_after_the_ttl_or_a_change_through_this_instance() {
    let store = Arc::new(CountingStore::default());
    store.set(&["https://old.example/cb"]);
    let (origins, clients, clock) = origins_over(&store, 5);
    assert!(origins.allows("https://old.example").await);
    store.set(&["https://new.example/cb"]);
    assert!(!origins.allows("https://new.example").await, "cached within the TTL");
    clock.advance(5);
    assert!(origins.allows("https://new.example").await, "reloaded after the TTL");
    assert!(!origins.allows("https://old.example").await);

    store.set(&["https://newer.example/cb"]);
    clients.invalidate(&ClientId::parse("changed").expect("a client id"));
    assert!(origins.allows("https://newer.example").await, "reloaded after a change");
    assert_eq!(store.loads.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_failed_load_keeps_the_previous_origins_and_is_not_retried_at_once() {
    let store = Arc::new(CountingStore::default());
    store.set(&["https://spa.example/cb"]);
    let (origins, _, clock) = origins_over(&store, 1);
    assert!(origins.allows("https://spa.example").await);
    store.failing.store(true, Ordering::SeqCst);
    clock.advance(1);
    for _ in 0..5 {
        assert!(origins.allows("https://spa.example").await, "the previous set is kept");
    }
    assert_eq!(store.loads.load(Ordering::SeqCst), 2, "one failed load, then a pause");
    store.failing.store(false, Ordering::SeqCst);
    store.set(&["https://other.example/cb"]);
    clock.advance(RETRY_AFTER_FAILURE_SECS);
    assert!(origins.allows("https://other.example").await);
}

#[tokio::test]
async fn only_http_and_https_origins_count_and_null_never_does() {
    let store = Arc::new(CountingStore::default());
    store.set(&["com.example.app:/cb", "http://localhost:3000/cb", "http://127.0.0.1/cb"]);
    let (origins, _, _) = origins_over(&store, 60);
    assert!(!origins.allows("null").await);
    assert_eq!(store.loads.load(Ordering::SeqCst), 0, "`null` is refused without a load");
    assert!(origins.allows("http://localhost:3000").await);
    assert!(origins.allows("http://127.0.0.1").await);
    assert!(
        !origins.allows("http://127.0.0.1:8080").await,
        "a loopback redirect's any-port rule is not an origin's"
    );
    assert!(!origins.allows("com.example.app://").await);
    assert!(!origins.allows("http://localhost:3000/").await, "an origin has no path");
}
