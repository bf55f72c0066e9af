//! The `refresh_token` grant (RFC 6749 §6) with rotation and reuse
//! detection (RFC 9700 §4.14.2): every use returns a new refresh token, and
//! presenting a used one revokes its whole family. A confidential client
//! registered with a reuse grace (FAPI 2.0 security profile §5.3.2.1) that
//! retries within it gets the same successor again (derived from the token
//! it replaces: `refresh_policy`), with a new access token.

use std::net::IpAddr;

use super::TokenResponse;
use crate::domain::Params;
use crate::domain::secret::{SecretHash, random_token};
use crate::domain::{Client, GrantType, ResourceSet, ScopeSet};
use crate::domain::{ErrorCode, ProtocolError};
use crate::protocol::Context;
use crate::protocol::access_token::{self, IssueSpec, IssuedToken};
use crate::protocol::audience::Audience;
use crate::protocol::id_token::{self, IdTokenGrant};
use crate::protocol::scope_policy::ScopePolicy;
use crate::protocol::security_event::{EventKind, SecurityEvent};
use crate::storage::{FamilyAccessToken, RefreshTokenRecord, Retry, Rotation, TokenFamily};

fn invalid_grant(description: &'static str) -> ProtocolError {
    ProtocolError::new(ErrorCode::InvalidGrant, description)
}

/// Whether `token` has the shape of our refresh tokens (43 base64url
/// characters), so that a JWT or garbage costs no database read.
pub fn looks_like_refresh_token(token: &str) -> bool {
    token.len() == 43 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub fn token_hash(token: &str) -> Vec<u8> {
    SecretHash::of_bytes(token.as_bytes()).as_bytes().to_vec()
}

/// The record of `token`, a new refresh token of `family` (only its hash
/// is stored), issued with the access token `with`.
fn record_of(
    ctx: &Context,
    token: &str,
    family: &TokenFamily,
    with: &IssuedToken,
    now: i64,
) -> RefreshTokenRecord {
    let idle_expires_at = (now + ctx.settings.refresh_token_idle_ttl.as_secs() as i64).min(family.expires_at);
    RefreshTokenRecord {
        token_hash: token_hash(token),
        family_id: family.family_id.clone(),
        issued_at: now,
        idle_expires_at,
        rotated_at: None,
        access_jti: with.claims.jti.clone(),
        access_expires_at: with.claims.exp,
    }
}

/// The first refresh token of a new family (256 random bits), and its
/// record, which the code's redemption stores with the family.
pub fn first_of(
    ctx: &Context,
    family: &TokenFamily,
    with: &IssuedToken,
    now: i64,
) -> (String, RefreshTokenRecord) {
    let token = random_token(32);
    let record = record_of(ctx, &token, family, with, now);
    (token, record)
}

/// Whether a refresh token may still be used at `now` (its family's
/// revocation and reuse are checked by the caller).
pub fn is_live(token: &RefreshTokenRecord, family: &TokenFamily, now: i64) -> bool {
    token.rotated_at.is_none() && !family.revoked && token.idle_expires_at > now && family.expires_at > now
}

/// RFC 6749 §6 parameters, as sent: each is checked where the RFC's order
/// puts it (a reused refresh token revokes its family whatever else is wrong).
pub struct Request {
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    /// RFC 8707 §2.2: may narrow the resources the family grants.
    pub resources: ResourceSet,
}

impl Request {
    pub fn parse(params: &Params, resources: ResourceSet) -> Self {
        Self {
            resources,
            refresh_token: params.get("refresh_token").map(str::to_owned),
            scope: params.get("scope").map(str::to_owned),
        }
    }
}

pub async fn grant(
    ctx: &Context,
    client: &Client,
    address: IpAddr,
    request: Request,
) -> Result<TokenResponse, ProtocolError> {
    // RFC 6749 §5.2 `unauthorized_client`: only a client registered with
    // this grant (RFC 7591 §2) may use it, and its tokens are the code
    // grant's, so that grant is needed too.
    let policy = ScopePolicy::for_user(client)
        .filter(|_| client.metadata.allows_grant(GrantType::RefreshToken))
        .ok_or_else(|| {
            ProtocolError::new(
                ErrorCode::UnauthorizedClient,
                "this client may not use the refresh_token grant",
            )
        })?;
    let presented_token = super::required(request.refresh_token.as_deref(), "refresh_token")?;
    let presented = token_hash(presented_token);
    let now = ctx.clock.now();
    let found = ctx.storage.grants.get_refresh_token_with_user(&presented).await?;
    let (token, family, user) = found.ok_or_else(|| invalid_grant("the refresh token is invalid"))?;
    if family.client_id != client.id {
        return Err(invalid_grant("the refresh token was issued to another client"));
    }
    // A rotated token is a replay, unless its client retries within its grace.
    let retried = match token.rotated_at {
        Some(rotated_at) if !family.revoked => {
            if grace_began(client, now).is_none_or(|since| rotated_at < since) {
                return Err(reused(ctx, &family, address).await);
            }
            true
        }
        _ if !is_live(&token, &family, now) => {
            return Err(invalid_grant("the refresh token has expired or been revoked"));
        }
        _ => false,
    };
    // RFC 8707 §2.2: the resources may be narrowed, never widened.
    let audience = Audience::within_grant(ctx, client, &family.resources, &request.resources).await?;
    // §6: the scope may be narrowed, never widened beyond the original
    // grant, nor beyond what the client may have now (for those resources).
    let grantable = policy.narrow_for(&family.scope, &audience);
    let scope = match request.scope.as_deref() {
        None => grantable.clone(),
        Some(value) => ScopeSet::parse(value).map_err(ProtocolError::invalid_scope)?,
    };
    if scope.is_empty() || !scope.is_subset_of(&grantable) {
        return Err(ProtocolError::invalid_scope("the scope exceeds what was granted or is still allowed"));
    }
    // Disabling revokes the families; this also holds for one rotated
    // while the user was being disabled.
    if user.is_disabled() {
        return Err(invalid_grant("the user is disabled"));
    }
    let resources = audience.indicators();
    let spec = IssueSpec::for_user(&client.id, &user, &scope, family.auth_time).for_resources(&resources);
    let issued = access_token::issue(ctx, spec)?;
    // Derived, so that a retry within a grace can find it again.
    let refresh_token = ctx.keys.refresh_successor_key().successor_of(presented_token);
    let record = record_of(ctx, &refresh_token, &family, &issued, now);
    let rotation = if retried {
        Rotation::AlreadyRotated
    } else {
        // Exactly one of several concurrent uses rotates.
        ctx.storage.grants.rotate_refresh_token(&presented, &record, now).await?
    };
    match rotation {
        Rotation::Rotated => {}
        Rotation::AlreadyRotated => retry(ctx, client, &family, address, (&presented, &record), now).await?,
        Rotation::FamilyEnded => return Err(invalid_grant("the refresh token has expired or been revoked")),
    }
    // OpenID Connect Core §12.2: a refreshed ID token, without a nonce.
    let id_token = id_token::issue_if_openid(
        ctx,
        &IdTokenGrant {
            client,
            user: &user,
            scope: &scope,
            auth_time: family.auth_time,
            nonce: None,
            access_token: &issued.token,
        },
    )?;
    Ok(TokenResponse { refresh_token: Some(refresh_token), id_token, ..TokenResponse::bearer(issued) })
}

/// When the reuse grace of a token rotated before `now` began: `None` for a
/// client without one (public clients never have one; checked again here).
fn grace_began(client: &Client, now: i64) -> Option<i64> {
    let grace = client.metadata.refresh_token_reuse_grace;
    (client.is_confidential() && !grace.is_none()).then(|| now - grace.seconds())
}

/// A rotated token presented again by its client: within the client's grace
/// and while the successor `record` is unused, the retry is answered with
/// that successor again (the new access token is recorded under the family);
/// otherwise it is a replay. Concurrent first uses of one token by a client
/// with a grace all end here but one, and all get the same successor.
async fn retry(
    ctx: &Context,
    client: &Client,
    family: &TokenFamily,
    address: IpAddr,
    (presented, record): (&[u8], &RefreshTokenRecord),
    now: i64,
) -> Result<(), ProtocolError> {
    let Some(since) = grace_began(client, now) else { return Err(reused(ctx, family, address).await) };
    let access = FamilyAccessToken { jti: record.access_jti.clone(), expires_at: record.access_expires_at };
    match ctx.storage.grants.retry_rotation(presented, &record.token_hash, since, now, &access).await? {
        Retry::SameSuccessor => {
            SecurityEvent::new(EventKind::RefreshTokenRetried)
                .address(address)
                .client(family.client_id.as_str())
                .user(family.user_id.as_str())
                .detail("answered with the same successor")
                .emit();
            Ok(())
        }
        Retry::Reused => Err(reused(ctx, family, address).await),
        Retry::FamilyEnded => Err(invalid_grant("the refresh token has expired or been revoked")),
    }
}

/// A rotated token presented again: someone holds a copy. The family is
/// revoked, so neither the thief nor the user can go on with it.
async fn reused(ctx: &Context, family: &TokenFamily, address: IpAddr) -> ProtocolError {
    let outcome = match ctx.revoker().family(&family.family_id).await {
        Ok(()) => "its family is revoked",
        Err(error) => {
            tracing::error!(%error, "revoking a refresh token family failed");
            "revoking its family failed"
        }
    };
    SecurityEvent::new(EventKind::RefreshTokenReplayed)
        .address(address)
        .client(family.client_id.as_str())
        .user(family.user_id.as_str())
        .detail(outcome)
        .emit();
    invalid_grant("the refresh token has already been used")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_refresh_tokens_have_the_shape_looked_for_and_jwts_do_not() {
        assert!(looks_like_refresh_token(&random_token(32)));
        assert!(!looks_like_refresh_token("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"));
        assert!(!looks_like_refresh_token(""));
    }
}
