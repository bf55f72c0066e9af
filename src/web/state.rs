//! What every handler shares: the protocol's context (settings, storage,
//! caches, clock) and the browser session settings.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use super::ServerLimits;
use crate::domain::TrustedProxies;
use crate::protocol::Context;

/// Browser session lifetimes.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// A session ends after this long without use...
    pub idle_timeout: Duration,
    /// ...and at the latest this long after sign-in.
    pub max_lifetime: Duration,
}

/// What handlers share, behind one `Arc`: axum clones the state for every
/// request, and one reference count is cheaper than one per field.
#[derive(Clone)]
pub struct AppState(Arc<SharedState>);

pub struct SharedState {
    pub protocol: Context,
    pub sessions: SessionSettings,
    /// What the server allows each connection and request.
    pub limits: ServerLimits,
    /// Whose `Forwarded` / `X-Forwarded-For` give the client's address.
    pub trusted_proxies: TrustedProxies,
}

impl AppState {
    pub fn new(
        protocol: Context,
        sessions: SessionSettings,
        limits: ServerLimits,
        trusted_proxies: TrustedProxies,
    ) -> Self {
        Self(Arc::new(SharedState { protocol, sessions, limits, trusted_proxies }))
    }
}

/// `state.sessions`, `state.limits`...
impl Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

/// ...and handlers call protocol functions with `&state`.
impl Deref for SharedState {
    type Target = Context;

    fn deref(&self) -> &Context {
        &self.protocol
    }
}
