//! What every request goes through: a span with a request id (sent back as
//! `X-Request-Id`), the method and the matched route, so that every log line
//! of one request can be found together; default response headers; and one
//! debug line per request.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A new request id: a number whose high 24 bits are random per process, so
/// instances differ, and whose low 40 bits count, so it costs no system call
/// and formats cheaply into every request's span.
fn next_request_id() -> u64 {
    static PREFIX: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = *PREFIX.get_or_init(|| {
        let mut bytes = [0u8; 8];
        let _ = SystemRandom::new().fill(&mut bytes[..3]);
        u64::from_le_bytes(bytes) << 40
    });
    prefix | (COUNTER.fetch_add(1, Ordering::Relaxed) & ((1 << 40) - 1))
}

fn set_request_id(response: &mut Response, id: u64) {
    response.headers_mut().insert(REQUEST_ID, HeaderValue::from(id));
}

/// The span of a routed request (a route layer, so the matched route, a
/// pattern and never the path with its values, is known).
pub async fn request_span(request: Request, next: Next) -> Response {
    let id = next_request_id();
    let route = request.extensions().get::<MatchedPath>().map_or("", MatchedPath::as_str);
    let span = tracing::info_span!("request", request_id = id, method = request.method().as_str(), route);
    let mut response = next.run(request).instrument(span).await;
    set_request_id(&mut response, id);
    response
}

/// Headers every answer carries unless its handler chose otherwise: nothing
/// is cached by default (admin answers carry secrets, RFC 6749 §5.1 answers
/// carry tokens), no body is content-sniffed, and a request id also for
/// requests no route matched. With `RUST_LOG=debug`, one line per request:
/// method, path (never the query, which may carry codes or tokens), status
/// and time taken.
pub async fn response_defaults(request: Request, next: Next) -> Response {
    let debug = tracing::enabled!(tracing::Level::DEBUG);
    let logged =
        debug.then(|| (request.method().clone(), request.uri().path().to_owned(), std::time::Instant::now()));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if !headers.contains_key(REQUEST_ID) {
        set_request_id(&mut response, next_request_id());
    }
    if let Some((method, path, started)) = logged {
        let status = response.status().as_u16();
        tracing::debug!(%method, %path, status, elapsed_us = started.elapsed().as_micros() as u64, "request");
    }
    response
}

/// RFC 6797: with an https issuer, browsers are told to use https only for
/// a year. Without `includeSubDomains`: other hosts under the same domain
/// are not ours to decide for.
pub async fn strict_transport_security(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    response
}
