//! Clients known by a Client ID Metadata Document
//! (draft-ietf-oauth-client-id-metadata-document-02, "the draft"), with
//! `CASTELLAN_CLIENT_METADATA_DOCUMENTS=on`: a `client_id` that is an
//! `https` URL is resolved by fetching that URL (§5) through the safe
//! fetcher (`protocol::fetch`: https only, public addresses only, no
//! redirects, size and time limits, §8.6 and §8.7) and validating the
//! document (`domain::client_metadata_document`, §4).
//!
//! - Documents are cached per URL as HTTP caching says, within
//!   `CachePolicy`'s bounds (§5.2 lets the server bound the lifetime), and
//!   concurrent first requests for one URL make one fetch. A failure is
//!   remembered for a few seconds, so that a broken or hostile URL is not
//!   fetched on every request; §5.2 asks that errors not be cached, and a
//!   few seconds is the least that keeps the fetcher from being a flood
//!   amplifier.
//! - The client is stored in `clients` only when a user first grants it
//!   something (codes, consents and token families refer to it there), so
//!   that anonymous requests naming endless URLs write nothing; a stored
//!   one follows its document's changes (§8.4). A document that goes away
//!   or turns invalid makes the client unknown to the authorization and
//!   token endpoints (§5.1) while its row stays, so existing grants stay
//!   coherent (their tokens expire; refreshing needs the client).
//! - Admins allow or deny domains (§8.9, `DomainPolicy`).

mod domain_policy;

use std::sync::Arc;
use std::time::Duration;

use crate::domain::client_metadata_document::{self, ClientIdUrl, DomainPolicy};
use crate::domain::{Client, ClientId, ClientMetadata, ClientOrigin, Clock};
use crate::protocol::fetch::{CachePolicy, CachedDocuments, DocumentError, Fetcher};
use crate::protocol::resources::ResourceRegistry;
use crate::protocol::security_event::{EventKind, SecurityEvent};
use crate::storage::{ClientMetadataDocumentStore, StorageError};
use domain_policy::CachedPolicy;

/// A validated document, and when it was fetched.
struct FetchedMetadata {
    metadata: ClientMetadata,
    fetched_at: i64,
}

/// What a `client_id` URL resolved to.
pub enum Resolution {
    /// The client as its document describes it now; `stored_changed` says
    /// that its stored row was updated to match.
    Client { client: Arc<Client>, stored_changed: bool },
    /// Not usable: the sentence says why, in words safe to show anyone (a
    /// fetch failure is named only in the security log, so that the page
    /// tells nothing about Castellan's network).
    Refused(String),
}

pub struct ClientMetadataDocuments {
    documents: CachedDocuments<FetchedMetadata>,
    store: Arc<dyn ClientMetadataDocumentStore>,
    resources: Arc<ResourceRegistry>,
    policy: CachedPolicy,
    clock: Clock,
}

impl ClientMetadataDocuments {
    pub fn new(
        fetcher: Arc<Fetcher>,
        store: Arc<dyn ClientMetadataDocumentStore>,
        resources: Arc<ResourceRegistry>,
        clock: Clock,
        policy_ttl: Duration,
    ) -> Self {
        Self {
            documents: CachedDocuments::new(fetcher, clock.clone(), CachePolicy::default()),
            policy: CachedPolicy::new(store.clone(), policy_ttl),
            store,
            resources,
            clock,
        }
    }

    /// The client named by the URL `id`, from its document; `stored` is its
    /// stored row, if any (a metadata-document client's).
    pub async fn resolve(&self, id: &ClientId, stored: Option<&Client>) -> Result<Resolution, StorageError> {
        let refused = |shown: &str, detail: &str| {
            SecurityEvent::new(EventKind::MetadataDocumentClientRefused)
                .client(id.as_str())
                .detail(detail)
                .emit();
            Ok(Resolution::Refused(shown.to_owned()))
        };
        let url = match ClientIdUrl::parse(id) {
            Ok(url) => url,
            Err(problem) => return refused(&problem, &problem),
        };
        if !self.policy.get().await?.permits(&url.host()) {
            let problem = "the client_id's domain is not allowed here";
            return refused(problem, problem);
        }
        let now = self.clock.now();
        let parse = |body: &[u8]| {
            client_metadata_document::validate(&url, body)
                .map(|metadata| FetchedMetadata { metadata, fetched_at: now })
        };
        let fetched = match self.documents.get(url.url(), parse).await {
            Ok(fetched) => fetched,
            Err(DocumentError::Invalid(problem)) => return refused(&problem, &problem),
            Err(DocumentError::Fetch(error)) => {
                return refused("the client's metadata document could not be fetched", &error.to_string());
            }
        };
        if let Some(problem) = self.resources_problem(&fetched.metadata).await? {
            return refused(problem, problem);
        }
        let client = Arc::new(Client {
            id: id.clone(),
            origin: ClientOrigin::MetadataDocument,
            secret_hash: None,
            previous_secret: None,
            metadata: fetched.metadata.clone(),
            issued_at: stored.map_or(now, |s| s.issued_at),
            metadata_document_fetched_at: Some(fetched.fetched_at),
        });
        // §8.4: a stored client follows its document. Only a newer fetch
        // writes, so instances holding copies of different ages do not undo
        // each other's updates.
        let stored_changed = match stored {
            Some(stored)
                if stored.metadata != client.metadata
                    && stored.metadata_document_fetched_at.is_some_and(|at| at < fetched.fetched_at) =>
            {
                self.store.update_document_client(&client, now).await?
            }
            _ => false,
        };
        Ok(Resolution::Client { client, stored_changed })
    }

    /// RFC 8707 resources are an admin's to hand out: a document may name
    /// only those registered as open to clients that register themselves.
    async fn resources_problem(
        &self,
        metadata: &ClientMetadata,
    ) -> Result<Option<&'static str>, StorageError> {
        for identifier in metadata.allowed_resources() {
            let open = self.resources.get(identifier).await?.is_some_and(|r| r.dynamic_registration);
            if !open {
                return Ok(Some("the document names a resource that is not registered for such clients"));
            }
        }
        Ok(None)
    }

    /// Stores `client` (resolved from its document) before something is
    /// granted to it; true if it was stored only now.
    pub async fn store_for_grant(&self, client: &Client) -> Result<bool, StorageError> {
        let first = self.store.insert_document_client(client).await?;
        if first {
            SecurityEvent::new(EventKind::MetadataDocumentClientFirstSeen).client(client.id.as_str()).emit();
        }
        Ok(first)
    }

    /// Whether a stored metadata-document client's domain is allowed now.
    pub async fn permits(&self, id: &ClientId) -> Result<bool, StorageError> {
        let Ok(url) = ClientIdUrl::parse(id) else { return Ok(false) };
        Ok(self.policy.get().await?.permits(&url.host()))
    }

    pub async fn domain_policy(&self) -> Result<Arc<DomainPolicy>, StorageError> {
        self.policy.get().await
    }

    /// Replaces the domain policy; this instance follows it at once.
    pub async fn set_domain_policy(&self, policy: DomainPolicy) -> Result<(), StorageError> {
        self.policy.set(policy, self.clock.now()).await
    }
}
