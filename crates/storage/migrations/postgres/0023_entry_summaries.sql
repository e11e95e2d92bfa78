-- Entry summary declarations (ICS CC315A) lodged by carriers before loading or arrival, and their amendments
-- (CC313A): one row per version, kept as received; the first version gives the MRN, one reference per lodging
-- party; kept in the form received (`xml`, or `json` for the JSON twin). Nothing is edited in place: an
-- amendment is the next version.
CREATE TABLE entry_summaries (
    mrn TEXT NOT NULL,
    version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    lodged_by_party TEXT NOT NULL,
    reference TEXT NOT NULL,
    goods_items BIGINT NOT NULL,
    format TEXT NOT NULL,
    first_entry_office TEXT,
    expected_arrival TEXT,
    document TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    received_by TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (mrn, version)
);
CREATE UNIQUE INDEX entry_summaries_reference ON entry_summaries (lodged_by_party, reference) WHERE version = 1;
CREATE INDEX entry_summaries_party ON entry_summaries (lodged_by_party, received_at);
CREATE INDEX entry_summaries_received ON entry_summaries (received_at);
CREATE SEQUENCE entry_summary_serial;
CREATE TRIGGER entry_summaries_append_only BEFORE UPDATE OR DELETE ON entry_summaries
    FOR EACH ROW EXECUTE FUNCTION aduana_audit_append_only();
CREATE TRIGGER entry_summaries_no_truncate BEFORE TRUNCATE ON entry_summaries
    FOR EACH STATEMENT EXECUTE FUNCTION aduana_audit_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON entry_summaries FROM PUBLIC;
-- The references by which later declarations name an entry summary's consignment (its UCR, the goods items'
-- commercial references and documents), each version's added.
CREATE TABLE entry_summary_references (
    mrn TEXT NOT NULL,
    reference TEXT NOT NULL,
    PRIMARY KEY (mrn, reference)
);
CREATE INDEX entry_summary_references_reference ON entry_summary_references (reference);
-- Referrals of a consignment to its carrier: a request for information, for high-risk cargo screening, or
-- do-not-load; opened by customs, answered by the carrier, closed by customs. Each step is an audit entry.
CREATE TABLE referrals (
    id TEXT PRIMARY KEY,
    mrn TEXT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    opened_by TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    answer TEXT,
    answered_at TEXT,
    closed_by TEXT,
    closed_at TEXT,
    closing_note TEXT
);
CREATE INDEX referrals_mrn ON referrals (mrn, opened_at);
CREATE INDEX referrals_status ON referrals (status, opened_at);
