//! Form-encoded request bodies (RFC 6749 Appendix B) for the token,
//! introspection and revocation endpoints: the content type must be
//! `application/x-www-form-urlencoded` and the body bounded; the parameters
//! are then parsed strictly by [`Params`].

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use http_body_util::BodyExt;

use crate::domain::{Params, ProtocolError};

/// Far above any legitimate request, far below anything that hurts.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
const DRAIN_LIMIT_BYTES: usize = 4 * 1024 * 1024;

fn is_form_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

/// Reads a request body of at most `MAX_BODY_BYTES`. A larger body is
/// still read (and dropped) up to `DRAIN_LIMIT_BYTES` before the error is
/// answered: a client still sending when the server closes the connection
/// would see a reset instead of the error.
pub async fn read_body(request: Request) -> Result<Bytes, ProtocolError> {
    let mut body = request.into_body();
    let mut kept = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| ProtocolError::invalid_request("the body could not be read"))?;
        let Ok(data) = frame.into_data() else { continue };
        seen += data.len();
        if seen <= MAX_BODY_BYTES {
            kept.extend_from_slice(&data);
        } else if seen > DRAIN_LIMIT_BYTES {
            break;
        }
    }
    if seen > MAX_BODY_BYTES {
        return Err(ProtocolError::invalid_request(format!(
            "the body is larger than {MAX_BODY_BYTES} bytes"
        )));
    }
    Ok(Bytes::from(kept))
}

/// Extractor for an OAuth form body; rejects with an RFC 6749 error.
pub struct Form(pub Params);

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = ProtocolError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        if !is_form_content_type(request.headers()) {
            return Err(ProtocolError::invalid_request(
                "the body must be application/x-www-form-urlencoded (RFC 6749 Appendix B)",
            ));
        }
        let body = read_body(request).await?;
        Params::parse(&body).map(Form)
    }
}
