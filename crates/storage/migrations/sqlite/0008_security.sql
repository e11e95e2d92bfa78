-- Security (issue #7): the hash-chained audit trail, API tokens apart from users (scoped, expiring, revocable,
-- stored hashed), portal passwords (argon2) and sessions, and the representations traders hold for principals.

-- The audit trail: numbered from 1 without gaps (seq is given by the chain, not by the database), each entry
-- carrying the hash of the one before. Append-only: the triggers refuse any change; `aduana audit verify` detects
-- one made by someone who removed them.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    data_hash TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_subject ON audit_log (subject);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;

-- Tokens: a user may hold several, each with scopes ('*' = everything the role allows), an optional expiry, and a
-- revocation time. Only the SHA-256 of a token is stored.
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
-- The token each existing user had becomes its first token: all scopes, no expiry.
INSERT INTO api_tokens (id, user_id, name, token_hash, scopes, created_at)
    SELECT id, id, 'initial', token_hash, '*', created_at FROM users;

-- Users lose their token column and gain a portal login and password (argon2id PHC string) and a disabled time.
CREATE TABLE users_new (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    party TEXT,
    login TEXT,
    password_hash TEXT,
    disabled_at TEXT,
    created_at TEXT NOT NULL
);
INSERT INTO users_new (id, name, role, party, created_at) SELECT id, name, role, party, created_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE UNIQUE INDEX users_login ON users (login);

-- Portal sessions: only the SHA-256 of the session id is stored; the CSRF token is per session.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ended_at TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- A representative (a broker's party) may lodge for a principal (the declarant) only while registered here.
CREATE TABLE representations (
    representative TEXT NOT NULL,
    principal TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    revoked_at TEXT,
    PRIMARY KEY (representative, principal)
);
