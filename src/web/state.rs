//! What every handler shares: the protocol's context (settings, storage,
//! caches, clock) and the browser session settings.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use super::ServerLimits;
use crate::protocol::Context;

/// Browser session lifetimes.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// A session ends after this long without use...
    pub idle_timeout: Duration,
    /// ...and at the latest this long after sign-in.
    pub max_lifetime: Duration,
}

#[derive(Clone)]
pub struct AppState {
    pub protocol: Context,
    pub sessions: Arc<SessionSettings>,
    /// What the server allows each connection and request.
    pub limits: Arc<ServerLimits>,
}

/// Handlers call protocol functions with `&state`.
impl Deref for AppState {
    type Target = Context;

    fn deref(&self) -> &Context {
        &self.protocol
    }
}
