//! The admins' domain policy for metadata-document clients, kept in memory
//! as clients are: read at most once per `CASTELLAN_CLIENT_CACHE_TTL`, so
//! every instance follows a change within that time, and this instance at once.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::domain::client_metadata_document::DomainPolicy;
use crate::storage::{ClientMetadataDocumentStore, StorageError};

pub(super) struct CachedPolicy {
    store: Arc<dyn ClientMetadataDocumentStore>,
    ttl: Duration,
    loaded: RwLock<Option<(Instant, Arc<DomainPolicy>)>>,
}

impl CachedPolicy {
    pub(super) fn new(store: Arc<dyn ClientMetadataDocumentStore>, ttl: Duration) -> Self {
        Self { store, ttl, loaded: RwLock::new(None) }
    }

    pub(super) async fn get(&self) -> Result<Arc<DomainPolicy>, StorageError> {
        if let Some((loaded_at, policy)) = self.loaded.read().unwrap_or_else(|e| e.into_inner()).as_ref()
            && loaded_at.elapsed() < self.ttl
        {
            return Ok(policy.clone());
        }
        let policy = Arc::new(self.store.domain_policy().await?);
        *self.loaded.write().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), policy.clone()));
        Ok(policy)
    }

    pub(super) async fn set(&self, policy: DomainPolicy, now: i64) -> Result<(), StorageError> {
        self.store.set_domain_policy(&policy, now).await?;
        *self.loaded.write().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), Arc::new(policy)));
        Ok(())
    }
}
