//! Authorization responses (RFC 6749 §4.1.2): the browser is sent back to
//! the client's validated redirect URI with a code or an error, `state`, and
//! the issuer (RFC 9207 §2, against mix-up attacks).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use url::Url;

use crate::config::Config;
use crate::domain::RedirectUri;
use crate::page_error::PageError;

/// RFC 6749 §4.1.2.1 and OpenID Connect Core §3.1.2.6 error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizeErrorCode {
    InvalidRequest,
    UnauthorizedClient,
    AccessDenied,
    UnsupportedResponseType,
    InvalidScope,
    ServerError,
    TemporarilyUnavailable,
    LoginRequired,
    ConsentRequired,
    RequestNotSupported,
    RequestUriNotSupported,
}

impl AuthorizeErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
        }
    }
}

/// Where a response goes: a redirect URI already checked against the
/// client's registration, and the client's `state`.
#[derive(Debug, Clone)]
pub struct ResponseTarget {
    pub redirect_uri: RedirectUri,
    pub state: Option<String>,
}

/// An error to send back to the client (only ever to a validated target).
#[derive(Debug, Clone)]
pub struct AuthorizeError {
    pub target: ResponseTarget,
    pub code: AuthorizeErrorCode,
    pub description: String,
}

impl AuthorizeError {
    pub fn new(target: &ResponseTarget, code: AuthorizeErrorCode, description: impl Into<String>) -> Self {
        Self { target: target.clone(), code, description: description.into() }
    }

    pub fn into_response(self, config: &Config) -> Response {
        let params = [("error", self.code.as_str()), ("error_description", self.description.as_str())];
        redirect(config, &self.target, &params)
    }
}

/// Why an authorization request failed: before the redirect URI is known
/// good, a page; after, a redirect back to the client.
#[derive(Debug)]
pub enum AuthorizeFailure {
    Page(PageError),
    Redirect(AuthorizeError),
}

impl From<PageError> for AuthorizeFailure {
    fn from(error: PageError) -> Self {
        Self::Page(error)
    }
}

impl From<AuthorizeError> for AuthorizeFailure {
    fn from(error: AuthorizeError) -> Self {
        Self::Redirect(error)
    }
}

impl AuthorizeFailure {
    pub fn into_response(self, config: &Config) -> Response {
        match self {
            Self::Page(error) => error.render(config),
            Self::Redirect(error) => error.into_response(config),
        }
    }
}

/// A redirect to `target` with `params`, `state` and `iss` added to the
/// redirect URI's own query (RFC 6749 §3.1.2 keeps that query).
pub fn redirect(config: &Config, target: &ResponseTarget, params: &[(&str, &str)]) -> Response {
    let Ok(mut url) = Url::parse(target.redirect_uri.as_str()) else {
        // Unreachable: a RedirectUri is a parsed absolute URL.
        return PageError::Internal("stored redirect URI does not parse".into()).render(config);
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in params {
            query.append_pair(name, value);
        }
        if let Some(state) = &target.state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", &config.issuer);
    }
    see_other(url.as_str())
}

/// 303 See Other: after a form POST the browser must GET the target
/// (RFC 9700 §4.12), and after a GET it is the same as 302.
pub fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
