//! The SQLite backend: the embedded default, a single file in WAL mode.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

type Db = sqlx::Sqlite;
type WriteGroup = super::sqlite_group_commit::GroupCommit;

include!("sql.rs");
include!("sql_keys.rs");
include!("sql_identity.rs");
include!("sql_users.rs");
include!("sql_grants.rs");
include!("sqlite_grants.rs");
include!("sql_resources.rs");
include!("sql_registration.rs");
include!("sql_client_metadata_documents.rs");
include!("sql_assertions.rs");

fn pool_options(max_connections: u32, in_memory: bool) -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(max_connections)
        .min_connections(if in_memory { 1 } else { 0 })
        .idle_timeout(if in_memory { None } else { Some(Duration::from_secs(600)) })
        .max_lifetime(if in_memory { None } else { Some(Duration::from_secs(1800)) })
        .acquire_timeout(Duration::from_secs(5))
        // Pinged as it goes back to the pool; not again on the way out.
        .test_before_acquire(false)
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

impl Store {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StorageError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // In WAL mode NORMAL is durable against application crashes and
            // far faster than FULL; a power cut may lose the last commits.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        // An in-memory database exists once per connection: keep exactly one, forever.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if in_memory {
            let pool = pool_options(1, true).connect_with(options).await?;
            MIGRATOR.run(&pool).await?;
            return Ok(Self {
                group: WriteGroup::start(pool.clone(), bind_args),
                writer: pool.clone(),
                pool,
            });
        }
        super::sqlite_files::prepare(options.get_filename())
            .map_err(|e| StorageError::Unavailable(sqlx::Error::Io(e)))?;
        // SQLite has one writer at a time. Writes go through one connection
        // of their own and queue for it in order; the rest only read (WAL
        // readers never wait for the writer), and are query-only so that a
        // write sent to them by mistake fails instead of contending.
        let writer = pool_options(1, false).connect_with(options.clone()).await?;
        MIGRATOR.run(&writer).await?;
        let readers = max_connections.saturating_sub(1).max(1);
        let pool = pool_options(readers, false).connect_with(options.pragma("query_only", "ON")).await?;
        Ok(Self { group: WriteGroup::start(writer.clone(), bind_args), pool, writer })
    }
}
