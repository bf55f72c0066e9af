//! Token introspection (RFC 7662). Callers are confidential clients (resource
//! servers). A token is `active` only if its signature, type, issuer, expiry,
//! revocation state and client are all still good; anything else, garbage
//! included, is `{"active": false}` (§2.2).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::access_token;
use crate::client_auth;
use crate::clock;
use crate::error::ProtocolError;
use crate::form::Form;
use crate::state::AppState;
use crate::token;

pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(params): Form,
) -> Result<Response, ProtocolError> {
    client_auth::authenticate_confidential(&state, &headers, &params).await?;
    let token = params.require("token")?;
    // `token_type_hint` is only a hint (§2.1): an access token is checked
    // without a database read, so it is always tried first.
    let body = match access_token::validate(&state, token).await? {
        Some(claims) => active(&claims),
        None => refresh_token(&state, token).await?.unwrap_or_else(|| json!({"active": false})),
    };
    let mut response = Json(body).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// A refresh token in good standing, described as §2.2 asks.
async fn refresh_token(state: &AppState, token: &str) -> Result<Option<Value>, ProtocolError> {
    if !token::refresh_token::looks_like_refresh_token(token) {
        return Ok(None);
    }
    let hash = token::refresh_token::token_hash(token);
    let Some((record, family)) = state.storage.grants.get_refresh_token(&hash).await? else {
        return Ok(None);
    };
    if !token::refresh_token::is_live(&record, &family, clock::now()) {
        return Ok(None);
    }
    Ok(Some(json!({
        "active": true,
        "token_type": "refresh_token",
        "scope": family.scope.to_string(),
        "client_id": family.client_id.as_str(),
        "sub": family.user_id.as_str(),
        "iss": state.config.issuer,
        "exp": record.idle_expires_at.min(family.expires_at),
        "iat": record.issued_at,
        "auth_time": family.auth_time,
    })))
}

fn active(claims: &access_token::AccessTokenClaims) -> Value {
    let mut body = json!({
        "active": true,
        "scope": claims.scope,
        "client_id": claims.client_id,
        "sub": claims.sub,
        "aud": claims.aud,
        "iss": claims.iss,
        "exp": claims.exp,
        "iat": claims.iat,
        "jti": claims.jti,
        "token_type": "Bearer",
    });
    if let Some(roles) = &claims.roles {
        body["roles"] = json!(roles);
    }
    if let Some(auth_time) = claims.auth_time {
        body["auth_time"] = json!(auth_time);
    }
    body
}
