-- The people who run the site. `email` is kept in lower case; a NULL
-- `password_hash` (argon2id, PHC string) has not been set yet.
-- `failed_logins` and `last_failed_at` slow guessing on every server that
-- shares the database. `totp_secret` (base32) is the second step of
-- signing in, when the account turned it on; `totp_last_step` is the last
-- time step a code was taken for, so that each code works once.
CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('administrator', 'editor', 'author', 'contributor')),
    author_id      INTEGER REFERENCES authors (id) ON DELETE SET NULL,
    password_hash  TEXT,
    totp_secret    TEXT,
    totp_last_step INTEGER NOT NULL DEFAULT 0,
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    last_failed_at TEXT,
    disabled_at    TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
-- Signed-in browsers, by a digest of the cookie's secret (the secret
-- itself is never stored). `role` is the account's role when the session
-- was issued: a session of another role is replaced on its next request.
CREATE TABLE sessions (
    digest     TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    address    TEXT NOT NULL DEFAULT '',
    agent      TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    seen_at    TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
-- Set-password links (first password, invitation, reset), by a digest of
-- the link: each works once, until it expires.
CREATE TABLE account_links (
    digest     TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('welcome', 'invite', 'reset')),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX account_links_by_user ON account_links (user_id);
-- Single-use codes that stand in for the second step when the phone is
-- lost, by a digest of the code.
CREATE TABLE recovery_codes (
    digest  TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    used_at TEXT
);
CREATE INDEX recovery_codes_by_user ON recovery_codes (user_id);
-- Who did what and when. `actor` is the account's name and address at
-- the time (or "command line"), kept when the account is gone.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    detail  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_by_time ON audit_log (at);
