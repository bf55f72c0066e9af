-- Clients, signing keys and revoked access tokens. Times are unix seconds.
CREATE TABLE clients (
    client_id   TEXT PRIMARY KEY NOT NULL,
    secret_hash BLOB,
    metadata    TEXT NOT NULL,
    issued_at   INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE signing_keys (
    kid           TEXT PRIMARY KEY NOT NULL,
    alg           TEXT NOT NULL,
    private_key   BLOB NOT NULL,
    encrypted     BOOLEAN NOT NULL,
    created_at    INTEGER NOT NULL,
    retired_at    INTEGER,
    publish_until INTEGER
);
-- At most one active key per algorithm, even when instances start together.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (alg) WHERE retired_at IS NULL;

CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL
);
CREATE INDEX revoked_tokens_revoked_at ON revoked_tokens (revoked_at);
CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);
