//! What every request goes through: a span with a request id (sent back as
//! `X-Request-Id`), the method and the matched route, so that every log line
//! of one request can be found together; default response headers; and one
//! debug line per request.

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::domain::secret::random_token;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Opens the request's span. The route is filled in by [`record_route`]
/// once routing has matched one; unmatched requests keep it empty.
pub async fn request_span(request: Request, next: Next) -> Response {
    let id = random_token(9);
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        route = tracing::field::Empty,
    );
    let mut response = next.run(request).instrument(span).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// Records the matched route (the pattern, never the path with its values).
pub async fn record_route(request: Request, next: Next) -> Response {
    if let Some(route) = request.extensions().get::<MatchedPath>() {
        tracing::Span::current().record("route", route.as_str());
    }
    next.run(request).await
}

/// One debug line per request: method, path (never the query, which may
/// carry codes or tokens), status and time taken.
pub async fn log_request(request: Request, next: Next) -> Response {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    tracing::debug!(%method, %path, status = response.status().as_u16(), elapsed_us = started.elapsed().as_micros() as u64, "request");
    response
}

/// Headers every answer carries unless its handler chose otherwise:
/// nothing is cached by default (admin answers carry secrets, RFC 6749 §5.1
/// answers carry tokens), and no body is content-sniffed.
pub async fn response_defaults(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}
