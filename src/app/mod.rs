//! Wiring: settings from the environment, the command line, start-up (storage,
//! keys, caches, the bootstrap admin client), periodic upkeep, logging.

pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod fetch_config;
pub mod process;
pub mod server;
pub mod telemetry;
