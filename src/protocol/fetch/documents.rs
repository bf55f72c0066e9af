//! Fetched documents, parsed and cached per URL.
//!
//! - Reuse follows the server's `Cache-Control` (RFC 9111), bounded: never
//!   less than [`CachePolicy::min`] (a client's `no-store` must not make
//!   every request a fetch) and never more than [`CachePolicy::max`] (a
//!   changed document is seen within it).
//! - A failure is remembered for [`CachePolicy::failure`], so a broken URL
//!   is not fetched on every request.
//! - Concurrent requests for one URL wait for the one fetch in flight.
//! - At most [`CachePolicy::max_entries`] URLs are kept; URLs come from
//!   anyone who can name a client, so the cache must not grow with them.
//!
//! The cache is this instance's own and safe to lose.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{FetchError, Fetcher};
use crate::domain::{Clock, HttpsUrl};

#[derive(Debug, Clone)]
pub struct CachePolicy {
    pub min: Duration,
    pub max: Duration,
    /// When the server says nothing.
    pub default: Duration,
    pub failure: Duration,
    pub max_entries: usize,
}

impl Default for CachePolicy {
    fn default() -> Self {
        Self {
            min: Duration::from_secs(60),
            max: Duration::from_secs(24 * 3600),
            default: Duration::from_secs(300),
            failure: Duration::from_secs(10),
            max_entries: 10_000,
        }
    }
}

/// Why a document is not available.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum DocumentError {
    #[error("{0}")]
    Fetch(#[from] FetchError),
    #[error("the document is not valid: {0}")]
    Invalid(String),
}

struct Slot<T> {
    value: Option<Result<Arc<T>, DocumentError>>,
    fetched_at: i64,
    expires_at: i64,
}

type SharedSlot<T> = Arc<tokio::sync::Mutex<Slot<T>>>;

pub struct CachedDocuments<T> {
    fetcher: Arc<Fetcher>,
    clock: Clock,
    policy: CachePolicy,
    slots: Mutex<HashMap<String, SharedSlot<T>>>,
}

impl<T: Send + Sync + 'static> CachedDocuments<T> {
    pub fn new(fetcher: Arc<Fetcher>, clock: Clock, policy: CachePolicy) -> Self {
        Self { fetcher, clock, policy, slots: Mutex::new(HashMap::new()) }
    }

    /// The document at `url`, parsed by `parse`, from the cache while it is fresh.
    pub async fn get(
        &self,
        url: &HttpsUrl,
        parse: impl FnOnce(&[u8]) -> Result<T, String>,
    ) -> Result<Arc<T>, DocumentError> {
        self.load(url, None, parse).await
    }

    /// As [`get`](Self::get), but fetched again unless the cached copy was
    /// fetched less than `min_interval` ago: for a key id the cached JWKS
    /// does not have (the client may have rotated), rate-limited so that
    /// unknown ids cannot make Castellan fetch on every request.
    pub async fn refresh(
        &self,
        url: &HttpsUrl,
        min_interval: Duration,
        parse: impl FnOnce(&[u8]) -> Result<T, String>,
    ) -> Result<Arc<T>, DocumentError> {
        self.load(url, Some(min_interval), parse).await
    }

    /// Forgets `url` (its client changed).
    pub fn forget(&self, url: &HttpsUrl) {
        self.lock().remove(url.as_str());
    }

    async fn load(
        &self,
        url: &HttpsUrl,
        refresh_after: Option<Duration>,
        parse: impl FnOnce(&[u8]) -> Result<T, String>,
    ) -> Result<Arc<T>, DocumentError> {
        let slot = self.slot(url);
        // Waiting here is the coalescing: whoever holds the lock is fetching.
        let mut slot = slot.lock().await;
        let now = self.clock.now();
        let stale = match (&slot.value, refresh_after) {
            (None, _) => true,
            (Some(_), Some(interval)) => now >= slot.fetched_at + secs(interval),
            (Some(_), None) => now >= slot.expires_at,
        };
        if stale {
            let fetched = self.fetcher.get(url).await;
            if fetched.as_ref().is_err_and(|error| *error == FetchError::Busy) {
                // Not this URL's fault: not remembered.
                return match &slot.value {
                    Some(Ok(value)) if now < slot.expires_at => Ok(value.clone()),
                    _ => Err(DocumentError::Fetch(FetchError::Busy)),
                };
            }
            let (value, lifetime) = match fetched {
                Ok(fetched) => {
                    let lifetime = self.lifetime(fetched.max_age, fetched.no_store);
                    match parse(&fetched.body) {
                        Ok(value) => (Ok(Arc::new(value)), lifetime),
                        Err(reason) => (Err(DocumentError::Invalid(reason)), self.policy.failure),
                    }
                }
                Err(error) => (Err(DocumentError::Fetch(error)), self.policy.failure),
            };
            let still_fresh = matches!(slot.value, Some(Ok(_))) && now < slot.expires_at;
            if value.is_err() && still_fresh {
                // A refresh that failed keeps the copy that has not expired
                // (and counts as the attempt, for the rate limit).
                slot.fetched_at = now;
            } else {
                *slot = Slot { value: Some(value), fetched_at: now, expires_at: now + secs(lifetime) };
            }
        }
        match &slot.value {
            Some(value) => value.clone(),
            None => Err(DocumentError::Fetch(FetchError::Transport)),
        }
    }

    fn lifetime(&self, max_age: Option<Duration>, no_store: bool) -> Duration {
        let asked = if no_store { Duration::ZERO } else { max_age.unwrap_or(self.policy.default) };
        asked.clamp(self.policy.min, self.policy.max)
    }

    fn slot(&self, url: &HttpsUrl) -> SharedSlot<T> {
        let mut slots = self.lock();
        if let Some(slot) = slots.get(url.as_str()) {
            return slot.clone();
        }
        if slots.len() >= self.policy.max_entries {
            self.evict(&mut slots);
        }
        let slot = Arc::new(tokio::sync::Mutex::new(Slot { value: None, fetched_at: 0, expires_at: 0 }));
        slots.insert(url.as_str().to_owned(), slot.clone());
        slot
    }

    /// Drops expired entries; when none has expired, an arbitrary idle one.
    fn evict(&self, slots: &mut HashMap<String, SharedSlot<T>>) {
        let now = self.clock.now();
        let expired = |slot: &SharedSlot<T>| slot.try_lock().is_ok_and(|s| now >= s.expires_at);
        slots.retain(|_, slot| !expired(slot));
        if slots.len() >= self.policy.max_entries {
            let idle = slots.iter().find(|(_, slot)| slot.try_lock().is_ok()).map(|(url, _)| url.clone());
            if let Some(url) = idle {
                slots.remove(&url);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, SharedSlot<T>>> {
        self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX / 2)
}
