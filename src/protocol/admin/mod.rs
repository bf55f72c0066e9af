//! Managing clients and users (the admin API's rules, whoever calls them):
//! what may change, what a change revokes, and which caches must forget.

pub mod clients;
pub mod users;
