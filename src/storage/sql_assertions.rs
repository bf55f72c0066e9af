// The `jti`s of client assertions, in the dialect-neutral SQL of `sql.rs`
// (included after it by both backends); the insert is in each backend's
// `*_grants.rs`, beside the other writes on the token path.

use crate::storage::ClientAssertionStore;

/// A client assertion's `jti`, unless recorded: a row returned if new.
const RECORD_JTI: &str = "INSERT INTO client_assertion_jtis (client_id, jti, expires_at) VALUES ($1, $2, $3) \
     ON CONFLICT (client_id, jti) DO NOTHING RETURNING 1";

fn jti_args(client_id: &ClientId, jti: &str, expires_at: i64) -> Vec<Arg> {
    vec![client_id.as_str().into(), jti.into(), expires_at.into()]
}

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
        record_assertion_jti_in(self, client_id, jti, expires_at).await
    }

    async fn prune_assertion_jtis(&self, now: i64) -> Result<u64, StorageError> {
        let result = sqlx::query("DELETE FROM client_assertion_jtis WHERE expires_at < $1")
            .bind(now)
            .execute(&self.writer)
            .await?;
        Ok(result.rows_affected())
    }
}
