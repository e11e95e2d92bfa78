-- Reference data imported by the administration (tariff measures, nomenclature layers, exchange rates), kept as
-- the files themselves, zstd-compressed: an import is one row, so it lands whole or not at all, and the history of
-- what was in force when is kept. The newest row of each kind is the one in use.
CREATE TABLE reference_files (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    content BYTEA NOT NULL,
    imported_at TEXT NOT NULL,
    imported_by TEXT NOT NULL
);
CREATE INDEX reference_files_kind ON reference_files (kind, id);
CREATE TRIGGER reference_files_append_only BEFORE UPDATE OR DELETE ON reference_files
    FOR EACH ROW EXECUTE FUNCTION aduana_append_only();
