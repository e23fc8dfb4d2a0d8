-- Four changes that let the GIN index answer a search without reading
-- documents one by one.
--
-- 1. Word pairs. Every two words that stand next to each other in a
--    paper become one word of the document: 'xqp' and a hash of the two
--    lexemes and the distance between their positions (more than one
--    where a stop word stood between them). A two-word phrase is then one
--    indexed word, found without unpacking a single document; longer
--    phrases are their pairs, checked against the document's positions.
--    quire_phrase_query() makes the tsquery for a phrase the same way.
CREATE FUNCTION quire_word_pairs(doc tsvector) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT 'xqp' || left(md5(l1 || ' ' || (p2 - p1) || ' ' || l2), 16)), '{}')
    FROM (
        SELECT lexeme AS l1, pos AS p1,
               lead(lexeme) OVER (ORDER BY pos, lexeme) AS l2,
               lead(pos) OVER (ORDER BY pos, lexeme) AS p2
        FROM unnest(doc) AS u(lexeme, positions, weights), unnest(positions) AS pos
    ) pairs
    WHERE l2 IS NOT NULL
$$;

CREATE FUNCTION quire_phrase_query(phrase text) RETURNS tsquery
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        -- One word left after stop words: that word.
        WHEN cardinality(pairs) = 0 THEN phraseto_tsquery('english', phrase)
        WHEN cardinality(pairs) = 1 THEN CAST('''' || pairs[1] || '''' AS tsquery)
        ELSE CAST(array_to_string(ARRAY(SELECT '''' || p || '''' FROM unnest(pairs) p), ' & ') AS tsquery)
            && phraseto_tsquery('english', phrase)
    END
    FROM (SELECT quire_word_pairs(to_tsvector('english', phrase)) AS pairs) p
$$;

-- 2. Recency words at three scales: besides 'xqr' (the paper id divided
--    by 1,024), 'xqrb' (by 8,192) and 'xqrc' (by 65,536), so that any
--    stretch of ids is a handful of words and a search can ask whether a
--    stretch holds a match at all before reading it.
--
-- 3. Who may read the paper: the time it is listed from (its publication
--    time while published or scheduled, else none), so that a search
--    checks it in the rows it reads anyway.
ALTER TABLE paper_search ADD COLUMN listed_from TIMESTAMPTZ;

DROP INDEX paper_search_document;
UPDATE paper_search s
SET listed_from = CASE WHEN p.status IN ('published', 'scheduled') THEN p.published_at END,
    document = s.document || array_to_tsvector(
        quire_word_pairs(s.document)
        || ARRAY['xqrb' || (s.paper_id / 8192), 'xqrc' || (s.paper_id / 65536)]
    )
FROM papers p
WHERE p.id = s.paper_id;
-- Rows in id order again. The index intersects a query's words with the
-- recency words in the order rows lie in the table: where that is id
-- order, the papers of a recency word lie together and the index skips
-- over all others; the rewrite above scattered them through the space
-- that the previous one freed. A tenth of every page stays free so that
-- an edited entry stays on its page.
ALTER TABLE paper_search SET (fillfactor = 90);
CLUSTER paper_search USING paper_search_pkey;
-- Built once, compact, after the rewrite; entries go straight into it
-- afterwards (see 0003).
CREATE INDEX paper_search_document ON paper_search USING GIN (document) WITH (fastupdate = off);

-- 4. Where each filter's papers end: a search filtered by topic, author
--    or year starts at the newest paper that has it instead of looking
--    for it through every newer paper. These answer that at once.
CREATE INDEX papers_by_year ON papers ((extract(year FROM published_at AT TIME ZONE 'UTC')::int), id);
CREATE INDEX paper_topics_by_topic_paper ON paper_topics (topic_id, paper_id);
DROP INDEX paper_topics_by_topic;
CREATE INDEX paper_authors_by_author_paper ON paper_authors (author_id, paper_id);
DROP INDEX paper_authors_by_author;
