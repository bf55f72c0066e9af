// The writes on the token path on Postgres: codes issued and redeemed,
// refresh tokens rotated, client assertion `jti`s recorded (included by
// `postgres.rs` after `sql_grants.rs`; not a module). Each is one statement;
// a redemption's and a rotation's data-modifying CTEs run together, in one
// round trip and one commit, with the guarantees of the transactions they
// replace.

/// Claims the code and, if it was claimed, starts its family with its
/// first refresh token. The row lock the UPDATE takes decides concurrent
/// redemptions: a second one waits, then finds `redeemed_at` set.
const CLAIM_CODE_STARTING_FAMILY: &str = "WITH claimed AS (\
     UPDATE authorization_codes SET redeemed_at = $2, access_jti = $3, access_expires_at = $4, family_id = $5 \
     WHERE code_hash = $1 AND redeemed_at IS NULL AND expires_at > $2 RETURNING family_id), \
     family AS (INSERT INTO token_families (family_id, client_id, user_id, scope, auth_time, created_at, \
     expires_at, resources) SELECT family_id, $6, $7, $8, $9, $10, $11, $12 FROM claimed RETURNING family_id), \
     first_token AS (INSERT INTO refresh_tokens (token_hash, family_id, issued_at, idle_expires_at, \
     access_jti, access_expires_at) SELECT $13, family_id, $14, $15, $16, $17 FROM family) \
     SELECT COUNT(*) FROM claimed";

const CLAIM_CODE: &str = "UPDATE authorization_codes SET redeemed_at = $2, access_jti = $3, \
     access_expires_at = $4 WHERE code_hash = $1 AND redeemed_at IS NULL AND expires_at > $2";

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
    sqlx::query(INSERT_CODE)
        .bind(code.code_hash.as_slice())
        .bind(code.client_id.as_str())
        .bind(code.user_id.as_str())
        .bind(code.redirect_uri.as_ref().map_or("", |uri| uri.as_str()))
        .bind(code.scope.to_string())
        .bind(code.nonce.as_deref())
        .bind(code.code_challenge.as_ref().map(|c| c.as_str()))
        .bind(code.auth_time)
        .bind(code.expires_at)
        .bind(code.resources.to_stored())
        .execute(&store.writer)
        .await?;
    Ok(())
}

/// `ClientAssertionStore::record_assertion_jti`.
async fn record_assertion_jti_in(
    store: &Store,
    client_id: &ClientId,
    jti: &str,
    expires_at: i64,
) -> Result<bool, StorageError> {
    let recorded = sqlx::query(RECORD_JTI)
        .bind(client_id.as_str())
        .bind(jti)
        .bind(expires_at)
        .fetch_optional(&store.writer)
        .await?;
    Ok(recorded.is_some())
}

/// `GrantStore::redeem_code`. One statement, so no transaction is left
/// open if the request goes away mid-way (see `detached`).
async fn redeem_code_in(
    store: &Store,
    code_hash: &[u8],
    now: i64,
    redemption: &CodeRedemption,
) -> Result<bool, StorageError> {
    let Some(new) = &redemption.family else {
        let claimed = sqlx::query(CLAIM_CODE)
            .bind(code_hash)
            .bind(now)
            .bind(redemption.access_jti.as_str())
            .bind(redemption.access_expires_at)
            .execute(&store.writer)
            .await?;
        return Ok(claimed.rows_affected() == 1);
    };
    let (family, first) = (&new.family, &new.first_token);
    let claimed: i64 = sqlx::query_scalar(CLAIM_CODE_STARTING_FAMILY)
        .bind(code_hash)
        .bind(now)
        .bind(redemption.access_jti.as_str())
        .bind(redemption.access_expires_at)
        .bind(family.family_id.as_str())
        .bind(family.client_id.as_str())
        .bind(family.user_id.as_str())
        .bind(family.scope.to_string())
        .bind(family.auth_time)
        .bind(family.created_at)
        .bind(family.expires_at)
        .bind(family.resources.to_stored())
        .bind(first.token_hash.as_slice())
        .bind(first.issued_at)
        .bind(first.idle_expires_at)
        .bind(first.access_jti.as_str())
        .bind(first.access_expires_at)
        .fetch_one(&store.writer)
        .await?;
    Ok(claimed == 1)
}

/// `GrantStore::rotate_refresh_token`, in one statement.
async fn rotate_refresh_token_in(
    store: &Store,
    token_hash: &[u8],
    successor: &RefreshTokenRecord,
    now: i64,
) -> Result<Rotation, StorageError> {
    let row = sqlx::query(ROTATE)
        .bind(successor.family_id.as_str())
        .bind(token_hash)
        .bind(now)
        .bind(successor.token_hash.as_slice())
        .bind(successor.issued_at)
        .bind(successor.idle_expires_at)
        .bind(successor.access_jti.as_str())
        .bind(successor.access_expires_at)
        .fetch_one(&store.writer)
        .await?;
    let (live, rotated): (i64, i64) = (row.try_get("live")?, row.try_get("rotated")?);
    Ok(match (live, rotated) {
        (0, _) => Rotation::FamilyEnded,
        (_, 1) => Rotation::Rotated,
        _ => Rotation::AlreadyRotated,
    })
}
