//! The admin API: its own router behind its own authentication layer. Every
//! request needs a bearer access token with the `admin` scope (401 without a
//! good token, 403 without the scope).

mod clients;
mod users;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, delete, get};

use crate::domain::scope::ADMIN_SCOPE;
use crate::domain::{ProtocolError, Subject};
use crate::protocol::{access_token, bearer};
use crate::web::{AppState, routes};

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route(routes::ADMIN_CLIENTS, get(clients::list).post(clients::create))
        .route(routes::ADMIN_CLIENT, get(clients::show).put(clients::replace).delete(clients::delete))
        .route(routes::ADMIN_USERS, get(users::list).post(users::create))
        .route(routes::ADMIN_USER, get(users::show).delete(users::delete))
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
    request: Request,
    next: Next,
) -> Result<Response, ProtocolError> {
    let token = crate::web::bearer_token::from_headers(request.headers())?;
    let claims = access_token::validate(&state, token).await?.ok_or_else(bearer::invalid_token)?;
    // RFC 9068 §4: a resource server checks it is the audience; the admin
    // API is this issuer's own resource.
    if claims.aud != state.settings.issuer.as_str() {
        return Err(bearer::invalid_token());
    }
    // Only a client acting for itself (`client_credentials`) administers:
    // a user's token through a client that may ask for `admin` does not.
    let own_token = matches!(claims.subject(), Some(Subject::Client(_)));
    if !own_token || !claims.scopes().any(|s| s == ADMIN_SCOPE) {
        return Err(bearer::insufficient_scope(ADMIN_SCOPE));
    }
    Ok(next.run(request).await)
}
