//! The admin API's client resources: RFC 7591 metadata in, the stored
//! metadata out (`protocol::admin::clients` holds the rules).

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;

use crate::domain::client::ClientMetadataRequest;
use crate::domain::secret::Secret;
use crate::domain::{Client, ClientId, ClientMetadata, ErrorCode, ProtocolError};
use crate::protocol::admin::Actor;
use crate::protocol::admin::clients;
use crate::web::AppState;
use crate::web::admin::paging::ListQuery;
use crate::web::json_body::JsonBody;

/// A client as the admin API shows it (RFC 7591 §3.2.1).
#[derive(Serialize)]
pub struct ClientView {
    client_id: String,
    client_id_issued_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    /// RFC 7591 §3.2.1: required with a secret; 0 means it never expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret_expires_at: Option<i64>,
    #[serde(flatten)]
    metadata: ClientMetadata,
}

impl ClientView {
    fn of(client: &Client, secret: Option<&Secret>) -> Self {
        Self {
            client_id: client.id.to_string(),
            client_id_issued_at: client.issued_at,
            client_secret: secret.map(|s| s.expose().to_owned()),
            client_secret_expires_at: secret.map(|_| 0),
            metadata: client.metadata.clone(),
        }
    }
}

fn metadata_from(
    body: Result<JsonBody<ClientMetadataRequest>, ProtocolError>,
) -> Result<ClientMetadata, ProtocolError> {
    let JsonBody(request) = body.map_err(|e| e.with_code(ErrorCode::InvalidClientMetadata))?;
    request.validate()
}

/// The `{client_id}` path segment, parsed once here. Anything that is not a
/// client id (undecodable, empty, too long) is JSON `not_found`, where
/// axum's own rejection would be plain text.
pub struct ClientPath(ClientId);

impl<S: Send + Sync> FromRequestParts<S> for ClientPath {
    type Rejection = ProtocolError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let not_found = || ProtocolError::not_found("no such client");
        let Path(raw) = Path::<String>::from_request_parts(parts, state).await.map_err(|_| not_found())?;
        ClientId::parse(&raw).map(Self).map_err(|_| not_found())
    }
}

pub async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    body: Result<JsonBody<ClientMetadataRequest>, ProtocolError>,
) -> Result<Response, ProtocolError> {
    let (client, secret) = clients::register(&state, &actor, metadata_from(body)?).await?;
    Ok((StatusCode::CREATED, Json(ClientView::of(&client, secret.as_ref()))).into_response())
}

pub async fn list(State(state): State<AppState>, query: ListQuery) -> Result<Response, ProtocolError> {
    let page = clients::list(&state, &query.page).await?;
    Ok(query.respond(page, |client| ClientView::of(client, None)))
}

pub async fn show(
    State(state): State<AppState>,
    ClientPath(id): ClientPath,
) -> Result<Json<ClientView>, ProtocolError> {
    Ok(Json(ClientView::of(&clients::get(&state, &id).await?, None)))
}

pub async fn replace(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ClientPath(id): ClientPath,
    body: Result<JsonBody<ClientMetadataRequest>, ProtocolError>,
) -> Result<Json<ClientView>, ProtocolError> {
    let client = clients::replace(&state, &actor, id, metadata_from(body)?).await?;
    Ok(Json(ClientView::of(&client, None)))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ClientPath(id): ClientPath,
) -> Result<StatusCode, ProtocolError> {
    clients::delete(&state, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
