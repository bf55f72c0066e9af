-- Secrets the server makes for itself and every instance shares, such as
-- the key that seals what a browser carries between pages. Sealed under
-- the key encryption key when one is configured.
CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY NOT NULL,
    secret     BLOB NOT NULL,
    encrypted  BOOLEAN NOT NULL,
    created_at INTEGER NOT NULL
);
