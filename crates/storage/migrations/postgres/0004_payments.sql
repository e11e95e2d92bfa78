-- Payment orders (what a trader is asked to pay through a bank) and the banks' signed confirmations.
CREATE TABLE payment_orders (
    reference TEXT PRIMARY KEY,
    declaration_id TEXT NOT NULL,
    ledger_key TEXT NOT NULL,
    party TEXT,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    due_date TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    paid_at TEXT
);
CREATE INDEX payment_orders_declaration ON payment_orders (declaration_id);
-- One row per confirmation a bank sent, kept as received (its body's SHA-256): never edited.
CREATE TABLE bank_confirmations (
    bank TEXT NOT NULL,
    confirmation_id TEXT NOT NULL,
    order_reference TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (bank, confirmation_id)
);
CREATE INDEX bank_confirmations_order ON bank_confirmations (order_reference);
CREATE TRIGGER bank_confirmations_append_only BEFORE UPDATE OR DELETE ON bank_confirmations
    FOR EACH ROW EXECUTE FUNCTION aduana_append_only();
