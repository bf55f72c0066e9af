//! Storage interfaces for what a signed-in user brings: the users themselves,
//! their consents, browser sessions and sign-in throttling.

use async_trait::async_trait;

use super::{RevokedTokens, StorageError};
use crate::domain::{ClientId, PageRequest, ScopeSet, User, UserId};

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Adds a user; `Conflict` if the username is taken (in any case).
    async fn insert_user(&self, user: &User) -> Result<(), StorageError>;
    async fn get_user(&self, id: &UserId) -> Result<Option<User>, StorageError>;
    /// Looks a user up by the case-folded username (`Username::key`).
    async fn find_user(&self, username_key: &str) -> Result<Option<User>, StorageError>;
    /// Up to `page.fetch_limit()` users whose id sorts after `page.after`,
    /// in id order; with `search` (lower case), only those whose username or
    /// email contains it.
    async fn list_users(&self, page: &PageRequest, search: Option<&str>) -> Result<Vec<User>, StorageError>;
    /// Replaces the profile an admin may change: email, `email_verified`,
    /// name and roles (never the password hash, id, username, creation time
    /// or `disabled_at`). False if there is no such user.
    async fn update_user(&self, user: &User) -> Result<bool, StorageError>;
    /// Replaces the password hash alone, so that a profile change made at
    /// the same moment from an older copy of the user cannot write the old
    /// hash back. False if there is no such user.
    async fn set_password_hash(&self, id: &UserId, password_hash: &str) -> Result<bool, StorageError>;
    /// Disables a user from `now` (one already disabled keeps the time it
    /// was first disabled) and, in the same transaction, ends what they hold
    /// as [`revoke_user_grants`](Self::revoke_user_grants) does. `None` if
    /// there is no such user.
    async fn disable_user(&self, id: &UserId, now: i64) -> Result<Option<RevokedTokens>, StorageError>;
    /// Lets a disabled user sign in again; nothing the disabling ended comes
    /// back. False if there is no such user.
    async fn enable_user(&self, id: &UserId) -> Result<bool, StorageError>;
    /// Ends what a user holds, in one transaction: their sessions are
    /// deleted, their refresh token families revoked, their codes expired,
    /// and the access tokens still live from codes and refresh tokens
    /// recorded as revoked (returned). `None` if there is no such user.
    async fn revoke_user_grants(&self, id: &UserId, now: i64) -> Result<Option<RevokedTokens>, StorageError>;
    /// Deletes a user after ending what they hold as `revoke_user_grants`
    /// does, with their consents, codes and refresh tokens (one
    /// transaction). `None` if there was no such user.
    async fn delete_user(&self, id: &UserId, now: i64) -> Result<Option<RevokedTokens>, StorageError>;
}

/// What a user allowed a client.
#[derive(Debug, Clone)]
pub struct Consent {
    pub client_id: ClientId,
    pub scope: ScopeSet,
    pub granted_at: i64,
}

#[async_trait]
pub trait ConsentStore: Send + Sync {
    async fn get_consent(&self, user: &UserId, client: &ClientId) -> Result<Option<Consent>, StorageError>;
    /// Stores (replacing) the scope `user` allowed `client`.
    async fn save_consent(&self, user: &UserId, consent: &Consent) -> Result<(), StorageError>;
    async fn list_consents(&self, user: &UserId) -> Result<Vec<Consent>, StorageError>;
    /// Withdraws a consent and revokes the refresh token families and live
    /// access tokens that came from it. `None` if there was none.
    async fn revoke_consent(
        &self,
        user: &UserId,
        client: &ClientId,
        now: i64,
    ) -> Result<Option<RevokedTokens>, StorageError>;
}

/// Sessions as `tower-sessions` hands them over: opaque bytes under the
/// SHA-256 of the session id (the id itself, a bearer secret, is not
/// stored), with the signed-in user, if any, so that a user's sessions can
/// be ended (see `UserStore::revoke_user_grants`).
#[async_trait]
pub trait SessionRecordStore: Send + Sync {
    /// Inserts a new session; false if the id is already taken.
    async fn create_session(&self, record: &SessionRecord<'_>) -> Result<bool, StorageError>;
    /// Updates a session; one that no longer exists stays deleted.
    async fn save_session(&self, record: &SessionRecord<'_>) -> Result<(), StorageError>;
    /// The session's data, unless absent or expired at `now`.
    async fn load_session(&self, id_hash: &[u8], now: i64) -> Result<Option<Vec<u8>>, StorageError>;
    async fn delete_session(&self, id_hash: &[u8]) -> Result<(), StorageError>;
    async fn prune_sessions(&self, now: i64) -> Result<u64, StorageError>;
}

/// One session as written.
pub struct SessionRecord<'a> {
    /// SHA-256 of the session id.
    pub id_hash: &'a [u8],
    pub data: &'a [u8],
    /// Who is signed in with it; `None` before sign-in.
    pub user_id: Option<&'a UserId>,
    pub expires_at: i64,
}

/// Failed sign-in counters, keyed by account or client address.
#[async_trait]
pub trait LoginThrottleStore: Send + Sync {
    /// `(failures, last_failure_at)` for `key`, if any are recorded.
    async fn login_failures(&self, key: &str) -> Result<Option<(i64, i64)>, StorageError>;
    /// Counts one more failure for `key` and returns the count; a count whose
    /// last failure is before `window_start` starts again from one.
    async fn record_login_failure(&self, key: &str, now: i64, window_start: i64)
    -> Result<i64, StorageError>;
    async fn clear_login_failures(&self, key: &str) -> Result<(), StorageError>;
    /// Takes one failure back (an attempt counted in advance that succeeded).
    async fn forgive_login_failure(&self, key: &str) -> Result<(), StorageError>;
    /// Forgets counters whose last failure is before `window_start`.
    async fn prune_login_failures(&self, window_start: i64) -> Result<u64, StorageError>;
}
