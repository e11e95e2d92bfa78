-- The administration as data (issue 17): every version of its profile (aduana.toml: country, currency, offices,
-- calendar, tax types, code lists), as given at start or changed at run time. Append-only; the newest is in use,
-- and each save is an audit trail entry in the same transaction.
CREATE TABLE administration_versions (
    version BIGINT PRIMARY KEY,
    profile TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    reason TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
CREATE TRIGGER administration_versions_append_only BEFORE UPDATE OR DELETE ON administration_versions
    FOR EACH ROW EXECUTE FUNCTION aduana_audit_append_only();
CREATE TRIGGER administration_versions_no_truncate BEFORE TRUNCATE ON administration_versions
    FOR EACH STATEMENT EXECUTE FUNCTION aduana_audit_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON administration_versions FROM PUBLIC;
