-- Bodies move to their own table, so that lists, filters and search
-- joins read narrow rows. Translations name their original by slug.
-- Full-text search covers the plain text of every paper and its filter
-- values as facet words, written by Quire in the same transaction as
-- the paper. Title weighs most (A), then summary (B), then body (D).
CREATE TABLE paper_bodies (
    paper_id BIGINT PRIMARY KEY REFERENCES papers (id) ON DELETE CASCADE,
    body     TEXT NOT NULL
);
INSERT INTO paper_bodies (paper_id, body) SELECT id, body FROM papers;
ALTER TABLE papers DROP COLUMN body;

ALTER TABLE papers ADD COLUMN translation_of TEXT;
CREATE INDEX papers_by_translation ON papers (translation_of);

CREATE TABLE paper_search (
    paper_id  BIGINT PRIMARY KEY REFERENCES papers (id) ON DELETE CASCADE,
    body_text TEXT NOT NULL,
    -- Title and summary: small, so ranking by it stays cheap.
    head      TSVECTOR NOT NULL,
    document  TSVECTOR NOT NULL
);
CREATE INDEX paper_search_document ON paper_search USING GIN (document);

-- The share of papers the planner expects a search to match, from the
-- GIN index statistics: search reads few matches through the index and
-- many by scanning papers newest first (see store/search.rs).
CREATE FUNCTION quire_match_share(q tsquery) RETURNS float8 LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    matching json;
    everything json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) SELECT 1 FROM paper_search WHERE document @@ $1' INTO matching USING q;
    EXECUTE 'EXPLAIN (FORMAT JSON) SELECT 1 FROM paper_search' INTO everything;
    RETURN (matching->0->'Plan'->>'Plan Rows')::float8
         / GREATEST((everything->0->'Plan'->>'Plan Rows')::float8, 1);
END
$$;
