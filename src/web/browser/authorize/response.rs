//! Authorization responses (RFC 6749 §4.1.2): the browser is sent back to
//! the client's validated redirect URI with a code or an error, `state`, and
//! the issuer (RFC 9207 §2, against mix-up attacks).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use url::Url;

use crate::domain::Issuer;
use crate::protocol::authorize::{AuthorizeError, Rejection, ResponseTarget, Unredirectable};
use crate::web::browser::page_error::PageError;

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

impl From<Rejection> for AuthorizeFailure {
    fn from(rejection: Rejection) -> Self {
        match rejection {
            Rejection::Unredirectable(reason) => Self::Page(unredirectable(reason)),
            Rejection::Redirect(error) => Self::Redirect(error),
            Rejection::Storage(error) => Self::Page(PageError::Storage(error)),
        }
    }
}

/// The page for a request that must not be redirected.
fn unredirectable(reason: Unredirectable) -> PageError {
    match reason {
        Unredirectable::RepeatedParameter(name) => {
            PageError::bad_request("Invalid request", format!("The {name} parameter is repeated."))
        }
        Unredirectable::MissingClientId => PageError::bad_request(
            "Incomplete request",
            "The application that sent you here did not identify itself.",
        ),
        Unredirectable::UnknownClient => PageError::bad_request(
            "Unknown application",
            "The application that sent you here is not registered.",
        ),
        Unredirectable::UnregisteredRedirectUri => PageError::bad_request(
            "Invalid redirect",
            "The application asked to send you to an address it has not registered.",
        ),
        Unredirectable::MissingRedirectUri => {
            PageError::bad_request("Incomplete request", "The application did not say where to return.")
        }
        Unredirectable::SelfRegisteredClientError(description) => PageError::bad_request(
            "Invalid request",
            format!(
                "The application that sent you here made a request that cannot be answered: {description}."
            ),
        ),
        Unredirectable::MetadataDocumentRefused(reason) => PageError::bad_request(
            "Unknown application",
            format!("The application that sent you here could not be identified: {reason}."),
        ),
    }
}

impl AuthorizeFailure {
    pub fn into_response(self, issuer: &Issuer) -> Response {
        match self {
            Self::Page(error) => error.render(issuer),
            Self::Redirect(error) => error_redirect(issuer, &error),
        }
    }
}

/// The error sent back to the client's validated redirect URI (§4.1.2.1).
pub fn error_redirect(issuer: &Issuer, error: &AuthorizeError) -> Response {
    let params = [("error", error.code.as_str()), ("error_description", error.description.as_str())];
    redirect(issuer, &error.target, &params)
}

/// A redirect to `target` with `params`, `state` and `iss` added to the
/// redirect URI's own query (RFC 6749 §3.1.2 keeps that query).
pub fn redirect(issuer: &Issuer, target: &ResponseTarget, params: &[(&str, &str)]) -> Response {
    let Ok(mut url) = Url::parse(target.redirect_uri.as_str()) else {
        // Unreachable: a RedirectUri is a parsed absolute URL.
        return PageError::Internal("stored redirect URI does not parse".into()).render(issuer);
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in params {
            query.append_pair(name, value);
        }
        if let Some(state) = &target.state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", issuer.as_str());
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
