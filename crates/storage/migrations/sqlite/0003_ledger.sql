-- The double-entry ledger (crates/ledger). Amounts are decimal text, never floating point.
-- Account totals are the fold of the transfers; both are written in one transaction by Store::transfer.
CREATE TABLE ledger_accounts (
    id TEXT PRIMARY KEY,
    currency TEXT NOT NULL,
    rule TEXT NOT NULL,
    rule_limit TEXT,
    debits_posted TEXT NOT NULL,
    credits_posted TEXT NOT NULL,
    debits_pending TEXT NOT NULL,
    credits_pending TEXT NOT NULL,
    opened_at TEXT NOT NULL
);
-- Transfers are never edited or deleted: corrections are new transfers.
CREATE TABLE ledger_transfers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    debit TEXT NOT NULL,
    credit TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    kind TEXT NOT NULL,
    pending_id TEXT,
    code TEXT NOT NULL,
    reference TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX ledger_transfers_debit ON ledger_transfers (debit, seq);
CREATE INDEX ledger_transfers_credit ON ledger_transfers (credit, seq);
CREATE INDEX ledger_transfers_reference ON ledger_transfers (reference);
-- The state of each reservation (open, posted, voided): the only ledger rows that change.
CREATE TABLE ledger_pending (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL
);
CREATE TRIGGER ledger_transfers_no_update BEFORE UPDATE ON ledger_transfers
BEGIN SELECT RAISE(ABORT, 'ledger transfers are append-only'); END;
CREATE TRIGGER ledger_transfers_no_delete BEFORE DELETE ON ledger_transfers
BEGIN SELECT RAISE(ABORT, 'ledger transfers are append-only'); END;
