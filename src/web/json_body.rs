//! A JSON request body for the admin API: `application/json`, bounded in
//! size, and rejected with an RFC-style JSON error rather than a plain-text one.

use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

use crate::domain::ProtocolError;
use crate::web::form::read_body;

pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ProtocolError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|media| {
                let media = media.trim().to_ascii_lowercase();
                media == "application/json" || media.ends_with("+json")
            });
        if !is_json {
            return Err(ProtocolError::invalid_request("the body must be application/json"));
        }
        let body = read_body(request).await?;
        serde_json::from_slice(&body).map(JsonBody).map_err(|e| {
            ProtocolError::invalid_request(format!("the body is not valid JSON for this request: {e}"))
        })
    }
}
