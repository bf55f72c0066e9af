//! What an authorization request needs next: a sign-in, a consent, or
//! nothing more, in which case a code is issued (RFC 6749 §4.1.2).

use tower_sessions::Session;

use super::AuthorizationRequest;
use super::response::{self, AuthorizeError, AuthorizeErrorCode as Code, AuthorizeFailure, see_other};
use crate::clock;
use crate::domain::{Client, UserId};
use crate::page_error::PageError;
use crate::routes;
use crate::secret::{SecretHash, random_token};
use crate::session::{self, PendingAuthorization, SignedIn};
use crate::state::AppState;
use crate::storage::{AuthorizationCodeRecord, StorageError};

/// RFC 6749 §4.1.2 recommends at most 10 minutes; a minute is plenty for a
/// redirect and a back-channel request.
pub const CODE_TTL_SECS: i64 = 60;

/// Moves `pending` on: to the login page, to the consent page, or back to
/// the client with a code. `request_id` names it if it is already stored.
pub async fn proceed(
    state: &AppState,
    session: &Session,
    request_id: Option<String>,
    pending: PendingAuthorization,
) -> Result<axum::response::Response, AuthorizeFailure> {
    let request = &pending.request;
    let target = request.target();
    let user = current_user(state, session).await?;
    let needs_sign_in = match &user {
        None => true,
        Some(user) => !pending.signed_in_for_it && must_sign_in_again(request, user),
    };
    // §3.1.2.1: signed in, for this request, as someone other than the
    // `id_token_hint` names.
    if let (Some(user), Some(expected)) = (&user, &request.expected_subject)
        && pending.signed_in_for_it
        && expected != user.user_id.as_str()
    {
        let description = "the signed-in user is not the one id_token_hint names";
        return Err(AuthorizeError::new(&target, Code::LoginRequired, description).into());
    }
    if needs_sign_in {
        if request.prompt.none {
            return Err(AuthorizeError::new(&target, Code::LoginRequired, "the user is not signed in").into());
        }
        let pending = PendingAuthorization { awaiting_consent: false, ..pending };
        let id = session::save_pending(session, request_id, pending).await.map_err(PageError::from)?;
        return Ok(see_other(&format!("{}?rid={id}", state.config.endpoint(routes::LOGIN))));
    }
    let Some(user) = user else { return Err(PageError::Internal("no user after sign-in".into()).into()) };
    let client = state.clients.get(&request.client_id).await.map_err(PageError::from)?.ok_or_else(|| {
        PageError::bad_request(
            "Unknown application",
            "The application that sent you here is no longer registered.",
        )
    })?;
    if needs_consent(state, &client, request, &user.user_id).await.map_err(PageError::from)? {
        if request.prompt.none {
            return Err(
                AuthorizeError::new(&target, Code::ConsentRequired, "the user has not consented").into()
            );
        }
        let pending = PendingAuthorization { awaiting_consent: true, ..pending };
        let id = session::save_pending(session, request_id, pending).await.map_err(PageError::from)?;
        return Ok(see_other(&format!("{}?rid={id}", state.config.endpoint(routes::CONSENT))));
    }
    if let Some(id) = request_id {
        session::remove_pending(session, &id).await.map_err(PageError::from)?;
    }
    issue_code(state, request, &user).await
}

/// The signed-in user, if the session has one whose account still exists.
async fn current_user(state: &AppState, session: &Session) -> Result<Option<SignedIn>, PageError> {
    let Some(user) = session::signed_in(session, &state.config).await? else { return Ok(None) };
    if state.storage.users.get_user(&user.user_id).await?.is_none() {
        session::sign_out(session).await?;
        return Ok(None);
    }
    Ok(Some(user))
}

/// OpenID Connect Core §3.1.2.1: `prompt=login`, an exceeded `max_age`, or
/// an `id_token_hint` naming someone else each ask for a fresh sign-in.
fn must_sign_in_again(request: &AuthorizationRequest, user: &SignedIn) -> bool {
    let too_old = request.max_age.is_some_and(|max_age| clock::now() - user.auth_time > max_age);
    let someone_else = request.expected_subject.as_ref().is_some_and(|sub| sub != user.user_id.as_str());
    request.prompt.login || too_old || someone_else
}

/// First-party clients are never asked about; others when the user has not
/// yet allowed every requested scope, or `prompt=consent` asks again.
async fn needs_consent(
    state: &AppState,
    client: &Client,
    request: &AuthorizationRequest,
    user: &UserId,
) -> Result<bool, StorageError> {
    if client.metadata.first_party {
        return Ok(false);
    }
    if request.prompt.consent {
        return Ok(true);
    }
    let consent = state.storage.consents.get_consent(user, &client.id).await?;
    Ok(!consent.is_some_and(|c| request.scope.is_subset_of(&c.scope)))
}

/// Issues a code (256 random bits; only its hash is stored) bound to the
/// client, redirect URI, PKCE challenge, nonce, scope and auth time, and
/// sends the browser back with it.
pub async fn issue_code(
    state: &AppState,
    request: &AuthorizationRequest,
    user: &SignedIn,
) -> Result<axum::response::Response, AuthorizeFailure> {
    let code = random_token(32);
    let record = AuthorizationCodeRecord {
        code_hash: SecretHash::of_bytes(code.as_bytes()).as_bytes().to_vec(),
        client_id: request.client_id.clone(),
        user_id: user.user_id.clone(),
        // Empty when the request did not name it (RFC 6749 §4.1.3).
        redirect_uri: match request.redirect_uri_named {
            true => request.redirect_uri.as_str().to_owned(),
            false => String::new(),
        },
        scope: request.scope.clone(),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        auth_time: user.auth_time,
        expires_at: clock::now() + CODE_TTL_SECS,
        redeemed: false,
    };
    let target = request.target();
    if let Err(error) = state.storage.grants.insert_code(&record).await {
        tracing::error!(%error, "storing an authorization code failed");
        let code = match error {
            StorageError::Unavailable(_) => Code::TemporarilyUnavailable,
            _ => Code::ServerError,
        };
        return Err(AuthorizeError::new(&target, code, "the authorization could not be completed").into());
    }
    Ok(response::redirect(&state.config, &target, &[("code", &code)]))
}
