-- Refunds: requested, approved by one officer (two distinct officers above the threshold), then paid out.
CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    declaration_id TEXT NOT NULL,
    ledger_key TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    approvals_needed BIGINT NOT NULL,
    approvals TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    paid_at TEXT
);
CREATE INDEX refunds_declaration ON refunds (declaration_id);
