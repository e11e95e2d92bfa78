-- Receipts for payments: the content as issued (canonical JSON) and its SHA-256, never edited.
CREATE TABLE receipts (
    id TEXT PRIMARY KEY,
    declaration_id TEXT NOT NULL,
    content TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    issued_at TEXT NOT NULL
);
CREATE INDEX receipts_declaration ON receipts (declaration_id);
CREATE TRIGGER receipts_append_only BEFORE UPDATE OR DELETE ON receipts
    FOR EACH ROW EXECUTE FUNCTION aduana_append_only();
