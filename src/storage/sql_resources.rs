// Resources, in the dialect-neutral SQL of `sql.rs` (included after it by
// both backends).

use crate::domain::{Resource, ResourceId, ResourceIndicator};
use crate::storage::ResourceStore;

const RESOURCE_COLUMNS: &str =
    "id, identifier, name, scopes, client_ids, dynamic_registration, created_at, updated_at";

fn resource_from_row(row: &<Db as sqlx::Database>::Row) -> Result<Resource, StorageError> {
    let id: String = row.try_get("id")?;
    let corrupt = |what: &str| StorageError::Corrupt(format!("resource {id:?}: {what}"));
    let identifier: String = row.try_get("identifier")?;
    let scopes: String = row.try_get("scopes")?;
    let client_ids: String = row.try_get("client_ids")?;
    let client_ids = client_ids
        .split(' ')
        .filter(|c| !c.is_empty())
        .map(|c| ClientId::parse(c).map_err(|_| corrupt("client id")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Resource {
        id: ResourceId::parse(&id).map_err(|_| corrupt("id"))?,
        identifier: ResourceIndicator::parse(&identifier).map_err(|_| corrupt("identifier"))?,
        name: row.try_get("name")?,
        scopes: ScopeSet::parse(&scopes).map_err(|_| corrupt("scopes"))?,
        client_ids,
        dynamic_registration: row.try_get("dynamic_registration")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn client_ids_column(resource: &Resource) -> String {
    resource.client_ids.iter().map(ClientId::as_str).collect::<Vec<_>>().join(" ")
}

#[async_trait]
impl ResourceStore for Store {
    async fn insert_resource(&self, resource: &Resource) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO resources (id, identifier, name, scopes, client_ids, dynamic_registration, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(resource.id.as_str().to_owned())
        .bind(resource.identifier.as_str().to_owned())
        .bind(resource.name.clone())
        .bind(resource.scopes.to_string())
        .bind(client_ids_column(resource))
        .bind(resource.dynamic_registration)
        .bind(resource.created_at)
        .bind(resource.updated_at)
        .execute(&self.writer)
        .await
        .map_err(|e| map_conflict(e, "a resource with this identifier"))?;
        Ok(())
    }

    async fn get_resource(&self, id: &ResourceId) -> Result<Option<Resource>, StorageError> {
        let sql = format!("SELECT {RESOURCE_COLUMNS} FROM resources WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str().to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(resource_from_row).transpose()
    }

    async fn find_resource(&self, identifier: &ResourceIndicator) -> Result<Option<Resource>, StorageError> {
        let sql = format!("SELECT {RESOURCE_COLUMNS} FROM resources WHERE identifier = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(identifier.as_str().to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(resource_from_row).transpose()
    }

    async fn list_resources(&self, page: &PageRequest) -> Result<Vec<Resource>, StorageError> {
        let sql = match page.after {
            Some(_) => format!("SELECT {RESOURCE_COLUMNS} FROM resources WHERE id > $1 ORDER BY id LIMIT $2"),
            None => format!("SELECT {RESOURCE_COLUMNS} FROM resources ORDER BY id LIMIT $1"),
        };
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(after) = &page.after {
            query = query.bind(after.clone());
        }
        let rows = query.bind(page.fetch_limit() as i64).fetch_all(&self.pool).await?;
        rows.iter().map(resource_from_row).collect()
    }

    async fn update_resource(&self, resource: &Resource) -> Result<bool, StorageError> {
        let result = sqlx::query(
            "UPDATE resources SET name = $2, scopes = $3, client_ids = $4, dynamic_registration = $5, \
             updated_at = $6 WHERE id = $1",
        )
        .bind(resource.id.as_str().to_owned())
        .bind(resource.name.clone())
        .bind(resource.scopes.to_string())
        .bind(client_ids_column(resource))
        .bind(resource.dynamic_registration)
        .bind(resource.updated_at)
        .execute(&self.writer)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn delete_resource(&self, id: &ResourceId) -> Result<bool, StorageError> {
        let result = sqlx::query("DELETE FROM resources WHERE id = $1")
            .bind(id.as_str().to_owned())
            .execute(&self.writer)
            .await?;
        Ok(result.rows_affected() == 1)
    }
}
