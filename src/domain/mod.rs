//! What things are: types parsed once at the edge and trusted afterwards,
//! with no I/O and no knowledge of HTTP or SQL.

pub mod client;
pub mod client_id;
mod client_patch;
pub mod clock;
pub mod error;
pub mod https_url;
pub mod issuer;
pub mod key_material;
pub mod merge_patch;
pub mod page;
pub mod params;
pub mod password_policy;
pub mod pkce;
pub mod public_address;
pub mod redirect_uri;
pub mod refresh_policy;
pub mod resource;
mod resource_request;
pub mod scope;
pub mod sealing;
pub mod secret;
pub mod subject;
pub mod trusted_proxies;
pub mod user;
pub mod user_patch;

pub use client::{
    Client, ClientId, ClientMetadata, Confidentiality, GrantType, IdTokenAlgorithm, PreviousSecret,
    TokenEndpointAuthMethod,
};
pub use clock::Clock;
pub use error::{ErrorCode, ProtocolError};
pub use https_url::HttpsUrl;
pub use issuer::Issuer;
pub use key_material::{KeyAlgorithm, KeyEncryptionKey, KeyError, KeyMaterial};
pub use page::{Page, PageRequest};
pub use params::Params;
pub use pkce::{CodeChallenge, CodeVerifier};
pub use redirect_uri::RedirectUri;
pub use refresh_policy::{RefreshReuseGrace, RefreshSuccessorKey};
pub use resource::{AudienceClaim, Resource, ResourceId, ResourceIndicator, ResourceSet};
pub use resource_request::{ResourceFields, ResourceRequest};
pub use scope::ScopeSet;
pub use sealing::SealingKey;
pub use subject::Subject;
pub use trusted_proxies::{ForwardedHeader, TrustedProxies};
pub use user::{User, UserId, Username};
pub use user_patch::UserPatch;
