//! What an authorization request needs next: a sign-in, a consent, or
//! nothing more, in which case a code is issued (RFC 6749 §4.1.2).

use axum::response::Response;
use tower_sessions::Session;

use super::response::{self, AuthorizeFailure, see_other};
use crate::domain::{Client, ErrorCode as Code, UserId};
use crate::protocol::authorize::{self, AuthorizationRequest, AuthorizeError, ResponseTarget};
use crate::storage::StorageError;
use crate::web::browser::login_request::{self, BrowserBinding, REACHED_ELSEWHERE};
use crate::web::browser::page_error::PageError;
use crate::web::browser::session::{self, PendingAuthorization, SignedIn};
use crate::web::{AppState, routes};

/// Moves `pending` on: to the login page (the request sealed into its URL,
/// nothing stored), to the consent page (stored in the signed-in user's
/// session), or back to the client with a code.
pub async fn proceed(
    state: &AppState,
    session: &Session,
    binding: &BrowserBinding,
    pending: PendingAuthorization,
) -> Result<Response, AuthorizeFailure> {
    let request = &pending.request;
    let target = request.target();
    let user = session::signed_in(state, session).await.map_err(PageError::from)?;
    let needs_sign_in = match &user {
        None => true,
        Some(user) => !pending.signed_in_for_it && must_sign_in_again(state, request, user),
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
            let description = "the user is not signed in";
            return Err(prompt_none_failure(state, request, &target, Code::LoginRequired, description).await);
        }
        let sealed = login_request::seal(state, binding, pending.request)?;
        let login = state.settings.issuer.endpoint(routes::LOGIN);
        // The login page, at the issuer's host, will not get the cookie set
        // here: the marker lets it explain why, rather than call it expired.
        let marker =
            if binding.reached_elsewhere() { format!("&{REACHED_ELSEWHERE}=1") } else { String::new() };
        let mut response = see_other(&format!("{login}?request={sealed}{marker}"));
        binding.set_cookie_on(state, &mut response);
        return Ok(response);
    }
    let Some(user) = user else { return Err(PageError::Internal("no user after sign-in".into()).into()) };
    let client = state.clients.get(&request.client_id).await.map_err(PageError::from)?.ok_or_else(|| {
        PageError::bad_request(
            "Unknown application",
            "The application that sent you here is no longer registered.",
        )
    })?;
    if needs_consent(state, &client, request, &user.user_id).await.map_err(PageError::from)? {
        if request.prompt.none && client.is_self_registered() {
            return Err(self_registered_failure("the user has not consented"));
        }
        if request.prompt.none {
            return Err(
                AuthorizeError::new(&target, Code::ConsentRequired, "the user has not consented").into()
            );
        }
        let pending = PendingAuthorization { awaiting_consent: true, ..pending };
        let id = session::save_pending(state, session, None, pending).await.map_err(PageError::from)?;
        return Ok(see_other(&format!("{}?rid={id}", state.settings.issuer.endpoint(routes::CONSENT))));
    }
    issue_code(state, request, &user).await
}

/// OpenID Connect Core §3.1.2.1: `prompt=login`, an exceeded `max_age`, or
/// an `id_token_hint` naming someone else each ask for a fresh sign-in.
fn must_sign_in_again(state: &AppState, request: &AuthorizationRequest, user: &SignedIn) -> bool {
    let too_old = request.max_age.is_some_and(|max_age| state.clock.now() - user.auth_time > max_age);
    let someone_else = request.expected_subject.as_ref().is_some_and(|sub| sub != user.user_id.as_str());
    request.prompt.login || too_old || someone_else
}

/// First-party clients are never asked about; self-registered ones always
/// (`Client::consent_always_asked`); others when the user has not yet
/// allowed every requested scope, or `prompt=consent` asks again.
async fn needs_consent(
    state: &AppState,
    client: &Client,
    request: &AuthorizationRequest,
    user: &UserId,
) -> Result<bool, StorageError> {
    if client.consent_skipped() {
        return Ok(false);
    }
    if request.prompt.consent || client.consent_always_asked() {
        return Ok(true);
    }
    let consent = state.storage.consents.get_consent(user, &client.id).await?;
    Ok(!consent.is_some_and(|c| request.scope.is_subset_of(&c.scope)))
}

/// Issues a code and sends the browser back to the client with it.
pub async fn issue_code(
    state: &AppState,
    request: &AuthorizationRequest,
    user: &SignedIn,
) -> Result<Response, AuthorizeFailure> {
    let code = authorize::issue_code(state, request, &user.user_id, user.auth_time).await?;
    Ok(response::redirect(&state.settings.issuer, &request.target(), &[("code", &code)]))
}

/// A `prompt=none` failure: sent back to the client, unless the client
/// registered itself, whose redirect URI nobody vetted (RFC 9700 §4.11.2:
/// not an open redirector without the user seeing anything).
async fn prompt_none_failure(
    state: &AppState,
    request: &AuthorizationRequest,
    target: &ResponseTarget,
    code: Code,
    description: &str,
) -> AuthorizeFailure {
    match state.clients.get(&request.client_id).await {
        Ok(Some(client)) if !client.is_self_registered() => {
            AuthorizeError::new(target, code, description).into()
        }
        Ok(_) => self_registered_failure(description),
        Err(error) => PageError::from(error).into(),
    }
}

fn self_registered_failure(description: &str) -> AuthorizeFailure {
    PageError::bad_request(
        "Invalid request",
        format!("The application that sent you here made a request that cannot be answered: {description}."),
    )
    .into()
}
