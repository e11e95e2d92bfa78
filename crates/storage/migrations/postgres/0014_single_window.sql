-- The Single Window (issue 18): partner agencies, the LPCO types each issues, applications and the agencies'
-- decisions on them, the licences, permits and certificates issued with what is left of them, what declarations
-- drew from them, and the outbox of events agencies receive.
CREATE TABLE agencies (
    code TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE lpco_types (
    code TEXT PRIMARY KEY,
    agency TEXT NOT NULL REFERENCES agencies (code),
    body TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE lpco_applications (
    id TEXT PRIMARY KEY,
    agency TEXT NOT NULL REFERENCES agencies (code),
    code TEXT NOT NULL REFERENCES lpco_types (code),
    applicant TEXT NOT NULL,
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    filed_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX lpco_applications_agency ON lpco_applications (agency, status, filed_at);
CREATE INDEX lpco_applications_applicant ON lpco_applications (applicant, filed_at);
CREATE TABLE licences (
    code TEXT NOT NULL REFERENCES lpco_types (code),
    reference TEXT NOT NULL,
    agency TEXT NOT NULL REFERENCES agencies (code),
    holder TEXT NOT NULL,
    application_id TEXT REFERENCES lpco_applications (id),
    body TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (code, reference)
);
CREATE INDEX licences_holder ON licences (holder);
CREATE TABLE licence_draws (
    seq BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL,
    reference TEXT NOT NULL,
    declaration_id TEXT NOT NULL REFERENCES declarations (id),
    item BIGINT NOT NULL,
    quantity TEXT,
    drawn_at TEXT NOT NULL,
    returned_at TEXT,
    FOREIGN KEY (code, reference) REFERENCES licences (code, reference)
);
CREATE INDEX licence_draws_declaration ON licence_draws (declaration_id);
CREATE INDEX licence_draws_licence ON licence_draws (code, reference);
-- Events for agencies, written in the transaction of the change. `id` is the message id (a broker drops a
-- repeat); `position` is given by the sequencer in the order rows became visible, so that a reader going
-- `after=` a position never skips a row committed late.
CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    position BIGINT UNIQUE,
    topic TEXT NOT NULL,
    agency TEXT,
    party TEXT,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX outbox_unpositioned ON outbox (id) WHERE position IS NULL;
CREATE INDEX outbox_agency ON outbox (agency, position);
CREATE TABLE outbox_cursors (
    name TEXT PRIMARY KEY,
    position BIGINT NOT NULL
);
-- The agencies a declaration's release waits for (from its agency_awaited and agency_decided events): an agency's
-- queue, and its intervals in the Time Release Study (held → decided → released).
CREATE TABLE agency_holds (
    declaration_id TEXT NOT NULL REFERENCES declarations (id),
    agency TEXT NOT NULL,
    reason TEXT NOT NULL,
    standing TEXT NOT NULL,
    held_at TEXT NOT NULL,
    decided_at TEXT,
    PRIMARY KEY (declaration_id, agency)
);
CREATE INDEX agency_holds_agency ON agency_holds (agency, standing, held_at);
-- Dematerialised documents (certificates, invoices, photos) stored once by SHA-256, checked against it on every
-- read; who uploaded each (a party may read what it uploaded, and an agency what an application to it cites).
CREATE TABLE documents (
    sha256 TEXT PRIMARY KEY,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    content BYTEA NOT NULL,
    uploaded_at TEXT NOT NULL
);
CREATE TABLE document_owners (
    sha256 TEXT NOT NULL REFERENCES documents (sha256),
    party TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    PRIMARY KEY (sha256, party)
);
CREATE TABLE application_documents (
    application_id TEXT NOT NULL REFERENCES lpco_applications (id),
    sha256 TEXT NOT NULL REFERENCES documents (sha256),
    PRIMARY KEY (application_id, sha256)
);
-- The key each agency's webhooks are signed with (HMAC-SHA256); written by the administration, never served.
CREATE TABLE agency_secrets (
    agency TEXT PRIMARY KEY REFERENCES agencies (code),
    secret TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
