//! Which web origins a browser app may call the token, userinfo and
//! revocation endpoints from (the Fetch standard's CORS protocol): the
//! origins (RFC 6454 §4, serialised as in §6.2) of every registered client's
//! `http`/`https` redirect URIs. A single-page app is registered with a
//! redirect URI on the origin it is served from, and calls from there. A
//! private-use scheme has no such origin, and `Origin: null` (an opaque
//! origin: a sandboxed frame, a `file:` page) is never allowed.
//!
//! The set is read on every cross-origin request, so each instance keeps it
//! in memory, as it keeps the clients: it is loaded at most once per
//! `CASTELLAN_CLIENT_CACHE_TTL` (at least a second), by one request while
//! the others wait for its answer. A client registered, changed or deleted
//! through this instance counts at once (the client cache's generation
//! moves); through another instance, within that time.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::domain::{Clock, RedirectUri};
use crate::protocol::clients::ClientRegistry;
use crate::storage::ClientStore;

/// At most this many clients' redirect URIs are read, in client id order;
/// the origins of any beyond are not allowed (and a warning says so).
pub const MAX_CLIENTS: usize = 50_000;
/// A load taking longer is abandoned, so waiting requests are not held
/// longer than this; the previous set is kept.
const LOAD_TIMEOUT: Duration = Duration::from_secs(5);
/// After a failed load, the previous set is used this long before the next
/// try, so a database outage costs one query per this many seconds.
const RETRY_AFTER_FAILURE_SECS: i64 = 2;

type Origins = Arc<HashSet<String>>;

struct Snapshot {
    origins: Origins,
    /// The client cache's generation when this load began.
    generation: u64,
    /// Clock seconds until which it is used without a reload.
    fresh_until: i64,
}

pub struct CorsOrigins {
    store: Arc<dyn ClientStore>,
    clients: Arc<ClientRegistry>,
    ttl_secs: i64,
    clock: Clock,
    snapshot: RwLock<Snapshot>,
    /// Held by the one request that loads; the others wait for it.
    loading: tokio::sync::Mutex<()>,
}

impl CorsOrigins {
    pub fn new(
        store: Arc<dyn ClientStore>,
        clients: Arc<ClientRegistry>,
        ttl: Duration,
        clock: Clock,
    ) -> Self {
        let empty = Snapshot { origins: Origins::default(), generation: 0, fresh_until: i64::MIN };
        Self {
            store,
            clients,
            ttl_secs: i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX).max(1),
            clock,
            snapshot: RwLock::new(empty),
            loading: tokio::sync::Mutex::new(()),
        }
    }

    /// Whether a browser page on `origin` (an `Origin` header's value, which
    /// browsers send serialised) may read these endpoints' answers.
    pub async fn allows(&self, origin: &str) -> bool {
        if origin == "null" {
            return false;
        }
        self.origins().await.contains(origin)
    }

    async fn origins(&self) -> Origins {
        if let Some(origins) = self.fresh() {
            return origins;
        }
        let _loading = self.loading.lock().await;
        // The request that held the lock before may just have loaded them.
        if let Some(origins) = self.fresh() {
            return origins;
        }
        self.load().await
    }

    fn fresh(&self) -> Option<Origins> {
        let snapshot = self.snapshot.read().unwrap_or_else(|e| e.into_inner());
        let fresh =
            snapshot.generation == self.clients.generation() && self.clock.now() < snapshot.fresh_until;
        fresh.then(|| snapshot.origins.clone())
    }

    /// Loads the origins (the caller holds `loading`). A change made while
    /// the load runs leaves the result stale, so the next request loads again.
    async fn load(&self) -> Origins {
        let generation = self.clients.generation();
        let loaded =
            tokio::time::timeout(LOAD_TIMEOUT, self.store.registered_redirect_uris(MAX_CLIENTS + 1)).await;
        let now = self.clock.now();
        let mut snapshot = self.snapshot.write().unwrap_or_else(|e| e.into_inner());
        match loaded {
            Ok(Ok(clients)) => {
                if clients.len() > MAX_CLIENTS {
                    tracing::warn!(
                        max_clients = MAX_CLIENTS,
                        "more clients than the CORS origins are read from: the origins of clients past the \
                         first {MAX_CLIENTS} (by client id) are not allowed"
                    );
                }
                let origins = Origins::new(web_origins(clients.iter().take(MAX_CLIENTS).flatten()));
                *snapshot =
                    Snapshot { origins: origins.clone(), generation, fresh_until: now + self.ttl_secs };
                origins
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, "loading the CORS origins failed; the previous ones are used");
                snapshot.generation = generation;
                snapshot.fresh_until = now + RETRY_AFTER_FAILURE_SECS;
                snapshot.origins.clone()
            }
            Err(_) => {
                tracing::warn!("loading the CORS origins timed out; the previous ones are used");
                snapshot.generation = generation;
                snapshot.fresh_until = now + RETRY_AFTER_FAILURE_SECS;
                snapshot.origins.clone()
            }
        }
    }
}

fn web_origins<'a>(redirect_uris: impl Iterator<Item = &'a RedirectUri>) -> HashSet<String> {
    redirect_uris.filter_map(RedirectUri::web_origin).collect()
}

#[cfg(test)]
mod tests;
