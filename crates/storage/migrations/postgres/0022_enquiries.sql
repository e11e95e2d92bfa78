-- The enquiry point (TFA Art. 1.3): questions from anyone, answered by officers. The reference is shown to the
-- person who asked; the code that reads the answer is derived from the id and stored nowhere.
CREATE TABLE enquiries (
    id TEXT PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    subject TEXT NOT NULL,
    text TEXT NOT NULL,
    asked_at TEXT NOT NULL,
    answer TEXT,
    answered_at TEXT,
    answered_by TEXT
);
CREATE INDEX enquiries_open ON enquiries (answered_at, asked_at);
