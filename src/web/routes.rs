//! Route paths, shared by the router and the discovery document so the two
//! can never disagree.

pub const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
pub const OAUTH_AUTHORIZATION_SERVER: &str = "/.well-known/oauth-authorization-server";
pub const JWKS: &str = "/oauth2/jwks";
pub const TOKEN: &str = "/oauth2/token";
pub const INTROSPECTION: &str = "/oauth2/introspect";
pub const REVOCATION: &str = "/oauth2/revoke";
/// RFC 7591 §3; the client configuration endpoint (RFC 7592) is below it.
pub const REGISTRATION: &str = "/oauth2/register";
pub const REGISTRATION_CLIENT: &str = "/oauth2/register/{client_id}";
pub const HOME: &str = "/";
pub const HEALTHZ: &str = "/healthz";
pub const READYZ: &str = "/readyz";
pub const ADMIN_CLIENTS: &str = "/admin/clients";
pub const ADMIN_CLIENT: &str = "/admin/clients/{client_id}";
pub const ADMIN_CLIENT_SECRET: &str = "/admin/clients/{client_id}/secret";
pub const ADMIN_INITIAL_ACCESS_TOKENS: &str = "/admin/initial-access-tokens";
pub const ADMIN_CLIENT_METADATA_DOCUMENTS: &str = "/admin/client-metadata-documents";
pub const ADMIN_RESOURCES: &str = "/admin/resources";
pub const ADMIN_RESOURCE: &str = "/admin/resources/{id}";
pub const ADMIN_ANY: &str = "/admin/{*rest}";
pub const ADMIN_USERS: &str = "/admin/users";
pub const ADMIN_USER: &str = "/admin/users/{user_id}";
pub const ADMIN_USER_CONSENTS: &str = "/admin/users/{user_id}/consents";
pub const ADMIN_USER_CONSENT: &str = "/admin/users/{user_id}/consents/{client_id}";
pub const AUTHORIZATION: &str = "/oauth2/authorize";
pub const USERINFO: &str = "/oauth2/userinfo";
pub const END_SESSION: &str = "/oauth2/logout";
pub const LOGIN: &str = "/login";
pub const CONSENT: &str = "/consent";
pub const STYLESHEET: &str = "/static/castellan.css";
