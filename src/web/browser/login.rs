//! The login page: the user signs in with username and password, and the
//! authorization request that sent them here carries on.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use tower_sessions::Session;

use super::authorize;
use super::device::{self, KnownDevice};
use super::login_request::{self, BrowserBinding, REACHED_ELSEWHERE};
use super::page_error::PageError;
use super::page_form::{PageForm, PageQuery};
use super::pages::{self, LoginForm};
use super::session::{self, PendingAuthorization};
use crate::domain::Params;
use crate::domain::Username;
use crate::domain::user::MAX_PASSWORD_BYTES;
use crate::protocol::authorize::AuthorizationRequest;
use crate::protocol::password::Busy;
use crate::protocol::security_event::{EventKind, SecurityEvent};
use crate::protocol::throttle::{self, Admission, SignInAttempt};
use crate::web::AppState;
use crate::web::client_address::ClientAddress;

/// The same message whether the user is unknown or the password wrong.
const BAD_CREDENTIALS: &str = "Incorrect username or password.";
/// After the right password for a disabled user.
const DISABLED: &str = "This account is disabled. Ask your administrator to enable it.";

pub async fn show(
    State(state): State<AppState>,
    binding: BrowserBinding,
    PageQuery(params): PageQuery,
) -> Response {
    let sealed = params.get("request").unwrap_or_default();
    let Some(request) = login_request::open(&state, &binding, sealed) else {
        // Only when no cookie came back at all: behind a proxy that rewrites
        // `Host` every request carries the marker, and a sign-in that merely
        // expired is still called that.
        if params.get(REACHED_ELSEWHERE).is_some() && binding.is_new() {
            return PageError::reached_elsewhere(&state.settings.issuer, state.clock.now())
                .render(&state.settings.issuer);
        }
        return PageError::expired_request().render(&state.settings.issuer);
    };
    LoginPage { state: &state, binding: &binding, sealed, request: &request }
        .render(None, StatusCode::OK, None)
        .await
}

pub async fn submit(
    State(state): State<AppState>,
    session: Session,
    binding: BrowserBinding,
    address: ClientAddress,
    headers: HeaderMap,
    PageForm(params): PageForm,
) -> Response {
    let visitor = Visitor { binding: &binding, address, device: device::known_device(&state, &headers) };
    sign_in(&state, &session, &visitor, &params)
        .await
        .unwrap_or_else(|error| error.render(&state.settings.issuer))
}

/// Who is signing in: the browser's binding, its address after trusted
/// proxies, and the account it has signed in to before, if any.
struct Visitor<'a> {
    binding: &'a BrowserBinding,
    address: ClientAddress,
    device: Option<KnownDevice>,
}

async fn sign_in(
    state: &AppState,
    session: &Session,
    visitor: &Visitor<'_>,
    params: &Params,
) -> Result<Response, PageError> {
    let binding = visitor.binding;
    if !binding.matches(params.get("csrf_token")) {
        return Err(PageError::Forbidden);
    }
    let sealed = params.get("request").unwrap_or_default();
    let request = login_request::open(state, binding, sealed).ok_or_else(PageError::expired_request)?;
    let page = LoginPage { state, binding, sealed, request: &request };
    let username = params.get("username").and_then(|u| Username::parse(u).ok());
    let (Some(username), Some(password)) = (username, params.get("password")) else {
        return Ok(page
            .render(Some("Enter your username and password."), StatusCode::BAD_REQUEST, None)
            .await);
    };
    let key = username.key();
    let user = state.storage.users.find_user(&key).await?;
    let known_device = visitor.device.as_ref().filter(|d| user.as_ref().is_some_and(|u| u.id == d.user_id));
    let attempt = SignInAttempt {
        username_key: &key,
        address: visitor.address.0,
        known_device: known_device.map(|d| d.id.as_str()),
    };
    let admitted = match throttle::admit(state, &attempt).await? {
        Admission::Allowed(admitted) => admitted,
        Admission::Refused { retry_after } => {
            let message = format!("Too many failed sign-ins. Try again in {}.", wait_in_words(retry_after));
            let mut response =
                page.render(Some(&message), StatusCode::TOO_MANY_REQUESTS, Some(username.as_str())).await;
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            return Ok(response);
        }
    };
    // After the throttle, so that a locked-out guesser never holds a hashing
    // place; a refusal for load takes the advance count back (it is no guess).
    let check = match state.passwords.admit_check() {
        Ok(check) => check,
        Err(busy) => {
            throttle::withdraw(state, &admitted).await?;
            return Ok(page.too_busy(username.as_str(), busy).await);
        }
    };
    let user_id = user.as_ref().map(|user| user.id.clone());
    let event = |kind| {
        let event = SecurityEvent::new(kind).address(visitor.address.0).client(request.client_id.as_str());
        match &user_id {
            Some(id) => event.user(id.as_str()),
            None => event,
        }
    };
    // An unknown user costs the same argon2 work as a wrong password.
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let too_long = password.len() > MAX_PASSWORD_BYTES;
    let verified = check.verify(stored_hash.filter(|_| !too_long), password.to_owned()).await;
    let Some(user) = user.filter(|_| verified && !too_long) else {
        let lock = throttle::failed(state, &admitted).await?;
        event(EventKind::SignInFailed).emit();
        if lock > 0 {
            event(EventKind::SignInLocked).detail(&format!("locked for {lock} s")).emit();
        }
        return Ok(page
            .render(Some(BAD_CREDENTIALS), StatusCode::UNAUTHORIZED, Some(username.as_str()))
            .await);
    };
    // Said only to whoever knows the password, so that it tells a guesser
    // nothing. The attempt's advance count (this account from this address
    // or device) stays; the address as a whole is not charged.
    if user.is_disabled() {
        event(EventKind::SignInFailed).detail("the user is disabled").emit();
        return Ok(page.render(Some(DISABLED), StatusCode::FORBIDDEN, Some(username.as_str())).await);
    }
    throttle::succeeded(state, &attempt).await?;
    session::sign_in(state, session, user.id.clone()).await?;
    event(EventKind::SignInSucceeded).emit();
    let pending = PendingAuthorization {
        request,
        created_at: state.clock.now(),
        signed_in_for_it: true,
        awaiting_consent: false,
    };
    let binding = BrowserBinding::renewed();
    let mut response = authorize::proceed(state, session, &binding, pending)
        .await
        .unwrap_or_else(|failure| failure.into_response(&state.settings.issuer));
    binding.set_cookie_on(state, &mut response);
    device::remember(state, &mut response, &user.id, known_device);
    Ok(response)
}

/// The login page for one sealed request.
struct LoginPage<'a> {
    state: &'a AppState,
    binding: &'a BrowserBinding,
    sealed: &'a str,
    request: &'a AuthorizationRequest,
}

impl LoginPage<'_> {
    /// RFC 6585 §4: 429 with `Retry-After`, the sign-in not attempted.
    async fn too_busy(&self, typed_username: &str, busy: Busy) -> Response {
        let message = Some("Too many sign-ins at once. Try again in a moment.");
        let mut response = self.render(message, StatusCode::TOO_MANY_REQUESTS, Some(typed_username)).await;
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(busy.retry_after));
        response
    }

    /// The form, with `status` (200 at first, 401 after a failed attempt, say).
    async fn render(
        &self,
        error: Option<&str>,
        status: StatusCode,
        typed_username: Option<&str>,
    ) -> Response {
        let (state, request) = (self.state, self.request);
        let client = match state.clients.get(&request.client_id).await {
            Ok(client) => client,
            Err(error) => return PageError::from(error).render(&state.settings.issuer),
        };
        let client_name = client
            .and_then(|c| c.metadata.client_name.clone())
            .unwrap_or_else(|| request.client_id.as_str().to_owned());
        let form = LoginForm {
            sealed_request: self.sealed.to_owned(),
            csrf_token: self.binding.csrf_token().to_owned(),
            client_name,
            username: typed_username.or(request.login_hint.as_deref()).unwrap_or_default().to_owned(),
            error: error.map(str::to_owned),
        };
        pages::login_page(&state.settings.issuer, &form, status)
    }
}

fn wait_in_words(seconds: i64) -> String {
    match seconds {
        ..=1 => "a second".to_owned(),
        2..90 => format!("{seconds} seconds"),
        _ => format!("{} minutes", (seconds + 59) / 60),
    }
}
