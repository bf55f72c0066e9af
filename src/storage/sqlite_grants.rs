// The writes of the code and refresh grants on SQLite (included by
// `sqlite.rs` after `sql_grants.rs`; not a module). Each is one transaction
// on the writer connection, whose statements go to SQLite in one command
// (sqlx runs a string of several statements, binding `$n` in each to the
// same arguments): every command is a hand-off to the connection's thread.
// A later statement acts only if the one before it changed a row
// (`changes()`), and a failed one rolls the whole transaction back.

/// Claims the code and, if claimed, starts its family with its first
/// refresh token: 3 rows changed if claimed, none if not.
const CLAIM_CODE_STARTING_FAMILY: &str = "\
     UPDATE authorization_codes SET redeemed_at = $2, access_jti = $3, access_expires_at = $4, family_id = $5 \
     WHERE code_hash = $1 AND redeemed_at IS NULL AND expires_at > $2; \
     INSERT INTO token_families (family_id, client_id, user_id, scope, auth_time, created_at, expires_at, \
     resources) SELECT $5, $6, $7, $8, $9, $10, $11, $12 WHERE changes() = 1; \
     INSERT INTO refresh_tokens (token_hash, family_id, issued_at, idle_expires_at, access_jti, \
     access_expires_at) SELECT $13, $5, $14, $15, $16, $17 WHERE changes() = 1";

const CLAIM_CODE: &str = "UPDATE authorization_codes SET redeemed_at = $2, access_jti = $3, \
     access_expires_at = $4 WHERE code_hash = $1 AND redeemed_at IS NULL AND expires_at > $2";

/// Rotates the token if it was not rotated and its family lives, and
/// inserts the successor if it did: 2 rows changed if rotated, none if not.
/// (SQLite has one writer at a time, so the family cannot end between the
/// two statements; Postgres locks its row for that.)
const ROTATE: &str = "\
     UPDATE refresh_tokens SET rotated_at = $3 WHERE token_hash = $2 AND rotated_at IS NULL \
     AND family_id IN (SELECT family_id FROM token_families \
     WHERE family_id = $1 AND revoked_at IS NULL AND expires_at > $3); \
     INSERT INTO refresh_tokens (token_hash, family_id, issued_at, idle_expires_at, access_jti, \
     access_expires_at) SELECT $4, $1, $5, $6, $7, $8 WHERE changes() = 1";

/// `GrantStore::redeem_code`.
async fn redeem_code_in(
    writer: &sqlx::Pool<Db>,
    code_hash: &[u8],
    now: i64,
    redemption: &CodeRedemption,
) -> Result<bool, StorageError> {
    let writer = writer.clone();
    let code_hash = code_hash.to_vec();
    let redemption = redemption.clone();
    detached(async move {
        let Some(new) = &redemption.family else {
            let claimed = sqlx::query(CLAIM_CODE)
                .bind(code_hash)
                .bind(now)
                .bind(redemption.access_jti.clone())
                .bind(redemption.access_expires_at)
                .execute(&writer)
                .await?;
            return Ok(claimed.rows_affected() == 1);
        };
        let (family, first) = (&new.family, &new.first_token);
        let mut tx = writer.begin().await?;
        let changed = sqlx::query(CLAIM_CODE_STARTING_FAMILY)
            .bind(code_hash)
            .bind(now)
            .bind(redemption.access_jti.clone())
            .bind(redemption.access_expires_at)
            .bind(family.family_id.clone())
            .bind(family.client_id.as_str().to_owned())
            .bind(family.user_id.as_str().to_owned())
            .bind(family.scope.to_string())
            .bind(family.auth_time)
            .bind(family.created_at)
            .bind(family.expires_at)
            .bind(family.resources.to_stored())
            .bind(first.token_hash.clone())
            .bind(first.issued_at)
            .bind(first.idle_expires_at)
            .bind(first.access_jti.clone())
            .bind(first.access_expires_at)
            .execute(&mut *tx)
            .await?;
        match changed.rows_affected() {
            0 => Ok(false),
            3 => {
                tx.commit().await?;
                Ok(true)
            }
            n => Err(StorageError::Corrupt(format!("redeeming a code changed {n} rows"))),
        }
    })
    .await
}

/// `GrantStore::rotate_refresh_token`. If the token did not rotate, a read
/// in the same transaction says whether its family ended or it had been
/// rotated.
async fn rotate_refresh_token_in(
    writer: &sqlx::Pool<Db>,
    token_hash: &[u8],
    successor: &RefreshTokenRecord,
    now: i64,
) -> Result<Rotation, StorageError> {
    let writer = writer.clone();
    let token_hash = token_hash.to_vec();
    let successor = successor.clone();
    detached(async move {
        let mut tx = writer.begin().await?;
        let changed = sqlx::query(ROTATE)
            .bind(successor.family_id.clone())
            .bind(token_hash)
            .bind(now)
            .bind(successor.token_hash.clone())
            .bind(successor.issued_at)
            .bind(successor.idle_expires_at)
            .bind(successor.access_jti.clone())
            .bind(successor.access_expires_at)
            .execute(&mut *tx)
            .await?;
        match changed.rows_affected() {
            2 => {
                tx.commit().await?;
                return Ok(Rotation::Rotated);
            }
            0 => {}
            n => return Err(StorageError::Corrupt(format!("rotating a refresh token changed {n} rows"))),
        }
        let live: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM token_families WHERE family_id = $1 AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(successor.family_id.clone())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        Ok(if live == 0 { Rotation::FamilyEnded } else { Rotation::AlreadyRotated })
    })
    .await
}
