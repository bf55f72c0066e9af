//! The command line: `serve` (the default), `migrate`, `keys rotate`,
//! `keys revoke <kid>`, `keys rewrap`.

use std::process::ExitCode;

use super::config::Config;
use super::{process, server, telemetry};
use crate::domain::{Clock, KeyAlgorithm};
use crate::protocol::keyring::Keyring;
use crate::storage::Storage;

const USAGE: &str =
    "usage: castellan [serve | migrate | keys rotate [--alg ES256|RS256] | keys revoke [--] <kid> | keys rewrap | --version]

  serve             run the server (the default); applies migrations first
  migrate           apply the database migrations and exit
  keys rotate       make a new signing key active (all algorithms, or --alg);
                    the old key stays in the JWKS until its tokens have expired
  keys revoke <kid> unpublish a (compromised) key at once: every instance stops
                    accepting its tokens within CASTELLAN_SYNC_INTERVAL; an
                    active key is replaced by a new one
  keys rewrap       re-seal every stored key and secret under
                    CASTELLAN_KEY_ENCRYPTION_KEY: those sealed under
                    CASTELLAN_PREVIOUS_KEY_ENCRYPTION_KEY, and those in plaintext

Settings come from the environment: see the README.";

enum Command {
    Serve,
    Migrate,
    RotateKeys(Vec<KeyAlgorithm>),
    RevokeKey(String),
    RewrapKeys,
    Help,
    Version,
}

fn parse(args: &[String]) -> Result<Command, String> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [] | ["serve"] => Ok(Command::Serve),
        ["migrate"] => Ok(Command::Migrate),
        ["keys", "rotate"] => Ok(Command::RotateKeys(KeyAlgorithm::ALL.to_vec())),
        ["keys", "rotate", "--alg", alg] => {
            KeyAlgorithm::parse(alg).map(|a| Command::RotateKeys(vec![a])).map_err(|e| e.to_string())
        }
        // A kid is a JWK thumbprint (base64url), so it may begin with `-`:
        // taken as it is, or after `--`. An option here is just an unknown kid.
        ["keys", "revoke", "--", kid] | ["keys", "revoke", kid] => Ok(Command::RevokeKey((*kid).to_owned())),
        ["keys", "rewrap"] => Ok(Command::RewrapKeys),
        ["help" | "--help" | "-h"] => Ok(Command::Help),
        ["version" | "--version" | "-V"] => Ok(Command::Version),
        _ => Err(format!("unknown command: {}", args.join(" "))),
    }
}

pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match parse(&args) {
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("castellan {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Ok(command) => command,
        Err(message) => {
            eprintln!("castellan: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("castellan: invalid configuration: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    process::return_large_blocks_to_the_system();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("castellan: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("castellan: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> Result<(), String> {
    match command {
        Command::Serve => server::serve(config).await.map_err(|e| e.to_string()),
        Command::Migrate => {
            let storage = Storage::connect(&config.database_url, 1).await.map_err(|e| e.to_string())?;
            storage.health.close().await;
            println!("migrations applied");
            Ok(())
        }
        Command::RotateKeys(algorithms) => rotate(config, algorithms).await,
        Command::RevokeKey(kid) => revoke(config, &kid).await,
        Command::RewrapKeys => rewrap(config).await,
        Command::Help | Command::Version => Ok(()),
    }
}

/// The configured database and its keys, as the servers see them.
async fn open_keys(config: &Config) -> Result<(Storage, Keyring), String> {
    let storage = Storage::connect(&config.database_url, 1).await.map_err(|e| e.to_string())?;
    let keyring = Keyring::load_with_previous(
        storage.keys.clone(),
        config.key_encryption_key.clone(),
        config.previous_key_encryption_key.clone(),
        Clock::system(),
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok((storage, keyring))
}

async fn revoke(config: Config, kid: &str) -> Result<(), String> {
    let (storage, keyring) = open_keys(&config).await?;
    let (algorithm, active) = keyring.revoke(kid).await.map_err(|e| e.to_string())?;
    println!("revoked {kid}; {}: active key {active}", algorithm.name());
    storage.health.close().await;
    Ok(())
}

async fn rewrap(config: Config) -> Result<(), String> {
    let (storage, keyring) = open_keys(&config).await?;
    let report = keyring.rewrap().await.map_err(|e| e.to_string())?;
    println!(
        "re-sealed {} keys and secrets; {} were sealed under this key already",
        report.resealed, report.unchanged
    );
    storage.health.close().await;
    Ok(())
}

async fn rotate(config: Config, algorithms: Vec<KeyAlgorithm>) -> Result<(), String> {
    let (storage, keyring) = open_keys(&config).await?;
    for algorithm in algorithms {
        let kid = keyring.rotate(algorithm).await.map_err(|e| e.to_string())?;
        println!("{}: new active key {kid}", algorithm.name());
    }
    storage.health.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn a_kid_that_begins_with_a_dash_is_revoked_as_given_or_after_a_double_dash() {
        for words in [&["keys", "revoke", "-f_KLyKDZ"][..], &["keys", "revoke", "--", "-f_KLyKDZ"]] {
            match parse(&args(words)) {
                Ok(Command::RevokeKey(kid)) => assert_eq!(kid, "-f_KLyKDZ"),
                _ => panic!("{words:?} revokes the kid"),
            }
        }
        assert!(parse(&args(&["keys", "revoke"])).is_err(), "a kid is required");
    }
}
