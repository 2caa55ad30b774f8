-- The head check of every batch append: a statement that fails with
-- SQLSTATE AM001 unless the chain's head is (want_seq, want_hash) -- (0, '')
-- for an empty chain. A function, not an anonymous DO block, because
-- PL/pgSQL compiles a DO block on every run and a function once per session:
-- the check runs under the chain lock, so what it costs every writer waits.
CREATE FUNCTION governance.access_audit_expect_head(want_seq bigint, want_hash text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    head_seq bigint;
    head_hash text;
BEGIN
    SELECT "seq", "hash" INTO head_seq, head_hash
        FROM governance.access_audit ORDER BY "seq" DESC LIMIT 1;
    IF coalesce(head_seq, 0) <> want_seq OR coalesce(head_hash, '') <> want_hash THEN
        RAISE EXCEPTION 'the audit chain head moved' USING ERRCODE = 'AM001';
    END IF;
END;
$$;
