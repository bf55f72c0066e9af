//! The admin API's client resources: RFC 7591 metadata in (whole, or as an
//! RFC 7396 merge patch), the stored metadata out, and secret rotation
//! (`protocol::admin::clients` holds the rules).

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};

use crate::domain::client::ClientMetadataRequest;
use crate::domain::secret::Secret;
use crate::domain::{Client, ClientId, ClientMetadata, ErrorCode, ProtocolError};
use crate::protocol::admin::Actor;
use crate::protocol::admin::clients;
use crate::web::AppState;
use crate::web::admin::paging::ListQuery;
use crate::web::json_body::{JsonBody, OptionalJsonBody};

/// A client as the admin API shows it (RFC 7591 §3.2.1).
#[derive(Serialize)]
pub struct ClientView {
    client_id: String,
    client_id_issued_at: i64,
    /// Who registered it: `admin`, or `dynamic` (the client itself, RFC 7591).
    origin: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    /// RFC 7591 §3.2.1: required with a secret; 0 means it never expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret_expires_at: Option<i64>,
    /// In a rotation's answer: until when the replaced secret still works.
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_secret_expires_at: Option<i64>,
    /// For a client known by its Client ID Metadata Document: when the
    /// metadata shown was fetched (an admin cannot change it).
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata_document_fetched_at: Option<i64>,
    #[serde(flatten)]
    metadata: ClientMetadata,
}

impl ClientView {
    fn of(client: &Client, secret: Option<&Secret>) -> Self {
        Self {
            client_id: client.id.to_string(),
            client_id_issued_at: client.issued_at,
            origin: client.origin.as_str(),
            client_secret: secret.map(|s| s.expose().to_owned()),
            client_secret_expires_at: secret.map(|_| 0),
            previous_secret_expires_at: None,
            metadata_document_fetched_at: client.metadata_document_fetched_at,
            metadata: client.metadata.clone(),
        }
    }
}

/// The optional body of a secret rotation. Unknown members are refused: a
/// misspelt `previous_secret_valid_for` would otherwise end the old secret
/// at once, the outage the caller was asking to avoid.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationRequest {
    previous_secret_valid_for: Option<u32>,
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
    // Said rather than ignored: a script would take the whole list for the matches.
    if query.search.is_some() {
        return Err(ProtocolError::invalid_request("the client list has no search"));
    }
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

/// RFC 7396: the body is a merge patch (`application/merge-patch+json`, or
/// `application/json`) of the metadata as `show` answers it.
pub async fn patch(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ClientPath(id): ClientPath,
    body: Result<JsonBody<serde_json::Value>, ProtocolError>,
) -> Result<Json<ClientView>, ProtocolError> {
    let JsonBody(patch) = body.map_err(|e| e.with_code(ErrorCode::InvalidClientMetadata))?;
    let client = clients::patch(&state, &actor, id, &patch).await?;
    Ok(Json(ClientView::of(&client, None)))
}

/// A new secret, shown in this answer only (with the metadata, as at
/// registration).
pub async fn rotate_secret(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ClientPath(id): ClientPath,
    OptionalJsonBody(request): OptionalJsonBody<RotationRequest>,
) -> Result<Json<ClientView>, ProtocolError> {
    let (client, secret) =
        clients::rotate_secret(&state, &actor, &id, request.previous_secret_valid_for).await?;
    let mut view = ClientView::of(&client, Some(&secret));
    view.previous_secret_expires_at = client.previous_secret.as_ref().map(|p| p.expires_at);
    Ok(Json(view))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ClientPath(id): ClientPath,
) -> Result<StatusCode, ProtocolError> {
    clients::delete(&state, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
