//! Revoked access tokens (RFC 7009). A revocation is written to the database
//! and to this instance's in-memory list at once; other instances fetch new
//! revocations every `CASTELLAN_SYNC_INTERVAL`, so introspection never needs
//! a database read. Entries are dropped when the token would have expired.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use crate::clock;
use crate::storage::{RevocationStore, StorageError};

/// Revocations are re-read with this overlap, so a row committed late by a
/// slow transaction, or stamped by an instance whose clock is a little
/// behind, is still seen.
const SYNC_OVERLAP_SECS: i64 = 30;

pub struct RevocationList {
    store: Arc<dyn RevocationStore>,
    /// `jti` → expiry of the revoked token.
    revoked: RwLock<HashMap<String, i64>>,
    synced_at: Mutex<i64>,
}

impl RevocationList {
    pub async fn load(store: Arc<dyn RevocationStore>) -> Result<Self, StorageError> {
        let list = Self { store, revoked: RwLock::new(HashMap::new()), synced_at: Mutex::new(0) };
        list.sync().await?;
        Ok(list)
    }

    pub fn is_revoked(&self, jti: &str) -> bool {
        self.revoked.read().unwrap_or_else(|e| e.into_inner()).contains_key(jti)
    }

    pub async fn revoke(&self, jti: &str, expires_at: i64) -> Result<(), StorageError> {
        self.store.revoke(jti, expires_at, clock::now()).await?;
        self.revoked.write().unwrap_or_else(|e| e.into_inner()).insert(jti.to_owned(), expires_at);
        Ok(())
    }

    /// Adds tokens a storage transaction has already recorded as revoked.
    pub fn remember(&self, tokens: crate::storage::RevokedTokens) {
        if tokens.is_empty() {
            return;
        }
        self.revoked.write().unwrap_or_else(|e| e.into_inner()).extend(tokens);
    }

    /// Fetches revocations made since the last sync (by any instance).
    pub async fn sync(&self) -> Result<(), StorageError> {
        let now = clock::now();
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
        let pruned = self.store.prune_revocations(clock::now()).await?;
        *self.synced_at.lock().unwrap_or_else(|e| e.into_inner()) = 0;
        self.sync().await?;
        Ok(pruned)
    }
}
