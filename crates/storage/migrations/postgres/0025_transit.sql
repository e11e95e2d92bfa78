-- Transit movements (NCTS phase 5): one row per movement, under its MRN, with where it stands, its time limit and
-- the guarantee reserved for it (its money is in the ledger, under `secured:transit-<MRN>`); and every message
-- received and sent on it, in order, kept as written (append-only).
CREATE TABLE transit_movements (
    mrn TEXT PRIMARY KEY,
    lrn TEXT NOT NULL,
    office_of_departure TEXT NOT NULL,
    office_of_destination TEXT NOT NULL,
    holder TEXT,
    owner TEXT NOT NULL,
    status TEXT NOT NULL,
    time_limit TEXT NOT NULL,
    guarantee_grn TEXT,
    guarantee_amount TEXT,
    currency TEXT,
    revision INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (owner, office_of_departure, lrn)
);
CREATE INDEX transit_movements_status ON transit_movements (status, time_limit);
CREATE TABLE transit_messages (
    mrn TEXT NOT NULL,
    seq INTEGER NOT NULL,
    message_type TEXT NOT NULL,
    direction TEXT NOT NULL,
    body TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (mrn, seq)
);
CREATE TRIGGER transit_messages_append_only BEFORE UPDATE OR DELETE ON transit_messages
    FOR EACH ROW EXECUTE FUNCTION aduana_audit_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON transit_messages FROM PUBLIC;
