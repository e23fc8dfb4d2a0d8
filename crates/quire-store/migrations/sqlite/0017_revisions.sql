-- Every save of a paper is a revision: the paper file as saved (front
-- matter and body), numbered from 1 per paper, with who saved it
-- (`user_id`, or none for the command line) and when. `papers.revision`
-- is the number of the latest, which an editor's form carries back so
-- that a save over someone else's is refused instead of lost.
-- `papers.submitted_at` marks a draft submitted for review.
CREATE TABLE paper_revisions (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    number   INTEGER NOT NULL,
    saved_at TEXT NOT NULL,
    user_id  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    source   TEXT NOT NULL,
    UNIQUE (paper_id, number)
);
ALTER TABLE papers ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE papers ADD COLUMN submitted_at TEXT;
