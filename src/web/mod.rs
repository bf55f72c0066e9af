//! How Castellan is spoken over HTTP: the routers, extractors, endpoint
//! handlers, browser pages and sessions, and the rendering of errors. Handlers
//! extract, call a `protocol` function, and map its answer.

pub mod admin;
pub mod bearer_token;
pub mod browser;
pub mod client_address;
pub mod client_auth;
pub mod cors;
pub mod endpoints;
pub mod error;
pub mod form;
pub mod json_body;
pub mod middleware;
mod peer_connections;
mod request_deadline;
pub mod routes;
mod serve;
pub mod state;

use std::future::Future;

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;

pub use serve::ServerLimits;
pub use state::{AppState, SessionSettings};

use crate::domain::ProtocolError;
use browser::{authorize, consent, login, logout, pages, session};
use endpoints::{discovery, health, introspection, jwks, registration, revocation, token, userinfo};
use peer_connections::PeerConnections;

pub fn router(state: AppState) -> Router {
    // Browser apps on other origins read discovery and the JWKS, and call
    // the token, userinfo and revocation endpoints (see `cors`).
    let origins = &state.cors_origins;
    let public = Router::new()
        .route(routes::OPENID_CONFIGURATION, cors::any_origin(get(discovery::discovery)))
        .route(routes::OAUTH_AUTHORIZATION_SERVER, cors::any_origin(get(discovery::discovery)))
        .route(routes::JWKS, cors::any_origin(get(jwks::jwks)))
        .route(routes::TOKEN, cors::client_origins(post(token::token), origins))
        .route(routes::INTROSPECTION, post(introspection::introspect))
        .route(routes::REVOCATION, cors::client_origins(post(revocation::revoke), origins))
        .route(routes::REGISTRATION, post(registration::register))
        .route(
            routes::REGISTRATION_CLIENT,
            get(registration::read).put(registration::replace).delete(registration::delete),
        )
        .route(routes::HEALTHZ, get(health::healthz))
        .route(routes::READYZ, get(health::readyz))
        .route(
            routes::USERINFO,
            cors::client_origins(get(userinfo::userinfo).post(userinfo::userinfo), origins),
        )
        .route(routes::STYLESHEET, get(pages::stylesheet))
        .route(routes::HOME, get(home));
    // Only the pages a browser visits carry the session cookie.
    let browser = Router::new()
        .route(routes::AUTHORIZATION, get(authorize::authorize_get).post(authorize::authorize_post))
        .route(routes::LOGIN, get(login::show).post(login::submit))
        .route(routes::CONSENT, get(consent::show).post(consent::submit))
        .route(routes::END_SESSION, get(logout::logout_get).post(logout::logout_post))
        .layer(session::layer(&state));
    let router = public
        .merge(browser)
        .merge(admin::router(state.clone()))
        .route_layer(axum::middleware::from_fn(middleware::request_span))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.limits.request_timeout,
            request_deadline::request_deadline,
        ))
        .layer(axum::middleware::from_fn(middleware::response_defaults));
    let router = if state.settings.issuer.is_https() {
        router.layer(axum::middleware::from_fn(middleware::strict_transport_security))
    } else {
        router
    };
    router.with_state(state)
}

/// Serves the router on `listener` until `shutdown` completes; requests in
/// flight then finish.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.limits.clone();
    let peers = PeerConnections::new(limits.max_connections, state.trusted_proxies.clone());
    serve::serve(router(state), listener, &limits, peers, shutdown).await
}

/// The issuer URL opened in a browser: a page that says what this is.
async fn home(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    pages::home_page(&state.settings.issuer)
}

async fn not_found() -> ProtocolError {
    ProtocolError::not_found("no such endpoint")
}

async fn method_not_allowed() -> Response {
    let mut response = ProtocolError::invalid_request("this method is not allowed here").into_response();
    *response.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    response
}
