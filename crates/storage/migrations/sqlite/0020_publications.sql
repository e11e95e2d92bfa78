-- What the administration publishes (TFA Art. 1 and 2): procedures, forms, fees and charges, and rules — a draft
-- open for comment until a date, then its final text. Written by administrators (audited), read by anyone.
CREATE TABLE publications (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    comments_until TEXT,
    final_text TEXT,
    finalised_at TEXT,
    published_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX publications_by_kind ON publications (kind, published_at);
-- Comments on a draft rule, sent by anyone while it is open for comment; never edited.
CREATE TABLE publication_comments (
    id TEXT PRIMARY KEY,
    publication_id TEXT NOT NULL REFERENCES publications (id),
    name TEXT NOT NULL,
    organisation TEXT NOT NULL,
    text TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX publication_comments_by_publication ON publication_comments (publication_id, at);
