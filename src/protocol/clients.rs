//! The client cache. Clients are read on every token, introspection and
//! revocation request, so each instance keeps them in memory for a short,
//! configured time (`CASTELLAN_CLIENT_CACHE_TTL`). A change made through this
//! instance takes effect at once; a change made through another instance
//! within that time. Unknown ids are cached too, within a size bound.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::domain::{Client, ClientId};
use crate::storage::{ClientStore, StorageError};

const MAX_ENTRIES: usize = 10_000;

struct Entry {
    loaded_at: Instant,
    client: Option<Arc<Client>>,
}

pub struct ClientRegistry {
    store: Arc<dyn ClientStore>,
    ttl: Duration,
    entries: RwLock<HashMap<ClientId, Entry>>,
    /// Bumped by every invalidation, so a read that raced with a change does
    /// not put the old client back.
    generation: AtomicU64,
}

impl ClientRegistry {
    pub fn new(store: Arc<dyn ClientStore>, ttl: Duration) -> Self {
        Self { store, ttl, entries: RwLock::new(HashMap::new()), generation: AtomicU64::new(0) }
    }

    /// The client named `id`, from memory when fresh enough.
    pub async fn get(&self, id: &ClientId) -> Result<Option<Arc<Client>>, StorageError> {
        if let Some(entry) = self.entries.read().unwrap_or_else(|e| e.into_inner()).get(id)
            && entry.loaded_at.elapsed() < self.ttl
        {
            return Ok(entry.client.clone());
        }
        let generation = self.generation.load(Ordering::Acquire);
        let client = self.store.get_client(id).await?.map(Arc::new);
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::Acquire) != generation {
            return Ok(client);
        }
        if entries.len() >= MAX_ENTRIES {
            // Probes for unknown ids go first, so they cannot flush real clients.
            let ttl = self.ttl;
            entries.retain(|_, e| e.client.is_some() && e.loaded_at.elapsed() < ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(id.clone(), Entry { loaded_at: Instant::now(), client: client.clone() });
        Ok(client)
    }

    /// A number that every invalidation raises: what is derived from the
    /// clients (the CORS origins) is reloaded when it moves.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Forgets `id`, after this instance registered, changed or deleted it.
    pub fn invalidate(&self, id: &ClientId) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.remove(id);
    }
}
