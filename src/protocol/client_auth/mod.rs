//! Client authentication at the token, introspection and revocation
//! endpoints (RFC 6749 §2.3). The method is the one the client *registered*
//! (`token_endpoint_auth_method`, RFC 7591 §2): a client registered for
//! `client_secret_basic` that sends its secret in the body is refused, and
//! the reverse. One module per method; a new method is a new module and a
//! new arm in [`authenticate`].

mod client_secret_basic;
mod client_secret_post;
mod none;
pub mod private_key_jwt;
mod throttle;

use std::net::IpAddr;
use std::sync::Arc;

pub use throttle::ClientAuthThrottle;

use crate::domain::secret::Secret;
use crate::domain::{Client, ClientId, Params, ProtocolError, TokenEndpointAuthMethod};
use crate::protocol::Context;
use crate::protocol::security_event::{EventKind, SecurityEvent};

/// The methods a client may register, in the order discovery lists them.
pub const METHODS: [TokenEndpointAuthMethod; 4] = [
    TokenEndpointAuthMethod::ClientSecretBasic,
    TokenEndpointAuthMethod::ClientSecretPost,
    TokenEndpointAuthMethod::PrivateKeyJwt,
    TokenEndpointAuthMethod::None,
];

/// One answer for every failure (unknown client, wrong secret, a method
/// other than the registered one), so that nobody learns from it which
/// clients exist or how they authenticate.
const FAILED: &str =
    "client authentication failed (wrong credentials, or not the method the client registered)";

/// RFC 6749 §5.2: a failed Basic authentication answers 401 with a challenge.
const BASIC_CHALLENGE: &str = "Basic realm=\"castellan\", charset=\"UTF-8\"";

/// How the caller presented itself. Exactly one method per request (§2.3).
#[derive(Debug)]
pub enum Credentials {
    /// `client_secret_basic`: HTTP Basic (§2.3.1).
    Basic { id: String, secret: Secret },
    /// `client_secret_post`: `client_id` and `client_secret` in the body (§2.3.1).
    Post { id: String, secret: Secret },
    /// `none`: a public client names itself with `client_id` (§2.1, §3.2.1).
    ClientId(String),
    /// `private_key_jwt`: a signed JWT in `client_assertion` (RFC 7523 §2.2).
    Assertion(Box<private_key_jwt::ClientAssertion>),
}

impl Credentials {
    /// The credentials of a request with the `Authorization` header
    /// `authorization` (if any) and the form body `params`.
    pub fn from_request(authorization: Option<&str>, params: &Params) -> Result<Self, ProtocolError> {
        if params.get("client_assertion").is_some() || params.get("client_assertion_type").is_some() {
            return private_key_jwt::credentials(authorization.is_some(), params);
        }
        let form_id = params.get("client_id");
        let form_secret = params.get("client_secret");
        if let Some(value) = authorization {
            let (id, secret) = client_secret_basic::parse_header(value).ok_or_else(|| {
                failed(true, "the Authorization header is not valid HTTP Basic client authentication")
            })?;
            if form_secret.is_some() {
                return Err(ProtocolError::invalid_request(
                    "use one client authentication method per request, not both Basic and client_secret (RFC 6749 §2.3)",
                ));
            }
            if form_id.is_some_and(|form_id| form_id != id) {
                return Err(ProtocolError::invalid_request("client_id does not match the Basic credentials"));
            }
            return Ok(Self::Basic { id, secret });
        }
        match (form_id, form_secret) {
            (Some(id), Some(secret)) => Ok(Self::Post { id: id.to_owned(), secret: Secret::new(secret) }),
            (Some(id), None) => Ok(Self::ClientId(id.to_owned())),
            (None, Some(_)) => {
                Err(ProtocolError::invalid_request("client_secret was sent without client_id"))
            }
            (None, None) => Err(failed(true, "client authentication is required")),
        }
    }

    fn client_id(&self) -> &str {
        match self {
            Self::Basic { id, .. } | Self::Post { id, .. } | Self::ClientId(id) => id,
            Self::Assertion(assertion) => assertion.subject(),
        }
    }

    fn is_basic(&self) -> bool {
        matches!(self, Self::Basic { .. })
    }
}

/// `invalid_client`, with the Basic challenge when the caller tried Basic
/// or sent nothing (RFC 6749 §5.2).
fn failed(basic: bool, description: &'static str) -> ProtocolError {
    let error = ProtocolError::invalid_client(description);
    if basic { error.with_challenge(BASIC_CHALLENGE.to_owned()) } else { error }
}

/// Authenticates the client calling `endpoint_url` (the absolute URL of the
/// token, introspection or revocation endpoint: an assertion's audience)
/// from `address` by the method it registered. Failures are throttled (see
/// `throttle`) and logged.
pub async fn authenticate(
    ctx: &Context,
    credentials: &Credentials,
    address: IpAddr,
    endpoint_url: &str,
) -> Result<Arc<Client>, ProtocolError> {
    let basic = credentials.is_basic();
    let now = ctx.clock.now();
    let throttle = &ctx.client_auth_throttle;
    if let Some(wait) = throttle.retry_after(credentials.client_id(), address, now) {
        let description = "too many failed client authentications from this address; try again later";
        return Err(ProtocolError::invalid_client(description).with_retry_after(wait.unsigned_abs()));
    }
    let client = match ClientId::parse(credentials.client_id()) {
        Ok(client_id) => ctx.clients.get(&client_id).await?,
        Err(_) => None,
    };
    let verified = match &client {
        None => Err(FAILED),
        Some(client) => match client.metadata.token_endpoint_auth_method {
            TokenEndpointAuthMethod::ClientSecretBasic => {
                client_secret_basic::verify(client, credentials, now)
            }
            TokenEndpointAuthMethod::ClientSecretPost => client_secret_post::verify(client, credentials, now),
            TokenEndpointAuthMethod::PrivateKeyJwt => {
                private_key_jwt::verify(ctx, client, credentials, endpoint_url, now).await?
            }
            TokenEndpointAuthMethod::None => none::verify(client, credentials),
        },
    };
    match (client, verified) {
        (Some(client), Ok(())) => {
            throttle.succeeded(client.id.as_str(), address);
            ctx.client_usage.record(&client);
            Ok(client)
        }
        (client, result) => {
            let known_id = client.as_ref().map(|c| c.id.as_str());
            let lock = throttle.failed(known_id, address, now);
            let mut event = SecurityEvent::new(EventKind::ClientAuthenticationFailed).address(address);
            if let Some(id) = known_id {
                event = event.client(id);
            }
            // A reason other than the uniform one (a replayed assertion, say) is worth keeping.
            if let Err(reason) = result
                && reason != FAILED
            {
                event = event.detail(reason);
            }
            event.emit();
            if let Some(lock) = lock {
                let mut event = SecurityEvent::new(EventKind::ClientAuthenticationLocked).address(address);
                if let Some(id) = known_id {
                    event = event.client(id);
                }
                event.detail(&format!("locked for {} s", lock.seconds)).emit();
            }
            Err(failed(basic, result.err().unwrap_or(FAILED)))
        }
    }
}

/// The secret check both secret methods share: constant time, against the
/// stored hashes only; the secret a rotation replaced counts until its
/// grace period ends at `now` (see [`Client::secret_matches`]).
fn secret_matches(client: &Client, secret: &Secret, now: i64) -> bool {
    client.secret_matches(secret, now)
}
