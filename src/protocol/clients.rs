//! The client cache. Clients are read on every token, introspection and
//! revocation request, so each instance keeps them in memory for a short,
//! configured time (`CASTELLAN_CLIENT_CACHE_TTL`). A change made through this
//! instance takes effect at once; a change made through another instance
//! within that time. Unknown ids are cached too, within a size bound.
//!
//! With `CASTELLAN_CLIENT_METADATA_DOCUMENTS=on`, a `client_id` that is an
//! `https` URL names a client by its metadata document
//! (`client_metadata_documents`): [`ClientRegistry::lookup`] resolves it
//! there. Off, such an id is unknown unless an admin registered it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::domain::client_metadata_document::ClientIdUrl;
use crate::domain::{Client, ClientId};
use crate::protocol::client_metadata_documents::{ClientMetadataDocuments, Resolution};
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
    /// Present when metadata-document clients are on.
    documents: Option<Arc<ClientMetadataDocuments>>,
}

/// What a client id names.
pub enum ClientLookup {
    Found(Arc<Client>),
    Unknown,
    /// A `client_id` URL whose document cannot be used, and why (in words
    /// safe to show anyone).
    Refused(String),
}

impl ClientLookup {
    pub fn found(self) -> Option<Arc<Client>> {
        match self {
            Self::Found(client) => Some(client),
            Self::Unknown | Self::Refused(_) => None,
        }
    }
}

impl ClientRegistry {
    pub fn new(store: Arc<dyn ClientStore>, ttl: Duration) -> Self {
        Self {
            store,
            ttl,
            entries: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
            documents: None,
        }
    }

    /// Resolves `client_id` URLs through `documents`.
    pub fn with_metadata_documents(self, documents: Arc<ClientMetadataDocuments>) -> Self {
        Self { documents: Some(documents), ..self }
    }

    /// The metadata documents, when they are on.
    pub fn metadata_documents(&self) -> Option<&Arc<ClientMetadataDocuments>> {
        self.documents.as_ref()
    }

    /// The client named `id` as it is now: registered, or described by its
    /// metadata document (fetched when the cached copy has expired). For
    /// the endpoints a client acts at (authorization, token, introspection,
    /// revocation, logout).
    pub async fn get(&self, id: &ClientId) -> Result<Option<Arc<Client>>, StorageError> {
        Ok(self.lookup(id).await?.found())
    }

    /// [`get`](Self::get), saying why a `client_id` URL was refused.
    pub async fn lookup(&self, id: &ClientId) -> Result<ClientLookup, StorageError> {
        let stored = self.stored(id).await?;
        if let Some(client) = &stored
            && !client.is_from_metadata_document()
        {
            return Ok(ClientLookup::Found(client.clone()));
        }
        let Some(documents) = &self.documents else { return Ok(ClientLookup::Unknown) };
        if !ClientIdUrl::is_url_shaped(id) {
            return Ok(ClientLookup::Unknown);
        }
        match documents.resolve(id, stored.as_deref()).await? {
            Resolution::Client { client, stored_changed } => {
                if stored_changed {
                    self.invalidate(id);
                }
                Ok(ClientLookup::Found(client))
            }
            Resolution::Refused(reason) => Ok(ClientLookup::Refused(reason)),
        }
    }

    /// The client as stored, without fetching a metadata document: for
    /// validating the tokens it already holds, where the document's server
    /// being briefly down must not cut them. A metadata-document client
    /// counts only while those are on and its domain is allowed.
    pub async fn get_registered(&self, id: &ClientId) -> Result<Option<Arc<Client>>, StorageError> {
        let Some(client) = self.stored(id).await? else { return Ok(None) };
        if !client.is_from_metadata_document() {
            return Ok(Some(client));
        }
        match &self.documents {
            Some(documents) if documents.permits(id).await? => Ok(Some(client)),
            _ => Ok(None),
        }
    }

    /// Makes sure a metadata-document client is stored before something is
    /// granted to it (codes, consents and token families refer to it).
    pub async fn store_for_grant(&self, client: &Client) -> Result<(), StorageError> {
        if let Some(documents) = &self.documents
            && client.is_from_metadata_document()
            && documents.store_for_grant(client).await?
        {
            self.invalidate(&client.id);
        }
        Ok(())
    }

    /// The stored client named `id`, from memory when fresh enough.
    async fn stored(&self, id: &ClientId) -> Result<Option<Arc<Client>>, StorageError> {
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
