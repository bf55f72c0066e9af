// Dialect-neutral SQL shared by the SQLite and Postgres backends. This file is
// not a module: `sqlite.rs` and `postgres.rs` each `include!` it after
// defining `Db`, so every query is compiled, monomorphic, for both databases.
// Keep it to SQL both dialects accept: `$n` parameters, `ON CONFLICT`,
// `RETURNING`, BIGINT unix seconds, TEXT, BOOLEAN and binary columns.

use async_trait::async_trait;
use sqlx::Row;

use crate::domain::{Client, ClientId, ClientMetadata, PageRequest};
use crate::domain::secret::SecretHash;
use crate::storage::{ClientStore, HealthCheck, RevocationRow, RevocationStore, StorageError};

pub struct Store {
    pool: sqlx::Pool<Db>,
}

/// Runs a transaction on a task of its own. A request whose client goes
/// away is dropped mid-await; with sqlx 0.9.0 a transaction dropped while
/// its `BEGIN` is in flight can go back to the pool still open
/// (launchbadge/sqlx#4393), so transactions are never run on a request's task.
async fn detached<T: Send + 'static>(
    work: impl std::future::Future<Output = Result<T, StorageError>> + Send + 'static,
) -> Result<T, StorageError> {
    tokio::spawn(work).await.map_err(|e| StorageError::Corrupt(format!("storage task failed: {e}")))?
}

fn map_conflict(error: sqlx::Error, what: &str) -> StorageError {
    let unique = error.as_database_error().is_some_and(|e| e.is_unique_violation());
    if unique { StorageError::Conflict(format!("{what} already exists")) } else { error.into() }
}

fn client_from_row(row: &<Db as sqlx::Database>::Row) -> Result<Client, StorageError> {
    let id: String = row.try_get("client_id")?;
    let secret: Option<Vec<u8>> = row.try_get("secret_hash")?;
    let metadata: String = row.try_get("metadata")?;
    let corrupt = |what: &str| StorageError::Corrupt(format!("client {id:?}: {what}"));
    let secret_hash = match secret {
        Some(bytes) => Some(SecretHash::from_stored(&bytes).ok_or_else(|| corrupt("secret hash"))?),
        None => None,
    };
    Ok(Client {
        id: ClientId::parse(&id).map_err(|_| corrupt("client id"))?,
        secret_hash,
        metadata: serde_json::from_str::<ClientMetadata>(&metadata).map_err(|_| corrupt("metadata"))?,
        issued_at: row.try_get("issued_at")?,
    })
}

fn metadata_json(client: &Client) -> Result<String, StorageError> {
    serde_json::to_string(&client.metadata).map_err(|e| StorageError::Corrupt(e.to_string()))
}

#[async_trait]
impl ClientStore for Store {
    async fn insert_client(&self, client: &Client) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO clients (client_id, secret_hash, metadata, issued_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(client.id.as_str().to_owned())
        .bind(client.secret_hash.as_ref().map(|h| h.as_bytes().to_vec()))
        .bind(metadata_json(client)?)
        .bind(client.issued_at)
        .execute(&self.pool)
        .await
        .map_err(|e| map_conflict(e, "a client with this client_id"))?;
        Ok(())
    }

    async fn upsert_client(&self, client: &Client) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO clients (client_id, secret_hash, metadata, issued_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (client_id) DO UPDATE SET secret_hash = excluded.secret_hash, \
             metadata = excluded.metadata, updated_at = excluded.updated_at",
        )
        .bind(client.id.as_str().to_owned())
        .bind(client.secret_hash.as_ref().map(|h| h.as_bytes().to_vec()))
        .bind(metadata_json(client)?)
        .bind(client.issued_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_client(&self, id: &ClientId) -> Result<Option<Client>, StorageError> {
        let row = sqlx::query(
            "SELECT client_id, secret_hash, metadata, issued_at FROM clients WHERE client_id = $1",
        )
        .bind(id.as_str().to_owned())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(client_from_row).transpose()
    }

    async fn list_clients(&self, page: &PageRequest) -> Result<Vec<Client>, StorageError> {
        const COLUMNS: &str = "SELECT client_id, secret_hash, metadata, issued_at FROM clients";
        let sql = match page.after {
            Some(_) => format!("{COLUMNS} WHERE client_id > $1 ORDER BY client_id LIMIT $2"),
            None => format!("{COLUMNS} ORDER BY client_id LIMIT $1"),
        };
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(after) = &page.after {
            query = query.bind(after.clone());
        }
        let rows = query.bind(page.fetch_limit() as i64).fetch_all(&self.pool).await?;
        rows.iter().map(client_from_row).collect()
    }

    async fn update_client(&self, client: &Client, now: i64) -> Result<bool, StorageError> {
        let result = sqlx::query(
            "UPDATE clients SET secret_hash = $2, metadata = $3, updated_at = $4 WHERE client_id = $1",
        )
        .bind(client.id.as_str().to_owned())
        .bind(client.secret_hash.as_ref().map(|h| h.as_bytes().to_vec()))
        .bind(metadata_json(client)?)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn delete_client(&self, id: &ClientId) -> Result<bool, StorageError> {
        let result = sqlx::query("DELETE FROM clients WHERE client_id = $1")
            .bind(id.as_str().to_owned())
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn registered_redirect_uris(
        &self,
        max_clients: usize,
    ) -> Result<Vec<Vec<crate::domain::RedirectUri>>, StorageError> {
        /// Only the one field of the stored metadata, so the rest is not parsed.
        #[derive(serde::Deserialize)]
        struct RedirectUris {
            redirect_uris: Vec<crate::domain::RedirectUri>,
        }
        let rows = sqlx::query("SELECT client_id, metadata FROM clients ORDER BY client_id LIMIT $1")
            .bind(i64::try_from(max_clients).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let metadata: String = row.try_get("metadata")?;
                match serde_json::from_str::<RedirectUris>(&metadata) {
                    Ok(parsed) => Ok(parsed.redirect_uris),
                    Err(_) => {
                        let id: String = row.try_get("client_id")?;
                        Err(StorageError::Corrupt(format!("client {id:?}: metadata")))
                    }
                }
            })
            .collect()
    }
}

#[async_trait]
impl RevocationStore for Store {
    async fn revoke(&self, jti: &str, expires_at: i64, now: i64) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) VALUES ($1, $2, $3) \
             ON CONFLICT (jti) DO NOTHING",
        )
        .bind(jti.to_owned())
        .bind(expires_at)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn revoked_since(&self, since: i64, now: i64) -> Result<Vec<(String, i64)>, StorageError> {
        let rows = sqlx::query(
            "SELECT jti, expires_at FROM revoked_tokens WHERE revoked_at >= $1 AND expires_at > $2",
        )
        .bind(since)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok((row.try_get("jti")?, row.try_get("expires_at")?))).collect()
    }

    async fn revoked_after(
        &self,
        after: i64,
        also: &[i64],
        limit: i64,
    ) -> Result<Vec<RevocationRow>, StorageError> {
        let mut sql = String::from("SELECT seq, jti, expires_at FROM revoked_tokens WHERE seq > $1");
        if !also.is_empty() {
            let placeholders: Vec<String> = (3..also.len() + 3).map(|n| format!("${n}")).collect();
            sql.push_str(&format!(" OR seq IN ({})", placeholders.join(", ")));
        }
        sql.push_str(" ORDER BY seq LIMIT $2");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(after).bind(limit);
        for seq in also {
            query = query.bind(*seq);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok(RevocationRow {
                    seq: row.try_get("seq")?,
                    jti: row.try_get("jti")?,
                    expires_at: row.try_get("expires_at")?,
                })
            })
            .collect()
    }

    async fn count_revocation(&self, rate_key: &str, window_start: i64) -> Result<i64, StorageError> {
        // One atomic statement, so instances counting at once never lose a count.
        let count = sqlx::query_scalar(
            "INSERT INTO revocation_counts (rate_key, window_start, revocations) VALUES ($1, $2, 1) \
             ON CONFLICT (rate_key) DO UPDATE SET \
             revocations = CASE WHEN revocation_counts.window_start = excluded.window_start \
             THEN revocation_counts.revocations + 1 ELSE 1 END, \
             window_start = excluded.window_start \
             RETURNING revocations",
        )
        .bind(rate_key.to_owned())
        .bind(window_start)
        .fetch_one(&self.pool)
        .await?;
        Ok(count)
    }

    async fn prune_revocations(&self, now: i64, window_start: i64) -> Result<u64, StorageError> {
        let result = sqlx::query("DELETE FROM revoked_tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        sqlx::query("DELETE FROM revocation_counts WHERE window_start < $1")
            .bind(window_start)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }
}

#[async_trait]
impl HealthCheck for Store {
    async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
