//! Signing keys. Generated on first start and kept in the database, so every
//! instance signs with the same keys; each instance holds them parsed in a
//! `Keyring` that it refreshes periodically (and at once when it meets a
//! token signed by a key it does not know yet, e.g. right after a rotation),
//! and at once when the keys' generation number moves (a revoked key).
//! Sealing keys at rest under the key encryption key: `key_sealing.rs`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use super::MAX_ACCESS_TOKEN_TTL_SECS;
use crate::domain::sealing::SEALING_KEY_BYTES;
use crate::domain::{
    Clock, KeyAlgorithm, KeyEncryptionKey, KeyError, KeyMaterial, RefreshSuccessorKey, SealingKey,
};
use crate::storage::{KeyStore, StorageError, StoredKey};

/// How often each instance re-reads the signing keys (to pick up a rotation).
pub const KEY_REFRESH_INTERVAL: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("there is no signing key with kid {0:?}")]
    UnknownKid(String),
    #[error("{0}")]
    Sealing(String),
}

/// The keys one instance knows: the active key of each algorithm, and every
/// published key by `kid` for verification.
#[derive(Default)]
struct KeySet {
    active: HashMap<KeyAlgorithm, Arc<KeyMaterial>>,
    by_kid: HashMap<String, Arc<KeyMaterial>>,
    /// The JWKS document, serialized once per refresh.
    jwks: Arc<str>,
}

/// How often an unknown `kid` may trigger a reload, so a flood of forged
/// tokens cannot turn into a flood of database reads.
const UNKNOWN_KID_RELOAD_INTERVAL: Duration = Duration::from_secs(2);

pub struct Keyring {
    pub(super) store: Arc<dyn KeyStore>,
    pub(super) encryption_key: Option<KeyEncryptionKey>,
    /// A key encryption key being replaced: keys sealed under it still open
    /// (`keys rewrap` re-seals them under the current one).
    pub(super) previous_encryption_key: Option<KeyEncryptionKey>,
    /// The keys' generation number as of the last reload.
    generation: AtomicI64,
    pub(super) clock: Clock,
    keys: RwLock<Arc<KeySet>>,
    /// When an unknown `kid` last caused a reload; periodic reloads do not
    /// count, so a key rotated in elsewhere is picked up at its first token.
    last_unknown_kid_reload: Mutex<Option<Instant>>,
    /// Seals what browsers carry between pages for us (a pending
    /// authorization request, for one): shared by every instance.
    browser_sealing_key: SealingKey,
    /// Derives each refresh token's successor from it (see `refresh_policy`).
    refresh_successor_key: RefreshSuccessorKey,
}

/// The name under which the browser sealing key is stored.
const BROWSER_SEALING_KEY: &str = "browser-sealing-key";
/// The name under which the refresh successor key is stored.
const REFRESH_SUCCESSOR_KEY: &str = "refresh-successor-key";

impl Keyring {
    /// Makes sure each algorithm has an active key, then loads them all.
    pub async fn load(
        store: Arc<dyn KeyStore>,
        encryption_key: Option<KeyEncryptionKey>,
        clock: Clock,
    ) -> Result<Self, KeyringError> {
        Self::load_with_previous(store, encryption_key, None, clock).await
    }

    /// [`load`](Self::load), also opening keys sealed under `previous`. With
    /// a key encryption key, keys and secrets stored in plaintext are sealed
    /// first.
    pub async fn load_with_previous(
        store: Arc<dyn KeyStore>,
        encryption_key: Option<KeyEncryptionKey>,
        previous: Option<KeyEncryptionKey>,
        clock: Clock,
    ) -> Result<Self, KeyringError> {
        let mut keyring = Self {
            store,
            encryption_key,
            previous_encryption_key: previous,
            generation: AtomicI64::new(i64::MIN),
            clock,
            keys: RwLock::new(Arc::default()),
            last_unknown_kid_reload: Mutex::new(None),
            browser_sealing_key: SealingKey::from_bytes([0; SEALING_KEY_BYTES]),
            refresh_successor_key: RefreshSuccessorKey::from_bytes(&[0; SEALING_KEY_BYTES]),
        };
        if keyring.encryption_key.is_some() {
            let sealed = keyring.seal_plaintext().await?;
            if sealed > 0 {
                tracing::warn!(
                    sealed,
                    "signing keys and secrets stored in plaintext are now sealed under \
                     CASTELLAN_KEY_ENCRYPTION_KEY; copies of the database made before hold them in \
                     the clear: rotate the signing keys (castellan keys rotate)"
                );
            }
        }
        keyring.browser_sealing_key = keyring.shared_secret(BROWSER_SEALING_KEY).await?;
        let successor_key = keyring.shared_secret(REFRESH_SUCCESSOR_KEY).await?;
        keyring.refresh_successor_key = RefreshSuccessorKey::from_bytes(successor_key.as_bytes());
        let published = keyring.store.published_keys(keyring.clock.now()).await?;
        for algorithm in KeyAlgorithm::ALL {
            let has_active = published.iter().any(|k| k.alg == algorithm.name() && k.retired_at.is_none());
            if !has_active {
                let key = keyring.new_stored_key(algorithm)?;
                if keyring.store.insert_key_if_none_active(&key).await? {
                    tracing::info!(kid = %key.kid, alg = algorithm.name(), "generated signing key");
                }
            }
        }
        keyring.reload().await?;
        Ok(keyring)
    }

    pub fn browser_sealing_key(&self) -> &SealingKey {
        &self.browser_sealing_key
    }

    pub fn refresh_successor_key(&self) -> &RefreshSuccessorKey {
        &self.refresh_successor_key
    }

    pub(super) fn new_stored_key(&self, algorithm: KeyAlgorithm) -> Result<StoredKey, KeyError> {
        let der = algorithm.generate()?;
        let kid = KeyMaterial::from_pkcs8(algorithm, &der)?.kid;
        let (private_key, encrypted) = match &self.encryption_key {
            Some(kek) => (kek.seal(&kid, &der)?, true),
            None => (der, false),
        };
        Ok(StoredKey {
            kid,
            alg: algorithm.name().to_owned(),
            private_key,
            encrypted,
            created_at: self.clock.now(),
            retired_at: None,
            publish_until: None,
        })
    }

    /// Reloads the keys if their generation number has moved since the last
    /// reload: one cheap read, run every `CASTELLAN_SYNC_INTERVAL`.
    pub async fn sync(&self) -> Result<(), KeyringError> {
        if self.store.key_generation().await? != self.generation.load(Ordering::Acquire) {
            self.reload().await?;
        }
        Ok(())
    }

    /// Re-reads the published keys; keys already parsed are reused.
    pub async fn reload(&self) -> Result<(), KeyringError> {
        // Read before the keys: a change made in between reloads once more.
        let generation = self.store.key_generation().await?;
        let stored = self.store.published_keys(self.clock.now()).await?;
        let previous = self.snapshot();
        let mut next = KeySet::default();
        let mut jwks = Vec::with_capacity(stored.len());
        for row in &stored {
            let material = match previous.by_kid.get(&row.kid) {
                Some(known) => known.clone(),
                None => match self.parse(row) {
                    Ok(material) => Arc::new(material),
                    // A retired key we cannot read must not stop the others
                    // from loading; an active one we cannot sign with is fatal.
                    Err(error) if row.retired_at.is_some() => {
                        tracing::warn!(kid = %row.kid, %error, "skipping an unreadable retired signing key");
                        continue;
                    }
                    Err(error) => return Err(error.into()),
                },
            };
            if row.retired_at.is_none() {
                next.active.insert(material.algorithm, material.clone());
            }
            jwks.push(material.jwk.clone());
            next.by_kid.insert(row.kid.clone(), material);
        }
        next.jwks = serde_json::json!({ "keys": jwks }).to_string().into();
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(next);
        self.generation.store(generation, Ordering::Release);
        Ok(())
    }

    fn parse(&self, row: &StoredKey) -> Result<KeyMaterial, KeyError> {
        let algorithm = KeyAlgorithm::parse(&row.alg)?;
        let der = self.open_stored(&row.kid, &row.private_key, row.encrypted)?;
        let material = KeyMaterial::from_pkcs8(algorithm, &der)?;
        if material.kid != row.kid {
            return Err(KeyError::Unreadable(row.kid.clone()));
        }
        Ok(material)
    }

    fn snapshot(&self) -> Arc<KeySet> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The key new tokens of `algorithm` are signed with.
    pub fn signing_key(&self, algorithm: KeyAlgorithm) -> Option<Arc<KeyMaterial>> {
        self.snapshot().active.get(&algorithm).cloned()
    }

    /// The published key named `kid`, reloading once if it is unknown (a
    /// key rotated in by another instance).
    pub async fn verification_key(&self, kid: &str) -> Option<Arc<KeyMaterial>> {
        if let Some(key) = self.snapshot().by_kid.get(kid) {
            return Some(key.clone());
        }
        let may_reload = {
            let mut last = self.last_unknown_kid_reload.lock().unwrap_or_else(|e| e.into_inner());
            let due = last.is_none_or(|at| at.elapsed() >= UNKNOWN_KID_RELOAD_INTERVAL);
            if due {
                *last = Some(Instant::now());
            }
            due
        };
        if may_reload && let Err(error) = self.reload().await {
            tracing::warn!(%error, "reloading signing keys failed");
        }
        self.snapshot().by_kid.get(kid).cloned()
    }

    /// Whether the key `kid` is still published (not revoked, not pruned).
    pub fn publishes(&self, kid: &str) -> bool {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).by_kid.contains_key(kid)
    }

    /// The JWKS document (RFC 7517 §5): public keys only.
    pub fn jwks(&self) -> Arc<str> {
        self.snapshot().jwks.clone()
    }

    /// Makes a new key of `algorithm` active. The key it replaces stays
    /// published until every token it signed has expired: past the longest
    /// allowed token lifetime, not this process's, since `keys rotate` may
    /// run with other settings than the servers.
    pub async fn rotate(&self, algorithm: KeyAlgorithm) -> Result<String, KeyringError> {
        let key = self.new_stored_key(algorithm)?;
        let margin = KEY_REFRESH_INTERVAL.as_secs() + 60;
        let publish_until = self.clock.now() + (MAX_ACCESS_TOKEN_TTL_SECS + margin) as i64;
        self.store.rotate_key(&key, publish_until).await?;
        self.reload().await?;
        Ok(key.kid)
    }

    /// Unpublishes the key `kid` at once, everywhere: tokens it signed stop
    /// being accepted on every instance within `CASTELLAN_SYNC_INTERVAL`. If
    /// it was the active key of its algorithm, a new key takes its place.
    /// Returns the algorithm and the kid of the key now active for it.
    pub async fn revoke(&self, kid: &str) -> Result<(KeyAlgorithm, String), KeyringError> {
        let (stored, _) = self.store.all_sealable().await?;
        let row = stored.iter().find(|k| k.kid == kid).ok_or_else(|| KeyringError::UnknownKid(kid.into()))?;
        let algorithm = KeyAlgorithm::parse(&row.alg)?;
        let replacement = self.new_stored_key(algorithm)?;
        if self.store.revoke_key(kid, &replacement).await?.is_none() {
            return Err(KeyringError::UnknownKid(kid.into()));
        }
        self.reload().await?;
        let active = self.signing_key(algorithm).ok_or(KeyError::Signing)?;
        Ok((algorithm, active.kid.clone()))
    }

    /// Removes retired keys whose publication period is over.
    pub async fn prune(&self) -> Result<(), KeyringError> {
        if self.store.prune_keys(self.clock.now()).await? > 0 {
            self.reload().await?;
        }
        Ok(())
    }
}
