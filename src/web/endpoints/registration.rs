//! The client registration endpoint (RFC 7591 §3) and the client
//! configuration endpoint (RFC 7592 §2): JSON in, the registered metadata
//! out, never cached. `protocol::registration` holds the rules.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::client::ClientMetadataRequest;
use crate::domain::secret::Secret;
use crate::domain::{Client, ClientMetadata, ErrorCode, ProtocolError};
use crate::protocol::registration::{self, management};
use crate::web::bearer_token;
use crate::web::client_address::ClientAddress;
use crate::web::json_body::JsonBody;
use crate::web::{AppState, routes};

/// RFC 7591 §3.2.1 / RFC 7592 §3: the client information response.
#[derive(Serialize)]
struct ClientInformation {
    client_id: String,
    client_id_issued_at: i64,
    /// Only in the registration answer: it is stored as a hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    /// Required with a secret; 0: it does not expire.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret_expires_at: Option<i64>,
    registration_access_token: String,
    registration_client_uri: String,
    #[serde(flatten)]
    metadata: ClientMetadata,
}

impl ClientInformation {
    fn of(state: &AppState, client: &Client, secret: Option<&Secret>, registration_token: &str) -> Self {
        let path = format!("{}/{}", routes::REGISTRATION, client.id);
        Self {
            client_id: client.id.to_string(),
            client_id_issued_at: client.issued_at,
            client_secret: secret.map(|s| s.expose().to_owned()),
            client_secret_expires_at: client.metadata.token_endpoint_auth_method.uses_secret().then_some(0),
            registration_access_token: registration_token.to_owned(),
            registration_client_uri: state.settings.issuer.endpoint(&path),
            metadata: client.metadata.clone(),
        }
    }

    fn respond(self, status: StatusCode) -> Response {
        let mut response = (status, Json(self)).into_response();
        // RFC 7591 §3.2.1: the answer carries credentials; never cached.
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        response
    }
}

/// The `{client_id}` path segment; one that cannot be decoded names no
/// client, and is answered as any unknown client is (`invalid_token`).
fn client_id_of(path: Result<Path<String>, PathRejection>) -> String {
    path.map(|Path(raw)| raw).unwrap_or_default()
}

fn metadata_error(error: ProtocolError) -> ProtocolError {
    error.with_code(ErrorCode::InvalidClientMetadata)
}

/// RFC 7591 §3.1: `POST` client metadata; `201` with the client information.
pub async fn register(
    State(state): State<AppState>,
    address: ClientAddress,
    headers: HeaderMap,
    body: Result<JsonBody<ClientMetadataRequest>, ProtocolError>,
) -> Result<Response, ProtocolError> {
    let request = body.map(|JsonBody(request)| request).map_err(metadata_error);
    let bearer = bearer_token::from_headers(&headers);
    let registered = registration::register(&state, bearer, address.0, request).await?;
    let token = registered.registration_token.expose();
    Ok(ClientInformation::of(&state, &registered.client, registered.secret.as_ref(), token)
        .respond(StatusCode::CREATED))
}

/// RFC 7592 §2.1: the client's registration as it stands.
pub async fn read(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ProtocolError> {
    let token = bearer_token::from_headers(&headers);
    let client = management::authenticate(&state, &client_id_of(path), token.clone()).await?;
    Ok(ClientInformation::of(&state, &client, None, token?).respond(StatusCode::OK))
}

/// RFC 7592 §2.2: replaces the client's metadata. The registration access
/// token is not rotated, so the answer carries the one presented.
pub async fn replace(
    State(state): State<AppState>,
    address: ClientAddress,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<JsonBody<serde_json::Value>, ProtocolError>,
) -> Result<Response, ProtocolError> {
    let token = bearer_token::from_headers(&headers);
    let client = management::authenticate(&state, &client_id_of(path), token.clone()).await?;
    let JsonBody(body) = body.map_err(metadata_error)?;
    let client = management::replace(&state, client, address.0, &body).await?;
    Ok(ClientInformation::of(&state, &client, None, token?).respond(StatusCode::OK))
}

/// RFC 7592 §2.3: `204`; the client, its grants and tokens are gone.
pub async fn delete(
    State(state): State<AppState>,
    address: ClientAddress,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<StatusCode, ProtocolError> {
    let bearer = bearer_token::from_headers(&headers);
    let client = management::authenticate(&state, &client_id_of(path), bearer).await?;
    management::delete(&state, &client, address.0).await?;
    Ok(StatusCode::NO_CONTENT)
}
