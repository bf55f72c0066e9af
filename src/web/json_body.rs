//! A JSON request body for the admin API: `application/json`, bounded in
//! size, and rejected with an RFC-style JSON error rather than a plain-text one.

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;

use crate::domain::ProtocolError;
use crate::web::form::read_body;

pub struct JsonBody<T>(pub T);

/// A JSON object body that may be left out: no body at all (any content
/// type) is `T::default()`; otherwise it must be a JSON object.
pub struct OptionalJsonBody<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ProtocolError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let is_json = is_json(request.headers());
        let body = read_body(request).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default()));
        }
        if !is_json {
            return Err(not_json());
        }
        // Parsed as an object first: serde would also take a struct from an array.
        let object: serde_json::Map<String, serde_json::Value> = parse(&body)?;
        serde_json::from_value(object.into()).map(Self).map_err(|e| {
            ProtocolError::invalid_request(format!("the body is not valid for this request: {e}"))
        })
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ProtocolError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers()) {
            return Err(not_json());
        }
        let body = read_body(request).await?;
        parse(&body).map(JsonBody)
    }
}

/// Whether the request says its body is JSON: `application/json`, or a
/// `+json` type such as `application/merge-patch+json` (RFC 7396 §4).
pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| {
            let media = media.trim().to_ascii_lowercase();
            media == "application/json" || media.ends_with("+json")
        })
}

pub fn not_json() -> ProtocolError {
    ProtocolError::invalid_request("the body must be application/json")
}

/// `body` as a `T`, or `invalid_request` saying why not.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ProtocolError> {
    serde_json::from_slice(body).map_err(|e| {
        ProtocolError::invalid_request(format!("the body is not valid JSON for this request: {e}"))
    })
}
