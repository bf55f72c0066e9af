//! Initial access tokens (RFC 7591 §3): made by an admin for
//! `CASTELLAN_REGISTRATION=token`, shown once, stored as SHA-256 hashes.
//! Each is good for one registration (RFC 7591 leaves the number open; one
//! is the safe default: a token handed to one developer cannot be reused
//! by whoever else sees it afterwards).

use super::Actor;
use crate::domain::ProtocolError;
use crate::domain::secret::{Secret, SecretHash};
use crate::protocol::Context;

/// How long a token lives when the admin does not say.
pub const DEFAULT_TTL_SECS: u32 = 86_400;
/// The longest a token may live: a forgotten one should not stay good for ever.
pub const MAX_TTL_SECS: u32 = 30 * 86_400;

/// A new token, valid for `expires_in` seconds (default one day); returns
/// it with its expiry (unix seconds).
pub async fn create(
    ctx: &Context,
    actor: &Actor,
    expires_in: Option<u32>,
) -> Result<(Secret, i64), ProtocolError> {
    let ttl = expires_in.unwrap_or(DEFAULT_TTL_SECS);
    if !(1..=MAX_TTL_SECS).contains(&ttl) {
        return Err(ProtocolError::invalid_request(format!(
            "expires_in must be from 1 to {MAX_TTL_SECS} seconds (30 days)"
        )));
    }
    let token = Secret::generate();
    let now = ctx.clock.now();
    let expires_at = now + i64::from(ttl);
    ctx.storage.registrations.insert_initial_access_token(&SecretHash::of(&token), now, expires_at).await?;
    actor.changed(&format!("created an initial access token valid until {expires_at}"), None);
    Ok((token, expires_at))
}
