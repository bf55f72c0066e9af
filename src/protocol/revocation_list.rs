//! Revoked access tokens (RFC 7009). A revocation is written to the database
//! and to this instance's in-memory list at once; other instances fetch new
//! revocations every `CASTELLAN_SYNC_INTERVAL`, so introspection never needs
//! a database read. Entries are dropped when the token would have expired.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::domain::Clock;
use crate::storage::{RevocationStore, RevokedTokens, StorageError};

/// Revocations are re-read with this overlap, so a row committed late by a
/// slow transaction, or stamped by an instance whose clock is a little
/// behind, is still seen.
const SYNC_OVERLAP_SECS: i64 = 30;

pub struct RevocationList {
    store: Arc<dyn RevocationStore>,
    sync_interval: Duration,
    clock: Clock,
    /// `jti` → expiry of the revoked token.
    revoked: RwLock<HashMap<String, i64>>,
    synced_at: Mutex<i64>,
}

impl RevocationList {
    pub async fn load(
        store: Arc<dyn RevocationStore>,
        sync_interval: Duration,
        clock: Clock,
    ) -> Result<Self, StorageError> {
        let revoked = RwLock::new(HashMap::new());
        let list = Self { store, sync_interval, clock, revoked, synced_at: Mutex::new(0) };
        list.sync().await?;
        Ok(list)
    }

    /// How often [`sync`](Self::sync) is to run: the bound on how soon this
    /// instance sees another's revocations.
    pub fn sync_interval(&self) -> Duration {
        self.sync_interval
    }

    pub fn is_revoked(&self, jti: &str) -> bool {
        self.revoked.read().unwrap_or_else(|e| e.into_inner()).contains_key(jti)
    }

    /// Adds tokens the storage has just recorded as revoked (see `Revoker`).
    pub fn remember(&self, tokens: RevokedTokens) {
        if tokens.is_empty() {
            return;
        }
        self.revoked.write().unwrap_or_else(|e| e.into_inner()).extend(tokens);
    }

    /// Fetches revocations made since the last sync (by any instance).
    pub async fn sync(&self) -> Result<(), StorageError> {
        let now = self.clock.now();
        let since = *self.synced_at.lock().unwrap_or_else(|e| e.into_inner()) - SYNC_OVERLAP_SECS;
        let fresh = self.store.revoked_since(since.max(0), now).await?;
        let mut revoked = self.revoked.write().unwrap_or_else(|e| e.into_inner());
        revoked.extend(fresh);
        revoked.retain(|_, expires_at| *expires_at > now);
        drop(revoked);
        *self.synced_at.lock().unwrap_or_else(|e| e.into_inner()) = now;
        Ok(())
    }

    /// Deletes revocations of tokens that have expired anyway, then re-reads
    /// every unexpired revocation: a backstop for rows the incremental sync
    /// missed (an instance whose clock runs far behind stamps them too early).
    pub async fn prune(&self) -> Result<u64, StorageError> {
        let pruned = self.store.prune_revocations(self.clock.now()).await?;
        *self.synced_at.lock().unwrap_or_else(|e| e.into_inner()) = 0;
        self.sync().await?;
        Ok(pruned)
    }
}
