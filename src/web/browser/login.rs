//! The login page: the user signs in with username and password, and the
//! authorization request that sent them here carries on.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use tower_sessions::Session;

use super::authorize;
use super::page_error::PageError;
use super::page_form::{PageForm, PageQuery};
use super::pages::{self, LoginForm};
use super::session::{self, PendingAuthorization};
use crate::domain::Params;
use crate::domain::Username;
use crate::domain::user::MAX_PASSWORD_BYTES;
use crate::protocol::password::Busy;
use crate::protocol::throttle::{self, Admission};
use crate::web::AppState;

/// The same message whether the user is unknown or the password wrong.
const BAD_CREDENTIALS: &str = "Incorrect username or password.";

pub async fn show(State(state): State<AppState>, session: Session, PageQuery(params): PageQuery) -> Response {
    let request_id = params.get("rid").unwrap_or_default();
    match render(&state, &session, request_id, None, StatusCode::OK, None).await {
        Ok(response) => response,
        Err(error) => error.render(&state.settings.issuer),
    }
}

pub async fn submit(
    State(state): State<AppState>,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    PageForm(params): PageForm,
) -> Response {
    sign_in(&state, &session, peer, &params)
        .await
        .unwrap_or_else(|error| error.render(&state.settings.issuer))
}

async fn sign_in(
    state: &AppState,
    session: &Session,
    peer: SocketAddr,
    params: &Params,
) -> Result<Response, PageError> {
    if !session::csrf_matches(session, params.get("csrf_token")).await? {
        return Err(PageError::Forbidden);
    }
    let request_id = params.get("rid").unwrap_or_default();
    let mut pending = pending(state, session, request_id).await?;
    let username = params.get("username").and_then(|u| Username::parse(u).ok());
    let (Some(username), Some(password)) = (username, params.get("password")) else {
        let error = Some("Enter your username and password.");
        return render(state, session, request_id, error, StatusCode::BAD_REQUEST, None).await;
    };
    let key = username.key();
    // Before the throttle counts the attempt: a refusal for load is no failed guess.
    let check = match state.passwords.admit_check() {
        Ok(check) => check,
        Err(busy) => return too_busy(state, session, request_id, username.as_str(), busy).await,
    };
    if let Admission::Refused { retry_after } = throttle::admit(state, &key, peer.ip()).await? {
        let message = format!("Too many failed sign-ins. Try again in {}.", wait_in_words(retry_after));
        let typed = Some(username.as_str());
        let mut response =
            render(state, session, request_id, Some(&message), StatusCode::TOO_MANY_REQUESTS, typed).await?;
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        return Ok(response);
    }
    let user = state.storage.users.find_user(&key).await?;
    // An unknown user costs the same argon2 work as a wrong password.
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let too_long = password.len() > MAX_PASSWORD_BYTES;
    let verified = check.verify(stored_hash.filter(|_| !too_long), password.to_owned()).await;
    let Some(user) = user.filter(|_| verified && !too_long) else {
        let typed = username.as_str();
        return render(
            state,
            session,
            request_id,
            Some(BAD_CREDENTIALS),
            StatusCode::UNAUTHORIZED,
            Some(typed),
        )
        .await;
    };
    throttle::succeeded(state, &key, peer.ip()).await?;
    session::sign_in(state, session, user.id.clone()).await?;
    tracing::info!(user_id = %user.id, client_id = %pending.request.client_id, "user signed in");
    pending.signed_in_for_it = true;
    Ok(authorize::proceed(state, session, Some(request_id.to_owned()), pending)
        .await
        .unwrap_or_else(|failure| failure.into_response(&state.settings.issuer)))
}

async fn pending(
    state: &AppState,
    session: &Session,
    request_id: &str,
) -> Result<PendingAuthorization, PageError> {
    session::get_pending(state, session, request_id).await?.ok_or_else(PageError::expired_request)
}

async fn render(
    state: &AppState,
    session: &Session,
    request_id: &str,
    error: Option<&str>,
    status: StatusCode,
    typed_username: Option<&str>,
) -> Result<Response, PageError> {
    let pending = pending(state, session, request_id).await?;
    let client = state.clients.get(&pending.request.client_id).await?;
    let client_name = client
        .and_then(|c| c.metadata.client_name.clone())
        .unwrap_or_else(|| pending.request.client_id.as_str().to_owned());
    let form = LoginForm {
        request_id: request_id.to_owned(),
        csrf_token: session::csrf_token(session).await?,
        client_name,
        username: typed_username.map(str::to_owned).or(pending.request.login_hint).unwrap_or_default(),
        error: error.map(str::to_owned),
    };
    Ok(pages::login_page(&state.settings.issuer, &form, status))
}

/// RFC 6585 §4: 429 with `Retry-After`, the sign-in not attempted.
async fn too_busy(
    state: &AppState,
    session: &Session,
    request_id: &str,
    typed_username: &str,
    busy: Busy,
) -> Result<Response, PageError> {
    let message = Some("Too many sign-ins at once. Try again in a moment.");
    let mut response =
        render(state, session, request_id, message, StatusCode::TOO_MANY_REQUESTS, Some(typed_username))
            .await?;
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(busy.retry_after));
    Ok(response)
}

fn wait_in_words(seconds: i64) -> String {
    if seconds < 90 { format!("{seconds} seconds") } else { format!("{} minutes", (seconds + 59) / 60) }
}
