-- The officer's refunds awaiting approval, oldest first, a page at a time; the administrator's representations.
CREATE INDEX refunds_by_status ON refunds (status, requested_at, id);
CREATE INDEX representations_by_principal ON representations (principal, representative);
-- Inspection management: the examiner allocated to a declaration under control, and the act of its examination
-- (written in the same transaction as the control result it gives).
CREATE TABLE inspections (
    declaration_id TEXT PRIMARY KEY,
    examiner TEXT,
    allocated_at TEXT,
    act TEXT,
    recorded_by TEXT,
    recorded_at TEXT
);
CREATE INDEX inspections_open ON inspections (recorded_at, examiner);
