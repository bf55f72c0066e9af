// The `jti`s of client assertions, in the dialect-neutral SQL of `sql.rs`
// (included after it by both backends).

use crate::storage::ClientAssertionStore;

#[async_trait]
impl ClientAssertionStore for Store {
    async fn record_assertion_jti(
        &self,
        client_id: &ClientId,
        jti: &str,
        expires_at: i64,
    ) -> Result<bool, StorageError> {
        // One statement, atomic on both databases: the primary key decides
        // which of two racing uses is the first.
        let result = sqlx::query(
            "INSERT INTO client_assertion_jtis (client_id, jti, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (client_id, jti) DO NOTHING",
        )
        .bind(client_id.as_str().to_owned())
        .bind(jti.to_owned())
        .bind(expires_at)
        .execute(&self.writer)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn prune_assertion_jtis(&self, now: i64) -> Result<u64, StorageError> {
        let result = sqlx::query("DELETE FROM client_assertion_jtis WHERE expires_at < $1")
            .bind(now)
            .execute(&self.writer)
            .await?;
        Ok(result.rows_affected())
    }
}
