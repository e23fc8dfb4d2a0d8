-- Papers, authors and topics, and the counter that tells every running
-- server that content changed.
CREATE TABLE authors (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    affiliation TEXT,
    bio         TEXT NOT NULL DEFAULT '',
    links       TEXT NOT NULL DEFAULT '[]',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE topics (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE papers (
    id            INTEGER PRIMARY KEY,
    slug          TEXT NOT NULL UNIQUE,
    title         TEXT NOT NULL,
    subtitle      TEXT,
    kind          TEXT NOT NULL,
    summary       TEXT NOT NULL,
    body          TEXT NOT NULL,
    language      TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'published', 'archived')),
    published_at  TEXT,
    canonical_url TEXT,
    word_count    INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX papers_by_status_date ON papers (status, published_at);
CREATE INDEX papers_by_kind_date ON papers (kind, published_at);
CREATE INDEX papers_by_date ON papers (published_at, id);

CREATE TABLE paper_authors (
    paper_id  INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    author_id INTEGER NOT NULL REFERENCES authors (id),
    position  INTEGER NOT NULL,
    PRIMARY KEY (paper_id, author_id)
);
CREATE INDEX paper_authors_by_author ON paper_authors (author_id);

CREATE TABLE paper_topics (
    paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    topic_id INTEGER NOT NULL REFERENCES topics (id),
    position INTEGER NOT NULL,
    PRIMARY KEY (paper_id, topic_id)
);
CREATE INDEX paper_topics_by_topic ON paper_topics (topic_id);

CREATE TABLE content_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO content_version (id, version) VALUES (1, 0);
