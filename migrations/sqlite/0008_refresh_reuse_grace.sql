-- A refresh retried within its client's reuse grace answers the successor it
-- already got, with a new access token; that token is recorded here, under
-- the family, so revoking the family or the user revokes it too.
CREATE TABLE refresh_retry_access_tokens (
    family_id         TEXT NOT NULL REFERENCES token_families (family_id) ON DELETE CASCADE,
    access_jti        TEXT NOT NULL,
    access_expires_at BIGINT NOT NULL
);
CREATE INDEX refresh_retry_access_tokens_family ON refresh_retry_access_tokens (family_id);
