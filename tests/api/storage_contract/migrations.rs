//! The two backends' migrations describe one schema: the same tables with
//! the same columns (types are each dialect's own, and are not compared).

use std::collections::BTreeSet;

use castellan::storage::Storage;
use sqlx::Connection;

use crate::helpers::{Backend, TestDatabase, postgres_url};

/// `(table, column)` pairs.
type Schema = BTreeSet<(String, String)>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_migrations_define_the_same_tables_and_columns() {
    if postgres_url().is_none() {
        return;
    }
    let (_sqlite_database, sqlite_url) = TestDatabase::create(Backend::Sqlite).await;
    let (_postgres_database, postgres_url) = TestDatabase::create(Backend::Postgres).await;
    for url in [&sqlite_url, &postgres_url] {
        Storage::connect(url, 1).await.expect("apply the migrations").health.close().await;
    }

    let sqlite = sqlite_schema(&sqlite_url).await;
    let postgres = postgres_schema(&postgres_url).await;
    assert!(sqlite.iter().any(|(table, _)| table == "refresh_tokens"), "read the SQLite schema: {sqlite:?}");
    let only_sqlite: Vec<_> = sqlite.difference(&postgres).collect();
    let only_postgres: Vec<_> = postgres.difference(&sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "only in SQLite: {only_sqlite:?}; only in Postgres: {only_postgres:?}"
    );
}

async fn sqlite_schema(url: &str) -> Schema {
    let mut connection = sqlx::SqliteConnection::connect(url).await.expect("open the SQLite database");
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut connection)
    .await
    .expect("read the SQLite schema");
    connection.close().await.expect("close");
    rows.into_iter().collect()
}

async fn postgres_schema(url: &str) -> Schema {
    let mut connection = sqlx::PgConnection::connect(url).await.expect("connect to the Postgres database");
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut connection)
    .await
    .expect("read the Postgres schema");
    connection.close().await.expect("close");
    rows.into_iter().collect()
}
