-- The access audit log: one row per tool call, hash-chained (see docs/audit.md).
-- at is fixed-width UTC text (2006-01-02T15:04:05.000000Z) so text order is
-- time order; JSON-valued fields are text holding canonical JSON.
CREATE TABLE access_audit (
    "id"              TEXT    NOT NULL PRIMARY KEY,
    "seq"             INTEGER NOT NULL UNIQUE CHECK ("seq" > 0),
    "at"              TEXT    NOT NULL,
    "request_id"      TEXT    NOT NULL,
    "conversation_id" TEXT    NOT NULL,
    "channel"         TEXT    NOT NULL,
    "subject"         TEXT    NOT NULL,
    "groups"          TEXT    NOT NULL,
    "action"          TEXT    NOT NULL,
    "tool"            TEXT    NOT NULL,
    "product"         TEXT    NOT NULL,
    "arguments"       TEXT    NOT NULL,
    "columns"         TEXT    NOT NULL,
    "row_filters"     TEXT    NOT NULL,
    "masks"           TEXT    NOT NULL,
    "decision"        TEXT    NOT NULL CHECK ("decision" IN ('allow', 'deny', 'error')),
    "reason"          TEXT    NOT NULL,
    "rows_returned"   INTEGER NOT NULL,
    "policy_revision" TEXT    NOT NULL,
    "model"           TEXT    NOT NULL,
    "question"        TEXT    NOT NULL,
    "duration_ms"     INTEGER NOT NULL,
    "prev_hash"       TEXT    NOT NULL,
    "hash"            TEXT    NOT NULL
);

CREATE INDEX access_audit_at ON access_audit ("at");
CREATE INDEX access_audit_subject ON access_audit ("subject", "seq");

CREATE TRIGGER access_audit_no_update BEFORE UPDATE ON access_audit
BEGIN
    SELECT RAISE(ABORT, 'access_audit is append-only: UPDATE is not allowed (audit records are hash-chained; see docs/audit.md)');
END;

CREATE TRIGGER access_audit_no_delete BEFORE DELETE ON access_audit
BEGIN
    SELECT RAISE(ABORT, 'access_audit is append-only: DELETE is not allowed (audit records are hash-chained; see docs/audit.md)');
END;
