//! The admin API's domain policy for clients known by a Client ID Metadata
//! Document: `GET` and `PUT` of `{"allow_domains": [..], "deny_domains": [..]}`
//! (`protocol::admin::client_metadata_documents` holds the rules).

use axum::extract::State;
use axum::{Extension, Json};

use crate::domain::ProtocolError;
use crate::domain::client_metadata_document::DomainPolicy;
use crate::protocol::admin::Actor;
use crate::protocol::admin::client_metadata_documents::{self, DomainPolicyRequest};
use crate::web::AppState;
use crate::web::json_body::JsonBody;

pub async fn show(State(state): State<AppState>) -> Result<Json<DomainPolicy>, ProtocolError> {
    Ok(Json(client_metadata_documents::domain_policy(&state).await?))
}

pub async fn replace(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    body: Result<JsonBody<DomainPolicyRequest>, ProtocolError>,
) -> Result<Json<DomainPolicy>, ProtocolError> {
    let JsonBody(request) = body?;
    Ok(Json(client_metadata_documents::set_domain_policy(&state, &actor, request).await?))
}
