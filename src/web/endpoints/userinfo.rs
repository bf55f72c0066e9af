//! The userinfo endpoint (OpenID Connect Core §5.3), GET and POST, with the
//! access token in the `Authorization` header or, on POST, the form body
//! (RFC 6750 §2.1, §2.2). Claims are released by scope (§5.4).

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method};
use serde_json::Value;

use crate::domain::{Params, ProtocolError};
use crate::protocol::{bearer, userinfo};
use crate::web::{AppState, form};

pub async fn userinfo(State(state): State<AppState>, request: Request) -> Result<Json<Value>, ProtocolError> {
    let token = token_of(request).await?;
    userinfo::userinfo(&state, &token).await.map(Json)
}

/// RFC 6750 §2: exactly one method; the form body only on POST with a form
/// content type.
async fn token_of(request: Request) -> Result<String, ProtocolError> {
    let from_header = header_token(request.headers())?;
    let is_form = request.method() == Method::POST
        && request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let from_body = match is_form {
        true => {
            let body = form::read_body(request).await?;
            Params::parse(&body)?.get("access_token").map(str::to_owned)
        }
        false => None,
    };
    match (from_header, from_body) {
        (Some(token), None) | (None, Some(token)) => Ok(token),
        (Some(_), Some(_)) => Err(ProtocolError::invalid_request("send the access token one way only")),
        (None, None) => Err(bearer::missing_token()),
    }
}

fn header_token(headers: &HeaderMap) -> Result<Option<String>, ProtocolError> {
    if headers.get(axum::http::header::AUTHORIZATION).is_none() {
        return Ok(None);
    }
    crate::web::bearer_token::from_headers(headers).map(|t| Some(t.to_owned()))
}
