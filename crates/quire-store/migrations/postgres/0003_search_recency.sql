-- Search ranks the newest matches of a query. A recency word in every
-- search document ('xqr' and the paper id divided by 1,024) lets the GIN
-- index itself pick the matches among the newest papers, so that a
-- common word costs the same on 1,000 papers as on 1,000,000.
--
-- The title and summary, which rank every result, stay in the row; the
-- document and text stay out of it (TOAST), so rows are narrow and the
-- index's matches are read many to a page. The document is compressed
-- with lz4 where the server has it: checking a phrase unpacks it.
ALTER TABLE paper_search ALTER COLUMN head SET STORAGE MAIN;
DO $$
BEGIN
    ALTER TABLE paper_search ALTER COLUMN document SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    -- A server built without lz4 keeps its default compression.
    NULL;
END
$$;
-- Rewriting both values moves the title into the row.
UPDATE paper_search SET document = document || array_to_tsvector(ARRAY['xqr' || (paper_id / 1024)]),
    head = head || ''::tsvector;

-- New entries go straight into the index rather than into a pending list
-- that every search would read through until the next vacuum: papers are
-- written rarely and searched often.
ALTER INDEX paper_search_document SET (fastupdate = off);
-- Rebuilt once, compact: the rewrite above inserted every entry one by
-- one, in no order, which leaves posting lists fragmented and slow to read.
REINDEX INDEX paper_search_document;

-- Searches no longer choose their plan from an estimate.
DROP FUNCTION quire_match_share(tsquery);
