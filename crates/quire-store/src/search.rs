//! Full-text search over papers: SQLite FTS5 or PostgreSQL text search,
//! the same query language and the same results on both.
//!
//! A reader's query is never handed to the search engine as written: it is
//! parsed into words and "quoted phrases" made only of letters and digits,
//! and the engine's own syntax is built from those. No input can reach FTS
//! operators, so no input can make the query fail.

use super::{Arg, Db, PAPER_COLUMNS, PaperQuery, PaperRow, Store, StoreError, paper_condition, placeholders};
use quire_core::domain::{PaperMeta, SnippetPart};
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

    /// Every word of the query, those in phrases too: all the engines'
    /// queries are made of (each quoted), so nothing else can reach them.
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.terms
            .iter()
            .flat_map(|t| match t {
                Term::Word(w) => std::slice::from_ref(w).iter(),
                Term::Phrase(ws) => ws.iter(),
            })
            .map(String::as_str)
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

    /// PostgreSQL: the words in `to_tsquery` syntax (None when the query
    /// is phrases only), and each phrase's words separated by spaces, for
    /// `quire_phrase_query`, which finds it by its word pairs.
    fn pg_parts(&self) -> (Option<String>, Vec<String>) {
        let mut words = Vec::new();
        let mut phrases = Vec::new();
        for t in &self.terms {
            match t {
                Term::Word(w) => words.push(format!("'{w}'")),
                Term::Phrase(ws) => phrases.push(ws.join(" ")),
            }
        }
        let words = (!words.is_empty()).then(|| words.join(" & "));
        (words, phrases)
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

/// Recency words in a PostgreSQL search document, finest first: (papers
/// per word, prefix). A paper's words are the prefix and its id divided
/// by the size; the index statement and migrations 0003 and 0004 write
/// the same.
const RECENCY_LEVELS: [(i64, &str); 3] = [(1024, "xqr"), (8192, "xqrb"), (65536, "xqrc")];

/// Papers per finest recency word: windows of a search start and end on
/// multiples of it.
const RECENCY_STEP: i64 = RECENCY_LEVELS[0].0;

/// Recency words a search window may name; a wider window (only in
/// archives of millions) reads its matches without them.
const MAX_WINDOW_WORDS: usize = 24;

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
/// summary, plain text, facet words separated by spaces) and, on
/// PostgreSQL, the time the paper is listed from. Run in the paper's
/// transaction. PostgreSQL's document adds word pairs and recency words
/// (migration 0004 says why); an entry that would not change is left as
/// it is, since rewriting a row moves it away from its neighbours in id.
pub(super) fn index_statement(is_postgres: bool) -> &'static str {
    if is_postgres {
        "INSERT INTO paper_search (paper_id, body_text, head, document, listed_from) \
           SELECT $1, $4, head, doc || array_to_tsvector(string_to_array($5, ' ') || quire_word_pairs(doc) \
             || ARRAY['xqr' || ($1 / 1024), 'xqrb' || ($1 / 8192), 'xqrc' || ($1 / 65536)]), $6 \
           FROM (SELECT head, head || setweight(to_tsvector('english', $4), 'D') AS doc FROM \
             (SELECT setweight(to_tsvector('english', $2), 'A') || setweight(to_tsvector('english', $3), 'B') AS head) h) d \
           ON CONFLICT (paper_id) DO UPDATE SET body_text = EXCLUDED.body_text, head = EXCLUDED.head, \
           document = EXCLUDED.document, listed_from = EXCLUDED.listed_from \
           WHERE (paper_search.body_text, paper_search.head, paper_search.document, paper_search.listed_from) \
             IS DISTINCT FROM (EXCLUDED.body_text, EXCLUDED.head, EXCLUDED.document, EXCLUDED.listed_from)"
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
        format!("xqk{}", quire_core::domain::slugify(kind).replace('-', ""))
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
    status: String,
    published_at: Option<time::OffsetDateTime>,
    trashed_at: Option<time::OffsetDateTime>,
    body: String,
}

/// A paper's search entry.
pub(super) struct IndexEntry {
    pub title: String,
    pub summary: String,
    /// The body as plain text.
    pub text: String,
    /// Facet words, separated by spaces.
    pub facets: String,
    /// When readers may find the paper: its publication time while it is
    /// published or scheduled (and not in the trash), else never.
    pub listed_from: Option<time::OffsetDateTime>,
}

pub(super) fn index_entry(src: &IndexSource, topics: &[i64], authors: &[i64]) -> IndexEntry {
    let mut facets = vec![facet::kind(&src.kind)];
    if let Some(t) = src.published_at {
        facets.push(facet::year(t.year()));
    }
    facets.extend(topics.iter().map(|id| facet::topic(*id)));
    facets.extend(authors.iter().map(|id| facet::author(*id)));
    let listable = matches!(src.status.as_str(), "published" | "scheduled") && src.trashed_at.is_none();
    IndexEntry {
        title: quire_core::domain::full_title(&src.title, src.subtitle.as_deref()),
        summary: src.summary.clone(),
        text: quire_core::markdown::to_plain_text(&src.body),
        facets: facets.join(" "),
        listed_from: src.published_at.filter(|_| listable),
    }
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

/// The recency words that together name exactly the papers with ids in
/// `from..to` (both multiples of RECENCY_STEP), coarsest words where they
/// fit; None when that takes more than MAX_WINDOW_WORDS.
fn recency_words(from: i64, to: i64) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut at = from;
    while at < to {
        let (size, prefix) = RECENCY_LEVELS
            .iter()
            .rev()
            .find(|(size, _)| at % size == 0 && at + size <= to)
            .unwrap_or(&RECENCY_LEVELS[0]);
        words.push(format!("'{prefix}{}'", at / size));
        if words.len() > MAX_WINDOW_WORDS {
            return None;
        }
        at += size;
    }
    Some(words)
}

/// `n` rounded up to a multiple of RECENCY_STEP.
fn step_up(n: i64) -> i64 {
    (n + RECENCY_STEP - 1).div_euclid(RECENCY_STEP) * RECENCY_STEP
}

/// One PostgreSQL search, in its own transaction: the newest matches of a
/// query that readers may see, with their rank.
///
/// The GIN index finds matches but cannot give them newest first, and
/// testing documents one by one is slow. So the search reads windows of
/// ids, newest first, each named by recency words that the index
/// intersects with the query's words: a common word fills the pool from
/// the newest thousand papers; a rare one is found in a few wider
/// windows; where nothing matched yet, the search first asks whether a
/// wide window holds a match at all (the index alone answers that) and
/// narrows down to the newest stretch that does, so that matches far back
/// (a year's papers, say) are read a stretch at a time too.
struct PgSearch<'a> {
    tx: sqlx::Transaction<'a, sqlx::Postgres>,
    /// The query, facets included, as tsquery text.
    matching: String,
    /// The reader's words as tsquery text: what ranks a match.
    ranking: String,
    /// The filters' facet words as tsquery text, if any: while they are
    /// what is rare, asking whether a stretch holds papers with them is
    /// cheaper than asking for whole matches (a common word's papers
    /// need not be read through), and no less safe for skipping it.
    facets: Option<String>,
    /// The query that gives the newest id a match may have, with its
    /// arguments.
    newest: (String, Vec<Arg>),
    /// Readers' view at this time, if not every paper.
    listed_at: Option<time::OffsetDateTime>,
    /// Further conditions on papers (`p`), checked by id, with their
    /// arguments.
    extra: Option<(String, Vec<Arg>)>,
}

impl PgSearch<'_> {
    /// The conditions of a window `from..to` and its bound values after
    /// the query's ($1); ids are compared as `paper_id + 0` so that no plan
    /// walks the id index testing documents.
    fn window(&self, from: i64, to: i64) -> (String, Vec<Arg>) {
        let mut args = vec![Arg::Int(from), Arg::Int(to)];
        let mut sql = String::from("paper_id + 0 >= $2 AND paper_id + 0 < $3");
        match recency_words(from, step_up(to)) {
            Some(words) => {
                args.push(Arg::Text(words.join(" | ")));
                sql.push_str(&format!(
                    " AND document @@ (CAST($1 AS tsquery) && CAST(${} AS tsquery))",
                    args.len() + 1
                ));
            }
            None => sql.push_str(" AND document @@ CAST($1 AS tsquery)"),
        }
        if let Some(t) = self.listed_at {
            args.push(Arg::Time(t));
            sql.push_str(&format!(" AND listed_from <= ${}", args.len() + 1));
        }
        (sql, args)
    }

    /// Whether papers `from..to` may hold a match readers may see (with
    /// `self.facets`, whether they hold papers with the facets): the
    /// index intersects the words, one row is read.
    async fn any(&mut self, from: i64, to: i64) -> Result<bool, StoreError> {
        let (cond, args) = self.window(from, to);
        let sql = format!("SELECT paper_id FROM paper_search WHERE {cond} LIMIT 1");
        let words = self.facets.as_ref().unwrap_or(&self.matching);
        let found: Option<i64> = bind_all!(sqlx::query_scalar(AssertSqlSafe(sql)).bind(words), &args)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(found.is_some())
    }

    /// The newest `want` matches among papers `from..to`, newest first,
    /// with their rank; and when all `want` were read (more may follow),
    /// the lowest id read.
    async fn read(&mut self, from: i64, to: i64, want: usize) -> Result<(Vec<(i64, f64)>, Option<i64>), StoreError> {
        let (cond, args) = self.window(from, to);
        // Ranked after the limit: only the rows kept are ranked.
        let sql = format!(
            "SELECT paper_id, ts_rank(head, CAST(${} AS tsquery))::float8 FROM \
             (SELECT paper_id, head FROM paper_search WHERE {cond} ORDER BY paper_id + 0 DESC LIMIT {want}) newest",
            args.len() + 2
        );
        let mut rows: Vec<(i64, f64)> = bind_all!(sqlx::query_as(AssertSqlSafe(sql)).bind(&self.matching), &args)
            .bind(&self.ranking)
            .fetch_all(&mut *self.tx)
            .await?;
        rows.sort_by_key(|r| std::cmp::Reverse(r.0));
        let lowest = rows.last().map(|r| r.0).filter(|_| rows.len() == want);
        if let (Some((condition, extra_args)), false) = (&self.extra, rows.is_empty()) {
            let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
            let sql = format!(
                "SELECT p.id FROM papers p WHERE p.id = ANY(${}) AND {condition}",
                extra_args.len() + 1
            );
            let keep: std::collections::HashSet<i64> = bind_all!(sqlx::query_scalar(AssertSqlSafe(sql)), extra_args)
                .bind(&ids)
                .fetch_all(&mut *self.tx)
                .await?
                .into_iter()
                .collect();
            rows.retain(|r| keep.contains(&r.0));
        }
        Ok((rows, lowest))
    }

    /// The newest matches, newest first, at most one more than RANK_POOL
    /// (to tell whether there are more), each with its rank.
    async fn newest(mut self) -> Result<Vec<(i64, f64)>, StoreError> {
        sqlx::query("SET LOCAL enable_seqscan = off")
            .execute(&mut *self.tx)
            .await?;
        let newest: Option<i64> = bind_all!(sqlx::query_scalar(AssertSqlSafe(self.newest.0.clone())), &self.newest.1)
            .fetch_one(&mut *self.tx)
            .await?;
        let mut found: Vec<(i64, f64)> = Vec::new();
        // Papers below this id are still to be searched.
        let mut below = newest.map_or(0, |n| n + 1);
        // Ids a window spans.
        let mut span = RECENCY_STEP;
        // Where the first match turned up: the density of matches since
        // then sizes the windows that follow.
        let mut first_hit: Option<i64> = None;
        while below > 0 && found.len() <= RANK_POOL as usize {
            let want = RANK_POOL as usize + 1 - found.len();
            let mut from = (step_up(below) - span).max(0);
            let probed = first_hit.is_none() && span > RECENCY_STEP;
            if probed {
                if !self.any(from, below).await? {
                    below = from;
                    span *= 8;
                    continue;
                }
                // Narrow down to the newest stretch of RECENCY_STEP ids
                // that holds a match: an eighth of the window at a time.
                let mut part = span;
                while part > RECENCY_STEP {
                    part /= 8;
                    loop {
                        let top = (step_up(below) - part).max(from);
                        // The last part holds the match when none above it does.
                        if top == from || self.any(top, below).await? {
                            from = top;
                            break;
                        }
                        below = top;
                    }
                }
                span = RECENCY_STEP;
            }
            let (rows, lowest) = self.read(from, below, want).await?;
            if first_hit.is_none() && !rows.is_empty() {
                first_hit = Some(step_up(below));
            }
            if probed && rows.is_empty() {
                // The facets led to papers without the words: ask for
                // whole matches from now on.
                self.facets = None;
            }
            found.extend(rows);
            if let Some(lowest) = lowest {
                // The window had more matches than wanted, but readers may
                // not see some of those read: read on below them.
                below = lowest;
                continue;
            }
            below = from;
            span = match first_hit {
                None => span * 8,
                // As wide as the matches since the first say is needed to
                // fill the pool, with a tenth to spare.
                Some(top) => {
                    let density = found.len() as f64 / (top - from).max(1) as f64;
                    let missing = (RANK_POOL as usize + 1).saturating_sub(found.len()) as f64;
                    step_up((missing / density.max(1e-9) * 1.1).min(i64::MAX as f64 / 2.0) as i64).max(RECENCY_STEP)
                }
            };
        }
        self.tx.commit().await?;
        Ok(found)
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
        // PostgreSQL: where each filter's papers end (the newest id having
        // it), as (subquery over `$n`, its value). Written as a range and
        // an order so that only the filter's own index can answer: for
        // `MAX(id) … WHERE x = $n` the planner would walk all ids down
        // from the newest, expecting the filter's papers among them.
        let mut ends: Vec<(&str, i64)> = Vec::new();
        if let Some(kind) = &q.filter.kind {
            facets.push(facet::kind(kind));
        }
        for (slug, table, make, end) in [
            (
                &q.filter.topic,
                "topics",
                facet::topic as fn(i64) -> String,
                "SELECT paper_id FROM paper_topics WHERE topic_id BETWEEN $n AND $n \
                 ORDER BY topic_id DESC, paper_id DESC LIMIT 1",
            ),
            (
                &q.filter.author,
                "authors",
                facet::author,
                "SELECT paper_id FROM paper_authors WHERE author_id BETWEEN $n AND $n \
                 ORDER BY author_id DESC, paper_id DESC LIMIT 1",
            ),
        ] {
            let Some(slug) = slug else { continue };
            let sql = format!("SELECT id FROM {table} WHERE slug = $1");
            let id: Option<i64> = with_pool!(self, pool => {
                sqlx::query_scalar(AssertSqlSafe(sql)).bind(slug).fetch_optional(pool).await?
            });
            match id {
                Some(id) => {
                    facets.push(make(id));
                    ends.push((end, id));
                }
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
            ends.push((
                "SELECT id FROM papers WHERE (extract(year FROM published_at AT TIME ZONE 'UTC'))::int BETWEEN $n AND $n \
                 ORDER BY (extract(year FROM published_at AT TIME ZONE 'UTC'))::int DESC, id DESC LIMIT 1",
                i64::from(year),
            ));
        }
        // Ranking every match of a common word costs time in proportion to
        // the archive; ranking the most recently added matches (all of
        // them when there are at most RANK_POOL) keeps every search fast.
        let limit = q.filter.limit.unwrap_or(20);
        let (total, ids): (i64, Vec<i64>) = match &self.db {
            Db::Sqlite(pool) => {
                // The filters other than facets, on papers (`p`), then the
                // query with the facets as words of their column.
                let rest = PaperQuery {
                    kind: None,
                    topic: None,
                    author: None,
                    year: None,
                    ..q.filter.clone()
                };
                let (condition, mut args) = paper_condition(&rest);
                let mut query_text = q.terms.fts5();
                for f in &facets {
                    query_text.push_str(&format!(" facets:\"{f}\""));
                }
                args.push(Arg::Text(query_text));
                let m = args.len();
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
                let newest = self.pg_newest_matches(pool, q, &facets, &ends).await?;
                let total = i64::try_from(newest.len()).unwrap_or(i64::MAX);
                let mut scored = newest;
                scored.truncate(RANK_POOL as usize);
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

    /// PostgreSQL: the newest matches of `q` with `facets` that its
    /// filter lets through, newest first, with their rank: at most one
    /// more than RANK_POOL.
    async fn pg_newest_matches(
        &self,
        pool: &sqlx::PgPool,
        q: &SearchQuery,
        facets: &[String],
        ends: &[(&str, i64)],
    ) -> Result<Vec<(i64, f64)>, StoreError> {
        // The query as tsquery text, made once: the reader's words
        // stemmed, each phrase as its word pairs, facet words exact.
        let (words, phrases) = q.terms.pg_parts();
        let mut parts = Vec::new();
        let mut args = Vec::new();
        if let Some(words) = words {
            args.push(Arg::Text(words));
            parts.push(format!("to_tsquery('english', ${})", args.len()));
        }
        for phrase in phrases {
            args.push(Arg::Text(phrase));
            parts.push(format!("quire_phrase_query(${})", args.len()));
        }
        let facets =
            (!facets.is_empty()).then(|| facets.iter().map(|f| format!("'{f}'")).collect::<Vec<_>>().join(" & "));
        if let Some(facets) = &facets {
            args.push(Arg::Text(facets.clone()));
            parts.push(format!("CAST(${} AS tsquery)", args.len()));
        }
        args.push(Arg::Text(q.terms.tsquery()));
        let sql = format!(
            "SELECT ({})::text, to_tsquery('english', ${})::text",
            parts.join(" && "),
            args.len()
        );
        let (matching, ranking): (String, String) = bind_all!(sqlx::query_as(AssertSqlSafe(sql)), &args)
            .fetch_one(pool)
            .await?;
        // Words PostgreSQL ignores (stop words) left nothing to find.
        if matching.is_empty() {
            return Ok(Vec::new());
        }
        let listed_at = match q.filter.visibility {
            super::Visibility::ListedAt(t) => Some(super::db_time(t)),
            super::Visibility::All => None,
        };
        // What the filter asks beyond readers' view and facets.
        let (condition, extra_args) = paper_condition(&PaperQuery {
            visibility: super::Visibility::All,
            kind: None,
            topic: None,
            author: None,
            year: None,
            ..q.filter.clone()
        });
        let extra = (condition != "1 = 1").then_some((condition, extra_args));
        // No paper above the newest that has every filter can match.
        let mut newest_sql = String::from("SELECT LEAST((SELECT MAX(paper_id) FROM paper_search)");
        for (i, (end, _)) in ends.iter().enumerate() {
            newest_sql.push_str(&format!(
                ", COALESCE(({}), 0)",
                end.replace("$n", &format!("${}", i + 1))
            ));
        }
        newest_sql.push(')');
        let newest_args: Vec<Arg> = ends.iter().map(|(_, v)| Arg::Int(*v)).collect();
        PgSearch {
            tx: pool.begin().await?,
            newest: (newest_sql, newest_args),
            matching,
            ranking,
            facets,
            listed_at,
            extra,
        }
        .newest()
        .await
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
                let mut tx = begin_write!(pool, is_postgres);
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
    fn recency_words_name_a_stretch_exactly_with_the_fewest_words() {
        let words = |from, to| recency_words(from, to).map(|w| w.join(" "));
        assert_eq!(words(0, 3072).as_deref(), Some("'xqr0' 'xqr1' 'xqr2'"));
        assert_eq!(
            words(7168, 73728).as_deref(),
            Some("'xqr7' 'xqrb1' 'xqrb2' 'xqrb3' 'xqrb4' 'xqrb5' 'xqrb6' 'xqrb7' 'xqrb8'")
        );
        assert_eq!(words(65536, 131072).as_deref(), Some("'xqrc1'"));
        assert_eq!(words(2048, 2048).as_deref(), Some(""));
        // Millions of papers at once: no words, the id bounds alone.
        assert_eq!(words(0, 65536 * 30), None);
        assert_eq!(step_up(1), 1024);
        assert_eq!(step_up(1024), 1024);
        assert_eq!(step_up(0), 0);
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
