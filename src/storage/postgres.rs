//! The Postgres backend: several Castellan instances share one database.
//! Migrations take sqlx's advisory lock, so instances may start together.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;

type Db = sqlx::Postgres;

include!("sql.rs");

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StorageError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }
}
