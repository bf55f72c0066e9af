//! Storage interface for dynamic client registration (RFC 7591, RFC 7592):
//! self-registered clients with their registration access tokens, their
//! use (for pruning the unused), initial access tokens, and the counts that
//! rate-limit registrations per address. Tokens are kept as SHA-256 hashes.

use async_trait::async_trait;

use super::StorageError;
use crate::domain::secret::SecretHash;
use crate::domain::{Client, ClientId};

/// What `insert_dynamic_client` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DynamicInsert {
    Inserted,
    /// There are already `max_dynamic` dynamic clients.
    Full,
}

#[async_trait]
pub trait RegistrationStore: Send + Sync {
    /// Adds `client` as a dynamically registered one, with the hash of its
    /// registration access token, unless `max_dynamic` dynamic clients
    /// exist already. One statement: the count and the insert see the same
    /// rows on SQLite; on Postgres, registrations committing at the same
    /// instant may pass the cap by as many as run at once (a bound on
    /// storage, not an exact quota). `Conflict` if the id is taken.
    async fn insert_dynamic_client(
        &self,
        client: &Client,
        registration_token: &SecretHash,
        max_dynamic: i64,
    ) -> Result<DynamicInsert, StorageError>;
    /// A dynamically registered client with the hash of its registration
    /// access token; `None` for an unknown id and for an admin's client.
    async fn dynamic_client(&self, id: &ClientId) -> Result<Option<(Client, SecretHash)>, StorageError>;
    /// Records that the dynamic clients `ids` were used at `now`
    /// (clients of other origins, and unknown ids, are left alone).
    async fn record_client_use(&self, ids: &[ClientId], now: i64) -> Result<u64, StorageError>;
    /// Deletes the dynamic clients last used (or, never used, registered)
    /// before `before`, with everything they hold; returns their ids.
    async fn prune_unused_clients(&self, before: i64) -> Result<Vec<ClientId>, StorageError>;

    /// Stores an initial access token's hash, good until `expires_at` (exclusive).
    async fn insert_initial_access_token(
        &self,
        token: &SecretHash,
        created_at: i64,
        expires_at: i64,
    ) -> Result<(), StorageError>;
    /// Whether `token` is an initial access token unused and unexpired at `now`.
    async fn initial_access_token_usable(&self, token: &SecretHash, now: i64) -> Result<bool, StorageError>;
    /// Spends `token` at `now`, atomically: true for exactly one caller, and
    /// only while it is unused and unexpired.
    async fn use_initial_access_token(&self, token: &SecretHash, now: i64) -> Result<bool, StorageError>;

    /// Counts one registration under `rate_key` in the window starting at
    /// `window_start`; returns the window's count so far, this one included.
    async fn count_registration(&self, rate_key: &str, window_start: i64) -> Result<i64, StorageError>;
    /// Deletes initial access tokens expired at `now`, and counts of windows
    /// before `window_start`.
    async fn prune_registration_records(&self, now: i64, window_start: i64) -> Result<u64, StorageError>;
}
