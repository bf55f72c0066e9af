//! `none` (RFC 7591 §2): a public client has no secret and names itself
//! with `client_id` (RFC 6749 §2.1, §3.2.1). That proves nothing, so what a
//! public client may do carries its own proof (PKCE, a refresh token bound
//! to it).

use super::Credentials;
use crate::domain::Client;

pub(super) fn verify(_client: &Client, credentials: &Credentials) -> Result<(), &'static str> {
    match credentials {
        Credentials::ClientId(_) => Ok(()),
        _ => Err(super::FAILED),
    }
}
