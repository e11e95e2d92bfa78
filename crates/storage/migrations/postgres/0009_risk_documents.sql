-- Risk management as versioned data (issue #5): rule sets (with their validity dates), named lists (watch lists,
-- the AEO register), the lane rate table, trained risk models, and the analyst's choice of model. Every save is a
-- new version; nothing is edited in place, so any past lane decision can be traced to the exact rules, lists,
-- rates and model it was taken with.
CREATE TABLE risk_documents (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    body TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    author TEXT NOT NULL,
    comment TEXT NOT NULL,
    valid_from TEXT,
    valid_to TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (kind, name, version)
);
CREATE TRIGGER risk_documents_append_only BEFORE UPDATE OR DELETE ON risk_documents
    FOR EACH ROW EXECUTE FUNCTION aduana_audit_append_only();
CREATE TRIGGER risk_documents_no_truncate BEFORE TRUNCATE ON risk_documents
    FOR EACH STATEMENT EXECUTE FUNCTION aduana_audit_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON risk_documents FROM PUBLIC;

-- The rate controller rebuilds its day from the lane assignments recorded since midnight UTC.
CREATE INDEX events_type_at ON events (type, at);
