//! Storage interface for the `jti`s of client assertions (RFC 7523 §3:
//! an assertion is used once). Shared by every instance, so an assertion
//! used on one is refused on all.
//!
//! Issuing an access token writes nothing to the database, except here:
//! recording the `jti` is the one write replay protection across instances
//! cannot do without, and it is a single statement.

use async_trait::async_trait;

use super::StorageError;
use crate::domain::ClientId;

#[async_trait]
pub trait ClientAssertionStore: Send + Sync {
    /// Records that `client_id` used the assertion `jti`, kept until
    /// `expires_at` (unix seconds). True if it is new; false if it was
    /// recorded before (a replay), also when two calls race.
    async fn record_assertion_jti(
        &self,
        client_id: &ClientId,
        jti: &str,
        expires_at: i64,
    ) -> Result<bool, StorageError>;
    /// Forgets the `jti`s of assertions that expired before `now`: those
    /// are refused for their `exp` alone.
    async fn prune_assertion_jtis(&self, now: i64) -> Result<u64, StorageError>;
}
