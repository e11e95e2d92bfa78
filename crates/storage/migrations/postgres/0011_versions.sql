-- Every version of a declaration as received (see the SQLite migration for the reasons).
CREATE TABLE declaration_versions (
    declaration_id TEXT NOT NULL REFERENCES declarations (id),
    version BIGINT NOT NULL,
    format TEXT NOT NULL,
    document BYTEA NOT NULL,
    document_sha256 TEXT NOT NULL,
    model TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    received_at TEXT NOT NULL,
    received_by TEXT NOT NULL,
    received_role TEXT NOT NULL,
    PRIMARY KEY (declaration_id, version)
);
CREATE FUNCTION declaration_versions_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'declaration versions are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER declaration_versions_no_change BEFORE UPDATE OR DELETE ON declaration_versions
    FOR EACH ROW EXECUTE FUNCTION declaration_versions_append_only();
CREATE TRIGGER declaration_versions_no_truncate BEFORE TRUNCATE ON declaration_versions
    FOR EACH STATEMENT EXECUTE FUNCTION declaration_versions_append_only();

CREATE TABLE account_authorities (
    account_id TEXT NOT NULL,
    party TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    revoked_at TEXT,
    PRIMARY KEY (account_id, party)
);

CREATE UNIQUE INDEX refunds_one_open ON refunds (declaration_id) WHERE status = 'requested';
CREATE UNIQUE INDEX payment_orders_one_open ON payment_orders (declaration_id) WHERE status = 'open';
