// Dynamic client registration, in the dialect-neutral SQL of `sql.rs`
// (included after it by both backends).

use crate::storage::{DynamicInsert, RegistrationStore};

/// Ids per `UPDATE … IN (…)`: well within both databases' parameter limits.
const USE_BATCH: usize = 500;

#[async_trait]
impl RegistrationStore for Store {
    async fn insert_dynamic_client(
        &self,
        client: &Client,
        registration_token: &SecretHash,
        max_dynamic: i64,
    ) -> Result<DynamicInsert, StorageError> {
        let result = sqlx::query(
            "INSERT INTO clients (client_id, secret_hash, metadata, issued_at, updated_at, origin, \
             registration_token_hash) \
             SELECT $1, $2, $3, $4, $4, 'dynamic', $5 \
             WHERE (SELECT COUNT(*) FROM clients WHERE origin = 'dynamic') < $6",
        )
        .bind(client.id.as_str().to_owned())
        .bind(client.secret_hash.as_ref().map(|h| h.as_bytes().to_vec()))
        .bind(metadata_json(client)?)
        .bind(client.issued_at)
        .bind(registration_token.as_bytes().to_vec())
        .bind(max_dynamic)
        .execute(&self.writer)
        .await
        .map_err(|e| map_conflict(e, "a client with this client_id"))?;
        Ok(if result.rows_affected() == 1 { DynamicInsert::Inserted } else { DynamicInsert::Full })
    }

    async fn dynamic_client(&self, id: &ClientId) -> Result<Option<(Client, SecretHash)>, StorageError> {
        let sql = format!(
            "SELECT {CLIENT_COLUMNS}, registration_token_hash FROM clients \
             WHERE client_id = $1 AND origin = 'dynamic'"
        );
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str().to_owned())
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let client = client_from_row(&row)?;
        let hash: Option<Vec<u8>> = row.try_get("registration_token_hash")?;
        let hash = hash.as_deref().and_then(SecretHash::from_stored).ok_or_else(|| {
            StorageError::Corrupt(format!("client {:?}: registration token hash", id.as_str()))
        })?;
        Ok(Some((client, hash)))
    }

    async fn record_client_use(&self, ids: &[ClientId], now: i64) -> Result<u64, StorageError> {
        let mut updated = 0;
        for batch in ids.chunks(USE_BATCH) {
            let placeholders: Vec<String> = (2..batch.len() + 2).map(|n| format!("${n}")).collect();
            // Never backwards: another instance may have recorded a later use.
            let sql = format!(
                "UPDATE clients SET last_used_at = $1 WHERE origin = 'dynamic' \
                 AND (last_used_at IS NULL OR last_used_at < $1) AND client_id IN ({})",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
            for id in batch {
                query = query.bind(id.as_str().to_owned());
            }
            updated += query.execute(&self.writer).await?.rows_affected();
        }
        Ok(updated)
    }

    async fn prune_unused_clients(&self, before: i64) -> Result<Vec<ClientId>, StorageError> {
        // Codes, refresh-token families and consents go with the client (ON DELETE CASCADE).
        let rows = sqlx::query(
            "DELETE FROM clients WHERE origin = 'dynamic' AND COALESCE(last_used_at, issued_at) < $1 \
             RETURNING client_id",
        )
        .bind(before)
        .fetch_all(&self.writer)
        .await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("client_id")?;
                ClientId::parse(&id).map_err(|_| StorageError::Corrupt(format!("client {id:?}: client id")))
            })
            .collect()
    }

    async fn insert_initial_access_token(
        &self,
        token: &SecretHash,
        created_at: i64,
        expires_at: i64,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO initial_access_tokens (token_hash, created_at, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(token.as_bytes().to_vec())
        .bind(created_at)
        .bind(expires_at)
        .execute(&self.writer)
        .await
        .map_err(|e| map_conflict(e, "this initial access token"))?;
        Ok(())
    }

    async fn initial_access_token_usable(&self, token: &SecretHash, now: i64) -> Result<bool, StorageError> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT expires_at FROM initial_access_tokens \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token.as_bytes().to_vec())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    async fn use_initial_access_token(&self, token: &SecretHash, now: i64) -> Result<bool, StorageError> {
        // One conditional UPDATE: of callers racing, exactly one sees a row change.
        let result = sqlx::query(
            "UPDATE initial_access_tokens SET used_at = $2 \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token.as_bytes().to_vec())
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn count_registration(&self, rate_key: &str, window_start: i64) -> Result<i64, StorageError> {
        // One atomic statement, so instances counting at once never lose a count.
        let count = sqlx::query_scalar(
            "INSERT INTO registration_counts (rate_key, window_start, registrations) VALUES ($1, $2, 1) \
             ON CONFLICT (rate_key) DO UPDATE SET \
             registrations = CASE WHEN registration_counts.window_start = excluded.window_start \
             THEN registration_counts.registrations + 1 ELSE 1 END, \
             window_start = excluded.window_start \
             RETURNING registrations",
        )
        .bind(rate_key.to_owned())
        .bind(window_start)
        .fetch_one(&self.writer)
        .await?;
        Ok(count)
    }

    async fn prune_registration_records(&self, now: i64, window_start: i64) -> Result<u64, StorageError> {
        let tokens = sqlx::query("DELETE FROM initial_access_tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.writer)
            .await?;
        let counts = sqlx::query("DELETE FROM registration_counts WHERE window_start < $1")
            .bind(window_start)
            .execute(&self.writer)
            .await?;
        Ok(tokens.rows_affected() + counts.rows_affected())
    }
}
