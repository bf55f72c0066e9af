//! Dynamic client registration (RFC 7591) and its management protocol
//! (RFC 7592), under the policy the operator set (`CASTELLAN_REGISTRATION`):
//! `off`, `token` (an initial access token from the admin API, single use,
//! is required) or `open` (anyone, rate-limited per address).
//!
//! A self-registered client gets what an admin's client gets, within
//! narrower bounds (`ClientMetadataRequest::validate_dynamic`, `access`),
//! and its users are asked to consent every time. It is managed with its
//! registration access token (stored as a SHA-256 hash), and deleted when
//! it goes unused for `CASTELLAN_DYNAMIC_CLIENT_UNUSED_TTL` (`usage`).

mod access;
pub mod management;
mod rate;
pub mod usage;

use std::net::IpAddr;
use std::time::Duration;

use crate::domain::client::ClientMetadataRequest;
use crate::domain::secret::{Secret, SecretHash};
use crate::domain::{Client, ClientId, ClientOrigin, ErrorCode, ProtocolError};
use crate::protocol::Context;
use crate::protocol::security_event::{EventKind, SecurityEvent};
use crate::storage::DynamicInsert;

/// `CASTELLAN_REGISTRATION`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegistrationPolicy {
    /// No registration endpoint; discovery does not list one.
    #[default]
    Off,
    /// RFC 7591 §3: an initial access token from an admin is required.
    Token,
    /// Anyone may register.
    Open,
}

impl RegistrationPolicy {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "off" => Some(Self::Off),
            "token" => Some(Self::Token),
            "open" => Some(Self::Open),
            _ => None,
        }
    }

    pub fn is_enabled(self) -> bool {
        self != Self::Off
    }
}

/// The registration policy and its bounds.
#[derive(Debug, Clone)]
pub struct RegistrationSettings {
    pub policy: RegistrationPolicy,
    /// Registrations one address (an IPv6 /64) may make per hour.
    pub rate_per_hour: u32,
    /// The most dynamic clients stored at once.
    pub max_clients: u32,
    /// A dynamic client neither used nor registered for this long is deleted.
    pub unused_ttl: Duration,
}

impl Default for RegistrationSettings {
    fn default() -> Self {
        Self {
            policy: RegistrationPolicy::Off,
            rate_per_hour: 10,
            max_clients: 10_000,
            unused_ttl: Duration::from_secs(30 * 86_400),
        }
    }
}

/// A client just registered, with what is shown only now.
pub struct Registration {
    pub client: Client,
    /// The client secret of a confidential client.
    pub secret: Option<Secret>,
    /// RFC 7592 §3: the credential for the client configuration endpoint.
    pub registration_token: Secret,
}

/// The registration endpoint is absent under the `off` policy.
pub fn not_enabled() -> ProtocolError {
    ProtocolError::not_found("no such endpoint")
}

/// RFC 6750 §3.1 `invalid_token`, for initial and registration access
/// tokens alike: one answer, whether the token is unknown, spent, expired,
/// or names a client that does not exist.
pub fn invalid_token() -> ProtocolError {
    ProtocolError::new(ErrorCode::InvalidToken, "the token is invalid, expired or already used")
        .with_challenge("Bearer realm=\"castellan\", error=\"invalid_token\"".to_owned())
}

/// RFC 7591 §3.1: registers a client from `request`, called from `address`
/// with `bearer` (the request's bearer token, or why there is none). The
/// token is checked first (401), then the metadata (400), then the rate
/// (429); only then is an initial access token spent, so a request with
/// bad metadata can be corrected and sent again with the same token.
pub async fn register(
    ctx: &Context,
    bearer: Result<&str, ProtocolError>,
    address: IpAddr,
    request: Result<ClientMetadataRequest, ProtocolError>,
) -> Result<Registration, ProtocolError> {
    let settings = &ctx.settings.registration;
    let now = ctx.clock.now();
    let initial_token = match settings.policy {
        RegistrationPolicy::Off => return Err(not_enabled()),
        RegistrationPolicy::Open => None,
        RegistrationPolicy::Token => {
            let hash = SecretHash::of(&Secret::new(bearer?));
            if !ctx.storage.registrations.initial_access_token_usable(&hash, now).await? {
                return Err(invalid_token());
            }
            Some(hash)
        }
    };
    let metadata = request?.validate_dynamic()?;
    access::check(ctx, &metadata).await?;
    rate::count(ctx, address, now).await?;
    if let Some(hash) = &initial_token
        && !ctx.storage.registrations.use_initial_access_token(hash, now).await?
    {
        return Err(invalid_token());
    }
    let secret = metadata.token_endpoint_auth_method.uses_secret().then(Secret::generate);
    let registration_token = Secret::generate();
    let client = Client {
        id: ClientId::generate(),
        origin: ClientOrigin::Dynamic,
        secret_hash: secret.as_ref().map(SecretHash::of),
        previous_secret: None,
        metadata,
        issued_at: now,
        metadata_document_fetched_at: None,
    };
    let max = i64::from(settings.max_clients);
    let token_hash = SecretHash::of(&registration_token);
    if ctx.storage.registrations.insert_dynamic_client(&client, &token_hash, max).await?
        == DynamicInsert::Full
    {
        tracing::warn!(max, "dynamic client registration refused: CASTELLAN_DYNAMIC_CLIENTS_MAX reached");
        return Err(ProtocolError::new(
            ErrorCode::TemporarilyUnavailable,
            "no more clients can be registered now; try again later",
        ));
    }
    // Not cached yet, but what derives from all clients (the CORS origins) must see it.
    ctx.clients.invalidate(&client.id);
    let how = if initial_token.is_some() { "with an initial access token" } else { "openly" };
    SecurityEvent::new(EventKind::ClientRegistered)
        .address(address)
        .client(client.id.as_str())
        .detail(&format!("registered {how}"))
        .emit();
    Ok(Registration { client, secret, registration_token })
}
