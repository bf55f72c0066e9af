// Metadata-document clients and the domain policy, in the dialect-neutral
// SQL of `sql.rs` (included after it by both backends; not a module).

use crate::domain::client_metadata_document::DomainPolicy;
use crate::storage::ClientMetadataDocumentStore;

/// The one row of `client_metadata_document_policy`.
const DOMAIN_POLICY_ROW: &str = "domains";

fn domain_list(column: &str) -> Vec<String> {
    column.split(' ').filter(|d| !d.is_empty()).map(str::to_owned).collect()
}

#[async_trait]
impl ClientMetadataDocumentStore for Store {
    async fn insert_document_client(&self, client: &Client) -> Result<bool, StorageError> {
        let fetched_at = client
            .metadata_document_fetched_at
            .ok_or_else(|| StorageError::Corrupt("not a metadata-document client".into()))?;
        let result = sqlx::query(
            "INSERT INTO clients (client_id, origin, secret_hash, metadata, issued_at, updated_at, \
             metadata_document_fetched_at) VALUES ($1, 'metadata_document', NULL, $2, $3, $3, $4) \
             ON CONFLICT (client_id) DO NOTHING",
        )
        .bind(client.id.as_str().to_owned())
        .bind(metadata_json(client)?)
        .bind(client.issued_at)
        .bind(fetched_at)
        .execute(&self.writer)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn update_document_client(&self, client: &Client, now: i64) -> Result<bool, StorageError> {
        let fetched_at = client
            .metadata_document_fetched_at
            .ok_or_else(|| StorageError::Corrupt("not a metadata-document client".into()))?;
        let result = sqlx::query(
            "UPDATE clients SET metadata = $2, metadata_document_fetched_at = $3, updated_at = $4 \
             WHERE client_id = $1 AND metadata_document_fetched_at IS NOT NULL",
        )
        .bind(client.id.as_str().to_owned())
        .bind(metadata_json(client)?)
        .bind(fetched_at)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn domain_policy(&self) -> Result<DomainPolicy, StorageError> {
        let row = sqlx::query(
            "SELECT allow_domains, deny_domains FROM client_metadata_document_policy WHERE policy_name = $1",
        )
        .bind(DOMAIN_POLICY_ROW)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(DomainPolicy::default()) };
        let (allow, deny): (String, String) = (row.try_get("allow_domains")?, row.try_get("deny_domains")?);
        Ok(DomainPolicy { allow_domains: domain_list(&allow), deny_domains: domain_list(&deny) })
    }

    async fn set_domain_policy(&self, policy: &DomainPolicy, now: i64) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO client_metadata_document_policy (policy_name, allow_domains, deny_domains, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (policy_name) DO UPDATE SET \
             allow_domains = excluded.allow_domains, deny_domains = excluded.deny_domains, \
             updated_at = excluded.updated_at",
        )
        .bind(DOMAIN_POLICY_ROW)
        .bind(policy.allow_domains.join(" "))
        .bind(policy.deny_domains.join(" "))
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}
