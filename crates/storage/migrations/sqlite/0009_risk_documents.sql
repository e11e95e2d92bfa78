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
CREATE TRIGGER risk_documents_no_update BEFORE UPDATE ON risk_documents
BEGIN
    SELECT RAISE(ABORT, 'risk documents are append-only: save a new version');
END;
CREATE TRIGGER risk_documents_no_delete BEFORE DELETE ON risk_documents
BEGIN
    SELECT RAISE(ABORT, 'risk documents are append-only: save a new version');
END;

-- The rate controller rebuilds its day from the lane assignments recorded since midnight UTC.
CREATE INDEX events_type_at ON events (type, at);
