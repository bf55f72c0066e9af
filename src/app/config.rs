//! Settings, read from the environment and validated once at start. A bad
//! value stops the process with a message naming the variable.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use crate::domain::secret::Secret;
use crate::domain::{ClientId, ForwardedHeader, Issuer, KeyEncryptionKey, TrustedProxies};
use crate::protocol::fetch::FetchSettings;
use crate::protocol::password::{PasswordSettings, default_hashing_slots};
use crate::protocol::{MAX_ACCESS_TOKEN_TTL_SECS, Settings};
use crate::web::{ServerLimits, SessionSettings};

#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

fn error(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError { variable, message: message.into() }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The bootstrap admin client of interface.md.
#[derive(Debug, Clone)]
pub struct BootstrapAdmin {
    pub client_id: ClientId,
    pub client_secret: Secret,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: String,
    pub database_max_connections: u32,
    pub bootstrap_admin: Option<BootstrapAdmin>,
    pub log_format: LogFormat,
    pub key_encryption_key: Option<KeyEncryptionKey>,
    /// The key encryption key being replaced (see `castellan keys rewrap`).
    pub previous_key_encryption_key: Option<KeyEncryptionKey>,
    /// How long a client read from the database is trusted before it is read
    /// again: the bound on how soon another instance sees a client change
    /// (the CORS origins derived from the clients too, at least a second).
    pub client_cache_ttl: Duration,
    /// How often revocations made on other instances are fetched.
    pub sync_interval: Duration,
    /// The issuer and token lifetimes, owned by the protocol layer.
    pub protocol: Settings,
    /// Browser session lifetimes, owned by the web layer.
    pub sessions: SessionSettings,
    /// Reverse proxies believed about their clients' addresses.
    pub trusted_proxies: TrustedProxies,
    /// What each connection and request may take, owned by the web layer.
    pub limits: ServerLimits,
    /// Password hashing slots and the failure budget, owned by the protocol layer.
    pub passwords: PasswordSettings,
    /// How client-named documents are fetched, owned by the protocol layer.
    pub fetch: FetchSettings,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/castellan.db";

impl Config {
    /// Settings from the environment, falling back to the file named by
    /// `CASTELLAN_CONFIG` (if set): the environment wins.
    pub fn from_env() -> Result<Self, ConfigError> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let file = match env("CASTELLAN_CONFIG") {
            Some(path) => read_config_file(&path)?,
            None => HashMap::new(),
        };
        Self::from_lookup(|name| env(name).or_else(|| file.get(name).cloned()))
    }

    /// Builds the configuration from any variable source (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let listen = get("CASTELLAN_LISTEN").unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen = listen.parse().map_err(|_| {
            error("CASTELLAN_LISTEN", format!("{listen:?} is not an address such as 127.0.0.1:8080"))
        })?;
        let issuer = get("CASTELLAN_ISSUER").unwrap_or_else(|| "http://127.0.0.1:8080".into());
        let issuer =
            Issuer::parse(&issuer).map_err(|m| error("CASTELLAN_ISSUER", format!("{issuer:?} {m}")))?;
        let allow_http_issuer = match get("CASTELLAN_ALLOW_HTTP_ISSUER").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(error(
                    "CASTELLAN_ALLOW_HTTP_ISSUER",
                    format!("{other:?} is neither true nor false"),
                ));
            }
        };
        // RFC 8414 §2 and RFC 9700 §4.1: tokens, codes and passwords must not
        // cross a network in the clear. Plain http is for this machine only,
        // unless the operator says otherwise.
        if !issuer.is_https() && !issuer.is_loopback() && !allow_http_issuer {
            return Err(error(
                "CASTELLAN_ISSUER",
                format!(
                    "{issuer:?} is plain http on a host other than this machine: use https, \
                     or set CASTELLAN_ALLOW_HTTP_ISSUER=true to accept it"
                ),
            ));
        }
        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        if !["sqlite:", "postgres:", "postgresql:"].iter().any(|p| database_url.starts_with(p)) {
            return Err(error("DATABASE_URL", "must start with sqlite:// or postgres://"));
        }
        let log_format = match get("CASTELLAN_LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(error("CASTELLAN_LOG_FORMAT", format!("{other:?} is neither text nor json")));
            }
        };
        let key_encryption_key = get("CASTELLAN_KEY_ENCRYPTION_KEY")
            .map(|v| KeyEncryptionKey::parse(&v).map_err(|m| error("CASTELLAN_KEY_ENCRYPTION_KEY", m)))
            .transpose()?;
        let previous_key_encryption_key = get("CASTELLAN_PREVIOUS_KEY_ENCRYPTION_KEY")
            .map(|v| {
                KeyEncryptionKey::parse(&v).map_err(|m| error("CASTELLAN_PREVIOUS_KEY_ENCRYPTION_KEY", m))
            })
            .transpose()?;
        let max_connections = number(
            &get,
            "CASTELLAN_DATABASE_MAX_CONNECTIONS",
            default_max_connections(&database_url),
            1..=1000,
        )? as u32;
        Ok(Self {
            listen,
            database_url,
            database_max_connections: max_connections,
            bootstrap_admin: bootstrap_admin(&get)?,
            log_format,
            key_encryption_key,
            previous_key_encryption_key,
            client_cache_ttl: seconds(&get, "CASTELLAN_CLIENT_CACHE_TTL", 5, 0..=300)?,
            sync_interval: seconds(&get, "CASTELLAN_SYNC_INTERVAL", 1, 1..=60)?,
            protocol: Settings {
                userinfo_audience: issuer.endpoint(crate::web::routes::USERINFO),
                issuer,
                access_token_ttl: seconds(
                    &get,
                    "CASTELLAN_ACCESS_TOKEN_TTL",
                    3600,
                    10..=MAX_ACCESS_TOKEN_TTL_SECS,
                )?,
                refresh_token_ttl: seconds(&get, "CASTELLAN_REFRESH_TOKEN_TTL", 2_592_000, 60..=31_536_000)?,
                refresh_token_idle_ttl: seconds(
                    &get,
                    "CASTELLAN_REFRESH_TOKEN_IDLE_TTL",
                    1_209_600,
                    60..=31_536_000,
                )?,
                revocation_rate: number(&get, "CASTELLAN_REVOCATION_RATE", 600, 1..=1_000_000)? as u32,
            },
            trusted_proxies: trusted_proxies(&get)?,
            sessions: SessionSettings {
                idle_timeout: seconds(&get, "CASTELLAN_SESSION_IDLE_TIMEOUT", 3600, 60..=2_592_000)?,
                max_lifetime: seconds(&get, "CASTELLAN_SESSION_MAX_LIFETIME", 43_200, 60..=31_536_000)?,
            },
            limits: ServerLimits {
                max_connections: number(&get, "CASTELLAN_MAX_CONNECTIONS", 1024, 1..=1_000_000)? as usize,
                header_read_timeout: seconds(&get, "CASTELLAN_HEADER_READ_TIMEOUT", 10, 1..=300)?,
                request_timeout: seconds(&get, "CASTELLAN_REQUEST_TIMEOUT", 30, 1..=600)?,
            },
            fetch: super::fetch_config::fetch_settings(&get).map_err(|(variable, m)| error(variable, m))?,
            passwords: PasswordSettings {
                hashing_slots: number(
                    &get,
                    "CASTELLAN_PASSWORD_HASHING_SLOTS",
                    default_hashing_slots() as u64,
                    1..=64,
                )? as usize,
                failures_per_minute: number(&get, "CASTELLAN_SIGN_IN_FAILURE_BUDGET", 600, 0..=1_000_000)?
                    as u32,
            },
        })
    }

    pub fn issuer(&self) -> &Issuer {
        &self.protocol.issuer
    }
}

/// A config file: `NAME=value` lines with the same names as the environment
/// variables; blank lines and `#` comments are skipped, and a value may be
/// wrapped in double quotes.
fn read_config_file(path: &str) -> Result<HashMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| error("CASTELLAN_CONFIG", format!("cannot read {path:?}: {e}")))?;
    parse_config_file(&text)
        .map_err(|line| error("CASTELLAN_CONFIG", format!("{path}:{line}: expected NAME=value")))
}

fn parse_config_file(text: &str) -> Result<HashMap<String, String>, usize> {
    let mut settings = HashMap::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = line.split_once('=').ok_or(index + 1)?;
        let value = value.trim();
        let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
        if !value.is_empty() {
            settings.insert(name.trim().to_owned(), value.to_owned());
        }
    }
    Ok(settings)
}

/// SQLite has one writer at a time: more connections than a few only wait
/// in its busy handler's sleeps (which hurts tail latency) instead of the
/// pool's queue. Postgres serves many at once.
fn default_max_connections(database_url: &str) -> u64 {
    if database_url.starts_with("sqlite:") { 4 } else { 16 }
}

/// The shortest bootstrap admin secret accepted.
pub const MIN_BOOTSTRAP_SECRET_CHARS: usize = 32;

fn bootstrap_admin(get: &impl Fn(&str) -> Option<String>) -> Result<Option<BootstrapAdmin>, ConfigError> {
    const ID: &str = "CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_ID";
    const SECRET: &str = "CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_SECRET";
    match (get(ID), get(SECRET)) {
        (None, None) => Ok(None),
        // The key to the admin API: short enough to guess is too short.
        (Some(_), Some(secret)) if secret.chars().count() < MIN_BOOTSTRAP_SECRET_CHARS => Err(error(
            SECRET,
            format!(
                "must be at least {MIN_BOOTSTRAP_SECRET_CHARS} characters (e.g. the output of `openssl rand -hex 32`)"
            ),
        )),
        (Some(id), Some(secret)) => {
            let client_id = ClientId::parse(&id).map_err(|m| error(ID, m))?;
            if client_id.is_option_like() {
                return Err(error(
                    ID,
                    "must not begin with \"-\" (it would read as an option on a command line)",
                ));
            }
            Ok(Some(BootstrapAdmin { client_id, client_secret: Secret::new(secret) }))
        }
        (Some(_), None) => Err(error(SECRET, format!("must be set together with {ID}"))),
        (None, Some(_)) => Err(error(ID, format!("must be set together with {SECRET}"))),
    }
}

fn number(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let Some(raw) = get(variable) else { return Ok(default) };
    match raw.trim().parse::<u64>() {
        Ok(value) if range.contains(&value) => Ok(value),
        _ => Err(error(
            variable,
            format!("{raw:?} is not a whole number from {} to {}", range.start(), range.end()),
        )),
    }
}

fn trusted_proxies(get: &impl Fn(&str) -> Option<String>) -> Result<TrustedProxies, ConfigError> {
    let header = get("CASTELLAN_FORWARDED_HEADER")
        .map(|v| ForwardedHeader::parse(&v).map_err(|m| error("CASTELLAN_FORWARDED_HEADER", m)))
        .transpose()?
        .unwrap_or_default();
    let proxies = get("CASTELLAN_TRUSTED_PROXIES").unwrap_or_default();
    TrustedProxies::parse(&proxies, header).map_err(|m| error("CASTELLAN_TRUSTED_PROXIES", m))
}

fn seconds(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<Duration, ConfigError> {
    number(get, variable, default, range).map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> =
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_match_the_interface() {
        let config = config(&[]).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.issuer().as_str(), "http://127.0.0.1:8080");
        assert!(config.database_url.starts_with("sqlite://"));
        assert_eq!(config.limits.header_read_timeout, Duration::from_secs(10));
        assert_eq!(config.limits.request_timeout, Duration::from_secs(30));
        assert_eq!(config.limits.max_connections, 1024);
        assert!((1..=4).contains(&config.passwords.hashing_slots));
        assert_eq!(config.passwords.failures_per_minute, 600);
    }

    #[test]
    fn config_files_hold_name_value_lines() {
        let settings = parse_config_file(
            "# comment\n\nCASTELLAN_LISTEN = 0.0.0.0:9000\nCASTELLAN_ISSUER=\"https://id.example\"\n",
        )
        .unwrap();
        assert_eq!(settings["CASTELLAN_LISTEN"], "0.0.0.0:9000");
        assert_eq!(settings["CASTELLAN_ISSUER"], "https://id.example");
        assert_eq!(parse_config_file("ok=1\nnot a setting\n"), Err(2));
    }

    #[test]
    fn a_plain_http_issuer_off_this_machine_needs_an_explicit_opt_in() {
        let remote = ("CASTELLAN_ISSUER", "http://id.example.com");
        assert!(config(&[remote]).is_err());
        assert!(config(&[remote, ("CASTELLAN_ALLOW_HTTP_ISSUER", "true")]).is_ok());
        assert!(config(&[remote, ("CASTELLAN_ALLOW_HTTP_ISSUER", "yes")]).is_err());
        assert!(config(&[("CASTELLAN_ISSUER", "http://localhost:8080")]).is_ok());
        assert!(config(&[("CASTELLAN_ISSUER", "HTTPS://id.example.com")]).is_ok());
    }

    #[test]
    fn bad_values_name_their_variable() {
        assert_eq!(config(&[("CASTELLAN_ISSUER", "not a url")]).unwrap_err().variable, "CASTELLAN_ISSUER");
        assert_eq!(
            config(&[("CASTELLAN_ISSUER", "https://a.example/?x=1")]).unwrap_err().variable,
            "CASTELLAN_ISSUER"
        );
        assert_eq!(
            config(&[("CASTELLAN_ISSUER", "http://id.example.com")]).unwrap_err().variable,
            "CASTELLAN_ISSUER"
        );
        assert_eq!(config(&[("CASTELLAN_LISTEN", "nowhere")]).unwrap_err().variable, "CASTELLAN_LISTEN");
        assert_eq!(config(&[("DATABASE_URL", "mysql://x")]).unwrap_err().variable, "DATABASE_URL");
        for (variable, bad) in [
            ("CASTELLAN_MAX_CONNECTIONS", "0"),
            ("CASTELLAN_HEADER_READ_TIMEOUT", "0"),
            ("CASTELLAN_REQUEST_TIMEOUT", "ten"),
            ("CASTELLAN_PASSWORD_HASHING_SLOTS", "0"),
            ("CASTELLAN_SIGN_IN_FAILURE_BUDGET", "-1"),
        ] {
            assert_eq!(config(&[(variable, bad)]).unwrap_err().variable, variable);
        }
        assert_eq!(
            config(&[("CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_ID", "admin")]).unwrap_err().variable,
            "CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_SECRET"
        );
    }

    #[test]
    fn a_bootstrap_admin_secret_shorter_than_32_characters_is_refused() {
        let with_secret = |secret: &str| {
            config(&[
                ("CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_ID", "admin"),
                ("CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_SECRET", secret),
            ])
        };
        let error = with_secret(&"s".repeat(31)).unwrap_err();
        assert_eq!(error.variable, "CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_SECRET");
        assert!(error.message.contains("at least 32 characters"), "{error}");
        assert!(!error.to_string().contains(&"s".repeat(31)), "the secret is not echoed");
        let admin = with_secret(&"s".repeat(32)).unwrap().bootstrap_admin.unwrap();
        assert_eq!(admin.client_secret.expose().len(), 32);
    }

    #[test]
    fn a_bootstrap_admin_id_that_reads_as_an_option_is_refused() {
        let error = config(&[
            ("CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_ID", "-admin"),
            ("CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_SECRET", &"s".repeat(32)),
        ])
        .unwrap_err();
        assert_eq!(error.variable, "CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_ID");
    }
}
