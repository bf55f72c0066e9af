//! The authorization endpoint's protocol half (RFC 6749 §4.1.1–§4.1.2,
//! OpenID Connect Core §3.1.2): validating a request, and issuing a code once
//! the user has signed in and consented. Sessions, pages and redirects are
//! `web`'s; what is here answers in surface-neutral types.

mod code;
mod request;

use serde::{Deserialize, Serialize};

pub use code::{CODE_TTL_SECS, issue_code};
pub use request::validate;

use crate::domain::{ClientId, CodeChallenge, ErrorCode, RedirectUri, ResourceSet, ScopeSet};
use crate::storage::StorageError;

/// The `prompt` values understood (`select_account` is accepted too, and
/// needs nothing: one account per session).
pub const PROMPT_VALUES: [&str; 3] = ["none", "login", "consent"];

/// OpenID Connect Core §3.1.2.1 `prompt`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// A validated authorization request: every field has been checked against
/// the client's registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: ClientId,
    pub redirect_uri: RedirectUri,
    /// Whether the request named the redirect URI (else the client's only
    /// one is used, and the token request need not name it: §4.1.3).
    #[serde(default = "named")]
    pub redirect_uri_named: bool,
    pub scope: ScopeSet,
    /// The resources (RFC 8707) the code will grant: those the request
    /// named, else the client's default; empty for the issuer's audience.
    #[serde(default)]
    pub resources: ResourceSet,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<CodeChallenge>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    /// The `sub` of a verified `id_token_hint`.
    pub expected_subject: Option<String>,
}

fn named() -> bool {
    true
}

impl AuthorizationRequest {
    pub fn target(&self) -> ResponseTarget {
        ResponseTarget { redirect_uri: self.redirect_uri.clone(), state: self.state.clone() }
    }
}

/// Where a response goes: a redirect URI already checked against the
/// client's registration, and the client's `state`.
#[derive(Debug, Clone)]
pub struct ResponseTarget {
    pub redirect_uri: RedirectUri,
    pub state: Option<String>,
}

/// An error to send back to the client (only ever to a validated target):
/// RFC 6749 §4.1.2.1, OpenID Connect Core §3.1.2.6.
#[derive(Debug, Clone)]
pub struct AuthorizeError {
    pub target: ResponseTarget,
    pub code: ErrorCode,
    pub description: String,
}

impl AuthorizeError {
    pub fn new(target: &ResponseTarget, code: ErrorCode, description: impl Into<String>) -> Self {
        Self { target: target.clone(), code, description: description.into() }
    }
}

/// Why an authorization request cannot go on.
#[derive(Debug)]
pub enum Rejection {
    /// The client or its redirect URI is what is wrong: the user is told,
    /// and nothing is redirected (RFC 6749 §4.1.2.1).
    Unredirectable(Unredirectable),
    /// Sent back to the client's validated redirect URI.
    Redirect(AuthorizeError),
    Storage(StorageError),
}

/// What is wrong with a request that cannot be answered by redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unredirectable {
    /// `client_id` or `redirect_uri` given twice (§3.1).
    RepeatedParameter(&'static str),
    MissingClientId,
    UnknownClient,
    /// Not one of the client's registered redirect URIs (§3.1.2.3).
    UnregisteredRedirectUri,
    /// None given, and the client has several (or the request is OpenID Connect).
    MissingRedirectUri,
    /// A `client_id` URL whose metadata document cannot be used, and why.
    MetadataDocumentRefused(String),
    /// An error in the request of a client that registered itself, whose
    /// redirect URI nobody vetted (see `request::validate`).
    SelfRegisteredClientError(String),
}

impl From<Unredirectable> for Rejection {
    fn from(reason: Unredirectable) -> Self {
        Self::Unredirectable(reason)
    }
}

impl From<AuthorizeError> for Rejection {
    fn from(error: AuthorizeError) -> Self {
        Self::Redirect(error)
    }
}

impl From<StorageError> for Rejection {
    fn from(error: StorageError) -> Self {
        Self::Storage(error)
    }
}
