// Dialect-neutral SQL shared by the SQLite and Postgres backends. This file is
// not a module: `sqlite.rs` and `postgres.rs` each `include!` it after
// defining `Db`, so every query is compiled, monomorphic, for both databases.
// Keep it to SQL both dialects accept: `$n` parameters, `ON CONFLICT`,
// `RETURNING`, BIGINT unix seconds, TEXT, BOOLEAN and binary columns.

use async_trait::async_trait;
use sqlx::Row;

use crate::domain::{Client, ClientId, ClientMetadata, ClientOrigin, PageRequest, PreviousSecret};
use crate::domain::secret::SecretHash;
use super::sql_args::Arg;
use crate::storage::{ClientStore, HealthCheck, RevocationRow, RevocationStore, StorageError};

pub struct Store {
    /// Reads. On SQLite these connections are query-only.
    pool: sqlx::Pool<Db>,
    /// Writes. On Postgres the same pool; on SQLite one connection, so that
    /// writers queue here, in order, instead of sleeping in SQLite's busy
    /// handler while another connection holds the single write lock.
    writer: sqlx::Pool<Db>,
    /// On SQLite the group commit of the hot writes; nothing on Postgres.
    #[allow(dead_code, reason = "only the SQLite backend reads it")]
    group: WriteGroup,
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

/// `sql` with `args` bound to `$1`, `$2`, … in order.
fn bind_args(
    sql: &'static str,
    args: Vec<Arg>,
) -> sqlx::query::Query<'static, Db, <Db as sqlx::Database>::Arguments> {
    args.into_iter().fold(sqlx::query(sql), |query, arg| match arg {
        Arg::Int(value) => query.bind(value),
        Arg::Text(value) => query.bind(value),
        Arg::Blob(value) => query.bind(value),
        Arg::NullText => query.bind(None::<String>),
    })
}

fn map_conflict(error: sqlx::Error, what: &str) -> StorageError {
    let unique = error.as_database_error().is_some_and(|e| e.is_unique_violation());
    if unique { StorageError::Conflict(format!("{what} already exists")) } else { error.into() }
}

/// The columns `client_from_row` reads.
const CLIENT_COLUMNS: &str = "client_id, origin, secret_hash, previous_secret_hash, \
     previous_secret_expires_at, metadata, issued_at, metadata_document_fetched_at";

fn client_from_row(row: &<Db as sqlx::Database>::Row) -> Result<Client, StorageError> {
    let id: String = row.try_get("client_id")?;
    let secret: Option<Vec<u8>> = row.try_get("secret_hash")?;
    let previous: Option<Vec<u8>> = row.try_get("previous_secret_hash")?;
    let previous_expires_at: Option<i64> = row.try_get("previous_secret_expires_at")?;
    let metadata: String = row.try_get("metadata")?;
    let corrupt = |what: &str| StorageError::Corrupt(format!("client {id:?}: {what}"));
    let hash = |bytes: &[u8]| SecretHash::from_stored(bytes).ok_or_else(|| corrupt("secret hash"));
    let secret_hash = secret.as_deref().map(hash).transpose()?;
    let previous_secret = match (previous, previous_expires_at) {
        (Some(bytes), Some(expires_at)) => Some(PreviousSecret { hash: hash(&bytes)?, expires_at }),
        _ => None,
    };
    let origin: String = row.try_get("origin")?;
    Ok(Client {
        id: ClientId::parse(&id).map_err(|_| corrupt("client id"))?,
        origin: ClientOrigin::parse(&origin).ok_or_else(|| corrupt("origin"))?,
        secret_hash,
        previous_secret,
        metadata: serde_json::from_str::<ClientMetadata>(&metadata).map_err(|_| corrupt("metadata"))?,
        issued_at: row.try_get("issued_at")?,
        metadata_document_fetched_at: row.try_get("metadata_document_fetched_at")?,
    })
}

/// The hash and expiry of `client`'s previous secret, as bound to their columns.
fn previous_secret_columns(client: &Client) -> (Option<Vec<u8>>, Option<i64>) {
    match &client.previous_secret {
        Some(previous) => (Some(previous.hash.as_bytes().to_vec()), Some(previous.expires_at)),
        None => (None, None),
    }
}

fn metadata_json(client: &Client) -> Result<String, StorageError> {
    serde_json::to_string(&client.metadata).map_err(|e| StorageError::Corrupt(e.to_string()))
}

#[async_trait]
impl ClientStore for Store {
    async fn insert_client(&self, client: &Client) -> Result<(), StorageError> {
        let (previous_hash, previous_expires_at) = previous_secret_columns(client);
        sqlx::query(
            "INSERT INTO clients (client_id, secret_hash, previous_secret_hash, \
             previous_secret_expires_at, metadata, issued_at, updated_at, origin) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
        )
        .bind(client.id.as_str().to_owned())
        .bind(client.secret_hash.as_ref().map(|h| h.as_bytes().to_vec()))
        .bind(previous_hash)
        .bind(previous_expires_at)
        .bind(metadata_json(client)?)
        .bind(client.issued_at)
        .bind(client.origin.as_str())
        .execute(&self.writer)
        .await
        .map_err(|e| map_conflict(e, "a client with this client_id"))?;
        Ok(())
    }

    async fn upsert_client(&self, client: &Client) -> Result<(), StorageError> {
        let (previous_hash, previous_expires_at) = previous_secret_columns(client);
        sqlx::query(
            "INSERT INTO clients (client_id, secret_hash, previous_secret_hash, \
             previous_secret_expires_at, metadata, issued_at, updated_at, origin) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7) \
             ON CONFLICT (client_id) DO UPDATE SET secret_hash = excluded.secret_hash, \
             previous_secret_hash = excluded.previous_secret_hash, \
             previous_secret_expires_at = excluded.previous_secret_expires_at, \
             metadata = excluded.metadata, updated_at = excluded.updated_at, \
             origin = excluded.origin, registration_token_hash = NULL, metadata_document_fetched_at = NULL",
        )
        .bind(client.id.as_str().to_owned())
        .bind(client.secret_hash.as_ref().map(|h| h.as_bytes().to_vec()))
        .bind(previous_hash)
        .bind(previous_expires_at)
        .bind(metadata_json(client)?)
        .bind(client.issued_at)
        .bind(client.origin.as_str())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn get_client(&self, id: &ClientId) -> Result<Option<Client>, StorageError> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE client_id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str().to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(client_from_row).transpose()
    }

    async fn list_clients(&self, page: &PageRequest) -> Result<Vec<Client>, StorageError> {
        let sql = match page.after {
            Some(_) => format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE client_id > $1 ORDER BY client_id LIMIT $2"),
            None => format!("SELECT {CLIENT_COLUMNS} FROM clients ORDER BY client_id LIMIT $1"),
        };
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(after) = &page.after {
            query = query.bind(after.clone());
        }
        let rows = query.bind(page.fetch_limit() as i64).fetch_all(&self.pool).await?;
        rows.iter().map(client_from_row).collect()
    }

    async fn update_client(&self, client: &Client, now: i64) -> Result<bool, StorageError> {
        // The secrets are written only to clear them (a client whose method
        // no longer uses one): a metadata change that read the client before
        // a rotation must not put the old secret back.
        let result = sqlx::query(
            "UPDATE clients SET metadata = $2, updated_at = $3, \
             secret_hash = CASE WHEN $4 THEN secret_hash ELSE NULL END, \
             previous_secret_hash = CASE WHEN $4 THEN previous_secret_hash ELSE NULL END, \
             previous_secret_expires_at = CASE WHEN $4 THEN previous_secret_expires_at ELSE NULL END \
             WHERE client_id = $1",
        )
        .bind(client.id.as_str().to_owned())
        .bind(metadata_json(client)?)
        .bind(now)
        .bind(client.metadata.token_endpoint_auth_method.uses_secret())
        .execute(&self.writer)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn rotate_client_secret(
        &self,
        id: &ClientId,
        secret: &SecretHash,
        previous_until: Option<i64>,
        now: i64,
    ) -> Result<bool, StorageError> {
        // One statement: the SET expressions read the row as it was, so the
        // secret replaced is exactly the one kept as the previous secret.
        let result = sqlx::query(
            "UPDATE clients SET secret_hash = $2, \
             previous_secret_hash = CASE WHEN $3 IS NULL THEN NULL ELSE secret_hash END, \
             previous_secret_expires_at = $3, updated_at = $4 \
             WHERE client_id = $1 AND secret_hash IS NOT NULL",
        )
        .bind(id.as_str().to_owned())
        .bind(secret.as_bytes().to_vec())
        .bind(previous_until)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn delete_client(&self, id: &ClientId) -> Result<bool, StorageError> {
        let result = sqlx::query("DELETE FROM clients WHERE client_id = $1")
            .bind(id.as_str().to_owned())
            .execute(&self.writer)
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
        .execute(&self.writer)
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
        .fetch_one(&self.writer)
        .await?;
        Ok(count)
    }

    async fn prune_revocations(&self, now: i64, window_start: i64) -> Result<u64, StorageError> {
        let result = sqlx::query("DELETE FROM revoked_tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.writer)
            .await?;
        sqlx::query("DELETE FROM revocation_counts WHERE window_start < $1")
            .bind(window_start)
            .execute(&self.writer)
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
        self.writer.close().await;
    }
}
