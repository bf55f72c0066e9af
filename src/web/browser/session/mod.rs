//! Browser sessions (single sign-on): who is signed in, since when, the
//! CSRF token of the session's forms, and authorization requests waiting
//! for the user to sign in or consent.

mod store;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

pub use store::DatabaseSessionStore;

use crate::domain::UserId;
use crate::domain::secret::random_token;
use crate::protocol::authorize::AuthorizationRequest;
use crate::storage::StorageError;
use crate::web::AppState;
use crate::web::browser::cookies::cookie_name;

pub const COOKIE_NAME: &str = "castellan_session";
const SIGNED_IN: &str = "signed_in";
const CSRF_TOKEN: &str = "csrf_token";
const PENDING: &str = "pending_authorizations";
/// A session's last use is written at most this often (each write extends
/// the idle timeout), so most requests read the session without writing it.
const TOUCH_INTERVAL_SECS: i64 = 60;
/// An authorization request not completed in this time must start again.
const PENDING_TTL_SECS: i64 = 900;
/// At most this many authorization requests wait in one session (tabs).
const MAX_PENDING: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("session storage failed: {0}")]
    Session(#[from] tower_sessions::session::Error),
    /// Reading the signed-in user failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The session cookie: `HttpOnly`, `SameSite=Lax` (it must come along on the
/// top-level redirect back from a client), `Secure` and `__Host-` prefixed
/// when the issuer is https. It has no `Max-Age`: it ends with the browser,
/// and the server ends it earlier (idle timeout, absolute lifetime), since
/// only the server's expiry can be trusted.
pub fn layer(state: &AppState) -> SessionManagerLayer<DatabaseSessionStore> {
    let issuer = &state.settings.issuer;
    let store = DatabaseSessionStore::new(
        state.storage.sessions.clone(),
        state.clock.clone(),
        state.sessions.idle_timeout,
    );
    SessionManagerLayer::new(store)
        .with_name(cookie_name(issuer, COOKIE_NAME))
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(issuer.is_https())
        .with_path("/")
        .with_expiry(Expiry::OnSessionEnd)
}

/// The signed-in user of a session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedIn {
    pub user_id: UserId,
    /// OpenID Connect Core §2 `auth_time`: when the user last entered their password.
    pub auth_time: i64,
    /// When the session was created by a sign-in (for the absolute lifetime).
    pub signed_in_at: i64,
    pub last_seen: i64,
}

/// The signed-in user, unless the session has passed its absolute lifetime
/// or the user has been disabled or deleted since: then it is ended here.
/// The user's record is read at every use, so a disabled user is signed out
/// on every instance at once, even of a session that escaped the deletion
/// of their sessions (one being created as they were disabled). Marks the
/// session used, at most once a minute.
pub async fn signed_in(state: &AppState, session: &Session) -> Result<Option<SignedIn>, SessionError> {
    let Some(mut user) = session.get::<SignedIn>(SIGNED_IN).await? else { return Ok(None) };
    let now = state.clock.now();
    let too_old = now - user.signed_in_at >= state.sessions.max_lifetime.as_secs() as i64;
    if too_old || !may_stay_signed_in(state, &user.user_id).await? {
        session.flush().await?;
        return Ok(None);
    }
    if now - user.last_seen >= TOUCH_INTERVAL_SECS {
        user.last_seen = now;
        session.insert(SIGNED_IN, &user).await?;
    }
    Ok(Some(user))
}

/// Whether the user still exists and is not disabled.
async fn may_stay_signed_in(state: &AppState, user_id: &UserId) -> Result<bool, StorageError> {
    let user = state.storage.users.get_user(user_id).await?;
    Ok(user.is_some_and(|user| !user.is_disabled()))
}

/// Signs `user_id` in: a new session id, a new CSRF token and no pending
/// requests (nothing an attacker may have planted in the session before
/// carries over: session fixation), and a fresh `auth_time`.
pub async fn sign_in(state: &AppState, session: &Session, user_id: UserId) -> Result<SignedIn, SessionError> {
    let now = state.clock.now();
    session.cycle_id().await?;
    session.remove_value(CSRF_TOKEN).await?;
    session.remove_value(PENDING).await?;
    let user = SignedIn { user_id, auth_time: now, signed_in_at: now, last_seen: now };
    session.insert(SIGNED_IN, &user).await?;
    Ok(user)
}

/// Ends the session: its record is deleted and the cookie removed.
pub async fn sign_out(session: &Session) -> Result<(), SessionError> {
    session.flush().await?;
    Ok(())
}

/// The session's CSRF token (synchronizer token pattern), made on first use.
pub async fn csrf_token(session: &Session) -> Result<String, SessionError> {
    if let Some(token) = session.get::<String>(CSRF_TOKEN).await? {
        return Ok(token);
    }
    let token = random_token(32);
    session.insert(CSRF_TOKEN, &token).await?;
    Ok(token)
}

/// Whether a submitted form carries this session's CSRF token.
pub async fn csrf_matches(session: &Session, submitted: Option<&str>) -> Result<bool, SessionError> {
    let (Some(expected), Some(submitted)) = (session.get::<String>(CSRF_TOKEN).await?, submitted) else {
        return Ok(false);
    };
    Ok(expected.as_bytes().ct_eq(submitted.as_bytes()).into())
}

/// An authorization request waiting for sign-in or consent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingAuthorization {
    pub request: AuthorizationRequest,
    pub created_at: i64,
    /// The user has signed in for this very request (so `prompt=login` and
    /// `max_age` are satisfied).
    pub signed_in_for_it: bool,
    /// Sign-in is behind it and only consent is missing: the consent page
    /// accepts nothing else.
    #[serde(default)]
    pub awaiting_consent: bool,
}

type PendingMap = HashMap<String, PendingAuthorization>;

async fn pending_map(state: &AppState, session: &Session) -> Result<PendingMap, SessionError> {
    let mut map: PendingMap = session.get(PENDING).await?.unwrap_or_default();
    let now = state.clock.now();
    map.retain(|_, p| now - p.created_at < PENDING_TTL_SECS);
    Ok(map)
}

/// Stores a pending request under `id` (a new random id when `None`); returns the id.
pub async fn save_pending(
    state: &AppState,
    session: &Session,
    id: Option<String>,
    pending: PendingAuthorization,
) -> Result<String, SessionError> {
    let mut map = pending_map(state, session).await?;
    while map.len() >= MAX_PENDING {
        let oldest = map.iter().min_by_key(|(_, p)| p.created_at).map(|(k, _)| k.clone());
        let Some(oldest) = oldest else { break };
        map.remove(&oldest);
    }
    let id = id.unwrap_or_else(|| random_token(16));
    map.insert(id.clone(), pending);
    session.insert(PENDING, &map).await?;
    Ok(id)
}

pub async fn get_pending(
    state: &AppState,
    session: &Session,
    id: &str,
) -> Result<Option<PendingAuthorization>, SessionError> {
    Ok(pending_map(state, session).await?.remove(id))
}

pub async fn remove_pending(state: &AppState, session: &Session, id: &str) -> Result<(), SessionError> {
    let mut map = pending_map(state, session).await?;
    if map.remove(id).is_some() {
        session.insert(PENDING, &map).await?;
    }
    Ok(())
}
