//! Revoking, in one place: the [`Revoker`] is the only caller of the storage
//! operations that revoke, and after each it tells this instance's
//! revocation list at once (other instances learn within the sync interval).
//! Also token revocation as RFC 7009 defines it.

use crate::domain::{Client, ClientId, ErrorCode, ProtocolError, Subject, UserId};
use crate::protocol::Context;
use crate::protocol::access_token;
use crate::protocol::token::refresh_token;
use crate::storage::{RevokedTokens, StorageError};

/// Revokes, and makes this instance refuse what was revoked at once.
pub struct Revoker<'a> {
    ctx: &'a Context,
}

impl Context {
    pub fn revoker(&self) -> Revoker<'_> {
        Revoker { ctx: self }
    }
}

impl Revoker<'_> {
    fn remember(&self, revoked: RevokedTokens) {
        self.ctx.revocations.remember(revoked);
    }

    /// One access token, until it would expire anyway.
    pub async fn access_token(&self, jti: &str, expires_at: i64) -> Result<(), StorageError> {
        self.ctx.storage.revocations.revoke(jti, expires_at, self.ctx.clock.now()).await?;
        self.remember(vec![(jti.to_owned(), expires_at)]);
        Ok(())
    }

    /// A refresh token family and the access tokens issued with it.
    pub async fn family(&self, family_id: &str) -> Result<(), StorageError> {
        let revoked = self.ctx.storage.grants.revoke_family(family_id, self.ctx.clock.now()).await?;
        self.remember(revoked);
        Ok(())
    }

    /// What a replayed code issued (RFC 6749 §4.1.2).
    pub async fn code_grant(&self, code_hash: &[u8]) -> Result<usize, StorageError> {
        let revoked = self.ctx.storage.grants.revoke_code_grant(code_hash, self.ctx.clock.now()).await?;
        let count = revoked.len();
        self.remember(revoked);
        Ok(count)
    }

    /// Deletes a user with everything they granted; false if there was none.
    pub async fn user(&self, user: &UserId) -> Result<bool, StorageError> {
        let revoked = self.ctx.storage.users.delete_user(user, self.ctx.clock.now()).await?;
        Ok(revoked.map(|revoked| self.remember(revoked)).is_some())
    }

    /// Disables a user and ends everything they hold: sessions, refresh
    /// token families, codes and live access tokens. False if there was none.
    pub async fn disable_user(&self, user: &UserId) -> Result<bool, StorageError> {
        let revoked = self.ctx.storage.users.disable_user(user, self.ctx.clock.now()).await?;
        Ok(revoked.map(|revoked| self.remember(revoked)).is_some())
    }

    /// Ends everything a user holds, as disabling them does, but leaves them
    /// able to sign in again. False if there was none.
    pub async fn user_grants(&self, user: &UserId) -> Result<bool, StorageError> {
        let revoked = self.ctx.storage.users.revoke_user_grants(user, self.ctx.clock.now()).await?;
        Ok(revoked.map(|revoked| self.remember(revoked)).is_some())
    }

    /// Withdraws a consent with the tokens issued under it; false if there was none.
    pub async fn consent(&self, user: &UserId, client: &ClientId) -> Result<bool, StorageError> {
        let revoked = self.ctx.storage.consents.revoke_consent(user, client, self.ctx.clock.now()).await?;
        Ok(revoked.map(|revoked| self.remember(revoked)).is_some())
    }
}

/// What became of a revocation request.
#[derive(Debug, PartialEq, Eq)]
pub enum Revocation {
    /// Revoked, or nothing to revoke (§2.2).
    Done,
    /// The client has revoked as many tokens as it may this minute; per
    /// §2.2.1 it is to assume the token is still valid and retry later.
    RetryAfter(u64),
}

/// The per-client count runs over windows of this many seconds.
pub const RATE_WINDOW_SECS: i64 = 60;

/// RFC 7009 §2.1: `client` revokes `token`. A token of another client is
/// refused; an unknown, malformed or expired one is not an error (§2.2).
/// Each revocation that adds to the revocation list (an access token, or a
/// refresh token's family) counts against the client's rate.
pub async fn revoke(ctx: &Context, client: &Client, token: &str) -> Result<Revocation, ProtocolError> {
    let Some(claims) = access_token::verify(ctx, token).await else {
        return revoke_refresh_token(ctx, &client.id, token).await;
    };
    if claims.client_id != client.id.as_str() {
        return Err(not_yours());
    }
    if ctx.revocations.is_revoked(&claims.jti) {
        return Ok(Revocation::Done);
    }
    // A client's own tokens (client_credentials) spend only its own rate.
    let user = match claims.subject() {
        Some(Subject::User(user)) => Some(user),
        _ => None,
    };
    if let Some(refused) = over_rate(ctx, &client.id, user.as_ref()).await? {
        return Ok(refused);
    }
    ctx.revoker().access_token(&claims.jti, claims.exp).await?;
    Ok(Revocation::Done)
}

/// One user may spend this share of a client's rate, so that no one user of
/// a public client can spend all of it and have everyone else's revocations
/// (a sign-out, often) refused for the rest of the minute.
const USER_SHARE: u32 = 10;

/// Counts one revocation by `client`, for `user` if the token is a user's;
/// `Some` if that is past the user's share or the client's rate. The counts
/// are kept in the database, so the rates hold across instances.
async fn over_rate(
    ctx: &Context,
    client: &ClientId,
    user: Option<&UserId>,
) -> Result<Option<Revocation>, ProtocolError> {
    let now = ctx.clock.now();
    let window_start = now - now.rem_euclid(RATE_WINDOW_SECS);
    let retry = || Some(Revocation::RetryAfter((window_start + RATE_WINDOW_SECS - now).max(1) as u64));
    let revocations = &ctx.storage.revocations;
    let rate = i64::from(ctx.settings.revocation_rate);
    if let Some(user) = user {
        let user_rate = (rate / i64::from(USER_SHARE)).max(1);
        if revocations.count_revocation(&format!("user:{client}:{user}"), window_start).await? > user_rate {
            return Ok(retry());
        }
    }
    let count = revocations.count_revocation(&format!("client:{client}"), window_start).await?;
    if count <= rate {
        return Ok(None);
    }
    if count == rate + 1 {
        tracing::warn!(client_id = %client, "client revoking tokens faster than CASTELLAN_REVOCATION_RATE");
    }
    Ok(retry())
}

fn not_yours() -> ProtocolError {
    ProtocolError::new(ErrorCode::UnauthorizedClient, "this token was not issued to the requesting client")
}

/// §2.1: revoking a refresh token also revokes the access tokens of the same
/// grant; here, the whole token family.
async fn revoke_refresh_token(
    ctx: &Context,
    client: &ClientId,
    token: &str,
) -> Result<Revocation, ProtocolError> {
    if !refresh_token::looks_like_refresh_token(token) {
        return Ok(Revocation::Done);
    }
    let hash = refresh_token::token_hash(token);
    let Some((_, family)) = ctx.storage.grants.get_refresh_token(&hash).await? else {
        return Ok(Revocation::Done);
    };
    if &family.client_id != client {
        return Err(not_yours());
    }
    if family.revoked {
        return Ok(Revocation::Done);
    }
    if let Some(refused) = over_rate(ctx, client, Some(&family.user_id)).await? {
        return Ok(refused);
    }
    ctx.revoker().family(&family.family_id).await?;
    Ok(Revocation::Done)
}
