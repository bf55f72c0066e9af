-- The jti of every client assertion (private_key_jwt, RFC 7523 §3) until it
-- expires, so that one is accepted once, by any instance. The primary key
-- makes the insert that records a use the check for a replay.
CREATE TABLE client_assertion_jtis (
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
