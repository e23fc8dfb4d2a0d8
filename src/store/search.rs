//! Full-text search over papers: SQLite FTS5 or PostgreSQL text search,
//! the same query language and the same results on both.
//!
//! A reader's query is never handed to the search engine as written: it is
//! parsed into words and "quoted phrases" made only of letters and digits,
//! and the engine's own syntax is built from those. No input can reach FTS
//! operators, so no input can make the query fail.

use super::{Arg, Db, PAPER_COLUMNS, PaperQuery, PaperRow, Store, StoreError, paper_condition, placeholders};
use crate::domain::PaperMeta;
use serde::Serialize;
use sqlx::AssertSqlSafe;
use std::collections::HashMap;

/// Characters of a query that are read; the rest is dropped (and the
/// reader told).
pub const MAX_QUERY_CHARS: usize = 256;
/// Words and phrases a query may hold.
const MAX_TERMS: usize = 12;
/// Letters kept of one word.
const MAX_WORD_CHARS: usize = 64;
/// One part of a query.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Term {
    Word(String),
    Phrase(Vec<String>),
}

/// A reader's query, parsed into words and phrases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchTerms {
    terms: Vec<Term>,
    /// Part of the query was dropped for being too long.
    pub shortened: bool,
}

impl SearchTerms {
    /// Reads words (runs of letters and digits) and `"quoted phrases"`;
    /// every other character only separates words.
    pub fn parse(query: &str) -> SearchTerms {
        let mut shortened = query.chars().count() > MAX_QUERY_CHARS;
        let mut terms = Vec::new();
        let mut phrase: Option<Vec<String>> = None;
        let mut word = String::new();
        let mut word_chars = 0;
        let push_word = |word: &mut String, phrase: &mut Option<Vec<String>>, terms: &mut Vec<Term>| {
            if word.is_empty() {
                return;
            }
            let w = std::mem::take(word);
            match phrase {
                Some(p) => p.push(w),
                None => terms.push(Term::Word(w)),
            }
        };
        for c in query.chars().take(MAX_QUERY_CHARS) {
            if c.is_alphanumeric() {
                if word_chars < MAX_WORD_CHARS {
                    word.extend(c.to_lowercase());
                }
                word_chars += 1;
                continue;
            }
            push_word(&mut word, &mut phrase, &mut terms);
            word_chars = 0;
            if c == '"' {
                match phrase.take() {
                    Some(words) => terms.push(phrase_term(words)),
                    None => phrase = Some(Vec::new()),
                }
            }
        }
        push_word(&mut word, &mut phrase, &mut terms);
        if let Some(words) = phrase {
            terms.push(phrase_term(words));
        }
        terms.retain(|t| !matches!(t, Term::Phrase(w) if w.is_empty()));
        if terms.len() > MAX_TERMS {
            terms.truncate(MAX_TERMS);
            shortened = true;
        }
        SearchTerms { terms, shortened }
    }

    /// Nothing to search for.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The query in FTS5 syntax: every word and phrase quoted, all required.
    fn fts5(&self) -> String {
        self.terms
            .iter()
            .map(|t| match t {
                Term::Word(w) => format!("\"{w}\""),
                Term::Phrase(ws) => format!("\"{}\"", ws.join(" ")),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The query in `to_tsquery` syntax: quoted lexemes, `<->` inside
    /// phrases, `&` between terms.
    fn tsquery(&self) -> String {
        self.terms
            .iter()
            .map(|t| match t {
                Term::Word(w) => format!("'{w}'"),
                Term::Phrase(ws) => format!(
                    "({})",
                    ws.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" <-> ")
                ),
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }
}

/// A phrase of one word is just that word.
fn phrase_term(mut words: Vec<String>) -> Term {
    if words.len() == 1 {
        Term::Word(words.remove(0))
    } else {
        Term::Phrase(words)
    }
}

/// What to search for, and in which papers.
#[derive(Clone, Debug)]
pub struct SearchQuery {
    pub terms: SearchTerms,
    /// Visibility, kind, author, topic and year filters; limit and offset
    /// page the results.
    pub filter: PaperQuery,
}

/// A stretch of snippet text, matched or not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SnippetPart {
    pub text: String,
    pub hit: bool,
}

/// One result: the paper and where it matched.
#[derive(Clone, Debug)]
pub struct SearchHit {
    pub paper: PaperMeta,
    pub snippet: Vec<SnippetPart>,
}

/// One page of results, best first, and how many there are in all.
#[derive(Clone, Debug)]
pub struct SearchPage {
    /// Matches that can be paged through: all of them, or the
    /// [`RANK_POOL`] most recently added when there are more.
    pub total: u64,
    /// False when more papers match than were ranked.
    pub total_is_exact: bool,
    pub hits: Vec<SearchHit>,
}

/// Papers per recency word ('xqr' and the paper id divided by this) in a
/// PostgreSQL search document. The same number is in the index statement
/// and in migration 0003.
const RECENCY_BUCKET: i64 = 1024;

/// Recency words a PostgreSQL search window may name before the search
/// reads all older papers at once.
const MAX_WINDOW: i64 = 8;

/// Most matches ranked for one query: all matches when there are at most
/// this many, else the most recently added this many.
pub const RANK_POOL: u64 = 1000;

/// Words a snippet shows.
const SNIPPET_WORDS: usize = 32;

/// What a query word matches in text, roughly as the engines' stemmers do:
/// the word without a plural or verb ending, as a prefix.
fn stem(word: &str) -> String {
    let w = word.to_lowercase();
    for suffix in ["ing", "es", "ed", "s"] {
        if let Some(base) = w.strip_suffix(suffix)
            && base.chars().count() >= 3
        {
            return base.to_owned();
        }
    }
    w
}

/// The stretch of `text` where the query's words are densest, with those
/// words marked. Made here rather than by the search engine: the same on
/// both back ends, and without tokenising whole papers again.
pub fn make_snippet(text: &str, terms: &SearchTerms) -> Vec<SnippetPart> {
    let stems: Vec<String> = terms
        .terms
        .iter()
        .flat_map(|t| match t {
            Term::Word(w) => vec![stem(w)],
            Term::Phrase(ws) => ws.iter().map(|w| stem(w)).collect(),
        })
        .collect();
    // Word spans (byte ranges) and which stem each matches.
    let mut words: Vec<(usize, usize, Option<usize>)> = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let word = text[s..i].to_lowercase();
                let hit = stems
                    .iter()
                    .position(|st| word.starts_with(st.as_str()) && word.len() <= st.len() + 4);
                words.push((s, i, hit));
                start = None;
            }
            _ => {}
        }
    }
    if words.is_empty() {
        return Vec::new();
    }
    // The window with the most different query words, then the most hits.
    let window = SNIPPET_WORDS.min(words.len());
    let score = |from: usize| {
        let mut seen = vec![false; stems.len()];
        let mut hits = 0;
        for w in &words[from..from + window] {
            if let Some(k) = w.2 {
                seen[k] = true;
                hits += 1;
            }
        }
        (seen.iter().filter(|s| **s).count(), hits)
    };
    let mut best = 0;
    let mut best_score = score(0);
    // Only windows that start at a matched word (or the start) are worth it.
    for (i, w) in words.iter().enumerate().take(words.len() - window + 1) {
        if w.2.is_some() {
            let from = i.saturating_sub(4).min(words.len() - window);
            let sc = score(from);
            if sc > best_score {
                best = from;
                best_score = sc;
            }
        }
    }
    let span = &words[best..best + window];
    let mut parts: Vec<SnippetPart> = Vec::new();
    let push = |text: &str, hit: bool, parts: &mut Vec<SnippetPart>| {
        let clean: String = text
            .chars()
            .map(|c| if c.is_whitespace() { ' ' } else { c })
            .filter(|c| !c.is_control())
            .collect();
        match parts.last_mut() {
            Some(last) if last.hit == hit => last.text.push_str(&clean),
            _ => parts.push(SnippetPart { text: clean, hit }),
        }
    };
    if best > 0 {
        push("…", false, &mut parts);
    }
    let mut at = span[0].0;
    for &(s, e, hit) in span {
        push(&text[at..s], false, &mut parts);
        push(&text[s..e], hit.is_some(), &mut parts);
        at = e;
    }
    if best + window < words.len() {
        push("…", false, &mut parts);
    }
    parts
}

/// The statement that writes a paper's search entry, bound to (id, title,
/// summary, plain text, facet words separated by spaces). Run in the
/// paper's transaction.
pub(super) fn index_statement(is_postgres: bool) -> &'static str {
    if is_postgres {
        "INSERT INTO paper_search (paper_id, body_text, head, document) \
           SELECT $1, $4, head, head || setweight(to_tsvector('english', $4), 'D') \
             || array_to_tsvector(string_to_array($5, ' ') || ('xqr' || ($1 / 1024))) \
           FROM (SELECT setweight(to_tsvector('english', $2), 'A') || setweight(to_tsvector('english', $3), 'B') AS head) h \
           ON CONFLICT (paper_id) DO UPDATE SET body_text = EXCLUDED.body_text, head = EXCLUDED.head, \
           document = EXCLUDED.document"
    } else {
        "INSERT OR REPLACE INTO papers_fts (rowid, title, summary, body, facets) VALUES ($1, $2, $3, $4, $5)"
    }
}

/// Filters become words in the search index ("facets"), so the search
/// engine intersects them with the query's words in its own index instead
/// of checking papers one by one. Made of letters and digits only, with a
/// prefix no language uses.
pub(super) mod facet {
    pub fn kind(kind: &str) -> String {
        format!("xqk{}", crate::domain::slugify(kind).replace('-', ""))
    }
    pub fn topic(id: i64) -> String {
        format!("xqt{id}")
    }
    pub fn author(id: i64) -> String {
        format!("xqa{id}")
    }
    pub fn year(year: i32) -> String {
        format!("xqy{year}")
    }
}

/// What a paper's search entry is made from.
#[derive(sqlx::FromRow)]
pub(super) struct IndexSource {
    title: String,
    subtitle: Option<String>,
    summary: String,
    kind: String,
    published_at: Option<time::OffsetDateTime>,
    body: String,
}

/// A paper's search entry: (title, summary, plain text, facet words).
pub(super) fn index_entry(src: &IndexSource, topics: &[i64], authors: &[i64]) -> (String, String, String, String) {
    let title = crate::domain::full_title(&src.title, src.subtitle.as_deref());
    let mut facets = vec![facet::kind(&src.kind)];
    if let Some(t) = src.published_at {
        facets.push(facet::year(t.year()));
    }
    facets.extend(topics.iter().map(|id| facet::topic(*id)));
    facets.extend(authors.iter().map(|id| facet::author(*id)));
    (
        title,
        src.summary.clone(),
        crate::markdown::to_plain_text(&src.body),
        facets.join(" "),
    )
}

#[derive(sqlx::FromRow)]
struct RankedId {
    id: i64,
    /// Matches in the pool (at most one more than RANK_POOL).
    total: i64,
}

#[derive(sqlx::FromRow)]
struct SnippetRow {
    id: i64,
    snippet: String,
}

/// PostgreSQL: the newest papers matching `tsquery` (a query in tsquery
/// syntax) and `condition` (over `args`), newest first, at most one more
/// than RANK_POOL.
///
/// Matches are read through the GIN index only, window by window of
/// recency words, newest first, each window as wide as the matches found
/// so far say is needed: a common word fills the pool from the newest
/// thousand papers, a rare one is found in a few windows. Which of those
/// papers readers may see is then checked by id. No plan reads papers one
/// by one to test their documents, which is what made searches slow.
async fn pg_newest_matches(
    pool: &sqlx::PgPool,
    tsquery: &str,
    condition: &str,
    args: &[Arg],
) -> Result<Vec<i64>, StoreError> {
    let mut tx = pool.begin().await?;
    // The index must be the planner's only way to the matches: scanning
    // the table would test every document ("+ 0" below likewise keeps the
    // id index from offering matches in order).
    sqlx::query("SET LOCAL enable_seqscan = off").execute(&mut *tx).await?;
    let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(paper_id) FROM paper_search")
        .fetch_one(&mut *tx)
        .await?;
    let Some(newest) = newest else {
        return Ok(Vec::new());
    };
    let visible_sql = format!(
        "SELECT p.id FROM papers p WHERE p.id = ANY(${}) AND {condition} ORDER BY p.id DESC",
        args.len() + 1
    );
    let mut found: Vec<i64> = Vec::new();
    // Papers below this id are still to be searched.
    let mut below = newest + 1;
    let mut hi = newest / RECENCY_BUCKET;
    let mut span = 1;
    loop {
        let want = RANK_POOL as usize + 1 - found.len();
        let lo = hi - span + 1;
        let last = lo <= 0 || span > MAX_WINDOW;
        let candidates: Vec<i64> = if last {
            let sql = format!(
                "SELECT paper_id FROM paper_search WHERE document @@ CAST($1 AS tsquery) AND paper_id < $2 \
                 ORDER BY paper_id + 0 DESC LIMIT {want}"
            );
            sqlx::query_scalar(AssertSqlSafe(sql))
                .bind(tsquery)
                .bind(below)
                .fetch_all(&mut *tx)
                .await?
        } else {
            let words: Vec<String> = (lo..=hi).map(|b| format!("'xqr{b}'")).collect();
            let sql = format!(
                "SELECT paper_id FROM paper_search \
                 WHERE document @@ (CAST($1 AS tsquery) && CAST($2 AS tsquery)) AND paper_id < $3 \
                 ORDER BY paper_id + 0 DESC LIMIT {want}"
            );
            sqlx::query_scalar(AssertSqlSafe(sql))
                .bind(tsquery)
                .bind(words.join(" | "))
                .bind(below)
                .fetch_all(&mut *tx)
                .await?
        };
        let full = candidates.len() == want;
        if let Some(lowest) = candidates.last() {
            below = *lowest;
            let visible: Vec<i64> = bind_all!(sqlx::query_scalar(AssertSqlSafe(visible_sql.clone())), args)
                .bind(&candidates)
                .fetch_all(&mut *tx)
                .await?;
            found.extend(visible);
        }
        if found.len() > RANK_POOL as usize || (last && !full) {
            tx.commit().await?;
            return Ok(found);
        }
        if full {
            // Hidden papers took places in this window: read on in it.
            continue;
        }
        below = lo * RECENCY_BUCKET;
        // The next window is as wide as the matches found so far say it
        // must be to fill the pool, with a tenth to spare; eight times the
        // last when nothing matched yet.
        let searched = (newest - lo * RECENCY_BUCKET + 1) as f64;
        let density = found.len() as f64 / searched;
        let missing = (RANK_POOL as usize + 1 - found.len()) as f64;
        span = if density > 0.0 {
            ((missing / density * 1.1) / RECENCY_BUCKET as f64).ceil() as i64
        } else {
            span * 8
        }
        .max(1);
        hi = lo - 1;
    }
}

impl Store {
    /// Papers matching `q`, best match first, with highlighted snippets.
    pub async fn search(&self, q: &SearchQuery) -> Result<SearchPage, StoreError> {
        if q.terms.is_empty() {
            return Ok(SearchPage {
                total: 0,
                total_is_exact: true,
                hits: Vec::new(),
            });
        }
        let is_postgres = matches!(self.db, Db::Postgres(_));
        // Filters by kind, topic, author and year are facet words.
        let mut facets = Vec::new();
        if let Some(kind) = &q.filter.kind {
            facets.push(facet::kind(kind));
        }
        for (slug, table, make) in [
            (&q.filter.topic, "topics", facet::topic as fn(i64) -> String),
            (&q.filter.author, "authors", facet::author),
        ] {
            let Some(slug) = slug else { continue };
            let sql = format!("SELECT id FROM {table} WHERE slug = $1");
            let id: Option<i64> = with_pool!(self, pool => {
                sqlx::query_scalar(AssertSqlSafe(sql)).bind(slug).fetch_optional(pool).await?
            });
            match id {
                Some(id) => facets.push(make(id)),
                None => {
                    return Ok(SearchPage {
                        total: 0,
                        total_is_exact: true,
                        hits: Vec::new(),
                    });
                }
            }
        }
        if let Some(year) = q.filter.year {
            facets.push(facet::year(year));
        }
        let rest = PaperQuery {
            kind: None,
            topic: None,
            author: None,
            year: None,
            ..q.filter.clone()
        };
        let (condition, mut args) = paper_condition(&rest);
        let query_text = if is_postgres {
            q.terms.tsquery()
        } else {
            let mut t = q.terms.fts5();
            for f in &facets {
                t.push_str(&format!(" facets:\"{f}\""));
            }
            t
        };
        args.push(Arg::Text(query_text));
        let m = args.len();
        // PostgreSQL: facet words are matched exactly, never stemmed.
        let pg_query = if facets.is_empty() {
            format!("to_tsquery('english', ${m})")
        } else {
            let words: Vec<String> = facets.iter().map(|f| format!("'{f}'")).collect();
            args.push(Arg::Text(words.join(" & ")));
            format!("(to_tsquery('english', ${m}) && CAST(${} AS tsquery))", args.len())
        };
        // Ranking every match of a common word costs time in proportion to
        // the archive; ranking the most recently added matches (all of
        // them when there are at most RANK_POOL) keeps every search fast.
        let limit = q.filter.limit.unwrap_or(20);
        let (total, ids): (i64, Vec<i64>) = match &self.db {
            Db::Sqlite(pool) => {
                // One pass: FTS5 reads matches newest first and stops at
                // the pool's end (one more than RANK_POOL, to learn whether
                // there are more), then the pool is counted and ranked.
                let mut page_args = args.clone();
                page_args.push(Arg::Int(i64::from(limit)));
                page_args.push(Arg::Int(i64::from(q.filter.offset)));
                let ids_sql = format!(
                    "SELECT id, total FROM (SELECT id, score, COUNT(*) OVER () AS total, \
                     ROW_NUMBER() OVER (ORDER BY id DESC) AS newest FROM \
                     (SELECT p.id AS id, quire_rank(papers_fts, 10.0, 4.0, 1.0, 0.0) AS score \
                     FROM papers_fts CROSS JOIN papers p ON p.id = papers_fts.rowid \
                     WHERE papers_fts MATCH ${m} AND {condition} \
                     ORDER BY papers_fts.rowid DESC LIMIT {}) pool) ranked WHERE newest <= {RANK_POOL} \
                     ORDER BY score DESC, id DESC LIMIT ${} OFFSET ${}",
                    RANK_POOL + 1,
                    page_args.len() - 1,
                    page_args.len()
                );
                let rows: Vec<RankedId> = bind_all!(sqlx::query_as::<_, RankedId>(AssertSqlSafe(ids_sql)), &page_args)
                    .fetch_all(pool)
                    .await?;
                // Past the last page no row carries the count.
                let total = match rows.first() {
                    Some(r) => r.total,
                    None => {
                        let count_sql = format!(
                            "SELECT COUNT(*) FROM (SELECT 1 FROM papers_fts CROSS JOIN papers p \
                             ON p.id = papers_fts.rowid WHERE papers_fts MATCH ${m} AND {condition} LIMIT {}) counted",
                            RANK_POOL + 1
                        );
                        bind_all!(sqlx::query_scalar(AssertSqlSafe(count_sql)), &args)
                            .fetch_one(pool)
                            .await?
                    }
                };
                (total, rows.into_iter().map(|r| r.id).collect())
            }
            Db::Postgres(pool) => {
                // The query as tsquery text, made once from the reader's
                // words (stemmed) and the filters' facet words.
                let tsquery: String = bind_all!(
                    sqlx::query_scalar(AssertSqlSafe(format!("SELECT ({pg_query})::text"))),
                    &args
                )
                .fetch_one(pool)
                .await?;
                let newest = pg_newest_matches(pool, &tsquery, &condition, &args[..m - 1]).await?;
                let total = i64::try_from(newest.len()).unwrap_or(i64::MAX);
                let pooled = &newest[..newest.len().min(RANK_POOL as usize)];
                let mut scored: Vec<(i64, f64)> = sqlx::query_as(
                    "SELECT paper_id, ts_rank(head, CAST($1 AS tsquery))::float8 FROM paper_search \
                     WHERE paper_id = ANY($2)",
                )
                .bind(&tsquery)
                .bind(pooled)
                .fetch_all(pool)
                .await?;
                scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
                let ids = scored
                    .into_iter()
                    .skip(q.filter.offset as usize)
                    .take(limit as usize)
                    .map(|(id, _)| id)
                    .collect();
                (total, ids)
            }
        };
        let total = u64::try_from(total).unwrap_or(0);
        let total_is_exact = total <= RANK_POOL;
        let total = total.min(RANK_POOL);
        if ids.is_empty() {
            return Ok(SearchPage {
                total,
                total_is_exact,
                hits: Vec::new(),
            });
        }
        // Snippets for this page only, cut from the indexed plain text.
        let id_args: Vec<Arg> = ids.iter().map(|id| Arg::Int(*id)).collect();
        let list = placeholders(1, ids.len());
        let text_sql = if is_postgres {
            format!("SELECT paper_id AS id, body_text AS snippet FROM paper_search WHERE paper_id IN ({list})")
        } else {
            format!("SELECT rowid AS id, body AS snippet FROM papers_fts WHERE rowid IN ({list})")
        };
        let meta_sql = format!(
            "SELECT {PAPER_COLUMNS} FROM papers p WHERE p.id IN ({})",
            placeholders(1, ids.len())
        );
        let (snippets, rows): (Vec<SnippetRow>, Vec<PaperRow>) = with_pool!(self, pool => {(
            bind_all!(sqlx::query_as::<_, SnippetRow>(AssertSqlSafe(text_sql)), &id_args).fetch_all(pool).await?,
            bind_all!(sqlx::query_as::<_, PaperRow>(AssertSqlSafe(meta_sql)), &id_args).fetch_all(pool).await?,
        )});
        let mut snippets: HashMap<i64, String> = snippets.into_iter().map(|s| (s.id, s.snippet)).collect();
        let mut metas: HashMap<i64, PaperMeta> = HashMap::new();
        for row in rows {
            let meta = row.into_meta()?;
            metas.insert(meta.id, meta);
        }
        let mut papers: Vec<PaperMeta> = ids.iter().filter_map(|id| metas.remove(id)).collect();
        self.attach_refs(&mut papers).await?;
        let hits = papers
            .into_iter()
            .map(|paper| {
                let snippet = snippets
                    .remove(&paper.id)
                    .map(|text| make_snippet(&text, &q.terms))
                    .unwrap_or_default();
                SearchHit { paper, snippet }
            })
            .collect();
        Ok(SearchPage {
            total,
            total_is_exact,
            hits,
        })
    }

    /// Writes search entries for papers that have none: papers stored
    /// before search existed. Cheap when every paper is indexed.
    pub(super) async fn index_unindexed_papers(&self) -> Result<(), StoreError> {
        let is_postgres = matches!(self.db, Db::Postgres(_));
        let missing_sql = if is_postgres {
            "SELECT p.id FROM papers p WHERE NOT EXISTS (SELECT 1 FROM paper_search s WHERE s.paper_id = p.id) \
             ORDER BY p.id LIMIT 500"
        } else {
            "SELECT p.id FROM papers p WHERE p.id NOT IN (SELECT rowid FROM papers_fts) ORDER BY p.id LIMIT 500"
        };
        loop {
            let ids: Vec<i64> = with_pool!(self, pool => {
                sqlx::query_scalar(missing_sql).fetch_all(pool).await?
            });
            if ids.is_empty() {
                return Ok(());
            }
            with_pool!(self, pool => {
                let mut tx = pool.begin().await?;
                for id in &ids {
                    index_paper!(tx, *id, is_postgres);
                }
                tx.commit().await?;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(q: &str) -> (String, String) {
        let t = SearchTerms::parse(q);
        (t.fts5(), t.tsquery())
    }

    #[test]
    fn words_and_phrases_are_read() {
        assert_eq!(
            words("Port congestion"),
            ("\"port\" \"congestion\"".into(), "'port' & 'congestion'".into())
        );
        assert_eq!(
            words("\"supply chain\" risk"),
            (
                "\"supply chain\" \"risk\"".into(),
                "('supply' <-> 'chain') & 'risk'".into()
            )
        );
        assert_eq!(words("\"unclosed phrase").0, "\"unclosed phrase\"");
        assert_eq!(words("\"one\"").0, "\"one\"");
        assert_eq!(words("מים ומדיניות").1, "'מים' & 'ומדיניות'");
    }

    #[test]
    fn engine_syntax_never_gets_through() {
        for hostile in [
            "title:secret OR body:* NOT x",
            "a AND (b OR c) NEAR(d e, 2)",
            "'; DROP TABLE papers; --",
            "x' | 'y' & !z:*",
            "\"\"\"\"",
            "^start$ {col1 col2}: y",
            "\u{0}\u{1}\u{202E}evil\u{E000}",
            "*",
            "",
        ] {
            let t = SearchTerms::parse(hostile);
            for s in [t.fts5(), t.tsquery()] {
                for c in s.chars() {
                    assert!(
                        c.is_alphanumeric() || " \"'&()<->".contains(c),
                        "{hostile:?} gave {s:?}"
                    );
                }
            }
        }
        assert!(SearchTerms::parse("*** ??? ---").is_empty());
        assert!(SearchTerms::parse("\"\"").is_empty());
    }

    #[test]
    fn long_queries_are_shortened_and_say_so() {
        let long = "word ".repeat(2000);
        let t = SearchTerms::parse(&long);
        assert!(t.shortened);
        assert_eq!(t.terms.len(), MAX_TERMS);
        let one = "x".repeat(10_000);
        let t = SearchTerms::parse(&one);
        assert!(t.shortened);
        assert!(matches!(&t.terms[0], Term::Word(w) if w.chars().count() == MAX_WORD_CHARS));
        assert!(!SearchTerms::parse("ports and water").shortened);
    }

    #[test]
    fn snippets_show_the_densest_stretch_with_matches_marked() {
        let text = format!(
            "{} The harbour authorities measured container traffic.\nHarbours grew. {}",
            "Filler words here. ".repeat(20),
            "More filler text. ".repeat(20)
        );
        let parts = make_snippet(&text, &SearchTerms::parse("harbours traffic"));
        let hits: Vec<&str> = parts.iter().filter(|p| p.hit).map(|p| p.text.as_str()).collect();
        assert_eq!(hits, ["harbour", "traffic", "Harbours"]);
        assert!(parts[0].text.starts_with('…') && parts.last().is_some_and(|p| p.text.ends_with('…')));
        let all: String = parts.iter().map(|p| p.text.as_str()).collect();
        assert!(!all.contains('\n'), "{all}");
        assert!(
            all.split_whitespace()
                .filter(|w| w.chars().any(char::is_alphanumeric))
                .count()
                <= SNIPPET_WORDS
        );
        // No match: the start of the text, unmarked.
        let none = make_snippet("Short text only.", &SearchTerms::parse("absent"));
        assert_eq!(
            none,
            vec![SnippetPart {
                text: "Short text only".into(),
                hit: false
            }]
        );
        assert!(make_snippet("", &SearchTerms::parse("x")).is_empty());
        // Stems: "reforms" finds "reform", and not words that merely share letters.
        let p = make_snippet("The police reform.", &SearchTerms::parse("reforms"));
        assert!(p.iter().any(|x| x.hit && x.text == "reform"));
        assert!(!p.iter().any(|x| x.hit && x.text == "police"));
    }
}
