//! The one protocol error type: an RFC error code, a description, and the
//! `WWW-Authenticate` challenge of RFC 6749 §5.2 / RFC 6750 §3 where one is
//! due. It knows nothing of HTTP: `web::error` renders it as RFC JSON with the
//! status each RFC asks for, and the authorization endpoint as a redirect.

use std::borrow::Cow;

/// The error codes Castellan answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// RFC 6749 §5.2: missing, repeated or malformed parameter.
    InvalidRequest,
    /// RFC 6749 §5.2: client authentication failed (401).
    InvalidClient,
    /// RFC 6749 §5.2: the grant is invalid, expired or revoked.
    InvalidGrant,
    /// RFC 6749 §5.2: the client may not use this grant type.
    UnauthorizedClient,
    /// RFC 6749 §5.2: the grant type is not supported.
    UnsupportedGrantType,
    /// RFC 6749 §5.2: the scope is invalid or exceeds what the client may ask for.
    InvalidScope,
    /// RFC 8707 §2: a `resource` is unknown, malformed or not allowed for the client.
    InvalidTarget,
    /// RFC 6750 §3.1: the bearer token is missing, expired, revoked or malformed (401).
    InvalidToken,
    /// RFC 6750 §3.1: the token lacks the scope the resource needs (403).
    InsufficientScope,
    /// RFC 7591 §3.2.2: client metadata is invalid.
    InvalidClientMetadata,
    /// RFC 7591 §3.2.2: a redirect URI is invalid.
    InvalidRedirectUri,
    /// The admin API resource does not exist (404).
    NotFound,
    /// A unique value (client id, username) is already taken (409).
    Conflict,
    /// RFC 6749 §4.1.2.1: something failed on our side (500). Never echoes details.
    ServerError,
    /// RFC 6749 §4.1.2.1: the database is unavailable (503).
    TemporarilyUnavailable,
    /// RFC 6749 §4.1.2.1: the resource owner denied the request.
    AccessDenied,
    /// RFC 6749 §4.1.2.1: the response type is not supported.
    UnsupportedResponseType,
    /// OpenID Connect Core §3.1.2.6: the user must sign in (`prompt=none`).
    LoginRequired,
    /// OpenID Connect Core §3.1.2.6: the user must consent (`prompt=none`).
    ConsentRequired,
    /// OpenID Connect Core §3.1.2.6: request objects are not supported.
    RequestNotSupported,
    /// OpenID Connect Core §3.1.2.6: `request_uri` is not supported.
    RequestUriNotSupported,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidTarget => "invalid_target",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::InvalidClientMetadata => "invalid_client_metadata",
            Self::InvalidRedirectUri => "invalid_redirect_uri",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
        }
    }
}

/// An error answered to the caller as RFC 6749 JSON.
#[derive(Debug, Clone)]
pub struct ProtocolError {
    pub code: ErrorCode,
    pub description: Cow<'static, str>,
    www_authenticate: Option<String>,
    /// Seconds to wait: the answer is then 429 with `Retry-After` (RFC 6585 §4).
    retry_after: Option<u64>,
}

impl ProtocolError {
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self { code, description: description.into(), www_authenticate: None, retry_after: None }
    }

    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    pub fn invalid_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidClient, description)
    }

    pub fn invalid_scope(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidScope, description)
    }

    pub fn not_found(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::NotFound, description)
    }

    /// The `WWW-Authenticate` challenge to send with this error, if any.
    pub fn challenge(&self) -> Option<&str> {
        self.www_authenticate.as_deref()
    }

    /// How long the caller must wait before trying again, if it is throttled.
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    /// The same error, answered as too many requests: try again in `seconds`.
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// Adds a `WWW-Authenticate` challenge (RFC 6749 §5.2, RFC 6750 §3).
    pub fn with_challenge(mut self, challenge: String) -> Self {
        self.www_authenticate = Some(challenge);
        self
    }

    /// The same error with another code, e.g. a body error on the client
    /// registration endpoint becomes `invalid_client_metadata`.
    pub fn with_code(mut self, code: ErrorCode) -> Self {
        self.code = code;
        self
    }

    /// Logs an internal failure with a reference and answers `server_error`
    /// without echoing any detail (the reference lets an operator find the log line).
    pub fn internal(error: &dyn std::error::Error) -> Self {
        let reference = super::secret::random_token(6);
        tracing::error!(%reference, error = %error, "internal error");
        Self::new(ErrorCode::ServerError, format!("an internal error occurred (reference {reference})"))
    }
}
