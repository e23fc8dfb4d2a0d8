-- Bodies move to their own table, so that lists, filters and search
-- joins read narrow rows. Translations name their original by slug.
-- Full-text search covers the plain text of every paper (FTS5, rowid = papers.id)
-- and its filter values as facet words, written by Quire in
-- the same transaction as the paper.
CREATE TABLE paper_bodies (
    paper_id INTEGER PRIMARY KEY REFERENCES papers (id) ON DELETE CASCADE,
    body     TEXT NOT NULL
);
INSERT INTO paper_bodies (paper_id, body) SELECT id, body FROM papers;
ALTER TABLE papers DROP COLUMN body;

ALTER TABLE papers ADD COLUMN translation_of TEXT;
CREATE INDEX papers_by_translation ON papers (translation_of);

CREATE VIRTUAL TABLE papers_fts USING fts5 (
    title,
    summary,
    body,
    facets,
    tokenize = 'porter unicode61 remove_diacritics 2'
);

CREATE TRIGGER papers_fts_delete AFTER DELETE ON papers BEGIN
    DELETE FROM papers_fts WHERE rowid = old.id;
END;
