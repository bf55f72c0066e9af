//! Castellan's integration tests: one binary (each file under `tests/` would
//! be a separate slow link). Every test starts a real server on port 0 with a
//! fresh database, and runs once on SQLite and once on Postgres.

mod helpers;

mod admin_clients;
mod admin_users;
mod audience_introspection;
mod audiences;
mod bad_input;
mod browser;
mod client_authentication;
mod client_changes;
mod client_credentials;
mod client_metadata_documents;
mod client_patch;
mod client_secret_rotation;
mod connection_limits;
mod cors;
mod discovery;
mod durability;
mod fetch;
mod first_run;
mod introspection;
mod key_revocation;
mod key_sealing;
mod keys;
mod mcp_sdk;
mod oidc;
mod private_key_jwt;
mod refresh_reuse_grace;
mod registration;
mod resources_admin;
mod revocation;
mod revocation_limits;
mod smoke;
mod storage_contract;
mod transport;
mod user_changes;
mod user_disabling;
