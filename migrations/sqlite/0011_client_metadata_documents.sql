-- Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document):
-- a client whose id is the URL of its own metadata document is stored once a
-- user first grants it something (codes, consents and token families refer
-- to clients). For such a client this is when its stored metadata was
-- fetched; NULL for every client an admin registered.
ALTER TABLE clients ADD COLUMN metadata_document_fetched_at BIGINT;

-- The admins' domain policy for such clients: one row at most, the lists
-- space-separated (a domain contains no space).
CREATE TABLE client_metadata_document_policy (
    policy_name   TEXT PRIMARY KEY NOT NULL,
    allow_domains TEXT NOT NULL,
    deny_domains  TEXT NOT NULL,
    updated_at    BIGINT NOT NULL
);
