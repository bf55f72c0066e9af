//! Domain types, each parsed once at the edge and trusted afterwards.

pub mod client;
pub mod redirect_uri;
pub mod scope;
pub mod user;

pub use client::{Client, ClientId, ClientMetadata, GrantType, IdTokenAlgorithm, TokenEndpointAuthMethod};
pub use redirect_uri::RedirectUri;
pub use scope::ScopeSet;
pub use user::{User, UserId, Username};
