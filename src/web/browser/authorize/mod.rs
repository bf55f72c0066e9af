//! The authorization endpoint (RFC 6749 §3.1, OpenID Connect Core §3.1.2),
//! GET and POST: validates the request, then sends the browser to sign in,
//! to consent, or straight back to the client with a code.

mod flow;
pub mod response;

use axum::extract::{RawQuery, State};
use axum::response::Response;
use tower_sessions::Session;

pub use flow::{issue_code, proceed};

use super::login_request::BrowserBinding;
use super::page_error::PageError;
use super::page_form::PageForm;
use super::session::PendingAuthorization;
use crate::domain::{Params, ProtocolError};
use crate::protocol::authorize;
use crate::web::{AppState, routes};
use response::{AuthorizeFailure, see_other};

/// Far above any valid request (each parameter kept has its own bound).
const MAX_QUERY_LEN: usize = 16 * 1024;

pub async fn authorize_get(
    State(state): State<AppState>,
    session: Session,
    binding: BrowserBinding,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    if query.len() > MAX_QUERY_LEN {
        return PageError::bad_request("Invalid request", "The authorization request is too large.")
            .render(&state.settings.issuer);
    }
    let params = Params::parse_keeping_first(query.as_bytes());
    start(&state, &session, &binding, params).await
}

/// OpenID Connect Core §3.1.2.1: the same request may come as a form POST.
/// A cross-site POST carries no `SameSite=Lax` cookie, so it is answered
/// with a redirect to the same request as a GET, which does.
pub async fn authorize_post(State(state): State<AppState>, PageForm(params): PageForm) -> Response {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in params.iter() {
        query.append_pair(name, value);
    }
    see_other(&format!("{}?{}", state.settings.issuer.endpoint(routes::AUTHORIZATION), query.finish()))
}

/// `params` with the name of a repeated parameter, if any (RFC 6749 §3.1).
async fn start(
    state: &AppState,
    session: &Session,
    binding: &BrowserBinding,
    params: Result<(Params, Option<String>), ProtocolError>,
) -> Response {
    let (params, repeated) = match params {
        Ok(parsed) => parsed,
        Err(error) => {
            // Not form encoding at all: nothing in it can be trusted, the
            // redirect URI included.
            return PageError::bad_request("Invalid request", error.description.into_owned())
                .render(&state.settings.issuer);
        }
    };
    let request = match authorize::validate(state, &params, repeated.as_deref()).await {
        Ok(request) => request,
        Err(rejection) => return AuthorizeFailure::from(rejection).into_response(&state.settings.issuer),
    };
    let pending = PendingAuthorization {
        request,
        created_at: state.clock.now(),
        signed_in_for_it: false,
        awaiting_consent: false,
    };
    match proceed(state, session, binding, pending).await {
        Ok(response) => response,
        Err(failure) => failure.into_response(&state.settings.issuer),
    }
}
