// The writes on the token path on SQLite: codes issued and redeemed,
// refresh tokens rotated, client assertion `jti`s recorded (included by
// `sqlite.rs` after `sql_grants.rs`; not a module). Each goes through the
// group commit (`sqlite_group_commit`): its statements run in one command,
// in a transaction shared with the other writes waiting, committed once.
// A later statement acts only if the one before it changed a row
// (`changes()`), and the last returns a row if all of them acted.

/// Claims the code and, if claimed, starts its family with its first
/// refresh token: one row returned if claimed, none if not.
const CLAIM_CODE_STARTING_FAMILY: &str = "\
     UPDATE authorization_codes SET redeemed_at = $2, access_jti = $3, access_expires_at = $4, family_id = $5 \
     WHERE code_hash = $1 AND redeemed_at IS NULL AND expires_at > $2; \
     INSERT INTO token_families (family_id, client_id, user_id, scope, auth_time, created_at, expires_at, \
     resources) SELECT $5, $6, $7, $8, $9, $10, $11, $12 WHERE changes() = 1; \
     INSERT INTO refresh_tokens (token_hash, family_id, issued_at, idle_expires_at, access_jti, \
     access_expires_at) SELECT $13, $5, $14, $15, $16, $17 WHERE changes() = 1 RETURNING 1";

/// Rotates the token if it was not rotated and its family lives, and
/// inserts the successor if it did: one row returned if rotated, none if
/// not. (Writes are serial here, so the family cannot end between the two
/// statements; Postgres locks its row for that.)
const ROTATE: &str = "\
     UPDATE refresh_tokens SET rotated_at = $3 WHERE token_hash = $2 AND rotated_at IS NULL \
     AND family_id IN (SELECT family_id FROM token_families \
     WHERE family_id = $1 AND revoked_at IS NULL AND expires_at > $3); \
     INSERT INTO refresh_tokens (token_hash, family_id, issued_at, idle_expires_at, access_jti, \
     access_expires_at) SELECT $4, $1, $5, $6, $7, $8 WHERE changes() = 1 RETURNING 1";

/// `GrantStore::insert_code`.
async fn insert_code_in(store: &Store, code: &AuthorizationCodeRecord) -> Result<(), StorageError> {
    store.group.write(INSERT_CODE, code_args(code)).await?;
    Ok(())
}

/// `ClientAssertionStore::record_assertion_jti`.
async fn record_assertion_jti_in(
    store: &Store,
    client_id: &ClientId,
    jti: &str,
    expires_at: i64,
) -> Result<bool, StorageError> {
    Ok(store.group.write(RECORD_JTI, jti_args(client_id, jti, expires_at)).await? == 1)
}

/// `GrantStore::redeem_code`.
async fn redeem_code_in(
    store: &Store,
    code_hash: &[u8],
    now: i64,
    redemption: &CodeRedemption,
) -> Result<bool, StorageError> {
    let sql = if redemption.family.is_some() { CLAIM_CODE_STARTING_FAMILY } else { CLAIM_CODE };
    Ok(store.group.write(sql, redemption_args(code_hash, now, redemption)).await? == 1)
}

/// `GrantStore::rotate_refresh_token`. If the token did not rotate, a read
/// after the commit says whether its family had ended (or ended since: the
/// answer is the same) or the token had been rotated.
async fn rotate_refresh_token_in(
    store: &Store,
    token_hash: &[u8],
    successor: &RefreshTokenRecord,
    now: i64,
) -> Result<Rotation, StorageError> {
    if store.group.write(ROTATE, rotation_args(token_hash, successor, now)).await? == 1 {
        return Ok(Rotation::Rotated);
    }
    let live: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM token_families WHERE family_id = $1 AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(successor.family_id.clone())
    .bind(now)
    .fetch_one(&store.pool)
    .await?;
    Ok(if live == 0 { Rotation::FamilyEnded } else { Rotation::AlreadyRotated })
}
