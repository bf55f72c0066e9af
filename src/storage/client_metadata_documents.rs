//! Storage interface for clients that name themselves by a Client ID
//! Metadata Document (draft-ietf-oauth-client-id-metadata-document-02), and
//! for the admins' domain policy about them. Their rows live in `clients`
//! (codes, consents and token families refer to them there), marked by
//! `Client::metadata_document_fetched_at`; these operations never touch a
//! client an admin registered.

use async_trait::async_trait;

use super::StorageError;
use crate::domain::Client;
use crate::domain::client_metadata_document::DomainPolicy;

#[async_trait]
pub trait ClientMetadataDocumentStore: Send + Sync {
    /// Stores `client` (a metadata-document client) unless a client with
    /// its id exists; true if this call stored it. Concurrent calls store it
    /// once.
    async fn insert_document_client(&self, client: &Client) -> Result<bool, StorageError>;
    /// Replaces the metadata (and fetch time) of the stored
    /// metadata-document client `client.id`; false if there is none (absent,
    /// or registered by an admin).
    async fn update_document_client(&self, client: &Client, now: i64) -> Result<bool, StorageError>;
    /// The domain policy; the empty policy (every domain) if none was set.
    async fn domain_policy(&self) -> Result<DomainPolicy, StorageError>;
    async fn set_domain_policy(&self, policy: &DomainPolicy, now: i64) -> Result<(), StorageError>;
}
