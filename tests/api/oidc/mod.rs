//! OpenID Connect flows with the openidconnect crate. STUB.
