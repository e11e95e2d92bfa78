-- Reports published from the whole history (the Time Release Study's release times, the rules' hit rates): each
-- computed at most every few minutes by any server and kept here, so that a page reads one row however many
-- declarations the report covers, and every server shows the same figures.
CREATE TABLE published_reports (
    name TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    computed_at TEXT NOT NULL
);
