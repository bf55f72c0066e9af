//! Client registration by admins: RFC 7591 metadata in, the stored metadata
//! out. The secret is generated here, shown once, and stored as a hash.

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::client::ClientMetadataRequest;
use crate::domain::secret::{Secret, SecretHash};
use crate::domain::{Client, ClientId, ClientMetadata};
use crate::domain::{ErrorCode, ProtocolError};
use crate::web::AppState;
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
    body: Result<JsonBody<ClientMetadataRequest>, ProtocolError>,
) -> Result<Response, ProtocolError> {
    let metadata = metadata_from(body)?;
    let secret = metadata.token_endpoint_auth_method.is_confidential().then(Secret::generate);
    let client = Client {
        id: ClientId::generate(),
        secret_hash: secret.as_ref().map(SecretHash::of),
        metadata,
        issued_at: state.clock.now(),
    };
    state.clients.store().insert_client(&client).await?;
    tracing::info!(client_id = %client.id, "client registered");
    Ok((StatusCode::CREATED, Json(ClientView::of(&client, secret.as_ref()))).into_response())
}

pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<ClientView>>, ProtocolError> {
    let clients = state.clients.store().list_clients().await?;
    Ok(Json(clients.iter().map(|c| ClientView::of(c, None)).collect()))
}

pub async fn show(
    State(state): State<AppState>,
    ClientPath(id): ClientPath,
) -> Result<Json<ClientView>, ProtocolError> {
    let client = state
        .clients
        .store()
        .get_client(&id)
        .await?
        .ok_or_else(|| ProtocolError::not_found("no such client"))?;
    Ok(Json(ClientView::of(&client, None)))
}

/// Replaces the metadata; the secret stays. A public client cannot become
/// confidential here, as it has no secret to keep.
pub async fn replace(
    State(state): State<AppState>,
    ClientPath(id): ClientPath,
    body: Result<JsonBody<ClientMetadataRequest>, ProtocolError>,
) -> Result<Json<ClientView>, ProtocolError> {
    let metadata = metadata_from(body)?;
    let existing = state
        .clients
        .store()
        .get_client(&id)
        .await?
        .ok_or_else(|| ProtocolError::not_found("no such client"))?;
    let secret_hash = match (metadata.token_endpoint_auth_method.is_confidential(), existing.secret_hash) {
        (true, Some(hash)) => Some(hash),
        (true, None) => {
            return Err(ProtocolError::new(
                ErrorCode::InvalidClientMetadata,
                "a public client cannot be made confidential; register a new client",
            ));
        }
        (false, _) => None,
    };
    let client = Client { id, secret_hash, metadata, issued_at: existing.issued_at };
    if !state.clients.store().update_client(&client, state.clock.now()).await? {
        return Err(ProtocolError::not_found("no such client"));
    }
    state.clients.invalidate(&client.id);
    tracing::info!(client_id = %client.id, "client updated");
    Ok(Json(ClientView::of(&client, None)))
}

pub async fn delete(
    State(state): State<AppState>,
    ClientPath(id): ClientPath,
) -> Result<StatusCode, ProtocolError> {
    if !state.clients.store().delete_client(&id).await? {
        return Err(ProtocolError::not_found("no such client"));
    }
    state.clients.invalidate(&id);
    tracing::info!(client_id = %id, "client deleted");
    Ok(StatusCode::NO_CONTENT)
}
