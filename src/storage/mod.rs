//! Storage: one small interface per aggregate, and one implementation per
//! backend (SQLite, the embedded default; Postgres, for several instances
//! sharing one database).
//!
//! Both backends compile the same dialect-neutral SQL (`sql.rs`, included by
//! `sqlite.rs` and `postgres.rs`), so a query is written once and checked
//! against both databases by the same test suite; what differs between the
//! backends (connection options, migrations) lives in their own modules.

use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::secret::SecretHash;
use crate::domain::{Client, ClientId, PageRequest, RedirectUri};

mod assertions;
mod client_metadata_documents;
mod grants;
mod identity;
mod postgres;
mod registration;
mod resources;
mod sql_args;
mod sqlite;
mod sqlite_files;
mod sqlite_group_commit;

pub use assertions::ClientAssertionStore;
pub use client_metadata_documents::ClientMetadataDocumentStore;
pub use grants::{
    AuthorizationCodeRecord, CodeRedemption, FamilyAccessToken, GrantStore, NewFamily, RefreshTokenRecord,
    Retry, Rotation, TokenFamily,
};
pub use identity::{Consent, ConsentStore, LoginThrottleStore, SessionRecord, SessionRecordStore, UserStore};
pub use registration::{DynamicInsert, RegistrationStore};
pub use resources::ResourceStore;

/// Access tokens just recorded as revoked, as `(jti, expires_at)`, for the
/// caller to add to its instance's revocation list at once.
pub type RevokedTokens = Vec<(String, i64)>;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("{0}")]
    Conflict(String),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported DATABASE_URL scheme {0:?}: use sqlite://… or postgres://…")]
    UnsupportedUrl(String),
}

impl From<sqlx::Error> for StorageError {
    fn from(error: sqlx::Error) -> Self {
        let unavailable = match &error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_) => true,
            sqlx::Error::Database(db) => db.code().is_some_and(|code| is_transient(&code)),
            _ => false,
        };
        if unavailable { Self::Unavailable(error) } else { Self::Database(error) }
    }
}

/// Database error codes that mean "not now" rather than "never": Postgres
/// connection exceptions (class 08), shutdowns (57P0x), too many connections
/// (53300); SQLite busy or locked (5, 6) after the busy timeout.
fn is_transient(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("57P0") || code == "53300" || code == "5" || code == "6"
}

#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Adds a client; `Conflict` if the id is taken.
    async fn insert_client(&self, client: &Client) -> Result<(), StorageError>;
    /// Adds or replaces a client (used for the bootstrap admin client); a
    /// replaced client keeps no registration access token.
    async fn upsert_client(&self, client: &Client) -> Result<(), StorageError>;
    async fn get_client(&self, id: &ClientId) -> Result<Option<Client>, StorageError>;
    /// Up to `page.fetch_limit()` clients whose id sorts after `page.after`, in id order.
    async fn list_clients(&self, page: &PageRequest) -> Result<Vec<Client>, StorageError>;
    /// Replaces the metadata of an existing client; false if absent. The
    /// stored secrets stay as they are (only `rotate_client_secret` changes
    /// them, so a metadata change racing a rotation cannot bring a replaced
    /// secret back), except that a client now public loses them both.
    async fn update_client(&self, client: &Client, now: i64) -> Result<bool, StorageError>;
    /// Makes `secret` the client's secret in one step. The secret it replaces
    /// stays accepted until `previous_until` if given, and otherwise stops at
    /// once; an earlier previous secret stops either way (one is kept).
    /// False if there is no such client, or it has no secret (is public).
    async fn rotate_client_secret(
        &self,
        id: &ClientId,
        secret: &SecretHash,
        previous_until: Option<i64>,
        now: i64,
    ) -> Result<bool, StorageError>;
    /// Removes a client; false if absent.
    async fn delete_client(&self, id: &ClientId) -> Result<bool, StorageError>;
    /// The registered redirect URIs of up to `max_clients` clients, in
    /// client id order, one list per client (empty for a client without
    /// any): what the origins allowed to call from a browser are made of.
    async fn registered_redirect_uris(
        &self,
        max_clients: usize,
    ) -> Result<Vec<Vec<RedirectUri>>, StorageError>;
}

/// A signing key as stored. `private_key` is PKCS#8 DER, sealed with the
/// key-encryption key when `encrypted`.
#[derive(Clone)]
pub struct StoredKey {
    pub kid: String,
    pub alg: String,
    pub private_key: Vec<u8>,
    pub encrypted: bool,
    pub created_at: i64,
    /// When it stopped signing; `None` while it is the active key of its algorithm.
    pub retired_at: Option<i64>,
    /// Until when a retired key stays in the JWKS.
    pub publish_until: Option<i64>,
}

#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Active keys, and retired keys still to be published at `now`.
    async fn published_keys(&self, now: i64) -> Result<Vec<StoredKey>, StorageError>;
    /// Inserts `key` unless its algorithm already has an active key; two
    /// instances starting at once thus agree on one key.
    async fn insert_key_if_none_active(&self, key: &StoredKey) -> Result<bool, StorageError>;
    /// Retires the active key of `key.alg` (published until `publish_until`)
    /// and makes `key` active, atomically.
    async fn rotate_key(&self, key: &StoredKey, publish_until: i64) -> Result<(), StorageError>;
    async fn prune_keys(&self, now: i64) -> Result<u64, StorageError>;
    /// Deletes the key `kid` at once (a compromised key) and, if it was the
    /// active key of its algorithm, makes `replacement` (of the same
    /// algorithm) active, atomically. Returns the deleted key's algorithm,
    /// or `None` if there was no such key.
    async fn revoke_key(&self, kid: &str, replacement: &StoredKey) -> Result<Option<String>, StorageError>;
    /// A number that every change to the set of keys raises (insert, rotate,
    /// revoke, prune): instances poll it and reload only when it moves.
    async fn key_generation(&self) -> Result<i64, StorageError>;
    /// Every stored key, published or not, and every server secret.
    async fn all_sealable(&self) -> Result<(Vec<StoredKey>, Vec<StoredSecret>), StorageError>;
    /// Replaces the stored bytes of keys and secrets by their (re)sealed
    /// form, in one transaction; a row whose bytes are no longer `old` (sealed
    /// meanwhile by another process) is left alone. Returns the rows changed.
    async fn reseal(&self, keys: &[Resealed], secrets: &[Resealed]) -> Result<u64, StorageError>;
    /// The secret named `candidate.name`, inserting `candidate` first if
    /// there is none: instances starting together agree on one.
    async fn secret_or_insert(&self, candidate: &StoredSecret) -> Result<StoredSecret, StorageError>;
}

/// A secret the server made for itself (see `KeyStore::secret_or_insert`).
#[derive(Clone)]
pub struct StoredSecret {
    pub name: String,
    pub secret: Vec<u8>,
    /// Sealed under the key encryption key.
    pub encrypted: bool,
    pub created_at: i64,
}

/// A key's or secret's bytes, as read and as sealed anew under the key
/// encryption key (see `KeyStore::reseal`).
pub struct Resealed {
    /// The kid, or the secret's name.
    pub name: String,
    pub old: Vec<u8>,
    pub new: Vec<u8>,
}

/// A revocation as stored: its sequence number orders revocations by commit
/// (see `RevocationStore::revoked_after`).
pub struct RevocationRow {
    pub seq: i64,
    pub jti: String,
    pub expires_at: i64,
}

#[async_trait]
pub trait RevocationStore: Send + Sync {
    /// Records `jti` as revoked until the token would expire anyway.
    async fn revoke(&self, jti: &str, expires_at: i64, now: i64) -> Result<(), StorageError>;
    /// Unexpired revocations recorded at or after `since` (by time; the
    /// instances sync by number, with `revoked_after`).
    async fn revoked_since(&self, since: i64, now: i64) -> Result<Vec<(String, i64)>, StorageError>;
    /// Revocations numbered above `after`, and those numbered `also` (numbers
    /// skipped earlier, whose transactions may commit late), by number; at
    /// most `limit` of them.
    /// Numbers are given as rows are inserted, so on Postgres a row may
    /// become visible after rows with higher numbers.
    async fn revoked_after(
        &self,
        after: i64,
        also: &[i64],
        limit: i64,
    ) -> Result<Vec<RevocationRow>, StorageError>;
    /// Counts one revocation under `rate_key` (a client, or one user of a
    /// client) in the window starting at `window_start` and returns the
    /// window's count so far, this one included.
    async fn count_revocation(&self, rate_key: &str, window_start: i64) -> Result<i64, StorageError>;
    /// Deletes revocations of expired tokens and counts of windows before `window_start`.
    async fn prune_revocations(&self, now: i64, window_start: i64) -> Result<u64, StorageError>;
}

#[async_trait]
pub trait HealthCheck: Send + Sync {
    async fn ping(&self) -> Result<(), StorageError>;
    async fn close(&self);
}

/// The storage interfaces of one backend, as held by the application.
#[derive(Clone)]
pub struct Storage {
    pub clients: Arc<dyn ClientStore>,
    pub keys: Arc<dyn KeyStore>,
    pub revocations: Arc<dyn RevocationStore>,
    pub health: Arc<dyn HealthCheck>,
    pub users: Arc<dyn UserStore>,
    pub consents: Arc<dyn ConsentStore>,
    pub grants: Arc<dyn GrantStore>,
    pub sessions: Arc<dyn SessionRecordStore>,
    pub login_throttle: Arc<dyn LoginThrottleStore>,
    pub resources: Arc<dyn ResourceStore>,
    pub registrations: Arc<dyn RegistrationStore>,
    pub client_metadata_documents: Arc<dyn ClientMetadataDocumentStore>,
    pub assertions: Arc<dyn ClientAssertionStore>,
}

impl Storage {
    fn from_backend<B>(backend: B) -> Self
    where
        B: ClientStore
            + KeyStore
            + RevocationStore
            + HealthCheck
            + UserStore
            + ConsentStore
            + GrantStore
            + SessionRecordStore
            + LoginThrottleStore
            + ResourceStore
            + RegistrationStore
            + ClientMetadataDocumentStore
            + ClientAssertionStore
            + 'static,
    {
        let backend = Arc::new(backend);
        Self {
            clients: backend.clone(),
            keys: backend.clone(),
            revocations: backend.clone(),
            health: backend.clone(),
            users: backend.clone(),
            consents: backend.clone(),
            grants: backend.clone(),
            sessions: backend.clone(),
            login_throttle: backend.clone(),
            resources: backend.clone(),
            registrations: backend.clone(),
            client_metadata_documents: backend.clone(),
            assertions: backend,
        }
    }

    /// Connects to `database_url` and applies the migrations.
    pub async fn connect(database_url: &str, max_connections: u32) -> Result<Self, StorageError> {
        if database_url.starts_with("sqlite:") {
            Ok(Self::from_backend(sqlite::Store::connect(database_url, max_connections).await?))
        } else if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
            Ok(Self::from_backend(postgres::Store::connect(database_url, max_connections).await?))
        } else {
            // Only the scheme is echoed: the rest of the URL may hold a password.
            let scheme = database_url.split(':').next().unwrap_or_default();
            Err(StorageError::UnsupportedUrl(scheme.to_owned()))
        }
    }
}
