-- Receipts for payments: the content as issued (canonical JSON) and its SHA-256, never edited.
CREATE TABLE receipts (
    id TEXT PRIMARY KEY,
    declaration_id TEXT NOT NULL,
    content TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    issued_at TEXT NOT NULL
);
CREATE INDEX receipts_declaration ON receipts (declaration_id);
CREATE TRIGGER receipts_no_update BEFORE UPDATE ON receipts
BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
CREATE TRIGGER receipts_no_delete BEFORE DELETE ON receipts
BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
