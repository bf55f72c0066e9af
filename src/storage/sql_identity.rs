// Consents, sessions and sign-in throttling, and the revocation steps that
// users, consents and grants share, in the dialect-neutral SQL of `sql.rs`
// (included after it by both backends; not a module).

use crate::domain::{ScopeSet, UserId};
use crate::storage::{
    Consent, ConsentStore, LoginThrottleStore, RevokedTokens, SessionRecord, SessionRecordStore,
};

/// Records the tokens that `select` (one `$1` parameter, columns `jti` and
/// `expires_at`) finds, unexpired at `now`, as revoked; returns them.
async fn revoke_selected(
    tx: &mut sqlx::Transaction<'_, Db>,
    select: &'static str,
    key: &str,
    now: i64,
) -> Result<RevokedTokens, StorageError> {
    let rows = sqlx::query(select).bind(key.to_owned()).fetch_all(&mut **tx).await?;
    revoke_rows(tx, &rows, now).await
}

/// Records the tokens of `rows` (columns `jti` and `expires_at`, either
/// possibly null), unexpired at `now`, as revoked; returns them.
async fn revoke_rows(
    tx: &mut sqlx::Transaction<'_, Db>,
    rows: &[<Db as sqlx::Database>::Row],
    now: i64,
) -> Result<RevokedTokens, StorageError> {
    let mut revoked = Vec::with_capacity(rows.len());
    for row in rows {
        let (jti, expires_at): (Option<String>, Option<i64>) =
            (row.try_get("jti")?, row.try_get("expires_at")?);
        if let (Some(jti), Some(expires_at)) = (jti, expires_at) {
            record_revoked(tx, jti, expires_at, now, &mut revoked).await?;
        }
    }
    Ok(revoked)
}

/// Adds one access token to `revoked_tokens` (and to `revoked`) unless it
/// has expired already.
async fn record_revoked(
    tx: &mut sqlx::Transaction<'_, Db>,
    jti: String,
    expires_at: i64,
    now: i64,
    revoked: &mut RevokedTokens,
) -> Result<(), StorageError> {
    if expires_at <= now {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) VALUES ($1, $2, $3) \
         ON CONFLICT (jti) DO NOTHING",
    )
    .bind(jti.clone())
    .bind(expires_at)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    revoked.push((jti, expires_at));
    Ok(())
}

fn consent_from_row(row: &<Db as sqlx::Database>::Row) -> Result<Consent, StorageError> {
    let client_id: String = row.try_get("client_id")?;
    let scope: String = row.try_get("scope")?;
    let corrupt = || StorageError::Corrupt(format!("consent for client {client_id:?}"));
    Ok(Consent {
        client_id: ClientId::parse(&client_id).map_err(|_| corrupt())?,
        scope: ScopeSet::parse(&scope).map_err(|_| corrupt())?,
        granted_at: row.try_get("granted_at")?,
    })
}

#[async_trait]
impl ConsentStore for Store {
    async fn get_consent(&self, user: &UserId, client: &ClientId) -> Result<Option<Consent>, StorageError> {
        let row = sqlx::query(
            "SELECT client_id, scope, granted_at FROM consents WHERE user_id = $1 AND client_id = $2",
        )
        .bind(user.as_str().to_owned())
        .bind(client.as_str().to_owned())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(consent_from_row).transpose()
    }

    async fn save_consent(&self, user: &UserId, consent: &Consent) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO consents (user_id, client_id, scope, granted_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, \
             granted_at = excluded.granted_at",
        )
        .bind(user.as_str().to_owned())
        .bind(consent.client_id.as_str().to_owned())
        .bind(consent.scope.to_string())
        .bind(consent.granted_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn list_consents(&self, user: &UserId) -> Result<Vec<Consent>, StorageError> {
        let rows = sqlx::query(
            "SELECT client_id, scope, granted_at FROM consents WHERE user_id = $1 ORDER BY granted_at, client_id",
        )
        .bind(user.as_str().to_owned())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(consent_from_row).collect()
    }

    async fn revoke_consent(
        &self,
        user: &UserId,
        client: &ClientId,
        now: i64,
    ) -> Result<Option<RevokedTokens>, StorageError> {
        let pool = self.writer.clone();
        let user = user.clone();
        let client = client.clone();
        detached(async move {
            let mut tx = pool.begin().await?;
            let deleted = sqlx::query("DELETE FROM consents WHERE user_id = $1 AND client_id = $2")
                .bind(user.as_str().to_owned())
                .bind(client.as_str().to_owned())
                .execute(&mut *tx)
                .await?;
            if deleted.rows_affected() == 0 {
                return Ok(None);
            }
            let families: Vec<String> = sqlx::query_scalar(
                "UPDATE token_families SET revoked_at = $3 \
                 WHERE user_id = $1 AND client_id = $2 AND revoked_at IS NULL RETURNING family_id",
            )
            .bind(user.as_str().to_owned())
            .bind(client.as_str().to_owned())
            .bind(now)
            .fetch_all(&mut *tx)
            .await?;
            let mut revoked = Vec::new();
            for family in families {
                revoked.extend(revoke_selected(&mut tx, FAMILY_ACCESS_TOKENS, &family, now).await?);
            }
            // Codes not yet redeemed die; tokens from codes without a family are revoked.
            let codes = sqlx::query(
                "UPDATE authorization_codes \
                 SET expires_at = CASE WHEN expires_at > $3 THEN $3 ELSE expires_at END \
                 WHERE user_id = $1 AND client_id = $2 \
                 RETURNING access_jti AS jti, access_expires_at AS expires_at",
            )
            .bind(user.as_str().to_owned())
            .bind(client.as_str().to_owned())
            .bind(now)
            .fetch_all(&mut *tx)
            .await?;
            revoked.extend(revoke_rows(&mut tx, &codes, now).await?);
            tx.commit().await?;
            Ok(Some(revoked))
        })
        .await
    }
}

#[async_trait]
impl SessionRecordStore for Store {
    async fn create_session(&self, record: &SessionRecord<'_>) -> Result<bool, StorageError> {
        let result = sqlx::query(
            "INSERT INTO sessions (session_hash, data, user_id, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (session_hash) DO NOTHING",
        )
        .bind(record.id_hash.to_vec())
        .bind(record.data.to_vec())
        .bind(record.user_id.map(|id| id.as_str().to_owned()))
        .bind(record.expires_at)
        .execute(&self.writer)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn save_session(&self, record: &SessionRecord<'_>) -> Result<(), StorageError> {
        // Only an existing session is updated: one deleted meanwhile (signed
        // out, by another request, or its user disabled) must stay deleted.
        sqlx::query("UPDATE sessions SET data = $2, user_id = $3, expires_at = $4 WHERE session_hash = $1")
            .bind(record.id_hash.to_vec())
            .bind(record.data.to_vec())
            .bind(record.user_id.map(|id| id.as_str().to_owned()))
            .bind(record.expires_at)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn load_session(&self, id_hash: &[u8], now: i64) -> Result<Option<Vec<u8>>, StorageError> {
        let data =
            sqlx::query_scalar("SELECT data FROM sessions WHERE session_hash = $1 AND expires_at > $2")
                .bind(id_hash.to_vec())
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
        Ok(data)
    }

    async fn delete_session(&self, id_hash: &[u8]) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM sessions WHERE session_hash = $1")
            .bind(id_hash.to_vec())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn prune_sessions(&self, now: i64) -> Result<u64, StorageError> {
        let result =
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&self.writer).await?;
        Ok(result.rows_affected())
    }
}

#[async_trait]
impl LoginThrottleStore for Store {
    async fn login_failures(&self, key: &str) -> Result<Option<(i64, i64)>, StorageError> {
        let row = sqlx::query("SELECT failures, last_failure_at FROM login_failures WHERE throttle_key = $1")
            .bind(key.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok((row.try_get("failures")?, row.try_get("last_failure_at")?))).transpose()
    }

    async fn record_login_failure(
        &self,
        key: &str,
        now: i64,
        window_start: i64,
    ) -> Result<i64, StorageError> {
        // One statement, so concurrent failures each count.
        let failures = sqlx::query_scalar(
            "INSERT INTO login_failures (throttle_key, failures, last_failure_at) VALUES ($1, 1, $2) \
             ON CONFLICT (throttle_key) DO UPDATE SET \
             failures = CASE WHEN login_failures.last_failure_at < $3 THEN 1 \
                             ELSE login_failures.failures + 1 END, \
             last_failure_at = excluded.last_failure_at \
             RETURNING failures",
        )
        .bind(key.to_owned())
        .bind(now)
        .bind(window_start)
        .fetch_one(&self.writer)
        .await?;
        Ok(failures)
    }

    async fn clear_login_failures(&self, key: &str) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM login_failures WHERE throttle_key = $1")
            .bind(key.to_owned())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn forgive_login_failure(&self, key: &str) -> Result<(), StorageError> {
        sqlx::query(
            "UPDATE login_failures SET failures = failures - 1 WHERE throttle_key = $1 AND failures > 0",
        )
        .bind(key.to_owned())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn prune_login_failures(&self, window_start: i64) -> Result<u64, StorageError> {
        let result = sqlx::query("DELETE FROM login_failures WHERE last_failure_at < $1")
            .bind(window_start)
            .execute(&self.writer)
            .await?;
        Ok(result.rows_affected())
    }
}
