// Signing keys and server secrets, in the dialect-neutral SQL of `sql.rs`
// (included after it by both backends; not a module).

use crate::storage::{KeyStore, Resealed, StoredKey, StoredSecret};

fn key_from_row(row: &<Db as sqlx::Database>::Row) -> Result<StoredKey, StorageError> {
    Ok(StoredKey {
        kid: row.try_get("kid")?,
        alg: row.try_get("alg")?,
        private_key: row.try_get("private_key")?,
        encrypted: row.try_get("encrypted")?,
        created_at: row.try_get("created_at")?,
        retired_at: row.try_get("retired_at")?,
        publish_until: row.try_get("publish_until")?,
    })
}

const INSERT_KEY: &str = "INSERT INTO signing_keys \
     (kid, alg, private_key, encrypted, created_at, retired_at, publish_until) \
     VALUES ($1, $2, $3, $4, $5, NULL, NULL)";

/// As `INSERT_KEY`, but a no-op when the key's algorithm has an active key
/// already (the partial unique index on `alg WHERE retired_at IS NULL`).
const INSERT_KEY_IF_NONE_ACTIVE: &str = "INSERT INTO signing_keys \
     (kid, alg, private_key, encrypted, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";

type KeyQuery<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>;

/// `query` (one of the inserts above) with `key`'s columns bound.
fn bind_key<'q>(query: KeyQuery<'q>, key: &StoredKey) -> KeyQuery<'q> {
    query
        .bind(key.kid.clone())
        .bind(key.alg.clone())
        .bind(key.private_key.clone())
        .bind(key.encrypted)
        .bind(key.created_at)
}

const BUMP_KEY_GENERATION: &str =
    "UPDATE signing_key_generation SET generation = generation + 1 WHERE id = 1";

fn secret_from_row(row: &<Db as sqlx::Database>::Row) -> Result<StoredSecret, StorageError> {
    Ok(StoredSecret {
        name: row.try_get("name")?,
        secret: row.try_get("secret")?,
        encrypted: row.try_get("encrypted")?,
        created_at: row.try_get("created_at")?,
    })
}

#[async_trait]
impl KeyStore for Store {
    async fn published_keys(&self, now: i64) -> Result<Vec<StoredKey>, StorageError> {
        let rows = sqlx::query(
            "SELECT kid, alg, private_key, encrypted, created_at, retired_at, publish_until \
             FROM signing_keys WHERE retired_at IS NULL OR publish_until > $1 \
             ORDER BY created_at DESC, kid",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(key_from_row).collect()
    }

    async fn insert_key_if_none_active(&self, key: &StoredKey) -> Result<bool, StorageError> {
        // The partial unique index on (alg) WHERE retired_at IS NULL turns a
        // concurrent second insert into a no-op.
        let result = bind_key(sqlx::query(INSERT_KEY_IF_NONE_ACTIVE), key).execute(&self.writer).await?;
        let inserted = result.rows_affected() == 1;
        if inserted {
            sqlx::query(BUMP_KEY_GENERATION).execute(&self.writer).await?;
        }
        Ok(inserted)
    }

    async fn rotate_key(&self, key: &StoredKey, publish_until: i64) -> Result<(), StorageError> {
        let pool = self.writer.clone();
        let key = key.clone();
        detached(async move {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE signing_keys SET retired_at = $2, publish_until = $3 \
                 WHERE alg = $1 AND retired_at IS NULL",
            )
            .bind(key.alg.clone())
            .bind(key.created_at)
            .bind(publish_until)
            .execute(&mut *tx)
            .await?;
            bind_key(sqlx::query(INSERT_KEY), &key).execute(&mut *tx).await?;
            sqlx::query(BUMP_KEY_GENERATION).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    async fn prune_keys(&self, now: i64) -> Result<u64, StorageError> {
        let result =
            sqlx::query("DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND publish_until <= $1")
                .bind(now)
                .execute(&self.writer)
                .await?;
        if result.rows_affected() > 0 {
            sqlx::query(BUMP_KEY_GENERATION).execute(&self.writer).await?;
        }
        Ok(result.rows_affected())
    }

    async fn revoke_key(&self, kid: &str, replacement: &StoredKey) -> Result<Option<String>, StorageError> {
        let pool = self.writer.clone();
        let (kid, key) = (kid.to_owned(), replacement.clone());
        detached(async move {
            let mut tx = pool.begin().await?;
            let deleted = sqlx::query("DELETE FROM signing_keys WHERE kid = $1 RETURNING alg, retired_at")
                .bind(kid)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(deleted) = deleted else { return Ok(None) };
            let alg: String = deleted.try_get("alg")?;
            let retired_at: Option<i64> = deleted.try_get("retired_at")?;
            if retired_at.is_none() && alg == key.alg {
                bind_key(sqlx::query(INSERT_KEY_IF_NONE_ACTIVE), &key).execute(&mut *tx).await?;
            }
            sqlx::query(BUMP_KEY_GENERATION).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(Some(alg))
        })
        .await
    }

    async fn key_generation(&self) -> Result<i64, StorageError> {
        let generation: Option<i64> =
            sqlx::query_scalar("SELECT generation FROM signing_key_generation WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?;
        Ok(generation.unwrap_or_default())
    }

    async fn all_sealable(&self) -> Result<(Vec<StoredKey>, Vec<StoredSecret>), StorageError> {
        let keys = sqlx::query(
            "SELECT kid, alg, private_key, encrypted, created_at, retired_at, publish_until \
             FROM signing_keys ORDER BY created_at, kid",
        )
        .fetch_all(&self.pool)
        .await?;
        let secrets = sqlx::query("SELECT name, secret, encrypted, created_at FROM server_secrets ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        let keys = keys.iter().map(key_from_row).collect::<Result<_, _>>()?;
        let secrets = secrets.iter().map(secret_from_row).collect::<Result<_, _>>()?;
        Ok((keys, secrets))
    }

    async fn reseal(&self, keys: &[Resealed], secrets: &[Resealed]) -> Result<u64, StorageError> {
        let pool = self.writer.clone();
        let changes: Vec<(&'static str, String, Vec<u8>, Vec<u8>)> = keys
            .iter()
            .map(|k| ("UPDATE signing_keys SET private_key = $3, encrypted = TRUE WHERE kid = $1 AND private_key = $2", k))
            .chain(secrets.iter().map(|s| {
                ("UPDATE server_secrets SET secret = $3, encrypted = TRUE WHERE name = $1 AND secret = $2", s)
            }))
            .map(|(sql, r)| (sql, r.name.clone(), r.old.clone(), r.new.clone()))
            .collect();
        detached(async move {
            let mut tx = pool.begin().await?;
            let mut changed = 0;
            for (sql, name, old, new) in changes {
                changed += sqlx::query(sql).bind(name).bind(old).bind(new).execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
            Ok(changed)
        })
        .await
    }

    async fn secret_or_insert(&self, candidate: &StoredSecret) -> Result<StoredSecret, StorageError> {
        sqlx::query(
            "INSERT INTO server_secrets (name, secret, encrypted, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(candidate.name.clone())
        .bind(candidate.secret.clone())
        .bind(candidate.encrypted)
        .bind(candidate.created_at)
        .execute(&self.writer)
        .await?;
        let row = sqlx::query("SELECT name, secret, encrypted, created_at FROM server_secrets WHERE name = $1")
            .bind(candidate.name.clone())
            .fetch_one(&self.pool)
            .await?;
        secret_from_row(&row)
    }
}
