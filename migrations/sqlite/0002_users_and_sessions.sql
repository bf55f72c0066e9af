-- Users, browser sessions, consents, authorization codes and refresh tokens.
-- Times are unix seconds; codes, refresh tokens and session ids are stored
-- only as SHA-256 hashes.
CREATE TABLE users (
    user_id        TEXT PRIMARY KEY NOT NULL,
    username       TEXT NOT NULL,
    -- The username folded to lower case: usernames are unique regardless of case.
    username_key   TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    email          TEXT,
    email_verified BOOLEAN NOT NULL,
    name           TEXT,
    roles          TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);

CREATE TABLE sessions (
    session_hash BLOB PRIMARY KEY NOT NULL,
    data         BLOB NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE consents (
    user_id    TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    scope      TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
CREATE INDEX consents_client ON consents (client_id);

-- One row per authorization a user gave a client through a code; refresh
-- tokens descend from it, and revoking it cuts them all.
CREATE TABLE token_families (
    family_id  TEXT PRIMARY KEY NOT NULL,
    client_id  TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    scope      TEXT NOT NULL,
    auth_time  BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX token_families_client ON token_families (client_id);
CREATE INDEX token_families_user ON token_families (user_id);
CREATE INDEX token_families_expires_at ON token_families (expires_at);

CREATE TABLE authorization_codes (
    code_hash         BLOB PRIMARY KEY NOT NULL,
    client_id         TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    user_id           TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    redirect_uri      TEXT NOT NULL,
    scope             TEXT NOT NULL,
    nonce             TEXT,
    code_challenge    TEXT,
    auth_time         BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    redeemed_at       BIGINT,
    -- The access token issued for the code, revoked if the code is replayed.
    access_jti        TEXT,
    access_expires_at BIGINT,
    family_id         TEXT
);
CREATE INDEX authorization_codes_user ON authorization_codes (user_id);
CREATE INDEX authorization_codes_expires_at ON authorization_codes (expires_at);

CREATE TABLE refresh_tokens (
    token_hash        BLOB PRIMARY KEY NOT NULL,
    family_id         TEXT NOT NULL REFERENCES token_families (family_id) ON DELETE CASCADE,
    issued_at         BIGINT NOT NULL,
    idle_expires_at   BIGINT NOT NULL,
    rotated_at        BIGINT,
    -- The access token issued with this refresh token.
    access_jti        TEXT NOT NULL,
    access_expires_at BIGINT NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Failed sign-ins per account and per client address, for throttling.
CREATE TABLE login_failures (
    throttle_key    TEXT PRIMARY KEY NOT NULL,
    failures        BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL
);
