//! The `authorization_code` grant (RFC 6749 §4.1.3, OpenID Connect Core
//! §3.1.3): a code is redeemed once, by the client it was issued to, with
//! the same redirect URI and the PKCE verifier (RFC 7636 §4.6).

use std::net::IpAddr;

use super::TokenResponse;
use super::refresh_token;
use crate::domain::Params;
use crate::domain::secret::{SecretHash, random_token};
use crate::domain::{
    Client, CodeChallenge, CodeVerifier, GrantType, RedirectUri, ResourceSet, ScopeSet, User,
};
use crate::domain::{ErrorCode, ProtocolError};
use crate::protocol::Context;
use crate::protocol::access_token::{self, IssueSpec};
use crate::protocol::audience::Audience;
use crate::protocol::id_token::{self, IdTokenGrant};
use crate::protocol::scope_policy::ScopePolicy;
use crate::protocol::security_event::{EventKind, SecurityEvent};
use crate::storage::{AuthorizationCodeRecord, CodeRedemption, NewFamily, TokenFamily};

fn invalid_grant(description: &'static str) -> ProtocolError {
    ProtocolError::new(ErrorCode::InvalidGrant, description)
}

/// RFC 6749 §4.1.3 parameters, as sent: each is checked where the RFC's
/// order puts it (a replayed code revokes its tokens whatever else is wrong).
pub struct Request {
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    /// RFC 8707 §2.2: may narrow the resources the code grants.
    pub resources: ResourceSet,
}

impl Request {
    pub fn parse(params: &Params, resources: ResourceSet) -> Self {
        Self {
            resources,
            code: params.get("code").map(str::to_owned),
            redirect_uri: params.get("redirect_uri").map(str::to_owned),
            code_verifier: params.get("code_verifier").map(str::to_owned),
        }
    }
}

pub async fn grant(
    ctx: &Context,
    client: &Client,
    address: IpAddr,
    request: Request,
) -> Result<TokenResponse, ProtocolError> {
    let policy = ScopePolicy::for_user(client).ok_or_else(|| {
        ProtocolError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use the authorization_code grant",
        )
    })?;
    let code = super::required(request.code.as_deref(), "code")?;
    let code_hash = SecretHash::of_bytes(code.as_bytes()).as_bytes().to_vec();
    let now = ctx.clock.now();
    // With its user: a code goes with its user when the user is deleted.
    let found = ctx.storage.grants.get_code_with_user(&code_hash).await?;
    let (record, user) = found.ok_or_else(|| invalid_grant("the code is invalid or has expired"))?;
    // Another client's code is refused without touching it: it may still
    // be redeemed by its own client.
    if record.client_id != client.id {
        return Err(invalid_grant("the code was issued to another client"));
    }
    let replay = Replay { client, user_id: record.user_id.as_str(), address };
    if record.redeemed {
        return Err(replayed(ctx, &code_hash, &replay).await);
    }
    if record.expires_at <= now {
        return Err(invalid_grant("the code is invalid or has expired"));
    }
    if !redirect_uri_matches(record.redirect_uri.as_ref(), client, request.redirect_uri.as_deref()) {
        return Err(invalid_grant("redirect_uri does not match the authorization request"));
    }
    verify_pkce(record.code_challenge.as_ref(), request.code_verifier.as_deref())?;
    // RFC 8707 §2.2: the resources granted, or fewer; and what the client
    // may have now, of the scopes the user granted, that belong to them.
    let audience = Audience::within_grant(ctx, client, &record.resources, &request.resources).await?;
    let scope = policy.narrow_for(&record.scope, &audience);
    let grant = Grant {
        record: &record,
        user: &user,
        scope: &scope,
        family_scope: policy.narrow(&record.scope),
        resources: &audience.indicators(),
    };
    redeem(ctx, &replay, &grant, &code_hash, now).await
}

/// Who would have replayed the code, for the security event.
struct Replay<'a> {
    client: &'a Client,
    user_id: &'a str,
    address: IpAddr,
}

/// What the code grants this time: its record, and the scope and resources
/// of the access token to issue.
struct Grant<'a> {
    record: &'a AuthorizationCodeRecord,
    user: &'a User,
    /// This access token's scope: of the grant, what belongs to its audience.
    scope: &'a ScopeSet,
    /// What a refresh may ask for again: the whole grant the client may
    /// still have, whatever this exchange narrowed it to (RFC 8707 §2.2).
    family_scope: ScopeSet,
    resources: &'a ResourceSet,
}

async fn redeem(
    ctx: &Context,
    replay: &Replay<'_>,
    grant: &Grant<'_>,
    code_hash: &[u8],
    now: i64,
) -> Result<TokenResponse, ProtocolError> {
    let (record, scope, user) = (grant.record, grant.scope, grant.user);
    let client = replay.client;
    // Disabling expires the user's codes; this also holds for one issued
    // while the user was being disabled.
    if user.is_disabled() {
        return Err(invalid_grant("the user is disabled"));
    }
    let spec = IssueSpec::for_user(&client.id, user, scope, record.auth_time).for_resources(grant.resources);
    let issued = access_token::issue(ctx, spec)?;
    // RFC 7591 §2: refresh tokens only for a client registered with their
    // grant (whose scope `ScopePolicy` has already rid of `offline_access`).
    // Not issuing one is a complete answer (RFC 6749 §5.1).
    let refreshable = client.metadata.allows_grant(GrantType::RefreshToken);
    let family = (refreshable && scope.contains("offline_access")).then(|| TokenFamily {
        family_id: random_token(16),
        client_id: client.id.clone(),
        user_id: user.id.clone(),
        scope: grant.family_scope.clone(),
        // The whole grant: a refresh may ask for any of it again (§2.2).
        resources: record.resources.clone(),
        auth_time: record.auth_time,
        created_at: now,
        expires_at: now + ctx.settings.refresh_token_ttl.as_secs() as i64,
        revoked: false,
    });
    // The first refresh token is made now, so that the redemption stores
    // it with the family in one write.
    let first = family.map(|family| {
        let (token, first_token) = refresh_token::first_of(ctx, &family, &issued, now);
        (token, NewFamily { family, first_token })
    });
    let (refresh_token, family) = first.unzip();
    let redemption = CodeRedemption {
        access_jti: issued.claims.jti.clone(),
        access_expires_at: issued.claims.exp,
        family,
    };
    // Exactly one of several concurrent redemptions gets past this point.
    if !ctx.storage.grants.redeem_code(code_hash, now, &redemption).await? {
        // Not claimed: another request redeemed it (a replay), or it expired
        // meanwhile (disabling its user expires it), and the token made
        // above was never handed out.
        let redeemed = ctx.storage.grants.get_code(code_hash).await?.is_some_and(|code| code.redeemed);
        if redeemed {
            return Err(replayed(ctx, code_hash, replay).await);
        }
        return Err(invalid_grant("the code is invalid or has expired"));
    }
    let id_token = id_token::issue_if_openid(
        ctx,
        &IdTokenGrant {
            client,
            user,
            scope,
            auth_time: record.auth_time,
            nonce: record.nonce.as_deref(),
            access_token: &issued.token,
        },
    )?;
    Ok(TokenResponse { refresh_token, id_token, ..TokenResponse::bearer(issued) })
}

/// RFC 6749 §4.1.2: a code used twice is an attack (or a bug); the tokens
/// issued for it are revoked.
async fn replayed(ctx: &Context, code_hash: &[u8], replay: &Replay<'_>) -> ProtocolError {
    let revoked = match ctx.revoker().code_grant(code_hash).await {
        Ok(revoked) => format!("its {revoked} tokens are revoked"),
        Err(error) => {
            tracing::error!(%error, "revoking the tokens of a replayed code failed");
            "revoking its tokens failed".to_owned()
        }
    };
    SecurityEvent::new(EventKind::AuthorizationCodeReplayed)
        .address(replay.address)
        .client(replay.client.id.as_str())
        .user(replay.user_id)
        .detail(&revoked)
        .emit();
    invalid_grant("the code has already been used")
}

/// §4.1.3: the redirect URI must be identical to the authorization
/// request's, if that named one; if not (the client's only registered URI
/// was used), it may be omitted or be that registered URI.
fn redirect_uri_matches(named: Option<&RedirectUri>, client: &Client, given: Option<&str>) -> bool {
    match (named, given) {
        (Some(named), given) => given == Some(named.as_str()),
        (None, None) => true,
        (None, Some(given)) => client.metadata.redirect_uris.iter().any(|uri| uri.as_str() == given),
    }
}

/// RFC 7636 §4.6. A verifier without a challenge is refused too: RFC 9700
/// §2.1.1 (PKCE downgrade). A malformed verifier matches no challenge.
fn verify_pkce(challenge: Option<&CodeChallenge>, verifier: Option<&str>) -> Result<(), ProtocolError> {
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(invalid_grant("code_verifier was sent but the request had no code_challenge")),
        (Some(_), None) => Err(invalid_grant("code_verifier is required")),
        (Some(challenge), Some(verifier)) => match CodeVerifier::parse(verifier) {
            Ok(verifier) if challenge.is_met_by(&verifier) => Ok(()),
            _ => Err(invalid_grant("code_verifier does not match the code_challenge")),
        },
    }
}
