//! An authorization request waiting for its user to sign in, carried by the
//! browser instead of stored: sealed (AES-256-GCM under the server's browser
//! key, shared by every instance) into the login page's URL and form, bound
//! to the browser that started it by a cookie, and good for 15 minutes.
//! Until a password is right, nothing an anonymous visitor sends is written
//! anywhere: a flood of authorization requests costs CPU, never storage.
//!
//! The binding cookie doubles as the login form's CSRF token (double-submit):
//! a cross-site page can neither read it nor seal a request bound to it. It
//! is renewed at each sign-in, which voids every request sealed for it.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::cookies::{browser_cookie, cookie_name, read_cookie};
use super::page_error::PageError;
use crate::domain::secret::random_token;
use crate::protocol::authorize::AuthorizationRequest;
use crate::web::AppState;

pub const BINDING_COOKIE: &str = "castellan_login";
/// The login URL's marker for a request that reached us under another host.
pub const REACHED_ELSEWHERE: &str = "elsewhere";
/// How long a sealed request may wait for its sign-in.
pub const LOGIN_REQUEST_TTL_SECS: i64 = 900;
const SEAL_CONTEXT: &[u8] = b"castellan login request v1";
/// Far above any sealed request (each of its parameters is bounded), so
/// anything longer is not worth decoding.
const MAX_SEALED_LEN: usize = 16 * 1024;
/// 32 random bytes, base64url.
const BINDING_LEN: usize = 43;

/// The browser's binding: the value of its binding cookie, or a new one
/// that the response must set.
pub struct BrowserBinding {
    value: String,
    is_new: bool,
    /// The request came under a host name other than the issuer's, so a
    /// cookie set in answer to it will not come back to the login page.
    reached_elsewhere: bool,
}

impl FromRequestParts<AppState> for BrowserBinding {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let name = cookie_name(&state.settings.issuer, BINDING_COOKIE);
        let sent = read_cookie(&parts.headers, &name).filter(|value| {
            value.len() == BINDING_LEN
                && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
        let reached_elsewhere = parts
            .headers
            .get(header::HOST)
            .and_then(|host| host.to_str().ok())
            .is_some_and(|host| !state.settings.issuer.is_host(host));
        Ok(match sent {
            Some(value) => Self { value: value.to_owned(), is_new: false, reached_elsewhere },
            None => Self { value: random_token(32), is_new: true, reached_elsewhere },
        })
    }
}

impl BrowserBinding {
    /// A new binding, for a browser that has just signed in: every request
    /// sealed for the old one (other tabs, the form just submitted) is
    /// void, so a sealed request serves one sign-in.
    pub fn renewed() -> Self {
        Self { value: random_token(32), is_new: true, reached_elsewhere: false }
    }

    /// Whether the browser sent no binding cookie (one is made for it now).
    pub fn is_new(&self) -> bool {
        self.is_new
    }

    /// Whether this browser reached us under a host other than the issuer's.
    pub fn reached_elsewhere(&self) -> bool {
        self.reached_elsewhere
    }

    /// The login form's CSRF token.
    pub fn csrf_token(&self) -> &str {
        &self.value
    }

    /// Whether `submitted` is this browser's binding (and the browser sent one).
    pub fn matches(&self, submitted: Option<&str>) -> bool {
        !self.is_new && submitted.is_some_and(|s| bool::from(s.as_bytes().ct_eq(self.value.as_bytes())))
    }

    /// Sets the cookie if the browser has none yet.
    pub fn set_cookie_on(&self, state: &AppState, response: &mut Response) {
        if !self.is_new {
            return;
        }
        let cookie = browser_cookie(&state.settings.issuer, BINDING_COOKIE, self.value.clone());
        if let Ok(value) = HeaderValue::try_from(cookie.to_string()) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
}

#[derive(Serialize, Deserialize)]
struct SealedLoginRequest {
    binding: String,
    created_at: i64,
    request: AuthorizationRequest,
}

/// `request`, sealed for this browser: base64url text for a URL or a form.
pub fn seal(
    state: &AppState,
    binding: &BrowserBinding,
    request: AuthorizationRequest,
) -> Result<String, PageError> {
    let sealed =
        SealedLoginRequest { binding: binding.value.clone(), created_at: state.clock.now(), request };
    let plaintext = serde_json::to_vec(&sealed).map_err(|e| PageError::Internal(e.to_string()))?;
    let sealed = state
        .keys
        .browser_sealing_key()
        .seal(SEAL_CONTEXT, &plaintext)
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let sealed = URL_SAFE_NO_PAD.encode(sealed);
    // Each parameter is bounded, but escaping can still grow them past what
    // `open` accepts: better said now than as an expired sign-in later.
    if sealed.len() > MAX_SEALED_LEN {
        return Err(PageError::bad_request("Invalid request", "The authorization request is too large."));
    }
    Ok(sealed)
}

/// The request in `sealed`, if this server sealed it for this browser less
/// than 15 minutes ago.
pub fn open(state: &AppState, binding: &BrowserBinding, sealed: &str) -> Option<AuthorizationRequest> {
    if binding.is_new || sealed.len() > MAX_SEALED_LEN {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    let plaintext = state.keys.browser_sealing_key().open(SEAL_CONTEXT, &bytes)?;
    let opened: SealedLoginRequest = serde_json::from_slice(&plaintext).ok()?;
    let age = state.clock.now() - opened.created_at;
    let bound_here = bool::from(opened.binding.as_bytes().ct_eq(binding.value.as_bytes()));
    // A minute of slack for instances whose clocks differ a little.
    (bound_here && (-60..LOGIN_REQUEST_TTL_SECS).contains(&age)).then_some(opened.request)
}
