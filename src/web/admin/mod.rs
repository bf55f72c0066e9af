//! The admin API: its own router behind its own authentication layer. Every
//! request needs a bearer access token with the `admin` scope (401 without a
//! good token, 403 without the scope).

mod client_metadata_documents;
mod clients;
mod initial_access_tokens;
mod paging;
mod resources;
mod users;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, delete, get, post};

use crate::domain::scope::ADMIN_SCOPE;
use crate::domain::{ClientId, ProtocolError, Subject};
use crate::protocol::admin::{self, Actor};
use crate::protocol::{access_token, bearer};
use crate::web::client_address::ClientAddress;
use crate::web::{AppState, routes};

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route(routes::ADMIN_CLIENTS, get(clients::list).post(clients::create))
        .route(
            routes::ADMIN_CLIENT,
            get(clients::show).put(clients::replace).patch(clients::patch).delete(clients::delete),
        )
        .route(routes::ADMIN_CLIENT_SECRET, post(clients::rotate_secret))
        .route(routes::ADMIN_INITIAL_ACCESS_TOKENS, post(initial_access_tokens::create))
        .route(
            routes::ADMIN_CLIENT_METADATA_DOCUMENTS,
            get(client_metadata_documents::show).put(client_metadata_documents::replace),
        )
        .route(routes::ADMIN_RESOURCES, get(resources::list).post(resources::create))
        .route(routes::ADMIN_RESOURCE, get(resources::show).patch(resources::patch).delete(resources::delete))
        .route(routes::ADMIN_USERS, get(users::list).post(users::create))
        .route(routes::ADMIN_USER, get(users::show).patch(users::update).delete(users::delete))
        .route(routes::ADMIN_USER_CONSENTS, get(users::consents))
        .route(routes::ADMIN_USER_CONSENT, delete(users::revoke_consent))
        // Unknown admin paths sit behind the same check: 401 before 404.
        .route(routes::ADMIN_ANY, any(unknown_admin_path))
        .route_layer(middleware::from_fn_with_state(state, require_admin))
}

async fn unknown_admin_path() -> ProtocolError {
    ProtocolError::not_found("no such admin resource")
}

async fn require_admin(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ProtocolError> {
    let address = ClientAddress::of_request(&state, &request);
    if let Some(throttled) = admin::refusals_throttled(&state, address.0) {
        return Err(throttled);
    }
    let client_id = match admin_client(&state, request.headers()).await {
        Ok(client_id) => client_id,
        Err((error, client_id)) => {
            admin::refused(&state, address.0, client_id.as_ref(), &error);
            return Err(error);
        }
    };
    request.extensions_mut().insert(Actor { client_id, address: address.0 });
    Ok(next.run(request).await)
}

/// The admin client whose token the request carries; else the error, with
/// the client a valid token without the right to administer belongs to.
async fn admin_client(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<ClientId, (ProtocolError, Option<ClientId>)> {
    let token = crate::web::bearer_token::from_headers(headers).map_err(|e| (e, None))?;
    let claims = access_token::validate(state, token)
        .await
        .map_err(|e| (e, None))?
        .ok_or_else(|| (bearer::invalid_token(), None))?;
    // RFC 9068 §4: a resource server checks it is the audience; the admin
    // API is this issuer's own resource.
    if !claims.aud.contains(state.settings.issuer.as_str()) {
        return Err((bearer::invalid_token(), None));
    }
    // Only a client acting for itself (`client_credentials`) administers:
    // a user's token through a client that may ask for `admin` does not.
    let client_id = ClientId::parse(&claims.client_id).ok();
    match claims.subject() {
        Some(Subject::Client(_)) if claims.scopes().any(|s| s == ADMIN_SCOPE) => {
            client_id.ok_or_else(|| (bearer::invalid_token(), None))
        }
        _ => Err((bearer::insufficient_scope(ADMIN_SCOPE), client_id)),
    }
}
