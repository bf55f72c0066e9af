//! The `refresh_token` grant (RFC 6749 §6) with rotation and reuse
//! detection (RFC 9700 §4.14.2): every use returns a new refresh token, and
//! presenting a used one revokes its whole family.

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
use crate::storage::{RefreshTokenRecord, Rotation, TokenFamily};

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

/// A new refresh token of `family` (256 random bits) and its record (only
/// the hash is stored), issued with the access token `with`.
fn successor(
    ctx: &Context,
    family: &TokenFamily,
    with: &IssuedToken,
    now: i64,
) -> (String, RefreshTokenRecord) {
    let token = random_token(32);
    let idle_expires_at = (now + ctx.settings.refresh_token_idle_ttl.as_secs() as i64).min(family.expires_at);
    let record = RefreshTokenRecord {
        token_hash: token_hash(&token),
        family_id: family.family_id.clone(),
        issued_at: now,
        idle_expires_at,
        rotated: false,
        access_jti: with.claims.jti.clone(),
        access_expires_at: with.claims.exp,
    };
    (token, record)
}

/// The first refresh token of a new family.
pub async fn issue(
    ctx: &Context,
    family: &TokenFamily,
    with: &IssuedToken,
    now: i64,
) -> Result<String, ProtocolError> {
    let (token, record) = successor(ctx, family, with, now);
    ctx.storage.grants.insert_refresh_token(&record).await?;
    Ok(token)
}

/// Whether a refresh token may still be used at `now` (its family's
/// revocation and reuse are checked by the caller).
pub fn is_live(token: &RefreshTokenRecord, family: &TokenFamily, now: i64) -> bool {
    !token.rotated && !family.revoked && token.idle_expires_at > now && family.expires_at > now
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
    let presented = token_hash(super::required(request.refresh_token.as_deref(), "refresh_token")?);
    let now = ctx.clock.now();
    let found = ctx.storage.grants.get_refresh_token(&presented).await?;
    let (token, family) = found.ok_or_else(|| invalid_grant("the refresh token is invalid"))?;
    if family.client_id != client.id {
        return Err(invalid_grant("the refresh token was issued to another client"));
    }
    if token.rotated && !family.revoked {
        return Err(reused(ctx, &family, address).await);
    }
    if !is_live(&token, &family, now) {
        return Err(invalid_grant("the refresh token has expired or been revoked"));
    }
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
    let user = ctx.storage.users.get_user(&family.user_id).await?;
    let user = user.ok_or_else(|| invalid_grant("the user no longer exists"))?;
    // Disabling revokes the families; this also holds for one rotated
    // while the user was being disabled.
    if user.is_disabled() {
        return Err(invalid_grant("the user is disabled"));
    }
    let resources = audience.indicators();
    let spec = IssueSpec::for_user(&client.id, &user, &scope, family.auth_time).for_resources(&resources);
    let issued = access_token::issue(ctx, spec)?;
    let (refresh_token, record) = successor(ctx, &family, &issued, now);
    // Exactly one of several concurrent uses gets past this point.
    match ctx.storage.grants.rotate_refresh_token(&presented, &record, now).await? {
        Rotation::Rotated => {}
        Rotation::AlreadyRotated => return Err(reused(ctx, &family, address).await),
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
