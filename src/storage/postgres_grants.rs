// The writes on the token path on Postgres: codes issued and redeemed,
// refresh tokens rotated, client assertion `jti`s recorded (included by
// `postgres.rs` after `sql_grants.rs`; not a module). Each is one statement;
// a redemption's and a rotation's data-modifying CTEs run together, in one
// round trip and one commit, with the guarantees of the transactions they
// replace.

/// Claims the code and, if it was claimed, starts its family with its
/// first refresh token: a row if claimed. The row lock the UPDATE takes decides concurrent
/// redemptions: a second one waits, then finds `redeemed_at` set.
const CLAIM_CODE_STARTING_FAMILY: &str = "WITH claimed AS (\
     UPDATE authorization_codes SET redeemed_at = $2, access_jti = $3, access_expires_at = $4, family_id = $5 \
     WHERE code_hash = $1 AND redeemed_at IS NULL AND expires_at > $2 RETURNING family_id), \
     family AS (INSERT INTO token_families (family_id, client_id, user_id, scope, auth_time, created_at, \
     expires_at, resources) SELECT family_id, $6, $7, $8, $9, $10, $11, $12 FROM claimed RETURNING family_id), \
     first_token AS (INSERT INTO refresh_tokens (token_hash, family_id, issued_at, idle_expires_at, \
     access_jti, access_expires_at) SELECT $13, family_id, $14, $15, $16, $17 FROM family) \
     SELECT 1 FROM claimed";

/// Locks the family (so a concurrent `revoke_family` comes wholly before or
/// after, and sees the successor's access token), rotates the token if the
/// family lives and the token was not rotated (a concurrent rotation that
/// committed first is seen: READ COMMITTED re-checks an updated row), and
/// inserts the successor if it rotated.
const ROTATE: &str = "WITH family AS (\
     SELECT family_id FROM token_families WHERE family_id = $1 AND revoked_at IS NULL AND expires_at > $3 \
     FOR UPDATE), \
     rotated AS (UPDATE refresh_tokens SET rotated_at = $3 WHERE token_hash = $2 AND rotated_at IS NULL \
     AND family_id IN (SELECT family_id FROM family) RETURNING family_id), \
     successor AS (INSERT INTO refresh_tokens (token_hash, family_id, issued_at, idle_expires_at, access_jti, \
     access_expires_at) SELECT $4, family_id, $5, $6, $7, $8 FROM rotated) \
     SELECT (SELECT COUNT(*) FROM family) AS live, (SELECT COUNT(*) FROM rotated) AS rotated";

/// `GrantStore::insert_code`.
async fn insert_code_in(store: &Store, code: &AuthorizationCodeRecord) -> Result<(), StorageError> {
    bind_args(INSERT_CODE, code_args(code)).execute(&store.writer).await?;
    Ok(())
}

/// `ClientAssertionStore::record_assertion_jti`.
async fn record_assertion_jti_in(
    store: &Store,
    client_id: &ClientId,
    jti: &str,
    expires_at: i64,
) -> Result<bool, StorageError> {
    let recorded = bind_args(RECORD_JTI, jti_args(client_id, jti, expires_at)).fetch_optional(&store.writer);
    Ok(recorded.await?.is_some())
}

/// `GrantStore::redeem_code`. One statement, so no transaction is left
/// open if the request goes away mid-way (see `detached`).
async fn redeem_code_in(
    store: &Store,
    code_hash: &[u8],
    now: i64,
    redemption: &CodeRedemption,
) -> Result<bool, StorageError> {
    let sql = if redemption.family.is_some() { CLAIM_CODE_STARTING_FAMILY } else { CLAIM_CODE };
    let claimed = bind_args(sql, redemption_args(code_hash, now, redemption)).fetch_optional(&store.writer);
    Ok(claimed.await?.is_some())
}

/// `GrantStore::rotate_refresh_token`, in one statement.
async fn rotate_refresh_token_in(
    store: &Store,
    token_hash: &[u8],
    successor: &RefreshTokenRecord,
    now: i64,
) -> Result<Rotation, StorageError> {
    let row = bind_args(ROTATE, rotation_args(token_hash, successor, now)).fetch_one(&store.writer).await?;
    let (live, rotated): (i64, i64) = (row.try_get("live")?, row.try_get("rotated")?);
    Ok(match (live, rotated) {
        (0, _) => Rotation::FamilyEnded,
        (_, 1) => Rotation::Rotated,
        _ => Rotation::AlreadyRotated,
    })
}
