-- Aduana schema, PostgreSQL. Same shape as the SQLite schema; see that file for the conventions.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    party TEXT,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('declaration_serial', 0);
-- On PostgreSQL serials come from a sequence: no lock is held on a counter row until commit.
CREATE SEQUENCE declaration_serial;

CREATE TABLE declarations (
    id TEXT PRIMARY KEY,
    serial BIGINT NOT NULL UNIQUE,
    declarant TEXT NOT NULL,
    representative TEXT,
    lrn TEXT NOT NULL,
    mrn TEXT UNIQUE,
    status TEXT NOT NULL,
    lane TEXT,
    office TEXT,
    transport_mode TEXT,
    declaration_type TEXT NOT NULL,
    version BIGINT NOT NULL,
    revision BIGINT NOT NULL,
    content_hash TEXT NOT NULL,
    format TEXT NOT NULL,
    document BYTEA NOT NULL, -- the original document as received, zstd-compressed
    model TEXT NOT NULL,
    state TEXT NOT NULL,
    assessment TEXT,
    lodge_response TEXT NOT NULL,
    lodged_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    released_at TEXT,
    UNIQUE (declarant, lrn)
);
CREATE INDEX declarations_status ON declarations (status, serial);
CREATE INDEX declarations_representative ON declarations (representative, serial);
CREATE INDEX declarations_released_at ON declarations (released_at);
CREATE INDEX declarations_lodged_at ON declarations (lodged_at);

CREATE TABLE events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    declaration_id TEXT NOT NULL REFERENCES declarations (id),
    revision BIGINT NOT NULL,
    type TEXT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    reason TEXT NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (declaration_id, revision)
);

-- The event log is append-only: history is never edited, only added to.
CREATE FUNCTION aduana_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only';
END
$$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION aduana_append_only();
