//! The admin API's resources (RFC 8707 APIs): register, list, show, change
//! by RFC 7396 merge patch, delete (`protocol::admin::resources` holds the rules).

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::Value;

use crate::domain::{ProtocolError, ResourceId, ResourceRequest};
use crate::protocol::admin::Actor;
use crate::protocol::admin::resources;
use crate::web::AppState;
use crate::web::admin::paging::ListQuery;
use crate::web::json_body::JsonBody;

/// The `{id}` path segment, parsed once here; anything that is not a
/// resource id is JSON `not_found`.
pub struct ResourcePath(ResourceId);

impl<S: Send + Sync> FromRequestParts<S> for ResourcePath {
    type Rejection = ProtocolError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let not_found = || ProtocolError::not_found("no such resource");
        let Path(raw) = Path::<String>::from_request_parts(parts, state).await.map_err(|_| not_found())?;
        ResourceId::parse(&raw).map(Self).map_err(|_| not_found())
    }
}

pub async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    body: Result<JsonBody<ResourceRequest>, ProtocolError>,
) -> Result<Response, ProtocolError> {
    let JsonBody(request) = body?;
    let resource = resources::register(&state, &actor, request.validate()?).await?;
    Ok((StatusCode::CREATED, Json(resource.to_json())).into_response())
}

pub async fn list(State(state): State<AppState>, query: ListQuery) -> Result<Response, ProtocolError> {
    let page = resources::list(&state, &query.page).await?;
    Ok(query.respond(page, |resource| resource.to_json()))
}

pub async fn show(
    State(state): State<AppState>,
    ResourcePath(id): ResourcePath,
) -> Result<Json<Value>, ProtocolError> {
    Ok(Json(resources::get(&state, &id).await?.to_json()))
}

/// RFC 7396: the body is a merge patch of the resource as `show` answers it.
pub async fn patch(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ResourcePath(id): ResourcePath,
    body: Result<JsonBody<Value>, ProtocolError>,
) -> Result<Json<Value>, ProtocolError> {
    let JsonBody(patch) = body?;
    Ok(Json(resources::patch(&state, &actor, &id, &patch).await?.to_json()))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ResourcePath(id): ResourcePath,
) -> Result<StatusCode, ProtocolError> {
    resources::delete(&state, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
