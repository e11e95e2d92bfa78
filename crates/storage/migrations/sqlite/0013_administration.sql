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
CREATE TRIGGER administration_versions_no_update BEFORE UPDATE ON administration_versions
BEGIN
    SELECT RAISE(ABORT, 'administration versions are append-only: save a new version');
END;
CREATE TRIGGER administration_versions_no_delete BEFORE DELETE ON administration_versions
BEGIN
    SELECT RAISE(ABORT, 'administration versions are append-only: save a new version');
END;
