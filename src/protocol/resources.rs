//! The resource cache. Resources are read on every token request that
//! names one and every introspection of a token bound to one, so each
//! instance keeps them in memory as it keeps clients (`clients.rs`): for
//! `CASTELLAN_CLIENT_CACHE_TTL`, forgotten at once on this instance when an
//! admin changes one here, within that time on the others. Unknown
//! identifiers are cached too, within a size bound.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::domain::{Resource, ResourceIndicator};
use crate::storage::{ResourceStore, StorageError};

const MAX_ENTRIES: usize = 10_000;

struct Entry {
    loaded_at: Instant,
    resource: Option<Arc<Resource>>,
}

pub struct ResourceRegistry {
    store: Arc<dyn ResourceStore>,
    ttl: Duration,
    entries: RwLock<HashMap<ResourceIndicator, Entry>>,
    /// Bumped by every invalidation, so a read that raced with a change does
    /// not put the old resource back.
    generation: AtomicU64,
}

impl ResourceRegistry {
    pub fn new(store: Arc<dyn ResourceStore>, ttl: Duration) -> Self {
        Self { store, ttl, entries: RwLock::new(HashMap::new()), generation: AtomicU64::new(0) }
    }

    /// The resource named `identifier`, from memory when fresh enough.
    pub async fn get(&self, identifier: &ResourceIndicator) -> Result<Option<Arc<Resource>>, StorageError> {
        if let Some(entry) = self.entries.read().unwrap_or_else(|e| e.into_inner()).get(identifier)
            && entry.loaded_at.elapsed() < self.ttl
        {
            return Ok(entry.resource.clone());
        }
        let generation = self.generation.load(Ordering::Acquire);
        let resource = self.store.find_resource(identifier).await?.map(Arc::new);
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::Acquire) != generation {
            return Ok(resource);
        }
        if entries.len() >= MAX_ENTRIES {
            // Probes for unknown identifiers go first, so they cannot flush real ones.
            let ttl = self.ttl;
            entries.retain(|_, e| e.resource.is_some() && e.loaded_at.elapsed() < ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(identifier.clone(), Entry { loaded_at: Instant::now(), resource: resource.clone() });
        Ok(resource)
    }

    /// Forgets `identifier`, after this instance registered, changed or deleted it.
    pub fn invalidate(&self, identifier: &ResourceIndicator) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.remove(identifier);
    }
}
