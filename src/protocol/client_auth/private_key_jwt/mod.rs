//! `private_key_jwt` (RFC 7523 §2.2 and §3, OpenID Connect Core §9): the
//! client sends a JWT signed with its private key as `client_assertion`,
//! with `client_assertion_type` naming the JWT bearer type (RFC 7521
//! §4.2), and is checked with the public keys it registered (`jwks`) or
//! publishes (`jwks_uri`, see `client_keys`).
//!
//! What is accepted: a signature by one of the client's keys with an
//! algorithm of [`AssertionAlgorithm::ALL`] (and the one it registered, if
//! any); `iss` and `sub` both the client id; `aud` the issuer or the URL of
//! the endpoint called; `exp` in the future and at most
//! [`MAX_LIFETIME_SECS`] away; `nbf` and `iat`, if present, not in the
//! future; and a `jti` never seen before from this client, by any instance
//! (the shared store's primary key decides).

mod assertion;
mod client_keys;

pub use assertion::{ClientAssertion, MAX_ASSERTION_BYTES};
pub use client_keys::{
    ClientKeySets, MAX_CACHE_AGE, REFETCH_INTERVAL, forget as forget_fetched_keys, key_set_cache,
};

use super::Credentials;
use crate::domain::client::keys::SignatureCheck;
use crate::domain::{Client, Params, ProtocolError};
use crate::protocol::Context;

/// RFC 7523 §2.2: the one `client_assertion_type` understood.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How far ahead `exp` may be: RFC 7523 §3 lets the server reject
/// assertions that live unreasonably long, and the `jti`s of accepted ones
/// are kept until they expire.
pub const MAX_LIFETIME_SECS: i64 = 300;
/// Clock skew allowed between the client and this server, both ways.
pub const LEEWAY_SECS: i64 = 30;
/// Bounds what one assertion stores.
pub const MAX_JTI_CHARS: usize = 256;

/// The credentials of a request with `client_assertion` or
/// `client_assertion_type` (RFC 7521 §4.2), one method per request
/// (RFC 6749 §2.3).
pub(super) fn credentials(has_authorization: bool, params: &Params) -> Result<Credentials, ProtocolError> {
    if has_authorization || params.get("client_secret").is_some() {
        return Err(ProtocolError::invalid_request(
            "use one client authentication method per request, not a client assertion and a secret (RFC 6749 §2.3)",
        ));
    }
    if params.get("client_assertion_type") != Some(ASSERTION_TYPE) {
        return Err(ProtocolError::invalid_client(format!(
            "client_assertion_type must be {ASSERTION_TYPE} (RFC 7523 §2.2)"
        )));
    }
    let assertion = params.require("client_assertion")?;
    let assertion = ClientAssertion::parse(assertion).map_err(ProtocolError::invalid_client)?;
    // RFC 7521 §4.2: a client_id sent as well must name the same client.
    if params.get("client_id").is_some_and(|id| id != assertion.subject()) {
        return Err(ProtocolError::invalid_request("client_id does not match the client assertion's sub"));
    }
    Ok(Credentials::Assertion(Box::new(assertion)))
}

/// Checks the assertion of `credentials` for `client`, called at
/// `endpoint_url`. The outer error is the database's; the inner one says
/// why the client is not authenticated.
pub(super) async fn verify(
    ctx: &Context,
    client: &Client,
    credentials: &Credentials,
    endpoint_url: &str,
    now: i64,
) -> Result<Result<(), &'static str>, ProtocolError> {
    let Credentials::Assertion(assertion) = credentials else { return Ok(Err(super::FAILED)) };
    let metadata = &client.metadata;
    if metadata.token_endpoint_auth_signing_alg.is_some_and(|alg| alg != assertion.alg) {
        return Ok(Err(super::FAILED));
    }
    if client_keys::check_signature(ctx, client, assertion).await != SignatureCheck::Verified {
        return Ok(Err(super::FAILED));
    }
    // Signed by the client: from here on the answer may say what is wrong.
    let expires_at = match check_claims(ctx, client, assertion, endpoint_url, now) {
        Ok(expires_at) => expires_at,
        Err(why) => return Ok(Err(why)),
    };
    let jti = assertion.jti().unwrap_or_default();
    // The one write of client authentication, last, so that no assertion
    // refused for anything else is recorded.
    if !ctx.storage.assertions.record_assertion_jti(&client.id, jti, expires_at).await? {
        return Ok(Err(
            "the client assertion was used before (its jti); sign a new one for every request (RFC 7523 §3)",
        ));
    }
    Ok(Ok(()))
}

/// RFC 7523 §3 items A to G, after the signature. Returns until when the
/// `jti` must be remembered: as long as the assertion would be accepted.
fn check_claims(
    ctx: &Context,
    client: &Client,
    assertion: &ClientAssertion,
    endpoint_url: &str,
    now: i64,
) -> Result<i64, &'static str> {
    let client_id = client.id.as_str();
    if assertion.issuer() != Some(client_id) || assertion.subject() != client_id {
        return Err("the client assertion's iss and sub must both be the client_id (RFC 7523 §3)");
    }
    if !assertion.has_audience(&[ctx.settings.issuer.as_str(), endpoint_url]) {
        return Err(
            "the client assertion's aud must be the issuer or the URL of this endpoint (RFC 7523 §3)",
        );
    }
    let Some(expires_at) = assertion.expires_at() else {
        return Err("the client assertion has no exp (RFC 7523 §3)");
    };
    if expires_at + LEEWAY_SECS <= now {
        return Err("the client assertion has expired");
    }
    if expires_at - now > MAX_LIFETIME_SECS + LEEWAY_SECS {
        return Err("the client assertion's exp is more than 300 seconds away; sign short-lived assertions");
    }
    let (Some(not_before), Some(issued_at)) = (assertion.not_before(), assertion.issued_at()) else {
        return Err("the client assertion's nbf or iat is not a NumericDate");
    };
    if not_before.is_some_and(|nbf| nbf > now + LEEWAY_SECS) {
        return Err("the client assertion is not valid yet (nbf)");
    }
    if issued_at.is_some_and(|iat| iat > now + LEEWAY_SECS) {
        return Err("the client assertion is issued in the future (iat)");
    }
    let jti_chars = assertion.jti().map_or(0, |jti| jti.chars().count());
    if jti_chars == 0 || jti_chars > MAX_JTI_CHARS {
        return Err("the client assertion needs a jti of 1 to 256 characters (RFC 7523 §3)");
    }
    Ok(expires_at + LEEWAY_SECS)
}
