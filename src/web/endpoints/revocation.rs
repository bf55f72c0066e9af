//! Token revocation (RFC 7009 §2): the caller authenticates; an unknown,
//! malformed or expired token still answers 200 (§2.2).

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::domain::{ErrorCode, ProtocolError};
use crate::protocol::revocation::{self, Revocation};
use crate::web::AppState;
use crate::web::client_auth::AuthenticatedClient;

pub async fn revoke(
    State(state): State<AppState>,
    AuthenticatedClient { client, params, .. }: AuthenticatedClient,
) -> Result<Response, ProtocolError> {
    match revocation::revoke(&state, &client, params.require("token")?).await? {
        Revocation::Done => Ok(StatusCode::OK.into_response()),
        // RFC 7009 §2.2.1: 503, and when to try again.
        Revocation::RetryAfter(seconds) => {
            let mut response = ProtocolError::new(
                ErrorCode::TemporarilyUnavailable,
                "this client has revoked too many tokens this minute; retry later",
            )
            .into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            Ok(response)
        }
    }
}
