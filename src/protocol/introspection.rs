//! Token introspection (RFC 7662). A token is `active` only if its
//! signature, type, issuer, expiry, revocation state and client are all
//! still good, and only with the scopes its client may still have; anything
//! else, garbage included, is `{"active": false}` (§2.2). A refresh token
//! is described only to the client it was issued to.
//!
//! Who may learn about an access token (§4): one bound to resources (its
//! `aud` names anything other than the issuer) is described only to the
//! clients that act for one of them (the resource's `client_ids`) and to the
//! client it was issued to; to any other caller it is `{"active": false}`.
//! A token for the issuer alone is described to any authenticated
//! confidential client, as before resources existed.

use serde_json::{Value, json};

use crate::domain::{Client, GrantType, ProtocolError, ResourceIndicator};
use crate::protocol::Context;
use crate::protocol::access_token::{self, AccessTokenClaims};
use crate::protocol::audience::is_own_audience;
use crate::protocol::scope_policy::ScopePolicy;
use crate::protocol::token::refresh_token;

/// The §2.2 answer for `token`, to `caller`: a resource server, which is a
/// confidential client (§2.1 requires it to authenticate).
pub async fn introspect(ctx: &Context, caller: &Client, token: &str) -> Result<Value, ProtocolError> {
    if !caller.is_confidential() {
        return Err(ProtocolError::invalid_client("this endpoint needs a confidential client"));
    }
    // `token_type_hint` is only a hint (§2.1): an access token is checked
    // without a database read, so it is always tried first.
    if let Some(claims) = access_token::validate(ctx, token).await? {
        if !may_learn_about(ctx, caller, &claims).await? {
            return Ok(json!({"active": false}));
        }
        return Ok(active(&claims));
    }
    Ok(refresh(ctx, caller, token).await?.unwrap_or_else(|| json!({"active": false})))
}

/// A refresh token in good standing, described as §2.2 asks, with the scope
/// a refresh would grant now, to the client it was issued to and no one
/// else: refresh tokens are never sent to resource servers (RFC 6749
/// §1.5), and one that is told "active" may take it for an access token.
async fn refresh(ctx: &Context, caller: &Client, token: &str) -> Result<Option<Value>, ProtocolError> {
    if !refresh_token::looks_like_refresh_token(token) {
        return Ok(None);
    }
    let hash = refresh_token::token_hash(token);
    let Some((record, family)) = ctx.storage.grants.get_refresh_token(&hash).await? else {
        return Ok(None);
    };
    if family.client_id != caller.id || !refresh_token::is_live(&record, &family, ctx.clock.now()) {
        return Ok(None);
    }
    // The client as it is now: one that may no longer refresh holds nothing live.
    let Some(client) = ctx.clients.get_registered(&family.client_id).await? else { return Ok(None) };
    if !client.metadata.allows_grant(GrantType::RefreshToken) {
        return Ok(None);
    }
    let Some(policy) = ScopePolicy::for_user(&client) else { return Ok(None) };
    let scope = policy.narrow(&family.scope);
    Ok(Some(json!({
        "active": true,
        "token_type": "refresh_token",
        "scope": scope.to_string(),
        "client_id": family.client_id.as_str(),
        "sub": family.user_id.as_str(),
        "iss": ctx.settings.issuer.as_str(),
        "exp": record.idle_expires_at.min(family.expires_at),
        "iat": record.issued_at,
        "auth_time": family.auth_time,
    })))
}

/// RFC 7662 §4: whether `caller` may be told about a valid access token.
async fn may_learn_about(
    ctx: &Context,
    caller: &Client,
    claims: &AccessTokenClaims,
) -> Result<bool, ProtocolError> {
    let issuer = ctx.settings.issuer.as_str();
    if !claims.aud.names_other_than(issuer) || claims.client_id == caller.id.as_str() {
        return Ok(true);
    }
    for audience in claims.aud.iter().filter(|aud| !is_own_audience(&ctx.settings, aud)) {
        let Ok(identifier) = ResourceIndicator::parse(audience) else { continue };
        if let Some(resource) = ctx.resources.get(&identifier).await?
            && resource.client_ids.contains(&caller.id)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

fn active(claims: &AccessTokenClaims) -> Value {
    let mut body = json!({
        "active": true,
        "scope": claims.scope,
        "client_id": claims.client_id,
        "sub": claims.sub,
        "aud": claims.aud,
        "iss": claims.iss,
        "exp": claims.exp,
        "iat": claims.iat,
        "jti": claims.jti,
        "token_type": "Bearer",
    });
    if let Some(roles) = &claims.roles {
        body["roles"] = json!(roles);
    }
    if let Some(auth_time) = claims.auth_time {
        body["auth_time"] = json!(auth_time);
    }
    body
}
