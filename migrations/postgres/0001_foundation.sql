-- Clients, signing keys and revoked access tokens. Times are unix seconds.
CREATE TABLE clients (
    client_id   TEXT PRIMARY KEY NOT NULL,
    secret_hash BYTEA,
    metadata    TEXT NOT NULL,
    issued_at   BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE signing_keys (
    kid           TEXT PRIMARY KEY NOT NULL,
    alg           TEXT NOT NULL,
    private_key   BYTEA NOT NULL,
    encrypted     BOOLEAN NOT NULL,
    created_at    BIGINT NOT NULL,
    retired_at    BIGINT,
    publish_until BIGINT
);
-- At most one active key per algorithm, even when instances start together.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (alg) WHERE retired_at IS NULL;

CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_revoked_at ON revoked_tokens (revoked_at);
CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);
