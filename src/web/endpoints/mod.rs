//! The protocol endpoints, one module each.

pub mod discovery;
pub mod health;
pub mod introspection;
pub mod jwks;
pub mod registration;
pub mod revocation;
pub mod token;
pub mod userinfo;
