//! The Postgres backend: several Castellan instances share one database.
//! Migrations take sqlx's advisory lock, so instances may start together.

use std::str::FromStr;
use std::time::Duration;

use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};

type Db = sqlx::Postgres;
/// Postgres commits concurrent transactions together itself.
type WriteGroup = ();

include!("sql.rs");
include!("sql_keys.rs");
include!("sql_identity.rs");
include!("sql_users.rs");
include!("sql_grants.rs");
include!("postgres_grants.rs");
include!("sql_resources.rs");
include!("sql_registration.rs");
include!("sql_client_metadata_documents.rs");
include!("sql_assertions.rs");

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StorageError> {
        let options = PgConnectOptions::from_str(url)?;
        // One direct connection first: its error names the cause (refused,
        // authentication, unknown database) where a pool only says it timed out.
        PgConnection::connect_with(&options).await?.close().await?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            // sqlx already pings every connection as it goes back to the
            // pool; a second ping on the way out would add a round trip to
            // every statement.
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { writer: pool.clone(), pool, group: () })
    }
}
