-- One number every change to the signing keys (a new key, a rotation, a
-- revocation, a pruned key) raises, so instances poll one row cheaply and
-- reload the keys only when it moves.
CREATE TABLE signing_key_generation (
    id         INTEGER PRIMARY KEY,
    generation BIGINT NOT NULL
);
INSERT INTO signing_key_generation (id, generation) VALUES (1, 0);

-- Revocations get a sequence number, so instances fetch only the rows after
-- the last they have seen (existing rows are numbered as the column is added).
ALTER TABLE revoked_tokens ADD COLUMN seq BIGSERIAL;
CREATE UNIQUE INDEX revoked_tokens_seq ON revoked_tokens (seq);
DROP INDEX revoked_tokens_revoked_at;

-- How many tokens each client, and each user of a client, revoked in the
-- current minute (RFC 7009 requests), shared by every instance.
CREATE TABLE revocation_counts (
    rate_key     TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    revocations  BIGINT NOT NULL
);
