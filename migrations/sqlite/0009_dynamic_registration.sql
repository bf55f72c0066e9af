-- Dynamic client registration (RFC 7591, RFC 7592). A client's origin says
-- who registered it: 'admin' (the admin API, the bootstrap client) or
-- 'dynamic' (the client itself). A dynamic client holds the SHA-256 of its
-- registration access token (NULL for others), and the last time it was
-- used (written in batches; NULL = never), by which unused ones are pruned.
ALTER TABLE clients ADD COLUMN origin TEXT NOT NULL DEFAULT 'admin';
ALTER TABLE clients ADD COLUMN registration_token_hash BLOB;
ALTER TABLE clients ADD COLUMN last_used_at BIGINT;
CREATE INDEX clients_origin ON clients (origin);

-- Initial access tokens (RFC 7591 §3) made by admins: SHA-256 hashes only,
-- each good for one registration before it expires.
CREATE TABLE initial_access_tokens (
    token_hash BLOB PRIMARY KEY NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX initial_access_tokens_expires_at ON initial_access_tokens (expires_at);

-- Registrations per client address (an IPv6 /64) and window, shared by
-- every instance.
CREATE TABLE registration_counts (
    rate_key      TEXT PRIMARY KEY NOT NULL,
    window_start  BIGINT NOT NULL,
    registrations BIGINT NOT NULL
);
