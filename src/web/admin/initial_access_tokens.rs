//! `POST /admin/initial-access-tokens`: a token for one registration under
//! `CASTELLAN_REGISTRATION=token` (RFC 7591 §3), shown in this answer only.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};

use crate::domain::ProtocolError;
use crate::protocol::admin::{Actor, initial_access_tokens};
use crate::web::AppState;
use crate::web::json_body::OptionalJsonBody;

/// Unknown members are refused: a misspelt `expires_in` would otherwise
/// give a token of the default lifetime without a word.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    expires_in: Option<u32>,
}

#[derive(Serialize)]
struct Created {
    token: String,
    expires_at: i64,
}

pub async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    OptionalJsonBody(request): OptionalJsonBody<CreateRequest>,
) -> Result<Response, ProtocolError> {
    let (token, expires_at) = initial_access_tokens::create(&state, &actor, request.expires_in).await?;
    let body = Created { token: token.expose().to_owned(), expires_at };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
