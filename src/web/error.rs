//! Protocol errors over HTTP: the JSON of RFC 6749 §5.2 (`error`,
//! `error_description`) with the status each RFC asks for, and the
//! `WWW-Authenticate` challenge where one is due.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::{ErrorCode, ProtocolError};

fn status(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidClient | ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
        ErrorCode::InsufficientScope | ErrorCode::AccessDenied => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'static str,
    error_description: &'a str,
}

impl IntoResponse for ProtocolError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: self.code.as_str(), error_description: &self.description };
        let status =
            if self.retry_after().is_some() { StatusCode::TOO_MANY_REQUESTS } else { status(self.code) };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if let Some(seconds) = self.retry_after() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        // RFC 6749 §5.1/§5.2: responses carrying or about credentials are not cached.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if let Some(challenge) = self.challenge().and_then(|c| HeaderValue::from_str(c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}
