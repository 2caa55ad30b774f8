-- The id a client sent for its own tracing (X-Request-Id), kept apart from
-- request_id, which askmesh issues. Empty for records written before, which
-- leave it out of their canonical form (their hashes stand).
ALTER TABLE access_audit ADD COLUMN "client_request_id" TEXT NOT NULL DEFAULT '';
