//! CORS (the Fetch standard's CORS protocol), so that browser apps on other
//! origins can read what they need: discovery and the JWKS are public
//! documents, readable from anywhere (`*`); the token, userinfo and
//! revocation endpoints only from the origins of registered redirect URIs
//! (`protocol::cors_origins`). Nothing else is layered here: the
//! authorization endpoint and the pages are navigated to, not fetched, and
//! the admin API and introspection are for servers.
//!
//! `Access-Control-Allow-Credentials` is never sent: none of these endpoints
//! reads a cookie (clients authenticate with their request, RFC 6749 §2.3),
//! so a page has no reason to send one cross-origin.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use axum::routing::MethodRouter;
use tower::{Layer, Service};
use tower_http::cors::{AllowOrigin, Cors, CorsLayer};

use crate::protocol::cors_origins::CorsOrigins;
use crate::web::AppState;

/// How long a browser may reuse a preflight's answer: a client's new origin
/// is allowed within the client cache's time, and a removed one should not
/// stay allowed in browsers much longer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// `route`, readable from any origin. The answer is the same for every
/// origin, so it carries no `Vary: Origin` and shared caches may keep it.
pub fn any_origin(route: MethodRouter<AppState>) -> MethodRouter<AppState> {
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::any())
        .allow_methods([Method::GET, Method::HEAD])
        .max_age(PREFLIGHT_MAX_AGE)
        .vary([]);
    with_preflight(route, cors)
}

/// `route`, readable from the origins of registered redirect URIs, errors
/// included (a browser app must read `invalid_client` or a 429 too, with
/// the `WWW-Authenticate` and `Retry-After` that come with them). The answer
/// depends on the `Origin`, so it varies by it (and by the preflight's headers).
pub fn client_origins(route: MethodRouter<AppState>, origins: &Arc<CorsOrigins>) -> MethodRouter<AppState> {
    let origins = origins.clone();
    let allowed = AllowOrigin::async_predicate(move |origin: HeaderValue, _request: &Parts| async move {
        match origin.to_str() {
            Ok(origin) => origins.allows(origin).await,
            Err(_) => false,
        }
    });
    let cors = CorsLayer::new()
        .allow_origin(allowed)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([header::WWW_AUTHENTICATE, header::RETRY_AFTER])
        .max_age(PREFLIGHT_MAX_AGE);
    route.options(|| async { StatusCode::NO_CONTENT }).layer(OnlyWithOrigin(cors))
}

/// The layer answers every `OPTIONS` (a preflight) itself. The `OPTIONS`
/// route it wraps is there so the method router hands it `OPTIONS` at all,
/// rather than answering 405.
fn with_preflight(route: MethodRouter<AppState>, cors: CorsLayer) -> MethodRouter<AppState> {
    route.options(|| async { StatusCode::NO_CONTENT }).layer(cors)
}

/// `cors`, for requests that carry an `Origin` only (what a browser sends
/// cross-origin, and with every preflight). The rest — every service,
/// gateway and script calling the token endpoint — go straight to the
/// route and pay nothing for CORS. Their answers are `no-store`, so no
/// cache can hand one to a browser in place of one made for its origin.
#[derive(Clone)]
struct OnlyWithOrigin(CorsLayer);

impl<S: Clone> Layer<S> for OnlyWithOrigin {
    type Service = OnlyWithOriginService<S>;

    fn layer(&self, route: S) -> Self::Service {
        OnlyWithOriginService { with_cors: self.0.layer(route.clone()), route }
    }
}

#[derive(Clone)]
struct OnlyWithOriginService<S> {
    with_cors: Cors<S>,
    route: S,
}

impl<S> Service<Request> for OnlyWithOriginService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Both are axum routes, always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if request.headers().contains_key(header::ORIGIN) {
            let answer = self.with_cors.call(request);
            Box::pin(answer)
        } else {
            Box::pin(self.route.call(request))
        }
    }
}
