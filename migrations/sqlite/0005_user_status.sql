-- A user may be disabled by an admin (and enabled again): since when, or
-- NULL while they may sign in.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;

-- Whose session it is (NULL before sign-in), so that disabling a user or
-- changing their password ends their sessions on every instance at once.
-- No foreign key: the session of a deleted user is deleted with them.
ALTER TABLE sessions ADD COLUMN user_id TEXT;
CREATE INDEX sessions_user ON sessions (user_id);
