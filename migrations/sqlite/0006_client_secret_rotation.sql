-- Secret rotation with a grace period: the secret a rotation replaced, and
-- until when (unix seconds, exclusive) it is still accepted. Both are NULL
-- unless a rotation asked for a grace period.
ALTER TABLE clients ADD COLUMN previous_secret_hash BLOB;
ALTER TABLE clients ADD COLUMN previous_secret_expires_at BIGINT;
