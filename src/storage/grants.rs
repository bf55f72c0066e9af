//! Storage interface for what a user's authorization produces: codes, token
//! families and refresh tokens. Every operation that must be atomic (single
//! redemption, rotation, revoking a family) is one call here.

use async_trait::async_trait;

use super::{RevokedTokens, StorageError};
use crate::domain::{ClientId, CodeChallenge, RedirectUri, ResourceSet, ScopeSet, User, UserId};

/// An authorization code as stored (RFC 6749 §4.1.2), under its SHA-256.
#[derive(Debug, Clone)]
pub struct AuthorizationCodeRecord {
    pub code_hash: Vec<u8>,
    pub client_id: ClientId,
    pub user_id: UserId,
    /// The redirect URI the request named; `None` if it named none (then
    /// the client's only registered one was used: RFC 6749 §4.1.3).
    pub redirect_uri: Option<RedirectUri>,
    pub scope: ScopeSet,
    /// The resources (RFC 8707) the code grants; empty for the issuer's audience.
    pub resources: ResourceSet,
    pub nonce: Option<String>,
    /// RFC 7636 S256 challenge, if the request carried one.
    pub code_challenge: Option<CodeChallenge>,
    pub auth_time: i64,
    pub expires_at: i64,
    pub redeemed: bool,
}

/// What one redemption of a code issued: the access token and, with
/// `offline_access`, a new token family and its first refresh token.
#[derive(Debug, Clone)]
pub struct CodeRedemption {
    pub access_jti: String,
    pub access_expires_at: i64,
    pub family: Option<NewFamily>,
}

/// A token family as a code redemption starts it.
#[derive(Debug, Clone)]
pub struct NewFamily {
    pub family: TokenFamily,
    pub first_token: RefreshTokenRecord,
}

/// All refresh tokens descended from one authorization (RFC 9700 §4.14.2).
#[derive(Debug, Clone)]
pub struct TokenFamily {
    pub family_id: String,
    pub client_id: ClientId,
    pub user_id: UserId,
    /// The scope the user granted; a refresh may narrow it, never widen it.
    pub scope: ScopeSet,
    /// The resources granted; a refresh may narrow them, never widen them.
    pub resources: ResourceSet,
    pub auth_time: i64,
    pub created_at: i64,
    /// Absolute lifetime: no refresh token of the family works after this.
    pub expires_at: i64,
    pub revoked: bool,
}

#[derive(Debug, Clone)]
pub struct RefreshTokenRecord {
    pub token_hash: Vec<u8>,
    pub family_id: String,
    pub issued_at: i64,
    pub idle_expires_at: i64,
    /// When the token was exchanged for its successor, if it was.
    pub rotated_at: Option<i64>,
    pub access_jti: String,
    pub access_expires_at: i64,
}

/// What became of a refresh token presented for rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    Rotated,
    /// It had been rotated before: a replay.
    AlreadyRotated,
    /// Its family was revoked or expired meanwhile.
    FamilyEnded,
}

/// What became of a rotated refresh token retried within its client's reuse
/// grace (see `GrantStore::retry_rotation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// The successor is still unused: it is the answer again.
    SameSuccessor,
    /// Rotated before the grace began, or its successor was used since: a replay.
    Reused,
    /// Its family was revoked or expired meanwhile.
    FamilyEnded,
}

/// An access token issued under a family, to be revoked with it.
#[derive(Debug, Clone)]
pub struct FamilyAccessToken {
    pub jti: String,
    pub expires_at: i64,
}

#[async_trait]
pub trait GrantStore: Send + Sync {
    async fn insert_code(&self, code: &AuthorizationCodeRecord) -> Result<(), StorageError>;
    async fn get_code(&self, code_hash: &[u8]) -> Result<Option<AuthorizationCodeRecord>, StorageError>;
    /// The code with its user, in one read (the code grant needs both).
    async fn get_code_with_user(
        &self,
        code_hash: &[u8],
    ) -> Result<Option<(AuthorizationCodeRecord, User)>, StorageError>;
    /// Marks the code redeemed, records what was issued for it and creates
    /// the family with its first refresh token, atomically. False if it was
    /// already redeemed or has expired at `now` (disabling a user expires
    /// their codes): of several concurrent redemptions exactly one gets true.
    async fn redeem_code(
        &self,
        code_hash: &[u8],
        now: i64,
        redemption: &CodeRedemption,
    ) -> Result<bool, StorageError>;
    /// For a replayed code (RFC 6749 §4.1.2): revokes the access token
    /// issued for it and its token family.
    async fn revoke_code_grant(&self, code_hash: &[u8], now: i64) -> Result<RevokedTokens, StorageError>;

    async fn get_refresh_token(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<(RefreshTokenRecord, TokenFamily)>, StorageError>;
    /// The refresh token with its family and the family's user, in one read
    /// (the refresh grant needs all three).
    async fn get_refresh_token_with_user(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<(RefreshTokenRecord, TokenFamily, User)>, StorageError>;
    /// Replaces the token `token_hash` by `successor`, atomically with
    /// respect to revoking the family: the family row is locked first, so a
    /// concurrent `revoke_family` either sees the successor's access token
    /// or makes this fail. Of several concurrent uses exactly one rotates.
    async fn rotate_refresh_token(
        &self,
        token_hash: &[u8],
        successor: &RefreshTokenRecord,
        now: i64,
    ) -> Result<Rotation, StorageError>;
    /// A retry of `token_hash` (already rotated) by a client with a reuse
    /// grace: `SameSuccessor` if it was rotated at or after `rotated_since`
    /// into `successor_hash` of the same family, which is neither rotated
    /// nor idle-expired at `now`; then `access` (issued for the retry) is
    /// recorded under the family. Decided under the family's lock, like a
    /// rotation, so a concurrent use of the successor or revocation of the
    /// family makes it `Reused` or `FamilyEnded`.
    async fn retry_rotation(
        &self,
        token_hash: &[u8],
        successor_hash: &[u8],
        rotated_since: i64,
        now: i64,
        access: &FamilyAccessToken,
    ) -> Result<Retry, StorageError>;
    /// Revokes a family: its refresh tokens stop working and the access
    /// tokens issued with them are recorded as revoked.
    async fn revoke_family(&self, family_id: &str, now: i64) -> Result<RevokedTokens, StorageError>;
    /// Deletes codes and families that expired before `ended_before`. The
    /// caller keeps them while access tokens issued from them may live, so
    /// that a replay or the user's deletion can still revoke those tokens.
    async fn prune_grants(&self, ended_before: i64) -> Result<u64, StorageError>;
}
