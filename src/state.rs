//! What every handler shares: settings, storage, and the per-instance caches.

use std::sync::Arc;

use crate::client_registry::ClientRegistry;
use crate::config::Config;
use crate::keys::Keyring;
use crate::revocation::RevocationList;
use crate::storage::Storage;
use crate::verified_tokens::VerifiedTokens;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub storage: Storage,
    pub clients: Arc<ClientRegistry>,
    pub keys: Arc<Keyring>,
    pub revocations: Arc<RevocationList>,
    pub verified_tokens: Arc<VerifiedTokens>,
}
