-- Every version of a declaration as received: the lodgement is version 1, each amendment or correction the next.
-- Nothing about a version is ever changed (UCC Art. 51: records kept at least 3 years). The document is kept as
-- received, zstd-compressed, with the SHA-256 of its bytes; the model is its JSON twin. Rows of declarations stored
-- before this table are copied in by the migration code (their current version only: earlier ones were overwritten).
CREATE TABLE declaration_versions (
    declaration_id TEXT NOT NULL REFERENCES declarations (id),
    version BIGINT NOT NULL,
    format TEXT NOT NULL,
    document BLOB NOT NULL,
    document_sha256 TEXT NOT NULL,
    model TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    received_at TEXT NOT NULL,
    received_by TEXT NOT NULL,
    received_role TEXT NOT NULL,
    PRIMARY KEY (declaration_id, version)
);
CREATE TRIGGER declaration_versions_no_update BEFORE UPDATE ON declaration_versions
BEGIN SELECT RAISE(ABORT, 'declaration versions are append-only'); END;
CREATE TRIGGER declaration_versions_no_delete BEFORE DELETE ON declaration_versions
BEGIN SELECT RAISE(ABORT, 'declaration versions are append-only'); END;

-- Who may name a deferment account or guarantee besides its holder: a standing authority the holder (or the
-- administration) registers, like a representation; revoked, never deleted.
CREATE TABLE account_authorities (
    account_id TEXT NOT NULL,
    party TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    revoked_at TEXT,
    PRIMARY KEY (account_id, party)
);

-- One open refund per declaration, one open payment order per declaration: what must happen once is a unique key,
-- so two requests at once cannot both create one.
CREATE UNIQUE INDEX refunds_one_open ON refunds (declaration_id) WHERE status = 'requested';
CREATE UNIQUE INDEX payment_orders_one_open ON payment_orders (declaration_id) WHERE status = 'open';
