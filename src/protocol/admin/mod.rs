//! Managing clients and users (the admin API's rules, whoever calls them):
//! what may change, what a change revokes, and which caches must forget.
//! Every change is a security event naming the admin client that made it.

pub mod clients;
pub mod users;

use std::net::IpAddr;

use crate::domain::ClientId;
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
