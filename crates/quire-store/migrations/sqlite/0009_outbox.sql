-- Newsletter campaigns and the mail outbox. Every message to every
-- recipient is a row here before it is sent; workers claim rows for a
-- while (lease_until), send them, and record what happened.
CREATE TABLE campaigns (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('paper', 'digest')),
    paper_id      INTEGER REFERENCES papers (id) ON DELETE SET NULL,
    topic_id      INTEGER REFERENCES topics (id) ON DELETE SET NULL,
    subject       TEXT NOT NULL,
    html          TEXT NOT NULL,
    text          TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('scheduled', 'sending', 'paused', 'sent')),
    send_at       TEXT NOT NULL,
    digest_until  TEXT,
    -- Recipients: subscribers of these topics (ids, comma-separated) and
    -- those who take everything; empty: every confirmed subscriber.
    recipient_topics TEXT NOT NULL DEFAULT '',
    recipients    INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    finished_at   TEXT
);
CREATE INDEX campaigns_due ON campaigns (status, send_at);
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    campaign_id      INTEGER REFERENCES campaigns (id) ON DELETE CASCADE,
    subscriber_id    INTEGER REFERENCES subscribers (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL CHECK (kind IN ('campaign', 'confirm', 'notice', 'test')),
    recipient        TEXT NOT NULL,
    recipient_name   TEXT NOT NULL DEFAULT '',
    subject          TEXT,
    html             TEXT,
    text             TEXT,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'skipped')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    lease_until      TEXT,
    last_error       TEXT,
    sent_at          TEXT,
    created_at       TEXT NOT NULL,
    UNIQUE (campaign_id, subscriber_id)
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'queued';
CREATE INDEX outbox_by_campaign ON outbox (campaign_id, status);
