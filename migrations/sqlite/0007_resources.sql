-- Resources (APIs) and audiences (RFC 8707). `identifier` is the resource
-- indicator and the `aud` of its tokens; `scopes` and `client_ids` are
-- space-separated lists (neither contains a space).
CREATE TABLE resources (
    id                   TEXT PRIMARY KEY NOT NULL,
    identifier           TEXT NOT NULL UNIQUE,
    name                 TEXT,
    scopes               TEXT NOT NULL,
    client_ids           TEXT NOT NULL,
    dynamic_registration BOOLEAN NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);

-- The resources a code or a refresh-token family was granted for,
-- space-separated; empty for the issuer's own audience (older rows too).
ALTER TABLE authorization_codes ADD COLUMN resources TEXT NOT NULL DEFAULT '';
ALTER TABLE token_families ADD COLUMN resources TEXT NOT NULL DEFAULT '';
