-- The access audit log: one row per tool call, hash-chained (see docs/audit.md).
-- Column names are the audit record's JSON field names; JSON-valued fields are
-- text holding canonical JSON (not jsonb) so each hash can be recomputed from
-- the stored bytes.
CREATE TABLE governance.access_audit (
    "id"              text        NOT NULL PRIMARY KEY,
    "seq"             bigint      NOT NULL UNIQUE CHECK ("seq" > 0),
    "at"              timestamptz NOT NULL,
    "request_id"      text        NOT NULL,
    "conversation_id" text        NOT NULL,
    "channel"         text        NOT NULL,
    "subject"         text        NOT NULL,
    "groups"          text        NOT NULL,
    "action"          text        NOT NULL,
    "tool"            text        NOT NULL,
    "product"         text        NOT NULL,
    "arguments"       text        NOT NULL,
    "columns"         text        NOT NULL,
    "row_filters"     text        NOT NULL,
    "masks"           text        NOT NULL,
    "decision"        text        NOT NULL CHECK ("decision" IN ('allow', 'deny', 'error')),
    "reason"          text        NOT NULL,
    "rows_returned"   integer     NOT NULL,
    "policy_revision" text        NOT NULL,
    "model"           text        NOT NULL,
    "question"        text        NOT NULL,
    "duration_ms"     bigint      NOT NULL,
    "prev_hash"       text        NOT NULL,
    "hash"            text        NOT NULL
);

COMMENT ON TABLE governance.access_audit IS
    'askmesh access audit log: append-only, hash-chained (hash = sha256(prev_hash || canonical record)). Verify with: askmesh audit verify.';

-- Review queries filter by time and by who; everything else pages by seq.
CREATE INDEX access_audit_at ON governance.access_audit ("at");
CREATE INDEX access_audit_subject ON governance.access_audit ("subject", "seq");

CREATE FUNCTION governance.access_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'governance.access_audit is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Audit records are hash-chained and may only be inserted; see docs/audit.md.';
END;
$$;

-- Statement-level, so even an UPDATE or DELETE matching no row is refused.
CREATE TRIGGER access_audit_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON governance.access_audit
    FOR EACH STATEMENT EXECUTE FUNCTION governance.access_audit_append_only();

-- ALWAYS: the trigger fires even under session_replication_role = replica.
ALTER TABLE governance.access_audit ENABLE ALWAYS TRIGGER access_audit_append_only;
