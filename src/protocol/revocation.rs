//! Revoking, in one place: the [`Revoker`] is the only caller of the storage
//! operations that revoke, and after each it tells this instance's
//! revocation list at once (other instances learn within the sync interval).
//! Also token revocation as RFC 7009 defines it.

use crate::domain::{Client, ClientId, ErrorCode, ProtocolError, UserId};
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

    /// Withdraws a consent with the tokens issued under it; false if there was none.
    pub async fn consent(&self, user: &UserId, client: &ClientId) -> Result<bool, StorageError> {
        let revoked = self.ctx.storage.consents.revoke_consent(user, client, self.ctx.clock.now()).await?;
        Ok(revoked.map(|revoked| self.remember(revoked)).is_some())
    }
}

/// RFC 7009 §2.1: `client` revokes `token`. A token of another client is
/// refused; an unknown, malformed or expired one is not an error (§2.2).
pub async fn revoke(ctx: &Context, client: &Client, token: &str) -> Result<(), ProtocolError> {
    let Some(claims) = access_token::verify(ctx, token).await else {
        return revoke_refresh_token(ctx, &client.id, token).await;
    };
    if claims.client_id != client.id.as_str() {
        return Err(not_yours());
    }
    Ok(ctx.revoker().access_token(&claims.jti, claims.exp).await?)
}

fn not_yours() -> ProtocolError {
    ProtocolError::new(ErrorCode::UnauthorizedClient, "this token was not issued to the requesting client")
}

/// §2.1: revoking a refresh token also revokes the access tokens of the same
/// grant; here, the whole token family.
async fn revoke_refresh_token(ctx: &Context, client: &ClientId, token: &str) -> Result<(), ProtocolError> {
    if !refresh_token::looks_like_refresh_token(token) {
        return Ok(());
    }
    let hash = refresh_token::token_hash(token);
    let Some((_, family)) = ctx.storage.grants.get_refresh_token(&hash).await? else { return Ok(()) };
    if &family.client_id != client {
        return Err(not_yours());
    }
    Ok(ctx.revoker().family(&family.family_id).await?)
}
