//! Issuing an authorization code (RFC 6749 §4.1.2): 256 random bits, of
//! which only the hash is stored, bound to the client, redirect URI, PKCE
//! challenge, nonce, scope and auth time.

use super::{AuthorizationRequest, AuthorizeError};
use crate::domain::secret::{SecretHash, random_token};
use crate::domain::{ErrorCode, UserId};
use crate::protocol::Context;
use crate::storage::{AuthorizationCodeRecord, StorageError};

/// RFC 6749 §4.1.2 recommends at most 10 minutes; a minute is plenty for a
/// redirect and a back-channel request.
pub const CODE_TTL_SECS: i64 = 60;

/// A new code for `request`, granted by `user` who signed in at `auth_time`.
pub async fn issue_code(
    ctx: &Context,
    request: &AuthorizationRequest,
    user: &UserId,
    auth_time: i64,
) -> Result<String, AuthorizeError> {
    let code = random_token(32);
    let record = AuthorizationCodeRecord {
        code_hash: SecretHash::of_bytes(code.as_bytes()).as_bytes().to_vec(),
        client_id: request.client_id.clone(),
        user_id: user.clone(),
        redirect_uri: request.redirect_uri_named.then(|| request.redirect_uri.clone()),
        scope: request.scope.clone(),
        resources: request.resources.clone(),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        auth_time,
        expires_at: ctx.clock.now() + CODE_TTL_SECS,
        redeemed: false,
    };
    if let Err(error) = ctx.storage.grants.insert_code(&record).await {
        tracing::error!(%error, "storing an authorization code failed");
        let code = match error {
            StorageError::Unavailable(_) => ErrorCode::TemporarilyUnavailable,
            _ => ErrorCode::ServerError,
        };
        return Err(AuthorizeError::new(&request.target(), code, "the authorization could not be completed"));
    }
    Ok(code)
}
