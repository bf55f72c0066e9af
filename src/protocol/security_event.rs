//! Security events: one type for everything an operator must be able to
//! find afterwards (sign-ins, locks, failed client authentication, refused
//! admin requests, replayed codes and refresh tokens, admin changes, clients
//! registering themselves). Each is one structured log line under the target
//! `castellan::security`, with the client's address (after trusted proxies),
//! the client id and the user id where known, and never a secret. A queryable audit store will plug in
//! at [`SecurityEvent::emit`].

use std::net::IpAddr;

use tracing::Level;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    SignInSucceeded,
    SignInFailed,
    /// Failures have locked an account, address or device for a while.
    SignInLocked,
    ClientAuthenticationFailed,
    ClientAuthenticationLocked,
    /// An admin API request without a valid admin token.
    AdminRequestRefused,
    AuthorizationCodeReplayed,
    RefreshTokenReplayed,
    /// A rotated refresh token retried within its client's reuse grace,
    /// answered with the same successor.
    RefreshTokenRetried,
    /// An admin created, changed or deleted something (`detail` says what).
    AdminChange,
    /// A client registered itself (RFC 7591).
    ClientRegistered,
    /// A self-registered client changed or deleted its registration (RFC 7592).
    RegisteredClientChanged,
    /// A client known by its Client ID Metadata Document was granted
    /// something for the first time, and stored.
    MetadataDocumentClientFirstSeen,
    /// A `client_id` URL was refused: its document could not be fetched or
    /// is invalid, or its domain is not allowed (`detail` says why).
    MetadataDocumentClientRefused,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignInSucceeded => "sign_in_succeeded",
            Self::SignInFailed => "sign_in_failed",
            Self::SignInLocked => "sign_in_locked",
            Self::ClientAuthenticationFailed => "client_authentication_failed",
            Self::ClientAuthenticationLocked => "client_authentication_locked",
            Self::AdminRequestRefused => "admin_request_refused",
            Self::AuthorizationCodeReplayed => "authorization_code_replayed",
            Self::RefreshTokenReplayed => "refresh_token_replayed",
            Self::RefreshTokenRetried => "refresh_token_retried",
            Self::AdminChange => "admin_change",
            Self::ClientRegistered => "client_registered",
            Self::RegisteredClientChanged => "registered_client_changed",
            Self::MetadataDocumentClientFirstSeen => "metadata_document_client_first_seen",
            Self::MetadataDocumentClientRefused => "metadata_document_client_refused",
        }
    }

    /// What went as it should is information; everything else a warning.
    fn level(self) -> Level {
        match self {
            Self::SignInSucceeded
            | Self::AdminChange
            | Self::ClientRegistered
            | Self::RegisteredClientChanged
            | Self::MetadataDocumentClientFirstSeen => Level::INFO,
            _ => Level::WARN,
        }
    }
}

/// One event, built with the fields known where it happens.
#[derive(Debug, Clone, Copy)]
#[must_use = "an event is only recorded by emit()"]
pub struct SecurityEvent<'a> {
    pub kind: EventKind,
    pub client_address: Option<IpAddr>,
    pub client_id: Option<&'a str>,
    pub user_id: Option<&'a str>,
    /// What else matters: the admin action and its target, a lock's length.
    pub detail: Option<&'a str>,
}

impl<'a> SecurityEvent<'a> {
    pub fn new(kind: EventKind) -> Self {
        Self { kind, client_address: None, client_id: None, user_id: None, detail: None }
    }

    pub fn address(self, address: IpAddr) -> Self {
        Self { client_address: Some(address), ..self }
    }

    pub fn client(self, client_id: &'a str) -> Self {
        Self { client_id: Some(client_id), ..self }
    }

    pub fn user(self, user_id: &'a str) -> Self {
        Self { user_id: Some(user_id), ..self }
    }

    pub fn detail(self, detail: &'a str) -> Self {
        Self { detail: Some(detail), ..self }
    }

    /// Records the event: today one log line.
    pub fn emit(&self) {
        let address = self.client_address.map(tracing::field::display);
        macro_rules! log {
            ($level:expr) => {
                tracing::event!(
                    target: "castellan::security",
                    $level,
                    event = self.kind.as_str(),
                    client_address = address,
                    client_id = self.client_id,
                    user_id = self.user_id,
                    detail = self.detail,
                    "security event"
                )
            };
        }
        match self.kind.level() {
            Level::INFO => log!(Level::INFO),
            _ => log!(Level::WARN),
        }
    }
}
