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
use tower::{Layer, Service, ServiceExt};
use tower_http::cors::{AllowOrigin, CorsLayer};

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
    with_preflight(route, cors, Some(HeaderValue::from_static("*")))
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
    with_preflight(route, cors, None)
}

/// The layer answers every `OPTIONS` (a preflight) itself. The `OPTIONS`
/// route it wraps is there so the method router hands it `OPTIONS` at all,
/// rather than answering 405.
fn with_preflight(
    route: MethodRouter<AppState>,
    cors: CorsLayer,
    always: Option<HeaderValue>,
) -> MethodRouter<AppState> {
    route.options(|| async { StatusCode::NO_CONTENT }).layer(OnlyWithOrigin { cors: Arc::new(cors), always })
}

/// `cors`, for requests that carry an `Origin` only (what a browser sends
/// cross-origin, and with every preflight). The rest — every service,
/// gateway and script — go straight to the route and pay nothing for CORS
/// (the layer is built per browser request, so the route's service stays
/// cheap to clone), except the one fixed header `always` if given: a public
/// document's `Access-Control-Allow-Origin: *`, so that a shared cache
/// holding an answer fetched without `Origin` still serves browsers right.
/// The other routes' answers are `no-store`: no cache can hand one to a
/// browser in place of one made for its origin.
#[derive(Clone)]
struct OnlyWithOrigin {
    cors: Arc<CorsLayer>,
    always: Option<HeaderValue>,
}

impl<S: Clone> Layer<S> for OnlyWithOrigin {
    type Service = OnlyWithOriginService<S>;

    fn layer(&self, route: S) -> Self::Service {
        OnlyWithOriginService { cors: self.cors.clone(), always: self.always.clone(), route }
    }
}

#[derive(Clone)]
struct OnlyWithOriginService<S> {
    cors: Arc<CorsLayer>,
    always: Option<HeaderValue>,
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
        // An axum route, always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if request.headers().contains_key(header::ORIGIN) {
            return Box::pin(self.cors.layer(self.route.clone()).oneshot(request));
        }
        let answer = self.route.call(request);
        match self.always.clone() {
            None => Box::pin(answer),
            Some(allow_origin) => Box::pin(async move {
                let mut response = answer.await?;
                response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
                Ok(response)
            }),
        }
    }
}
