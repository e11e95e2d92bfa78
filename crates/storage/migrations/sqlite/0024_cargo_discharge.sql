-- The cargo each declaration covers, read from it at lodgement (`manifest::discharge::DeclaredCargo` as JSON):
-- the references that can name a consignment (UCR, previous documents), containers, packages and gross mass;
-- kept as lodged. `declaration_cargo_keys` looks declarations up by each reference and container.
CREATE TABLE declaration_cargo (
    declaration_id TEXT PRIMARY KEY,
    cargo TEXT NOT NULL
);
CREATE TABLE declaration_cargo_keys (
    cargo_key TEXT NOT NULL,
    declaration_id TEXT NOT NULL,
    PRIMARY KEY (cargo_key, declaration_id)
);
-- The arrival of a cargo report's means of transport (one notification for the voyage or flight): its goods
-- were presented then and entered temporary storage until the deadline. One per report; an audit entry each.
CREATE TABLE cargo_arrivals (
    cargo_report_id TEXT PRIMARY KEY,
    arrived_at TEXT NOT NULL,
    storage_deadline TEXT NOT NULL,
    place TEXT,
    notified_by TEXT NOT NULL,
    notified_by_role TEXT NOT NULL
);
CREATE INDEX cargo_arrivals_at ON cargo_arrivals (arrived_at);
CREATE TRIGGER declaration_cargo_no_update BEFORE UPDATE ON declaration_cargo
BEGIN
    SELECT RAISE(ABORT, 'the cargo of a declaration is kept as lodged');
END;
CREATE TRIGGER cargo_arrivals_no_update BEFORE UPDATE ON cargo_arrivals
BEGIN
    SELECT RAISE(ABORT, 'an arrival is recorded once');
END;
CREATE TRIGGER cargo_arrivals_no_delete BEFORE DELETE ON cargo_arrivals
BEGIN
    SELECT RAISE(ABORT, 'an arrival is recorded once');
END;
