-- One number every change to the signing keys (a new key, a rotation, a
-- revocation, a pruned key) raises, so instances poll one row cheaply and
-- reload the keys only when it moves.
CREATE TABLE signing_key_generation (
    id         INTEGER PRIMARY KEY NOT NULL,
    generation INTEGER NOT NULL
);
INSERT INTO signing_key_generation (id, generation) VALUES (1, 0);

-- Revocations get a sequence number, so instances fetch only the rows after
-- the last they have seen. AUTOINCREMENT never reuses a number, even after
-- the highest row is pruned.
CREATE TABLE revoked_tokens_by_seq (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    jti        TEXT NOT NULL UNIQUE,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL
);
INSERT INTO revoked_tokens_by_seq (jti, expires_at, revoked_at)
    SELECT jti, expires_at, revoked_at FROM revoked_tokens ORDER BY revoked_at, jti;
DROP TABLE revoked_tokens;
ALTER TABLE revoked_tokens_by_seq RENAME TO revoked_tokens;
CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);

-- How many tokens each client, and each user of a client, revoked in the
-- current minute (RFC 7009 requests), shared by every instance.
CREATE TABLE revocation_counts (
    rate_key     TEXT PRIMARY KEY NOT NULL,
    window_start INTEGER NOT NULL,
    revocations  INTEGER NOT NULL
);
