//! The [`ClientAddress`] extractor: who sent the request, after trusted
//! proxies (`domain::TrustedProxies`). Every use of a client's address
//! (throttling, security events) goes through it.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};

use super::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    pub fn of(state: &AppState, peer: IpAddr, headers: &HeaderMap) -> Self {
        if state.trusted_proxies.is_empty() {
            return Self(peer.to_canonical());
        }
        let header = state.trusted_proxies.header().name();
        let values: Vec<&str> =
            headers.get_all(header).iter().filter_map(|value| value.to_str().ok()).collect();
        Self(state.trusted_proxies.client_address(peer, &values))
    }
}

impl ClientAddress {
    pub fn of_request<B>(state: &AppState, request: &axum::http::Request<B>) -> Self {
        Self::of(state, peer(request.extensions()), request.headers())
    }
}

/// Served with connect info, the peer is always known; a router used without
/// it (a unit test, say) counts as one unspecified peer.
fn peer(extensions: &Extensions) -> IpAddr {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(peer)| peer.ip())
}

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self::of(state, peer(&parts.extensions), &parts.headers))
    }
}

impl std::fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
