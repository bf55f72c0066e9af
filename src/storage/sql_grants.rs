// Authorization codes, token families and refresh tokens, in the
// dialect-neutral SQL of `sql.rs` (included after it by both backends).

use crate::domain::{CodeChallenge, RedirectUri, ResourceSet};
use crate::storage::{
    AuthorizationCodeRecord, CodeRedemption, FamilyAccessToken, GrantStore, RefreshTokenRecord, Retry, Rotation,
    TokenFamily,
};

/// The access tokens issued under one family: with each refresh token, for
/// the code that started it, and for retries within a reuse grace.
const FAMILY_ACCESS_TOKENS: &str = "SELECT access_jti AS jti, access_expires_at AS expires_at \
     FROM refresh_tokens WHERE family_id = $1 \
     UNION ALL SELECT access_jti AS jti, access_expires_at AS expires_at \
     FROM authorization_codes WHERE family_id = $1 \
     UNION ALL SELECT access_jti AS jti, access_expires_at AS expires_at \
     FROM refresh_retry_access_tokens WHERE family_id = $1";

// The writes on the token path: their SQL where both dialects share it,
// and their arguments, which both backends bind (`*_grants.rs`).

/// Issues a code.
const INSERT_CODE: &str = "INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, \
     scope, nonce, code_challenge, auth_time, expires_at, resources) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// Marks a code redeemed without starting a family: a row if claimed.
const CLAIM_CODE: &str = "UPDATE authorization_codes SET redeemed_at = $2, access_jti = $3, \
     access_expires_at = $4 WHERE code_hash = $1 AND redeemed_at IS NULL AND expires_at > $2 RETURNING 1";

/// The arguments of `INSERT_CODE`.
fn code_args(code: &AuthorizationCodeRecord) -> Vec<Arg> {
    vec![
        code.code_hash.as_slice().into(),
        code.client_id.as_str().into(),
        code.user_id.as_str().into(),
        code.redirect_uri.as_ref().map_or("", |uri| uri.as_str()).into(),
        code.scope.to_string().into(),
        code.nonce.clone().into(),
        code.code_challenge.as_ref().map(|c| c.as_str().to_owned()).into(),
        code.auth_time.into(),
        code.expires_at.into(),
        code.resources.to_stored().into(),
    ]
}

/// The arguments of `CLAIM_CODE` ($1–$4) or, with a family, of each
/// backend's `CLAIM_CODE_STARTING_FAMILY` ($5–$12 the family, $13–$17 its
/// first refresh token).
fn redemption_args(code_hash: &[u8], now: i64, redemption: &CodeRedemption) -> Vec<Arg> {
    let mut args =
        vec![code_hash.into(), now.into(), redemption.access_jti.as_str().into(), redemption.access_expires_at.into()];
    if let Some(new) = &redemption.family {
        let (family, first) = (&new.family, &new.first_token);
        args.extend([
            family.family_id.as_str().into(),
            family.client_id.as_str().into(),
            family.user_id.as_str().into(),
            family.scope.to_string().into(),
            family.auth_time.into(),
            family.created_at.into(),
            family.expires_at.into(),
            family.resources.to_stored().into(),
            first.token_hash.as_slice().into(),
            first.issued_at.into(),
            first.idle_expires_at.into(),
            first.access_jti.as_str().into(),
            first.access_expires_at.into(),
        ]);
    }
    args
}

/// The arguments of each backend's `ROTATE`: the family, the token, the
/// time, and the successor ($4–$8).
fn rotation_args(token_hash: &[u8], successor: &RefreshTokenRecord, now: i64) -> Vec<Arg> {
    vec![
        successor.family_id.as_str().into(),
        token_hash.into(),
        now.into(),
        successor.token_hash.as_slice().into(),
        successor.issued_at.into(),
        successor.idle_expires_at.into(),
        successor.access_jti.as_str().into(),
        successor.access_expires_at.into(),
    ]
}

/// The columns `code_from_row` reads, of `authorization_codes c`.
const CODE_COLUMNS: &str = "c.code_hash, c.client_id, c.user_id, c.redirect_uri, c.scope, c.nonce, \
     c.code_challenge, c.auth_time, c.expires_at, c.redeemed_at, c.resources";

/// The columns `refresh_token_from_row` and `family_from_row` read, of
/// `refresh_tokens r JOIN token_families f`.
const REFRESH_TOKEN_COLUMNS: &str = "r.token_hash, r.issued_at, r.idle_expires_at, r.rotated_at, \
     r.access_jti, r.access_expires_at, f.family_id, f.client_id, f.user_id, f.scope, f.auth_time, \
     f.created_at AS family_created_at, f.expires_at, f.revoked_at, f.resources";

/// The columns of `users u` that `user_from_row` reads beside `user_id`,
/// which the code or family row joined to it already carries.
const JOINED_USER_COLUMNS: &str =
    "u.username, u.password_hash, u.email, u.email_verified, u.name, u.roles, u.created_at, u.disabled_at";

fn code_from_row(row: &<Db as sqlx::Database>::Row) -> Result<AuthorizationCodeRecord, StorageError> {
    let corrupt = |what: &str| StorageError::Corrupt(format!("authorization code: {what}"));
    let client_id: String = row.try_get("client_id")?;
    let user_id: String = row.try_get("user_id")?;
    let scope: String = row.try_get("scope")?;
    let redeemed_at: Option<i64> = row.try_get("redeemed_at")?;
    // An empty column: the request did not name a redirect URI.
    let redirect_uri: String = row.try_get("redirect_uri")?;
    let redirect_uri = match redirect_uri.as_str() {
        "" => None,
        uri => Some(RedirectUri::parse(uri).map_err(|_| corrupt("redirect URI"))?),
    };
    let code_challenge: Option<String> = row.try_get("code_challenge")?;
    let code_challenge = match code_challenge {
        Some(challenge) => Some(CodeChallenge::parse(&challenge).map_err(|_| corrupt("code challenge"))?),
        None => None,
    };
    Ok(AuthorizationCodeRecord {
        code_hash: row.try_get("code_hash")?,
        client_id: ClientId::parse(&client_id).map_err(|_| corrupt("client id"))?,
        user_id: UserId::parse(&user_id).map_err(|_| corrupt("user id"))?,
        redirect_uri,
        scope: ScopeSet::parse(&scope).map_err(|_| corrupt("scope"))?,
        resources: resources_column(row).map_err(|_| corrupt("resources"))?,
        nonce: row.try_get("nonce")?,
        code_challenge,
        auth_time: row.try_get("auth_time")?,
        expires_at: row.try_get("expires_at")?,
        redeemed: redeemed_at.is_some(),
    })
}

fn resources_column(row: &<Db as sqlx::Database>::Row) -> Result<ResourceSet, StorageError> {
    let resources: String = row.try_get("resources")?;
    ResourceSet::from_stored(&resources).map_err(|e| StorageError::Corrupt(e.to_owned()))
}

fn family_from_row(row: &<Db as sqlx::Database>::Row) -> Result<TokenFamily, StorageError> {
    let corrupt = |what: &str| StorageError::Corrupt(format!("token family: {what}"));
    let client_id: String = row.try_get("client_id")?;
    let user_id: String = row.try_get("user_id")?;
    let scope: String = row.try_get("scope")?;
    let revoked_at: Option<i64> = row.try_get("revoked_at")?;
    Ok(TokenFamily {
        family_id: row.try_get("family_id")?,
        client_id: ClientId::parse(&client_id).map_err(|_| corrupt("client id"))?,
        user_id: UserId::parse(&user_id).map_err(|_| corrupt("user id"))?,
        scope: ScopeSet::parse(&scope).map_err(|_| corrupt("scope"))?,
        resources: resources_column(row).map_err(|_| corrupt("resources"))?,
        auth_time: row.try_get("auth_time")?,
        created_at: row.try_get("family_created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked: revoked_at.is_some(),
    })
}

fn refresh_token_from_row(
    row: &<Db as sqlx::Database>::Row,
) -> Result<(RefreshTokenRecord, TokenFamily), StorageError> {
    let family = family_from_row(row)?;
    let token = RefreshTokenRecord {
        token_hash: row.try_get("token_hash")?,
        family_id: family.family_id.clone(),
        issued_at: row.try_get("issued_at")?,
        idle_expires_at: row.try_get("idle_expires_at")?,
        rotated_at: row.try_get("rotated_at")?,
        access_jti: row.try_get("access_jti")?,
        access_expires_at: row.try_get("access_expires_at")?,
    };
    Ok((token, family))
}

#[async_trait]
impl GrantStore for Store {
    async fn insert_code(&self, code: &AuthorizationCodeRecord) -> Result<(), StorageError> {
        insert_code_in(self, code).await
    }

    async fn get_code(&self, code_hash: &[u8]) -> Result<Option<AuthorizationCodeRecord>, StorageError> {
        let sql = format!("SELECT {CODE_COLUMNS} FROM authorization_codes c WHERE c.code_hash = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(code_hash.to_vec()).fetch_optional(&self.pool).await?;
        row.as_ref().map(code_from_row).transpose()
    }

    async fn get_code_with_user(
        &self,
        code_hash: &[u8],
    ) -> Result<Option<(AuthorizationCodeRecord, User)>, StorageError> {
        let sql = format!(
            "SELECT {CODE_COLUMNS}, {JOINED_USER_COLUMNS} FROM authorization_codes c \
             JOIN users u ON u.user_id = c.user_id WHERE c.code_hash = $1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(code_hash.to_vec()).fetch_optional(&self.pool).await?;
        row.as_ref().map(|row| Ok((code_from_row(row)?, user_from_row(row)?))).transpose()
    }

    async fn redeem_code(
        &self,
        code_hash: &[u8],
        now: i64,
        redemption: &CodeRedemption,
    ) -> Result<bool, StorageError> {
        redeem_code_in(self, code_hash, now, redemption).await
    }

    async fn revoke_code_grant(&self, code_hash: &[u8], now: i64) -> Result<RevokedTokens, StorageError> {
        let pool = self.writer.clone();
        let code_hash = code_hash.to_vec();
        detached(async move {
            let mut tx = pool.begin().await?;
            // Expiring the code at once also stops further replays early.
            let row = sqlx::query(
                "UPDATE authorization_codes SET expires_at = $2 WHERE code_hash = $1 \
                 RETURNING family_id, access_jti, access_expires_at",
            )
            .bind(code_hash.to_vec())
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else { return Ok(Vec::new()) };
            let family: Option<String> = row.try_get("family_id")?;
            let (jti, expires_at): (Option<String>, Option<i64>) =
                (row.try_get("access_jti")?, row.try_get("access_expires_at")?);
            let mut revoked = Vec::new();
            if let (Some(jti), Some(expires_at)) = (jti, expires_at) {
                record_revoked(&mut tx, jti, expires_at, now, &mut revoked).await?;
            }
            if let Some(family) = family {
                revoked.extend(revoke_family_in(&mut tx, &family, now).await?);
            }
            tx.commit().await?;
            Ok(revoked)
        })
        .await
    }

    async fn get_refresh_token(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<(RefreshTokenRecord, TokenFamily)>, StorageError> {
        let sql = format!(
            "SELECT {REFRESH_TOKEN_COLUMNS} FROM refresh_tokens r \
             JOIN token_families f ON f.family_id = r.family_id WHERE r.token_hash = $1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(token_hash.to_vec()).fetch_optional(&self.pool).await?;
        row.as_ref().map(refresh_token_from_row).transpose()
    }

    async fn get_refresh_token_with_user(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<(RefreshTokenRecord, TokenFamily, User)>, StorageError> {
        let sql = format!(
            "SELECT {REFRESH_TOKEN_COLUMNS}, {JOINED_USER_COLUMNS} FROM refresh_tokens r \
             JOIN token_families f ON f.family_id = r.family_id JOIN users u ON u.user_id = f.user_id \
             WHERE r.token_hash = $1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(token_hash.to_vec()).fetch_optional(&self.pool).await?;
        let Some(row) = row else { return Ok(None) };
        let (token, family) = refresh_token_from_row(&row)?;
        Ok(Some((token, family, user_from_row(&row)?)))
    }

    async fn rotate_refresh_token(
        &self,
        token_hash: &[u8],
        successor: &RefreshTokenRecord,
        now: i64,
    ) -> Result<Rotation, StorageError> {
        rotate_refresh_token_in(self, token_hash, successor, now).await
    }

    async fn retry_rotation(
        &self,
        token_hash: &[u8],
        successor_hash: &[u8],
        rotated_since: i64,
        now: i64,
        access: &FamilyAccessToken,
    ) -> Result<Retry, StorageError> {
        let pool = self.writer.clone();
        let (token_hash, successor_hash, access) = (token_hash.to_vec(), successor_hash.to_vec(), access.clone());
        detached(async move {
            let mut tx = pool.begin().await?;
            // The family's lock, as in a rotation: a concurrent rotation of
            // the successor or revocation of the family comes before or after.
            let family = sqlx::query(
                "UPDATE token_families SET revoked_at = revoked_at WHERE family_id = \
                 (SELECT family_id FROM refresh_tokens WHERE token_hash = $1) \
                 AND revoked_at IS NULL AND expires_at > $2 RETURNING family_id",
            )
            .bind(token_hash.clone())
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(family) = family else { return Ok(Retry::FamilyEnded) };
            let family_id: String = family.try_get("family_id")?;
            let successor = sqlx::query(
                "SELECT s.token_hash FROM refresh_tokens t JOIN refresh_tokens s ON s.family_id = t.family_id \
                 WHERE t.token_hash = $1 AND t.rotated_at >= $2 AND s.token_hash = $3 \
                 AND s.rotated_at IS NULL AND s.idle_expires_at > $4",
            )
            .bind(token_hash)
            .bind(rotated_since)
            .bind(successor_hash)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if successor.is_none() {
                return Ok(Retry::Reused);
            }
            sqlx::query(
                "INSERT INTO refresh_retry_access_tokens (family_id, access_jti, access_expires_at) \
                 VALUES ($1, $2, $3)",
            )
            .bind(family_id)
            .bind(access.jti)
            .bind(access.expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Retry::SameSuccessor)
        })
        .await
    }

    async fn revoke_family(&self, family_id: &str, now: i64) -> Result<RevokedTokens, StorageError> {
        let pool = self.writer.clone();
        let family_id = family_id.to_owned();
        detached(async move {
            let mut tx = pool.begin().await?;
            let revoked = revoke_family_in(&mut tx, &family_id, now).await?;
            tx.commit().await?;
            Ok(revoked)
        })
        .await
    }

    async fn prune_grants(&self, ended_before: i64) -> Result<u64, StorageError> {
        let codes = sqlx::query("DELETE FROM authorization_codes WHERE expires_at < $1")
            .bind(ended_before)
            .execute(&self.writer)
            .await?;
        let families = sqlx::query("DELETE FROM token_families WHERE expires_at < $1")
            .bind(ended_before)
            .execute(&self.writer)
            .await?;
        Ok(codes.rows_affected() + families.rows_affected())
    }
}

async fn revoke_family_in(
    tx: &mut sqlx::Transaction<'_, Db>,
    family_id: &str,
    now: i64,
) -> Result<RevokedTokens, StorageError> {
    sqlx::query("UPDATE token_families SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL")
        .bind(family_id.to_owned())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    revoke_selected(tx, FAMILY_ACCESS_TOKENS, family_id, now).await
}
