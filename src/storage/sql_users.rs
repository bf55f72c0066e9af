// Users: stored, changed, disabled and deleted, in the dialect-neutral SQL
// of `sql.rs` (included after it, and after `sql_identity.rs`, by both
// backends; not a module).

use crate::domain::{User, Username};
use crate::storage::UserStore;

const USER_COLUMNS: &str =
    "user_id, username, password_hash, email, email_verified, name, roles, created_at, disabled_at";

fn user_from_row(row: &<Db as sqlx::Database>::Row) -> Result<User, StorageError> {
    let id: String = row.try_get("user_id")?;
    let corrupt = |what: &str| StorageError::Corrupt(format!("user {id:?}: {what}"));
    let username: String = row.try_get("username")?;
    let roles: String = row.try_get("roles")?;
    Ok(User {
        id: UserId::parse(&id).map_err(|_| corrupt("user id"))?,
        username: Username::parse(&username).map_err(|_| corrupt("username"))?,
        password_hash: row.try_get("password_hash")?,
        email: row.try_get("email")?,
        email_verified: row.try_get("email_verified")?,
        name: row.try_get("name")?,
        roles: serde_json::from_str(&roles).map_err(|_| corrupt("roles"))?,
        created_at: row.try_get("created_at")?,
        disabled_at: row.try_get("disabled_at")?,
    })
}

fn roles_json(user: &User) -> Result<String, StorageError> {
    serde_json::to_string(&user.roles).map_err(|e| StorageError::Corrupt(e.to_string()))
}

/// Ends, inside `tx`, everything `user_id` holds: their browser sessions
/// are deleted, their refresh token families revoked, their codes expired,
/// and the access tokens still live from codes and refresh tokens recorded
/// as revoked (returned). Starts with a write, so that on SQLite the
/// transaction holds the write lock before it reads anything.
async fn end_user_grants(
    tx: &mut sqlx::Transaction<'_, Db>,
    user_id: &str,
    now: i64,
) -> Result<RevokedTokens, StorageError> {
    sqlx::query("UPDATE token_families SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
        .bind(user_id.to_owned())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id.to_owned()).execute(&mut **tx).await?;
    // Codes not yet redeemed die; tokens from redeemed ones are revoked.
    let codes = sqlx::query(
        "UPDATE authorization_codes SET expires_at = CASE WHEN expires_at > $2 THEN $2 ELSE expires_at END \
         WHERE user_id = $1 RETURNING access_jti AS jti, access_expires_at AS expires_at",
    )
    .bind(user_id.to_owned())
    .bind(now)
    .fetch_all(&mut **tx)
    .await?;
    let mut revoked = revoke_rows(tx, &codes, now).await?;
    revoked.extend(
        revoke_selected(
            tx,
            "SELECT r.access_jti AS jti, r.access_expires_at AS expires_at FROM refresh_tokens r \
             JOIN token_families f ON f.family_id = r.family_id WHERE f.user_id = $1 \
             UNION ALL SELECT a.access_jti AS jti, a.access_expires_at AS expires_at \
             FROM refresh_retry_access_tokens a \
             JOIN token_families f ON f.family_id = a.family_id WHERE f.user_id = $1",
            user_id,
            now,
        )
        .await?,
    );
    Ok(revoked)
}

#[async_trait]
impl UserStore for Store {
    async fn insert_user(&self, user: &User) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO users (user_id, username, username_key, password_hash, email, email_verified, \
             name, roles, created_at, disabled_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(user.id.as_str().to_owned())
        .bind(user.username.as_str().to_owned())
        .bind(user.username.key())
        .bind(user.password_hash.clone())
        .bind(user.email.clone())
        .bind(user.email_verified)
        .bind(user.name.clone())
        .bind(roles_json(user)?)
        .bind(user.created_at)
        .bind(user.disabled_at)
        .execute(&self.writer)
        .await
        .map_err(|e| map_conflict(e, "a user with this username"))?;
        Ok(())
    }

    async fn get_user(&self, id: &UserId) -> Result<Option<User>, StorageError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE user_id = $1"));
        let row = sqlx::query(sql).bind(id.as_str().to_owned()).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn find_user(&self, username_key: &str) -> Result<Option<User>, StorageError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE username_key = $1"));
        let row = sqlx::query(sql).bind(username_key.to_owned()).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn list_users(&self, page: &PageRequest, search: Option<&str>) -> Result<Vec<User>, StorageError> {
        let mut conditions = Vec::new();
        let mut values = Vec::new();
        if let Some(after) = &page.after {
            values.push(after.clone());
            conditions.push(format!("user_id > ${}", values.len()));
        }
        if let Some(search) = search {
            values.push(format!("%{}%", escape_like(search)));
            let n = values.len();
            conditions.push(format!(
                "(username_key LIKE ${n} ESCAPE '\\' OR lower(email) LIKE ${n} ESCAPE '\\')"
            ));
        }
        let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let sql = format!("SELECT {USER_COLUMNS} FROM users {filter} ORDER BY user_id LIMIT ${}", values.len() + 1);
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for value in values {
            query = query.bind(value);
        }
        let rows = query.bind(page.fetch_limit() as i64).fetch_all(&self.pool).await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn update_user(&self, user: &User) -> Result<bool, StorageError> {
        let updated = sqlx::query(
            "UPDATE users SET email = $2, email_verified = $3, name = $4, roles = $5 WHERE user_id = $1",
        )
        .bind(user.id.as_str().to_owned())
        .bind(user.email.clone())
        .bind(user.email_verified)
        .bind(user.name.clone())
        .bind(roles_json(user)?)
        .execute(&self.writer)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    async fn set_password_hash(&self, id: &UserId, password_hash: &str) -> Result<bool, StorageError> {
        let updated = sqlx::query("UPDATE users SET password_hash = $2 WHERE user_id = $1")
            .bind(id.as_str().to_owned())
            .bind(password_hash.to_owned())
            .execute(&self.writer)
            .await?;
        Ok(updated.rows_affected() == 1)
    }

    async fn disable_user(&self, id: &UserId, now: i64) -> Result<Option<RevokedTokens>, StorageError> {
        let pool = self.writer.clone();
        let id = id.clone();
        detached(async move {
            let mut tx = pool.begin().await?;
            let disabled = sqlx::query(
                "UPDATE users SET disabled_at = COALESCE(disabled_at, $2) WHERE user_id = $1",
            )
            .bind(id.as_str().to_owned())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if disabled.rows_affected() == 0 {
                return Ok(None);
            }
            let revoked = end_user_grants(&mut tx, id.as_str(), now).await?;
            tx.commit().await?;
            Ok(Some(revoked))
        })
        .await
    }

    async fn enable_user(&self, id: &UserId) -> Result<bool, StorageError> {
        let enabled = sqlx::query("UPDATE users SET disabled_at = NULL WHERE user_id = $1")
            .bind(id.as_str().to_owned())
            .execute(&self.writer)
            .await?;
        Ok(enabled.rows_affected() == 1)
    }

    async fn revoke_user_grants(&self, id: &UserId, now: i64) -> Result<Option<RevokedTokens>, StorageError> {
        let pool = self.writer.clone();
        let id = id.clone();
        detached(async move {
            let mut tx = pool.begin().await?;
            let revoked = end_user_grants(&mut tx, id.as_str(), now).await?;
            let exists = sqlx::query("SELECT 1 AS found FROM users WHERE user_id = $1")
                .bind(id.as_str().to_owned())
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_none() {
                return Ok(None);
            }
            tx.commit().await?;
            Ok(Some(revoked))
        })
        .await
    }

    async fn delete_user(&self, id: &UserId, now: i64) -> Result<Option<RevokedTokens>, StorageError> {
        let pool = self.writer.clone();
        let id = id.clone();
        detached(async move {
            let mut tx = pool.begin().await?;
            let revoked = end_user_grants(&mut tx, id.as_str(), now).await?;
            let deleted = sqlx::query("DELETE FROM users WHERE user_id = $1")
                .bind(id.as_str().to_owned())
                .execute(&mut *tx)
                .await?;
            if deleted.rows_affected() == 0 {
                return Ok(None);
            }
            tx.commit().await?;
            Ok(Some(revoked))
        })
        .await
    }
}

/// `text` as a literal inside a `LIKE` pattern whose escape character is a backslash.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}
