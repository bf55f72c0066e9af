//! What the RFCs say happens: plain async functions over the storage traits
//! and the per-instance caches, with no HTTP and no browser sessions. Each
//! grant, endpoint and client authentication method is a module of its own.

pub mod access_token;
pub mod admin;
pub mod audience;
pub mod authorize;
pub mod bearer;
pub mod client_auth;
pub mod client_metadata_documents;
pub mod clients;
pub mod cors_origins;
pub mod fetch;
pub mod id_token;
pub mod introspection;
pub mod key_sealing;
pub mod keyring;
pub mod password;
pub mod registration;
pub mod resources;
pub mod revocation;
pub mod revocation_list;
pub mod scope_policy;
pub mod security_event;
pub mod throttle;
pub mod token;
pub mod userinfo;
pub mod verified_tokens;

use std::sync::Arc;
use std::time::Duration;

use crate::domain::{Clock, ErrorCode, Issuer, ProtocolError};
use crate::storage::{Storage, StorageError};
use client_auth::ClientAuthThrottle;
use clients::ClientRegistry;
use cors_origins::CorsOrigins;
use keyring::Keyring;
use password::Passwords;
use resources::ResourceRegistry;
use revocation_list::RevocationList;
use verified_tokens::VerifiedTokens;

/// The longest access-token lifetime that may be configured.
pub const MAX_ACCESS_TOKEN_TTL_SECS: u64 = 86_400;

/// The issuer and the lifetimes of what it issues.
#[derive(Debug, Clone)]
pub struct Settings {
    pub issuer: Issuer,
    pub access_token_ttl: Duration,
    /// A refresh token family lives at most this long from the authorization...
    pub refresh_token_ttl: Duration,
    /// ...and a refresh token not used for this long expires.
    pub refresh_token_idle_ttl: Duration,
    /// How many tokens one client may revoke per minute (RFC 7009 requests),
    /// which bounds how fast it can grow every instance's revocation list.
    pub revocation_rate: u32,
    /// The userinfo endpoint's URL: the audience an OpenID token for
    /// resources carries besides them, so that the app can still call
    /// userinfo with it, while a server that accepts the issuer's own
    /// audience does not take it (RFC 8707 §2, RFC 9068 §4).
    pub userinfo_audience: String,
    /// Dynamic client registration (RFC 7591): the policy and its bounds.
    pub registration: registration::RegistrationSettings,
}

/// What every protocol function reads: settings, storage, the per-instance
/// caches and the clock. Cheap to clone.
#[derive(Clone)]
pub struct Context {
    pub settings: Arc<Settings>,
    pub storage: Storage,
    pub clients: Arc<ClientRegistry>,
    /// The registered resources (RFC 8707), cached as clients are.
    pub resources: Arc<ResourceRegistry>,
    /// The origins browser apps may call from (see `cors_origins`).
    pub cors_origins: Arc<CorsOrigins>,
    pub keys: Arc<Keyring>,
    /// The one HTTP client for URLs that clients name (see `fetch`).
    pub fetcher: Arc<fetch::Fetcher>,
    /// The key sets at the `jwks_uri`s of `private_key_jwt` clients, fetched
    /// through `fetcher` and cached per URL.
    pub client_key_sets: Arc<client_auth::private_key_jwt::ClientKeySets>,
    pub revocations: Arc<RevocationList>,
    pub verified_tokens: Arc<VerifiedTokens>,
    /// Failed client authentications of this instance (see `client_auth`).
    pub client_auth_throttle: Arc<ClientAuthThrottle>,
    /// The hashing threads and the failure budget of password checks.
    pub passwords: Arc<Passwords>,
    /// The dynamic clients used since the upkeep last recorded it.
    pub client_usage: Arc<registration::usage::ClientUsage>,
    pub clock: Clock,
}

impl From<StorageError> for ProtocolError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Unavailable(_) => {
                tracing::warn!(error = %error, "database unavailable");
                Self::new(ErrorCode::TemporarilyUnavailable, "the database is unavailable, try again")
            }
            StorageError::Conflict(what) => Self::new(ErrorCode::Conflict, what),
            other => Self::internal(&other),
        }
    }
}
