-- Readers' comments. The email and IP address stay on the server: they
-- are for moderation and data requests only.
ALTER TABLE papers ADD COLUMN comments TEXT NOT NULL DEFAULT 'open'
    CHECK (comments IN ('open', 'closed', 'hidden'));

CREATE TABLE comments (
    id              INTEGER PRIMARY KEY,
    paper_id        INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    parent_id       INTEGER REFERENCES comments (id) ON DELETE SET NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'spam', 'trash')),
    -- Where a comment sent to spam or trash returns when restored.
    previous_status TEXT NOT NULL DEFAULT 'pending'
        CHECK (previous_status IN ('pending', 'approved', 'spam', 'trash')),
    name            TEXT NOT NULL,
    email           TEXT NOT NULL,
    url             TEXT,
    body            TEXT NOT NULL,
    ip              TEXT,
    ip_truncated    INTEGER NOT NULL DEFAULT 0,
    user_agent      TEXT NOT NULL DEFAULT '',
    notify_replies  INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL
);
CREATE INDEX comments_by_paper ON comments (paper_id, status, id);
CREATE INDEX comments_by_email ON comments (email, status);
CREATE INDEX comments_by_status ON comments (status, created_at);
