-- Cargo reports (manifests) lodged by carriers before arrival (CUSCAR or JSON). Kept as received, with the model
-- read from them; one reference per carrier. Nothing is edited in place: a correction is a new report.
CREATE TABLE cargo_reports (
    id TEXT PRIMARY KEY,
    carrier TEXT NOT NULL,
    reference TEXT NOT NULL,
    transport_id TEXT,
    arrival TEXT,
    place_of_arrival TEXT,
    consignments BIGINT NOT NULL,
    goods_items BIGINT NOT NULL,
    format TEXT NOT NULL,
    document TEXT NOT NULL,
    model TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    received_by TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (carrier, reference)
);
CREATE INDEX cargo_reports_received ON cargo_reports (received_at);
CREATE TRIGGER cargo_reports_no_update BEFORE UPDATE ON cargo_reports
BEGIN
    SELECT RAISE(ABORT, 'cargo reports are kept as received: lodge a new report');
END;
CREATE TRIGGER cargo_reports_no_delete BEFORE DELETE ON cargo_reports
BEGIN
    SELECT RAISE(ABORT, 'cargo reports are kept as received: lodge a new report');
END;
