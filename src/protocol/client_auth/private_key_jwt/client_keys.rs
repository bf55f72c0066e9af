//! The keys an assertion is checked with: the client's registered `jwks`,
//! parsed when the client was loaded (and so cached, and forgotten, with
//! the client), or the set at its `jwks_uri`, fetched with the safety
//! rules of `protocol::fetch` and cached per URL as its `Cache-Control`
//! says, within bounds.
//!
//! OpenID Connect Core §10.1.1: a client rotates its keys by publishing a
//! new one; a `kid` the cached set does not have makes a new fetch, at
//! most once per [`REFETCH_INTERVAL`] per URL, so that assertions naming
//! made-up `kid`s cannot make Castellan fetch on every request.

use std::sync::Arc;
use std::time::Duration;

use super::ClientAssertion;
use crate::domain::client::ClientJwks;
use crate::domain::client::keys::{SignatureCheck, Source};
use crate::domain::{Client, ClientMetadata, Clock};
use crate::protocol::Context;
use crate::protocol::fetch::{CachePolicy, CachedDocuments, Fetcher};

/// The fetched key sets of `jwks_uri` clients, per URL.
pub type ClientKeySets = CachedDocuments<ClientJwks>;

/// How often an unknown `kid` may make the set at one URL be fetched again.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(10);

/// A set is reused at most this long, whatever its `Cache-Control` says:
/// a key the client removed (lost, compromised) stops verifying within it
/// on every instance.
pub const MAX_CACHE_AGE: Duration = Duration::from_secs(3_600);

/// The cache of fetched sets of one instance.
pub fn key_set_cache(fetcher: Arc<Fetcher>, clock: Clock) -> ClientKeySets {
    let policy = CachePolicy { max: MAX_CACHE_AGE, ..CachePolicy::default() };
    CachedDocuments::new(fetcher, clock, policy)
}

/// A fetched set: a JWK Set whose unusable keys (encryption keys, other
/// algorithms) are skipped, with at least one usable key.
fn parse(body: &[u8]) -> Result<ClientJwks, String> {
    let document = serde_json::from_slice(body).map_err(|_| "the JWK Set is not JSON".to_owned())?;
    ClientJwks::parse_from(document, Source::Fetched).map_err(|why| format!("the JWK Set {why}"))
}

fn check(jwks: &ClientJwks, assertion: &ClientAssertion) -> SignatureCheck {
    jwks.verify(assertion.alg, assertion.kid.as_deref(), assertion.signing_input(), assertion.signature())
}

/// Checks the assertion's signature with `client`'s keys.
pub(super) async fn check_signature(
    ctx: &Context,
    client: &Client,
    assertion: &ClientAssertion,
) -> SignatureCheck {
    let url = match (&client.metadata.jwks, &client.metadata.jwks_uri) {
        (Some(jwks), _) => return check(jwks, assertion),
        (None, Some(url)) => url,
        (None, None) => return SignatureCheck::NoSuchKey,
    };
    let failed = |error: &dyn std::fmt::Display| {
        tracing::warn!(client_id = %client.id, jwks_uri = %url, %error, "the keys of a private_key_jwt client could not be fetched");
        SignatureCheck::NoSuchKey
    };
    let checked = match ctx.client_key_sets.get(url, parse).await {
        Ok(jwks) => check(&jwks, assertion),
        Err(error) => return failed(&error),
    };
    // A new key: one the set does not name, or, for an assertion without a
    // kid, one that none of the set's keys verifies.
    let maybe_rotated = checked == SignatureCheck::NoSuchKey
        || (checked == SignatureCheck::Invalid && assertion.kid.is_none());
    if !maybe_rotated {
        return checked;
    }
    match ctx.client_key_sets.refresh(url, REFETCH_INTERVAL, parse).await {
        Ok(jwks) => check(&jwks, assertion),
        Err(error) => failed(&error),
    }
}

/// Forgets the fetched keys of a client whose metadata changed or that was
/// deleted, so that this instance fetches them anew.
pub fn forget(ctx: &Context, metadata: &ClientMetadata) {
    if let Some(url) = &metadata.jwks_uri {
        ctx.client_key_sets.forget(url);
    }
}
