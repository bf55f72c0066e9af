//! Which dynamic clients are in use, so that those nobody uses are deleted
//! (`CASTELLAN_DYNAMIC_CLIENT_UNUSED_TTL`): open registration must not let
//! storage fill with clients registered once and abandoned.
//!
//! A use (client authentication; not an authorization request, which
//! anyone can send in the client's name) is noted in memory only: the token path never writes to the database for it. The
//! periodic upkeep writes the noted ids in one statement, then prunes; a use
//! is thus recorded up to one upkeep interval late, far within the TTL.

use std::collections::HashSet;
use std::sync::Mutex;

use crate::domain::{Client, ClientId, ClientOrigin};
use crate::protocol::Context;
use crate::storage::StorageError;

/// The dynamic clients used on this instance since the last flush. It
/// holds ids of existing dynamic clients only, so it is bounded by
/// `CASTELLAN_DYNAMIC_CLIENTS_MAX`.
#[derive(Default)]
pub struct ClientUsage {
    used: Mutex<HashSet<ClientId>>,
}

impl ClientUsage {
    /// Notes that `client` was used now (nothing for an admin's client).
    pub fn record(&self, client: &Client) {
        if client.origin != ClientOrigin::Dynamic {
            return;
        }
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        if !used.contains(&client.id) {
            used.insert(client.id.clone());
        }
    }

    fn take(&self) -> Vec<ClientId> {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        used.drain().collect()
    }

    fn put_back(&self, ids: Vec<ClientId>) {
        self.used.lock().unwrap_or_else(|e| e.into_inner()).extend(ids);
    }
}

/// The upkeep's part: records the noted uses, deletes the dynamic clients
/// unused for the TTL (this instance forgets them at once, others within
/// the client cache TTL), and prunes spent initial access tokens and old
/// rate counts. Returns how many clients were deleted.
pub async fn upkeep(ctx: &Context) -> Result<usize, StorageError> {
    let now = ctx.clock.now();
    let store = &ctx.storage.registrations;
    let used = ctx.client_usage.take();
    if !used.is_empty()
        && let Err(error) = store.record_client_use(&used, now).await
    {
        // Kept for the next pass: a client must not be pruned for a failed write.
        ctx.client_usage.put_back(used);
        return Err(error);
    }
    let ttl = i64::try_from(ctx.settings.registration.unused_ttl.as_secs()).unwrap_or(i64::MAX);
    let pruned = store.prune_unused_clients(now.saturating_sub(ttl)).await?;
    for id in &pruned {
        ctx.clients.invalidate(id);
    }
    if !pruned.is_empty() {
        tracing::info!(count = pruned.len(), "deleted dynamically registered clients that went unused");
    }
    store.prune_registration_records(now, now - super::rate::WINDOW_SECS).await?;
    Ok(pruned.len())
}
