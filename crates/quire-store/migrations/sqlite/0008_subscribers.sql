-- Newsletter subscribers. A row is a subscription only once confirmed
-- (double opt-in) or imported with declared consent.
CREATE TABLE subscribers (
    id              INTEGER PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed', 'bounced')),
    consent         TEXT NOT NULL CHECK (consent IN ('form', 'imported-with-consent', 'imported')),
    bounces         INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    confirmed_at    TEXT,
    unsubscribed_at TEXT
);
-- A subscriber with no topics here receives everything.
CREATE TABLE subscriber_topics (
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    topic_id      INTEGER NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    PRIMARY KEY (subscriber_id, topic_id)
);
CREATE INDEX subscriber_topics_by_topic ON subscriber_topics (topic_id);
