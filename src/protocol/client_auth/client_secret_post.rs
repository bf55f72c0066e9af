//! `client_secret_post` (RFC 6749 §2.3.1): `client_id` and `client_secret`
//! as parameters of the form body.

use super::{Credentials, secret_matches};
use crate::domain::Client;

pub(super) fn verify(client: &Client, credentials: &Credentials, now: i64) -> Result<(), &'static str> {
    match credentials {
        Credentials::Post { secret, .. } if secret_matches(client, secret, now) => Ok(()),
        _ => Err(super::FAILED),
    }
}
