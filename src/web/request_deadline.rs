//! A deadline for the whole request, from its header to its response. A
//! request that misses it is answered, and its handler dropped:
//!
//! - 408 Request Timeout (RFC 9110 §15.5.9) when the client had not finished
//!   sending the body, with `Connection: close` since the rest of the body
//!   would be taken for the next request;
//! - 503 Service Unavailable (RFC 9110 §15.6.4) when the request had arrived
//!   and the server was too slow, which is a server condition.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::body::{Frame, SizeHint};

use crate::domain::{ErrorCode, ProtocolError};

pub async fn request_deadline(State(timeout): State<Duration>, request: Request, next: Next) -> Response {
    // A request without a body (most GETs) is received once its header is.
    let mut received = None;
    let request = request.map(|body| {
        if body.is_end_stream() {
            return body;
        }
        let flag = received.insert(Arc::new(AtomicBool::new(false))).clone();
        Body::new(Tracked { body, received: flag })
    });
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) if received.is_none_or(|flag| flag.load(Ordering::Relaxed)) => {
            tracing::warn!(timeout_secs = timeout.as_secs(), "a request took too long to answer");
            ProtocolError::new(ErrorCode::TemporarilyUnavailable, "the server took too long, try again")
                .into_response()
        }
        Err(_) => {
            let mut response =
                ProtocolError::invalid_request("the request was not received in time").into_response();
            *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

/// A request body that notes when it has been received in full.
struct Tracked {
    body: Body,
    received: Arc<AtomicBool>,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.body.is_end_stream() {
            self.received.store(true, Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::routing::{get, post};
    use tower::ServiceExt;

    use super::*;

    /// A body whose rest never arrives.
    struct NeverEnds;

    impl HttpBody for NeverEnds {
        type Data = Bytes;
        type Error = axum::Error;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Pending
        }
    }

    fn app() -> Router {
        Router::new()
            .route("/slow", get(std::future::pending::<()>))
            .route("/form", post(|body: Bytes| async move { body.len().to_string() }))
            .layer(axum::middleware::from_fn_with_state(Duration::from_millis(50), request_deadline))
    }

    #[tokio::test]
    async fn a_body_that_does_not_arrive_in_time_is_408_and_closes_the_connection() {
        let request = Request::post("/form").body(Body::new(NeverEnds)).unwrap();
        let response = app().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(response.headers()[header::CONNECTION], "close");
    }

    #[tokio::test]
    async fn a_received_request_the_server_is_too_slow_for_is_503() {
        let response = app().oneshot(Request::get("/slow").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[tokio::test]
    async fn requests_in_time_pass_untouched() {
        let response = app().oneshot(Request::post("/form").body(Body::from("abc")).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
}
