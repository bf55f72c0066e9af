//! Managing clients, resources and users (the admin API's rules, whoever calls them):
//! what may change, what a change revokes, and which caches must forget.
//! Every change is a security event naming the admin client that made it.

pub mod client_metadata_documents;
pub mod clients;
pub mod initial_access_tokens;
pub mod resources;
pub mod users;

use std::net::IpAddr;

use crate::domain::{ClientId, ErrorCode, ProtocolError};
use crate::protocol::Context;
use crate::protocol::security_event::{EventKind, SecurityEvent};

/// Who makes an admin change: the admin client whose token was presented,
/// and the address it called from.
#[derive(Debug, Clone)]
pub struct Actor {
    pub client_id: ClientId,
    pub address: IpAddr,
}

impl Actor {
    /// Records a change: `what` says what was done to which resource.
    fn changed(&self, what: &str, user_id: Option<&str>) {
        let event = SecurityEvent::new(EventKind::AdminChange)
            .address(self.address)
            .client(self.client_id.as_str())
            .detail(what);
        match user_id {
            Some(user_id) => event.user(user_id).emit(),
            None => event.emit(),
        }
    }
}

/// Refused admin requests count against their address in the throttle of
/// failed client authentication: past its budget the address is answered
/// 429 before its token is even looked at, and without a log line each, so
/// a flood of bad requests fills neither the log nor the disk.
pub fn refusals_throttled(ctx: &Context, address: IpAddr) -> Option<ProtocolError> {
    let wait = ctx.client_auth_throttle.retry_after("", address, ctx.clock.now())?;
    let description = "too many refused admin requests from this address; try again later";
    Some(ProtocolError::new(ErrorCode::InvalidToken, description).with_retry_after(wait.unsigned_abs()))
}

/// Records a refused admin request: `client_id` is the client of a valid
/// token that may not administer, if that was the reason.
pub fn refused(ctx: &Context, address: IpAddr, client_id: Option<&ClientId>, error: &ProtocolError) {
    ctx.client_auth_throttle.failed(None, address, ctx.clock.now());
    let event =
        SecurityEvent::new(EventKind::AdminRequestRefused).address(address).detail(error.code.as_str());
    match client_id {
        Some(id) => event.client(id.as_str()).emit(),
        None => event.emit(),
    }
}
