//! Errors on the pages people see: rendered as an HTML page, never as a
//! redirect (the redirect target may be exactly what is wrong).

use std::sync::atomic::{AtomicI64, Ordering};

use axum::http::StatusCode;
use axum::response::Response;

use super::pages;
use super::session::SessionError;
use crate::domain::Issuer;
use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// The request itself is wrong (unknown client, unregistered redirect URI…).
    #[error("{title}: {message}")]
    BadRequest { title: &'static str, message: String },
    /// A form without this session's CSRF token.
    #[error("the form could not be verified")]
    Forbidden,
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Session(SessionError),
    #[error("{0}")]
    Internal(String),
}

/// A session's storage failing is a storage failure (503 when the database
/// is unavailable).
impl From<SessionError> for PageError {
    fn from(error: SessionError) -> Self {
        match error {
            SessionError::Storage(error) => Self::Storage(error),
            other => Self::Session(other),
        }
    }
}

impl PageError {
    pub fn bad_request(title: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest { title, message: message.into() }
    }

    /// The request this form belonged to is gone (completed, expired, or
    /// started in a session that has since ended).
    pub fn expired_request() -> Self {
        Self::bad_request("This sign-in has expired", "Go back to the application and start again.")
    }

    /// A sign-in started under a host name other than the issuer's: the
    /// cookie that binds it was set for that name and cannot come back here.
    /// Said on the page and, at most once a minute, in the log.
    pub fn reached_elsewhere(issuer: &Issuer, now: i64) -> Self {
        static LAST_WARNED: AtomicI64 = AtomicI64::new(i64::MIN);
        let minute = now.div_euclid(60);
        if LAST_WARNED.swap(minute, Ordering::Relaxed) != minute {
            tracing::warn!(
                issuer = %issuer,
                "a sign-in failed because the browser opened Castellan under a host name other than the \
                 issuer's, and cookies are kept per host name: use the issuer URL in links and in the \
                 browser, or set CASTELLAN_ISSUER to the URL people use (a reverse proxy must pass the \
                 original Host header)"
            );
        }
        Self::bad_request(
            "Wrong address for this sign-in",
            format!(
                "This sign-in was started at an address other than this server's own ({issuer}), so your \
                 browser could not carry it over. Start again from an address beginning with {issuer}."
            ),
        )
    }

    pub fn render(&self, issuer: &Issuer) -> Response {
        match self {
            Self::BadRequest { title, message } => {
                pages::error_page(issuer, StatusCode::BAD_REQUEST, title, message)
            }
            Self::Forbidden => pages::error_page(
                issuer,
                StatusCode::FORBIDDEN,
                "This form has expired",
                "The page was open too long or cookies are blocked. Go back to the application and start again.",
            ),
            Self::Storage(StorageError::Unavailable(_)) => {
                tracing::warn!(error = %self, "page failed: database unavailable");
                pages::error_page(
                    issuer,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Temporarily unavailable",
                    "Please try again in a moment.",
                )
            }
            Self::Storage(_) | Self::Session(_) | Self::Internal(_) => {
                tracing::error!(error = %self, "page failed");
                pages::error_page(
                    issuer,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Please try again later.",
                )
            }
        }
    }
}
