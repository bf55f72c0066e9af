//! Errors on the pages people see: rendered as an HTML page, never as a
//! redirect (the redirect target may be exactly what is wrong).

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
