//! The `Store`: every read and write of content, on SQLite (the embedded
//! default) or PostgreSQL. The only module with SQL. Most statements are one
//! string run on either pool; what truly differs (migrations, change
//! notification) sits in small per-back-end pieces.
//!
//! Times are stored in UTC, truncated to whole seconds, so that SQLite's
//! text timestamps compare and sort like PostgreSQL's `timestamptz`.

mod fts5_rank;
mod migrations;

use quire_core::domain::{
    Author, AuthorInput, AuthorLink, AuthorRef, CommentsMode, MediaFile, MediaKind, MediaMeta, Paper, PaperInput,
    PaperMeta, Status, Topic, TopicInput, TopicRef, TranslationRef, name_from_slug,
};
use quire_core::secret::redact_url;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, PgPool, SqlitePool};
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;
use time::{OffsetDateTime, UtcOffset};

/// How long connecting to a database may take before Quire gives up.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The PostgreSQL channel that carries "content changed" to every server.
const CHANGES_CHANNEL: &str = "quire_changes";

/// A paper's address and last change, for sitemaps.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PaperStamp {
    pub slug: String,
    pub updated_at: OffsetDateTime,
}

/// Rows per `IN (…)` list when loading bylines and topics.
const IN_CHUNK: usize = 500;

/// The columns of `paper_media` that describe an image, for `MediaRow`.
const MEDIA_COLUMNS: &str = "name, kind, width, height, byte_size, sha256";

#[derive(sqlx::FromRow)]
struct MediaRow {
    name: String,
    kind: String,
    width: Option<i64>,
    height: Option<i64>,
    byte_size: i64,
    sha256: String,
}

impl MediaRow {
    fn into_meta(self) -> Result<MediaMeta, StoreError> {
        let kind = MediaKind::parse(&self.kind).ok_or_else(|| {
            StoreError::Corrupt(format!("image {:?} has the unknown kind {:?}", self.name, self.kind))
        })?;
        Ok(MediaMeta {
            kind,
            width: self.width.and_then(|w| u32::try_from(w).ok()),
            height: self.height.and_then(|h| u32::try_from(h).ok()),
            byte_size: u64::try_from(self.byte_size).unwrap_or(0),
            sha256: self.sha256,
            name: self.name,
        })
    }
}

#[derive(sqlx::FromRow)]
struct MediaFileRow {
    #[sqlx(flatten)]
    meta: MediaRow,
    data: Vec<u8>,
}

impl MediaFileRow {
    fn into_file(self) -> Result<MediaFile, StoreError> {
        Ok(MediaFile {
            meta: self.meta.into_meta()?,
            data: self.data,
        })
    }
}

/// Hex SHA-256, the fingerprint images are stored under.
fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// What can go wrong in the store; each says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {url}: {message}")]
    Connect { url: String, message: String },
    #[error("cannot bring the database schema up to date: {0}")]
    Migrate(String),
    #[error("no {what} has the slug {slug:?}")]
    NotFound { what: &'static str, slug: String },
    #[error("a paper with the slug {0:?} already exists: choose another slug, or replace that paper")]
    DuplicatePaper(String),
    #[error("unknown {what} {slug:?}: add it first, or have missing ones created")]
    UnknownReference { what: &'static str, slug: String },
    #[error("no comment has the id {0}")]
    CommentNotFound(i64),
    #[error("comment {0} cannot be replied to: it is not an approved comment on this paper")]
    BadReply(i64),
    #[error("the same comment is already on this paper")]
    DuplicateComment,
    #[error("{slug:?} was saved again meanwhile (it is at revision {current})")]
    StaleRevision { slug: String, current: i64 },
    #[error("an account with the address {0:?} already exists")]
    DuplicateUser(String),
    #[error("the database holds a value Quire cannot read: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Which papers a query may return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Every paper, drafts included: for editors and the command line.
    All,
    /// What readers see in lists at this time: published or scheduled
    /// papers whose time has come.
    ListedAt(OffsetDateTime),
}

/// A selection of papers, newest first.
#[derive(Clone, Debug)]
pub struct PaperQuery {
    pub visibility: Visibility,
    /// Papers in the trash instead of the others.
    pub trashed: bool,
    /// Only papers whose status, as readers see it at that time
    /// ([`Status::seen_at`]), is this one.
    pub status: Option<(Status, OffsetDateTime)>,
    /// Only drafts submitted for review.
    pub submitted: bool,
    pub kind: Option<String>,
    /// Author slug.
    pub author: Option<String>,
    /// Topic slug.
    pub topic: Option<String>,
    /// Only papers published in this calendar year (UTC).
    pub year: Option<i32>,
    /// Only papers published after this time (a digest's start).
    pub published_after: Option<OffsetDateTime>,
    pub limit: Option<u32>,
    pub offset: u32,
    /// The order of an editors' list (readers' lists are newest first).
    pub sort: PaperSort,
}

/// How an editors' list of papers is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PaperSort {
    /// By publication date, newest first; undated drafts first of all.
    #[default]
    Newest,
    Oldest,
    /// Most recently changed first.
    Updated,
    /// By title, A to Z.
    Title,
}

impl PaperSort {
    pub const ALL: [PaperSort; 4] = [
        PaperSort::Newest,
        PaperSort::Oldest,
        PaperSort::Updated,
        PaperSort::Title,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaperSort::Newest => "newest",
            PaperSort::Oldest => "oldest",
            PaperSort::Updated => "updated",
            PaperSort::Title => "title",
        }
    }

    pub fn parse(s: &str) -> Option<PaperSort> {
        PaperSort::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

impl PaperQuery {
    /// Every paper a reader may see in lists at `now`.
    pub fn listed_at(now: OffsetDateTime) -> Self {
        PaperQuery {
            visibility: Visibility::ListedAt(now),
            ..Self::all()
        }
    }

    /// Every paper, whatever its status.
    pub fn all() -> Self {
        PaperQuery {
            visibility: Visibility::All,
            trashed: false,
            status: None,
            submitted: false,
            kind: None,
            author: None,
            topic: None,
            year: None,
            published_after: None,
            limit: None,
            offset: 0,
            sort: PaperSort::Newest,
        }
    }
}

/// How `add_papers` treats authors, topics and slugs it has not seen.
#[derive(Clone, Copy, Debug, Default)]
pub struct AddOptions {
    /// Create authors and topics named by slug that do not exist yet.
    pub create_missing: bool,
    /// Overwrite a paper whose slug exists instead of refusing.
    pub replace: bool,
    /// Keep a replaced paper's images instead of those of the input (the
    /// admin's editor sends text, its images are uploaded one by one).
    pub keep_media: bool,
    /// The revision a replaced paper must still be at: a save over a
    /// later one is refused with [`StoreError::StaleRevision`].
    pub expected_revision: Option<i64>,
    /// The account saving, recorded with the revision (none: the command
    /// line).
    pub saved_by: Option<i64>,
}

/// Tables whose rows are named by slug.
#[derive(Clone, Copy, Debug)]
pub enum SlugTable {
    Papers,
    Authors,
    Topics,
}

impl SlugTable {
    fn name(self) -> &'static str {
        match self {
            SlugTable::Papers => "papers",
            SlugTable::Authors => "authors",
            SlugTable::Topics => "topics",
        }
    }
}

/// Handle on the content database; cheap to clone (a pool inside).
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
}

#[derive(Clone, Debug)]
enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same code on whichever pool the store has. The body is compiled
/// once per back end, so one SQL string serves both.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.db {
            Db::Sqlite($pool) => $body,
            Db::Postgres($pool) => $body,
        }
    };
}

/// Begins a write transaction. SQLite's is IMMEDIATE: it takes the write
/// lock at once, waiting its turn, where a deferred one that read first
/// fails with "database is locked" when another writer got in between.
macro_rules! begin_write {
    ($pool:expr, $is_postgres:expr) => {
        if $is_postgres {
            $pool.begin().await?
        } else {
            $pool.begin_with("BEGIN IMMEDIATE").await?
        }
    };
}

/// Counts a write and, on PostgreSQL, tells every listening server; part
/// of the write's transaction, so readers see both or neither.
macro_rules! bump_version {
    ($tx:expr, $is_postgres:expr) => {{
        sqlx::query("UPDATE content_version SET version = version + 1 WHERE id = 1")
            .execute(&mut *$tx)
            .await?;
        if $is_postgres {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(CHANGES_CHANNEL)
                .execute(&mut *$tx)
                .await?;
        }
    }};
}

/// The ids of the authors or topics named by `slugs`, creating missing
/// ones (named after their slug) when `create` allows; `known` remembers
/// ids across a batch. Returns `UnknownReference` from the enclosing block
/// for a missing one otherwise.
macro_rules! resolve_slugs {
    ($tx:expr, $slugs:expr, $known:expr, $create:expr, $now:expr, $what:literal, $select:literal, $insert:literal) => {{
        let mut ids = Vec::with_capacity($slugs.len());
        for slug in $slugs {
            if let Some(id) = $known.get(slug) {
                ids.push(*id);
                continue;
            }
            let found: Option<i64> = sqlx::query_scalar($select).bind(slug).fetch_optional(&mut *$tx).await?;
            let id: i64 = match found {
                Some(id) => id,
                None if $create => {
                    sqlx::query_scalar($insert)
                        .bind(slug)
                        .bind(name_from_slug(slug))
                        .bind($now)
                        .fetch_one(&mut *$tx)
                        .await?
                }
                None => {
                    return Err(StoreError::UnknownReference {
                        what: $what,
                        slug: slug.clone(),
                    });
                }
            };
            $known.insert(slug.clone(), id);
            ids.push(id);
        }
        ids
    }};
}

/// Authors or topics, for the merge both share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Merge {
    Authors,
    Topics,
}

/// A bound value in a statement built at run time.
#[derive(Clone, Debug)]
enum Arg {
    Text(String),
    Int(i64),
    Time(OffsetDateTime),
}

/// Binds `args` in order onto a sqlx query of either back end.
macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for arg in $args {
            q = match arg {
                Arg::Text(s) => q.bind(s.clone()),
                Arg::Int(i) => q.bind(*i),
                Arg::Time(t) => q.bind(*t),
            };
        }
        q
    }};
}

/// Writes paper `$id`'s search entry from what the transaction holds:
/// text, and the facets its filters use. Part of every write to a paper.
macro_rules! index_paper {
    ($tx:expr, $id:expr, $is_postgres:expr) => {{
        let src: crate::search::IndexSource = sqlx::query_as(
            "SELECT p.title, p.subtitle, p.summary, p.kind, p.status, p.published_at, p.trashed_at, b.body \
             FROM papers p JOIN paper_bodies b ON b.paper_id = p.id WHERE p.id = $1",
        )
        .bind($id)
        .fetch_one(&mut *$tx)
        .await?;
        let topics: Vec<i64> = sqlx::query_scalar("SELECT topic_id FROM paper_topics WHERE paper_id = $1")
            .bind($id)
            .fetch_all(&mut *$tx)
            .await?;
        let authors: Vec<i64> = sqlx::query_scalar("SELECT author_id FROM paper_authors WHERE paper_id = $1")
            .bind($id)
            .fetch_all(&mut *$tx)
            .await?;
        let entry = crate::search::index_entry(&src, &topics, &authors);
        let statement = sqlx::query(crate::search::index_statement($is_postgres))
            .bind($id)
            .bind(entry.title)
            .bind(entry.summary)
            .bind(entry.text)
            .bind(entry.facets);
        // Only PostgreSQL keeps who may read a paper beside its entry.
        if $is_postgres {
            statement.bind(entry.listed_from).execute(&mut *$tx).await?;
        } else {
            statement.execute(&mut *$tx).await?;
        }
    }};
}

mod comments;
mod outbox;
#[cfg(test)]
mod properties;
mod revisions;
mod search;
mod subscribers;
mod users;

pub use comments::{CommentQuery, ERASED_EMAIL, ERASED_NAME, NewComment};
pub use outbox::{
    CampaignContent, CampaignSummary, ClaimedMessage, Delivery, DeliveryResult, NewCampaign, OutboxCounts, OutboxEntry,
    OutgoingMessage, RetryPolicy,
};
pub use revisions::{EditState, MAX_REVISIONS_LISTED, Revision, RevisionMeta};
pub use search::{MAX_QUERY_CHARS, RANK_POOL, SearchHit, SearchPage, SearchQuery, SearchTerms};
pub use subscribers::{ImportReport, Subscriber};
pub use users::{
    AuditEntry, AuditRecord, LinkPurpose, LinkUse, MAX_SESSIONS_PER_USER, NewSession, NewUser, StoredSession, User,
};

/// A point in time as the store keeps it: UTC, whole seconds.
pub fn db_time(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(UtcOffset::UTC).replace_nanosecond(0).unwrap_or(t)
}

#[derive(sqlx::FromRow)]
struct PaperRow {
    id: i64,
    slug: String,
    title: String,
    subtitle: Option<String>,
    kind: String,
    summary: String,
    language: String,
    status: String,
    published_at: Option<OffsetDateTime>,
    updated_at: OffsetDateTime,
    canonical_url: Option<String>,
    translation_of: Option<String>,
    word_count: i64,
    comments: String,
    trashed_at: Option<OffsetDateTime>,
}

impl PaperRow {
    fn into_meta(self) -> Result<PaperMeta, StoreError> {
        let status = self
            .status
            .parse::<Status>()
            .map_err(|e| StoreError::Corrupt(format!("paper {:?}: {e}", self.slug)))?;
        let comments = self
            .comments
            .parse::<CommentsMode>()
            .map_err(|e| StoreError::Corrupt(format!("paper {:?}: {e}", self.slug)))?;
        Ok(PaperMeta {
            id: self.id,
            slug: self.slug,
            title: self.title,
            subtitle: self.subtitle,
            kind: self.kind,
            summary: self.summary,
            language: self.language,
            status,
            published_at: self.published_at,
            updated_at: self.updated_at,
            canonical_url: self.canonical_url,
            translation_of: self.translation_of,
            comments,
            trashed_at: self.trashed_at,
            comment_count: 0,
            word_count: self.word_count,
            authors: Vec::new(),
            topics: Vec::new(),
        })
    }
}

#[derive(sqlx::FromRow)]
struct BylineRow {
    paper_id: i64,
    slug: String,
    name: String,
    affiliation: Option<String>,
}

#[derive(sqlx::FromRow)]
struct TopicRefRow {
    paper_id: i64,
    slug: String,
    name: String,
}

#[derive(sqlx::FromRow)]
struct AuthorRow {
    slug: String,
    name: String,
    affiliation: Option<String>,
    orcid: Option<String>,
    bio: String,
    links: String,
    paper_count: i64,
}

impl AuthorRow {
    fn into_author(self) -> Result<Author, StoreError> {
        let links: Vec<AuthorLink> = serde_json::from_str(&self.links)
            .map_err(|e| StoreError::Corrupt(format!("links of author {:?}: {e}", self.slug)))?;
        Ok(Author {
            slug: self.slug,
            name: self.name,
            affiliation: self.affiliation,
            orcid: self.orcid,
            bio: self.bio,
            links,
            paper_count: self.paper_count,
        })
    }
}

#[derive(sqlx::FromRow)]
struct TopicRow {
    slug: String,
    name: String,
    description: String,
    paper_count: i64,
}

const PAPER_COLUMNS: &str = "p.id, p.slug, p.title, p.subtitle, p.kind, p.summary, p.language, \
     p.status, p.published_at, p.updated_at, p.canonical_url, p.translation_of, p.word_count, p.comments, p.trashed_at";

/// The SQL condition for "a reader may see this in lists", its time bound
/// to the placeholder `$n`.
fn listed_condition(n: usize) -> String {
    format!(
        "p.status IN ('published', 'scheduled') AND p.published_at IS NOT NULL AND p.published_at <= ${n} \
         AND p.trashed_at IS NULL"
    )
}

/// `$first, $first+1, …` for an `IN (…)` list of `count` values.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A pool of SQLite connections, each with Quire's search ranking function.
async fn sqlite_pool(options: SqliteConnectOptions) -> Result<SqlitePool, sqlx::Error> {
    SqlitePoolOptions::new()
        .max_connections(8)
        .acquire_timeout(CONNECT_TIMEOUT)
        .after_connect(|conn, _| {
            Box::pin(async move {
                let mut handle = conn.lock_handle().await?;
                fts5_rank::register(handle.as_raw_handle()).map_err(|e| sqlx::Error::Configuration(e.into()))
            })
        })
        .connect_with(options)
        .await
}

impl Store {
    /// Opens (creating if needed) the database at `url` and brings its
    /// schema up to date. `sqlite://PATH` or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let connect_error = |e: sqlx::Error| StoreError::Connect {
            url: redact_url(url),
            message: describe_connect_error(&e),
        };
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).map_err(connect_error)?;
            // One direct attempt first: a pool retries refused connections
            // until its timeout, and a wrong address should fail at once.
            let probe = tokio::time::timeout(
                CONNECT_TIMEOUT,
                <sqlx::PgConnection as sqlx::Connection>::connect_with(&options),
            )
            .await;
            match probe {
                Ok(Ok(conn)) => {
                    let _ = sqlx::Connection::close(conn).await;
                }
                Ok(Err(e)) => return Err(connect_error(e)),
                Err(_) => return Err(connect_error(sqlx::Error::PoolTimedOut)),
            }
            Self::connect_postgres(options).await.map_err(|e| match e {
                StoreError::Database(e) => connect_error(e),
                other => other,
            })?
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(connect_error)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5));
            let pool = sqlite_pool(options).await.map_err(connect_error)?;
            Store { db: Db::Sqlite(pool) }
        } else {
            return Err(StoreError::Connect {
                url: redact_url(url),
                message: "use sqlite://PATH or postgres://USER:PASSWORD@HOST/DATABASE".into(),
            });
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Opens a PostgreSQL database from ready-made options (tests use this
    /// to put each test in its own schema). Does not migrate.
    pub async fn connect_postgres(options: PgConnectOptions) -> Result<Store, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            // Kept open ahead of need, and replaced in the background when
            // they age out: opening one (TLS, authentication) takes tens of
            // milliseconds that a reader would otherwise wait for.
            .min_connections(4)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options)
            .await?;
        Ok(Store { db: Db::Postgres(pool) })
    }

    /// Applies any migrations the database has not had yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let result = match &self.db {
            Db::Sqlite(pool) => migrations::sqlite().run(pool).await,
            Db::Postgres(pool) => migrations::postgres().run(pool).await,
        };
        result.map_err(|e| StoreError::Migrate(e.to_string()))?;
        self.index_unindexed_papers().await
    }

    /// Migrations this build knows and the database has not applied (0:
    /// the schema is current). Fails when the database does not answer.
    pub async fn pending_migrations(&self) -> Result<usize, StoreError> {
        let (known, applied): (Vec<i64>, Vec<i64>) = match &self.db {
            Db::Sqlite(pool) => (
                migrations::sqlite().iter().map(|m| m.version).collect(),
                sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                    .fetch_all(pool)
                    .await?,
            ),
            Db::Postgres(pool) => (
                migrations::postgres().iter().map(|m| m.version).collect(),
                sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                    .fetch_all(pool)
                    .await?,
            ),
        };
        Ok(known.iter().filter(|v| !applied.contains(v)).count())
    }

    /// Applies migrations up to `version` only: tests start from an older
    /// schema, store what it held, and check that upgrading keeps it.
    #[doc(hidden)]
    pub async fn migrate_up_to(&self, version: i64) -> Result<(), StoreError> {
        let result = match &self.db {
            Db::Sqlite(pool) => migrations::migrator_up_to(version, |m| m.2).run(pool).await,
            Db::Postgres(pool) => migrations::migrator_up_to(version, |m| m.3).run(pool).await,
        };
        result.map_err(|e| StoreError::Migrate(e.to_string()))
    }

    /// "sqlite" or "postgres", for logs and health checks.
    pub fn backend(&self) -> &'static str {
        match self.db {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Closes every connection; waits for queries under way.
    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await)
    }

    /// Adds papers as one transaction: all of them, or none.
    pub async fn add_papers(&self, papers: &[PaperInput], options: AddOptions) -> Result<Vec<i64>, StoreError> {
        let now = db_time(OffsetDateTime::now_utc());
        let is_postgres = matches!(self.db, Db::Postgres(_));
        with_pool!(self, pool => {
            let mut tx = begin_write!(pool, is_postgres);
            // Errors roll back at once, so no connection sits idle in a
            // transaction holding locks until the pool reuses it.
            let written: Result<Vec<i64>, StoreError> = async {
            let mut author_ids: HashMap<String, i64> = HashMap::new();
            let mut topic_ids: HashMap<String, i64> = HashMap::new();
            let mut ids = Vec::with_capacity(papers.len());
            for p in papers {
                let found: Option<(i64, i64)> = sqlx::query_as("SELECT id, revision FROM papers WHERE slug = $1")
                    .bind(&p.slug)
                    .fetch_optional(&mut *tx)
                    .await?;
                if found.is_some() && !options.replace {
                    return Err(StoreError::DuplicatePaper(p.slug.clone()));
                }
                if let Some(expected) = options.expected_revision {
                    let current = found.map_or(0, |f| f.1);
                    if current != expected {
                        return Err(StoreError::StaleRevision { slug: p.slug.clone(), current });
                    }
                }
                let existing = found.map(|f| f.0);
                let authors = resolve_slugs!(
                    tx,
                    &p.authors,
                    author_ids,
                    options.create_missing,
                    now,
                    "author",
                    "SELECT id FROM authors WHERE slug = $1",
                    "INSERT INTO authors (slug, name, bio, links, created_at, updated_at) \
                     VALUES ($1, $2, '', '[]', $3, $3) RETURNING id"
                );
                let topics = resolve_slugs!(
                    tx,
                    &p.topics,
                    topic_ids,
                    options.create_missing,
                    now,
                    "topic",
                    "SELECT id FROM topics WHERE slug = $1",
                    "INSERT INTO topics (slug, name, description, created_at, updated_at) \
                     VALUES ($1, $2, '', $3, $3) RETURNING id"
                );
                let word_count = i64::try_from(quire_core::markdown::word_count(&p.body)).unwrap_or(i64::MAX);
                let published_at = p.published_at.map(db_time);
                // A paper added with a past date has not changed since then:
                // readers should not see "Updated" on the day it was imported.
                let first_version_at = published_at.filter(|t| *t <= now).unwrap_or(now);
                let id: i64 = match existing {
                    Some(id) => {
                        sqlx::query(
                            "UPDATE papers SET title = $2, subtitle = $3, kind = $4, summary = $5, \
                             language = $6, status = $7, published_at = $8, canonical_url = $9, \
                             word_count = $10, updated_at = $11, translation_of = $12, comments = $13, \
                             revision = revision + 1, \
                             submitted_at = CASE WHEN $7 = 'draft' THEN submitted_at ELSE NULL END WHERE id = $1",
                        )
                        .bind(id)
                        .bind(&p.title)
                        .bind(&p.subtitle)
                        .bind(&p.kind)
                        .bind(&p.summary)
                        .bind(&p.language)
                        .bind(p.status.as_str())
                        .bind(published_at)
                        .bind(&p.canonical_url)
                        .bind(word_count)
                        .bind(now)
                        .bind(&p.translation_of)
                        .bind(p.comments.as_str())
                        .execute(&mut *tx)
                        .await?;
                        sqlx::query("DELETE FROM paper_authors WHERE paper_id = $1").bind(id).execute(&mut *tx).await?;
                        sqlx::query("DELETE FROM paper_topics WHERE paper_id = $1").bind(id).execute(&mut *tx).await?;
                        id
                    }
                    None => {
                        sqlx::query_scalar(
                            "INSERT INTO papers (slug, title, subtitle, kind, summary, language, status, \
                             published_at, canonical_url, word_count, created_at, updated_at, translation_of, comments, \
                             revision) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1) RETURNING id",
                        )
                        .bind(&p.slug)
                        .bind(&p.title)
                        .bind(&p.subtitle)
                        .bind(&p.kind)
                        .bind(&p.summary)
                        .bind(&p.language)
                        .bind(p.status.as_str())
                        .bind(published_at)
                        .bind(&p.canonical_url)
                        .bind(word_count)
                        .bind(now)
                        .bind(first_version_at)
                        .bind(&p.translation_of)
                        .bind(p.comments.as_str())
                        .fetch_one(&mut *tx)
                        .await?
                    }
                };
                sqlx::query(
                    "INSERT INTO paper_bodies (paper_id, body) VALUES ($1, $2) \
                     ON CONFLICT (paper_id) DO UPDATE SET body = EXCLUDED.body",
                )
                .bind(id)
                .bind(&p.body)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO paper_revisions (paper_id, number, saved_at, user_id, source) \
                     SELECT id, revision, $2, $3, $4 FROM papers WHERE id = $1",
                )
                .bind(id)
                .bind(now)
                .bind(options.saved_by)
                .bind(quire_core::domain::paper_file_text(p))
                .execute(&mut *tx)
                .await?;
                if !(options.keep_media && existing.is_some()) {
                    sqlx::query("DELETE FROM paper_media WHERE paper_id = $1").bind(id).execute(&mut *tx).await?;
                }
                let media: &[quire_core::domain::MediaInput] =
                    if options.keep_media && existing.is_some() { &[] } else { &p.media };
                for m in media {
                    sqlx::query(
                        "INSERT INTO paper_media (paper_id, name, kind, width, height, byte_size, sha256, data) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(id)
                    .bind(&m.name)
                    .bind(m.kind.as_str())
                    .bind(m.width.map(i64::from))
                    .bind(m.height.map(i64::from))
                    .bind(i64::try_from(m.data.len()).unwrap_or(i64::MAX))
                    .bind(sha256_hex(&m.data))
                    .bind(&m.data)
                    .execute(&mut *tx)
                    .await?;
                }
                for (position, author_id) in authors.iter().enumerate() {
                    sqlx::query("INSERT INTO paper_authors (paper_id, author_id, position) VALUES ($1, $2, $3)")
                        .bind(id)
                        .bind(*author_id)
                        .bind(position as i64)
                        .execute(&mut *tx)
                        .await?;
                }
                for (position, topic_id) in topics.iter().enumerate() {
                    sqlx::query("INSERT INTO paper_topics (paper_id, topic_id, position) VALUES ($1, $2, $3)")
                        .bind(id)
                        .bind(*topic_id)
                        .bind(position as i64)
                        .execute(&mut *tx)
                        .await?;
                }
                index_paper!(tx, id, is_postgres);
                ids.push(id);
            }
            bump_version!(tx, is_postgres);
            Ok(ids)
            }
            .await;
            match written {
                Ok(ids) => {
                    tx.commit().await?;
                    Ok(ids)
                }
                Err(e) => {
                    let _ = tx.rollback().await;
                    Err(e)
                }
            }
        })
    }

    /// Sets a paper's status and publication time.
    pub async fn set_status(
        &self,
        slug: &str,
        status: Status,
        published_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        let published_at = published_at.map(db_time);
        let is_postgres = matches!(self.db, Db::Postgres(_));
        with_pool!(self, pool => {
            let mut tx = begin_write!(pool, is_postgres);
            // A status change is not an edit: updated_at stays.
            let id: Option<i64> =
                sqlx::query_scalar("UPDATE papers SET status = $2, published_at = $3 WHERE slug = $1 RETURNING id")
                    .bind(slug)
                    .bind(status.as_str())
                    .bind(published_at)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some(id) = id else {
                let _ = tx.rollback().await;
                return Err(StoreError::NotFound { what: "paper", slug: slug.to_owned() });
            };
            // The publication year is a search facet.
            let indexed: Result<(), StoreError> = async {
                index_paper!(tx, id, is_postgres);
                Ok(())
            }
            .await;
            if let Err(e) = indexed {
                let _ = tx.rollback().await;
                return Err(e);
            }
            bump_version!(tx, is_postgres);
            tx.commit().await?;
            Ok(())
        })
    }

    /// Moves papers to the trash (`at` given) or back out of it (`None`),
    /// all or none: readers stop or start seeing them at once (search and
    /// lists included); comments and images stay. Papers already where
    /// they are asked to go are left as they are.
    pub async fn set_trashed(&self, slugs: &[String], at: Option<OffsetDateTime>) -> Result<(), StoreError> {
        let at = at.map(db_time);
        let is_postgres = matches!(self.db, Db::Postgres(_));
        with_pool!(self, pool => {
            let mut tx = begin_write!(pool, is_postgres);
            let written: Result<(), StoreError> = async {
                for slug in slugs {
                    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM papers WHERE slug = $1")
                        .bind(slug)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some(id) = id else {
                        return Err(StoreError::NotFound { what: "paper", slug: slug.clone() });
                    };
                    let changed = if at.is_some() {
                        "UPDATE papers SET trashed_at = $2 WHERE id = $1 AND trashed_at IS NULL"
                    } else {
                        "UPDATE papers SET trashed_at = $2 WHERE id = $1 AND trashed_at IS NOT NULL"
                    };
                    sqlx::query(changed).bind(id).bind(at).execute(&mut *tx).await?;
                    index_paper!(tx, id, is_postgres);
                }
                Ok(())
            }
            .await;
            if let Err(e) = written {
                let _ = tx.rollback().await;
                return Err(e);
            }
            bump_version!(tx, is_postgres);
            tx.commit().await?;
            Ok(())
        })
    }

    /// Deletes for good the papers that went to the trash by `before`,
    /// with their comments and images; returns their slugs.
    pub async fn purge_trash(&self, before: OffsetDateTime) -> Result<Vec<String>, StoreError> {
        let is_postgres = matches!(self.db, Db::Postgres(_));
        with_pool!(self, pool => {
            let mut tx = begin_write!(pool, is_postgres);
            let slugs: Vec<String> = sqlx::query_scalar(
                "DELETE FROM papers WHERE trashed_at IS NOT NULL AND trashed_at <= $1 RETURNING slug",
            )
            .bind(db_time(before))
            .fetch_all(&mut *tx)
            .await?;
            bump_version!(tx, is_postgres);
            tx.commit().await?;
            let mut slugs = slugs;
            slugs.sort();
            Ok(slugs)
        })
    }

    /// Adds an author, or updates the one with the same slug. Returns
    /// whether it was new.
    pub async fn upsert_author(&self, a: &AuthorInput) -> Result<bool, StoreError> {
        let now = db_time(OffsetDateTime::now_utc());
        let links = serde_json::to_string(&a.links).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let is_postgres = matches!(self.db, Db::Postgres(_));
        with_pool!(self, pool => {
            let mut tx = begin_write!(pool, is_postgres);
            // Asked inside the transaction, so "new" is true of this write.
            let existed: Option<i64> = sqlx::query_scalar("SELECT id FROM authors WHERE slug = $1")
                .bind(&a.slug)
                .fetch_optional(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO authors (slug, name, affiliation, bio, links, created_at, updated_at, orcid) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6, $7) \
                 ON CONFLICT (slug) DO UPDATE SET name = excluded.name, affiliation = excluded.affiliation, \
                 orcid = excluded.orcid, \
                 bio = excluded.bio, links = excluded.links, updated_at = excluded.updated_at",
            )
            .bind(&a.slug)
            .bind(&a.name)
            .bind(&a.affiliation)
            .bind(&a.bio)
            .bind(&links)
            .bind(now)
            .bind(&a.orcid)
            .execute(&mut *tx)
            .await?;
            bump_version!(tx, is_postgres);
            tx.commit().await?;
            Ok(existed.is_none())
        })
    }

    /// Merges author `from` into author `into`, in one transaction: every
    /// paper that named `from` names `into` in its place (a paper that
    /// named both keeps `into` where it was), the papers' search entries
    /// follow, and `from` is deleted. Returns how many papers changed.
    pub async fn merge_authors(&self, from: &str, into: &str) -> Result<u64, StoreError> {
        self.merge_into(Merge::Authors, from, into).await
    }

    /// Merges topic `from` into topic `into`, as [`Store::merge_authors`]
    /// does, and moves its subscribers and campaigns along.
    pub async fn merge_topics(&self, from: &str, into: &str) -> Result<u64, StoreError> {
        self.merge_into(Merge::Topics, from, into).await
    }

    async fn merge_into(&self, what: Merge, from: &str, into: &str) -> Result<u64, StoreError> {
        let is_postgres = matches!(self.db, Db::Postgres(_));
        let (table, links, column, name) = match what {
            Merge::Authors => ("authors", "paper_authors", "author_id", "author"),
            Merge::Topics => ("topics", "paper_topics", "topic_id", "topic"),
        };
        with_pool!(self, pool => {
            let mut tx = begin_write!(pool, is_postgres);
            let mut ids = [0i64; 2];
            for (i, slug) in [from, into].into_iter().enumerate() {
                ids[i] = sqlx::query_scalar(AssertSqlSafe(format!("SELECT id FROM {table} WHERE slug = $1")))
                    .bind(slug)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| StoreError::NotFound { what: name, slug: slug.to_owned() })?;
            }
            let [from_id, into_id] = ids;
            let papers: Vec<i64> =
                sqlx::query_scalar(AssertSqlSafe(format!("SELECT paper_id FROM {links} WHERE {column} = $1")))
                    .bind(from_id)
                    .fetch_all(&mut *tx)
                    .await?;
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {links} WHERE {column} = $1 AND paper_id IN \
                 (SELECT paper_id FROM {links} WHERE {column} = $2)"
            )))
            .bind(from_id)
            .bind(into_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(AssertSqlSafe(format!("UPDATE {links} SET {column} = $1 WHERE {column} = $2")))
                .bind(into_id)
                .bind(from_id)
                .execute(&mut *tx)
                .await?;
            if what == Merge::Topics {
                sqlx::query(
                    "DELETE FROM subscriber_topics WHERE topic_id = $1 AND subscriber_id IN \
                     (SELECT subscriber_id FROM subscriber_topics WHERE topic_id = $2)",
                )
                .bind(from_id)
                .bind(into_id)
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE subscriber_topics SET topic_id = $1 WHERE topic_id = $2")
                    .bind(into_id)
                    .bind(from_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE campaigns SET topic_id = $1 WHERE topic_id = $2")
                    .bind(into_id)
                    .bind(from_id)
                    .execute(&mut *tx)
                    .await?;
                // Campaigns not started yet choose their recipients by these ids.
                let waiting: Vec<(i64, String)> =
                    sqlx::query_as("SELECT id, recipient_topics FROM campaigns WHERE status = 'scheduled'")
                        .fetch_all(&mut *tx)
                        .await?;
                for (id, topics) in waiting {
                    let mut list: Vec<i64> = topics.split(',').filter_map(|t| t.trim().parse().ok()).collect();
                    if !list.contains(&from_id) {
                        continue;
                    }
                    list.retain(|t| *t != from_id);
                    if !list.contains(&into_id) {
                        list.push(into_id);
                    }
                    sqlx::query("UPDATE campaigns SET recipient_topics = $1 WHERE id = $2")
                        .bind(outbox::topic_list(&list))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE id = $1")))
                .bind(from_id)
                .execute(&mut *tx)
                .await?;
            for id in &papers {
                index_paper!(tx, *id, is_postgres);
            }
            bump_version!(tx, is_postgres);
            tx.commit().await?;
            Ok(papers.len() as u64)
        })
    }

    /// Adds a topic, or updates the one with the same slug. Returns whether
    /// it was new.
    pub async fn upsert_topic(&self, t: &TopicInput) -> Result<bool, StoreError> {
        let now = db_time(OffsetDateTime::now_utc());
        let is_postgres = matches!(self.db, Db::Postgres(_));
        with_pool!(self, pool => {
            let mut tx = begin_write!(pool, is_postgres);
            // Asked inside the transaction, so "new" is true of this write.
            let existed: Option<i64> = sqlx::query_scalar("SELECT id FROM topics WHERE slug = $1")
                .bind(&t.slug)
                .fetch_optional(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO topics (slug, name, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
                 ON CONFLICT (slug) DO UPDATE SET name = excluded.name, description = excluded.description, \
                 updated_at = excluded.updated_at",
            )
            .bind(&t.slug)
            .bind(&t.name)
            .bind(&t.description)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            bump_version!(tx, is_postgres);
            tx.commit().await?;
            Ok(existed.is_none())
        })
    }

    /// Which of `slugs` exist in `table`.
    pub async fn existing_slugs(&self, table: SlugTable, slugs: &[String]) -> Result<Vec<String>, StoreError> {
        let mut found = Vec::new();
        for chunk in slugs.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT slug FROM {} WHERE slug IN ({})",
                table.name(),
                placeholders(1, chunk.len())
            );
            let args: Vec<Arg> = chunk.iter().map(|s| Arg::Text(s.clone())).collect();
            let rows: Vec<String> = with_pool!(self, pool => {
                bind_all!(sqlx::query_scalar(AssertSqlSafe(sql.clone())), &args).fetch_all(pool).await?
            });
            found.extend(rows);
        }
        Ok(found)
    }

    /// Papers matching `q`, newest first, with bylines and topics.
    pub async fn list_papers(&self, q: &PaperQuery) -> Result<Vec<PaperMeta>, StoreError> {
        let (condition, mut args) = paper_condition(q);
        // Listed papers all have a date, so the date index gives the order;
        // editors' lists put undated drafts first.
        let order = match (q.visibility, q.sort) {
            (Visibility::ListedAt(_), _) => "p.published_at DESC, p.id DESC",
            (Visibility::All, PaperSort::Newest) => "p.published_at DESC NULLS FIRST, p.id DESC",
            (Visibility::All, PaperSort::Oldest) => "p.published_at ASC NULLS LAST, p.id ASC",
            (Visibility::All, PaperSort::Updated) => "p.updated_at DESC, p.id DESC",
            (Visibility::All, PaperSort::Title) => "LOWER(p.title) ASC, p.id ASC",
        };
        let sql = match q.limit {
            // Page through ids first (from an index), then read whole rows
            // for that page only: deep archive pages stay fast.
            Some(limit) => {
                args.push(Arg::Int(i64::from(limit)));
                args.push(Arg::Int(i64::from(q.offset)));
                format!(
                    "SELECT {PAPER_COLUMNS} FROM papers p WHERE p.id IN \
                     (SELECT p.id FROM papers p WHERE {condition} ORDER BY {order} LIMIT ${} OFFSET ${}) \
                     ORDER BY {order}",
                    args.len() - 1,
                    args.len()
                )
            }
            None => format!("SELECT {PAPER_COLUMNS} FROM papers p WHERE {condition} ORDER BY {order}"),
        };
        let rows: Vec<PaperRow> = with_pool!(self, pool => {
            bind_all!(sqlx::query_as::<_, PaperRow>(AssertSqlSafe(sql)), &args).fetch_all(pool).await?
        });
        let mut papers = rows
            .into_iter()
            .map(PaperRow::into_meta)
            .collect::<Result<Vec<_>, _>>()?;
        self.attach_refs(&mut papers).await?;
        Ok(papers)
    }

    /// How many papers match `q` (its limit and offset ignored).
    pub async fn count_papers(&self, q: &PaperQuery) -> Result<u64, StoreError> {
        let (condition, args) = paper_condition(q);
        let sql = format!("SELECT COUNT(*) FROM papers p WHERE {condition}");
        let n: i64 = with_pool!(self, pool => {
            bind_all!(sqlx::query_scalar(AssertSqlSafe(sql)), &args).fetch_one(pool).await?
        });
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Papers per status as readers see it at `now` (in [`Status::ALL`]
    /// order), and the papers in the trash, in one pass over the table.
    pub async fn status_counts(&self, now: OffsetDateTime) -> Result<(Vec<(Status, u64)>, u64), StoreError> {
        let rows: Vec<(String, i64)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT CASE WHEN p.trashed_at IS NOT NULL THEN 'trash' \
                 WHEN p.status IN ('published', 'scheduled') AND p.published_at IS NOT NULL \
                 AND p.published_at <= $1 THEN 'published' \
                 WHEN p.status IN ('published', 'scheduled') THEN 'scheduled' \
                 ELSE p.status END AS seen, COUNT(*) FROM papers p GROUP BY 1",
            )
            .bind(db_time(now))
            .fetch_all(pool)
            .await?
        });
        let count = |name: &str| {
            rows.iter()
                .find(|r| r.0 == name)
                .map_or(0, |r| u64::try_from(r.1).unwrap_or(0))
        };
        let per_status = Status::ALL.iter().map(|s| (*s, count(s.as_str()))).collect();
        Ok((per_status, count("trash")))
    }

    /// Every author's slug and name, by name (for choosing one; no counts).
    pub async fn author_names(&self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as("SELECT slug, name FROM authors ORDER BY name, slug").fetch_all(pool).await?
        }))
    }

    /// Every topic's slug and name, by name (for choosing one; no counts).
    pub async fn topic_names(&self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as("SELECT slug, name FROM topics ORDER BY name, slug").fetch_all(pool).await?
        }))
    }

    /// One paper with its body, whatever its status.
    pub async fn get_paper(&self, slug: &str) -> Result<Option<Paper>, StoreError> {
        let sql = format!("SELECT {PAPER_COLUMNS} FROM papers p WHERE p.slug = $1");
        let row: Option<PaperRow> = with_pool!(self, pool => {
            sqlx::query_as::<_, PaperRow>(AssertSqlSafe(sql)).bind(slug).fetch_optional(pool).await?
        });
        let Some(row) = row else { return Ok(None) };
        let id = row.id;
        let mut meta = vec![row.into_meta()?];
        self.attach_refs(&mut meta).await?;
        let body: String = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT body FROM paper_bodies WHERE paper_id = $1").bind(id).fetch_one(pool).await?
        });
        let meta = meta.pop().ok_or_else(|| StoreError::Corrupt("paper vanished".into()))?;
        let rows: Vec<MediaRow> = with_pool!(self, pool => {
            sqlx::query_as::<_, MediaRow>(AssertSqlSafe(format!(
                "SELECT {MEDIA_COLUMNS} FROM paper_media WHERE paper_id = $1 ORDER BY name"
            )))
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        let media = rows.into_iter().map(MediaRow::into_meta).collect::<Result<_, _>>()?;
        Ok(Some(Paper { meta, body, media }))
    }

    /// One image of the paper with id `paper_id`, with its bytes.
    pub async fn media_file(&self, paper_id: i64, name: &str) -> Result<Option<MediaFile>, StoreError> {
        let sql = format!("SELECT {MEDIA_COLUMNS}, data FROM paper_media WHERE paper_id = $1 AND name = $2");
        let row: Option<MediaFileRow> = with_pool!(self, pool => {
            sqlx::query_as::<_, MediaFileRow>(AssertSqlSafe(sql)).bind(paper_id).bind(name).fetch_optional(pool).await?
        });
        row.map(MediaFileRow::into_file).transpose()
    }

    /// Every image of the paper with id `paper_id`, with their bytes: for
    /// its PDF and its export.
    pub async fn media_files(&self, paper_id: i64) -> Result<Vec<MediaFile>, StoreError> {
        let sql = format!("SELECT {MEDIA_COLUMNS}, data FROM paper_media WHERE paper_id = $1 ORDER BY name");
        let rows: Vec<MediaFileRow> = with_pool!(self, pool => {
            sqlx::query_as::<_, MediaFileRow>(AssertSqlSafe(sql)).bind(paper_id).fetch_all(pool).await?
        });
        rows.into_iter().map(MediaFileRow::into_file).collect()
    }

    /// Fills in bylines and topics, a few queries for the whole list.
    async fn attach_refs(&self, papers: &mut [PaperMeta]) -> Result<(), StoreError> {
        let index: HashMap<i64, usize> = papers.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
        let ids: Vec<i64> = papers.iter().map(|p| p.id).collect();
        for chunk in ids.chunks(IN_CHUNK) {
            let args: Vec<Arg> = chunk.iter().map(|id| Arg::Int(*id)).collect();
            let list = placeholders(1, chunk.len());
            let authors_sql = format!(
                "SELECT pa.paper_id, a.slug, a.name, a.affiliation FROM paper_authors pa \
                 JOIN authors a ON a.id = pa.author_id WHERE pa.paper_id IN ({list}) \
                 ORDER BY pa.paper_id, pa.position"
            );
            let topics_sql = format!(
                "SELECT pt.paper_id, t.slug, t.name FROM paper_topics pt \
                 JOIN topics t ON t.id = pt.topic_id WHERE pt.paper_id IN ({list}) \
                 ORDER BY pt.paper_id, pt.position"
            );
            let counts_sql = format!(
                "SELECT paper_id, COUNT(*) FROM comments WHERE status = 'approved' AND paper_id IN ({list}) \
                 GROUP BY paper_id"
            );
            let (bylines, topics, counts): (Vec<BylineRow>, Vec<TopicRefRow>, Vec<(i64, i64)>) = with_pool!(self, pool => {(
                bind_all!(sqlx::query_as::<_, BylineRow>(AssertSqlSafe(authors_sql)), &args).fetch_all(pool).await?,
                bind_all!(sqlx::query_as::<_, TopicRefRow>(AssertSqlSafe(topics_sql)), &args).fetch_all(pool).await?,
                bind_all!(sqlx::query_as::<_, (i64, i64)>(AssertSqlSafe(counts_sql)), &args).fetch_all(pool).await?,
            )});
            for (paper_id, n) in counts {
                if let Some(&i) = index.get(&paper_id) {
                    papers[i].comment_count = u64::try_from(n).unwrap_or(0);
                }
            }
            for b in bylines {
                if let Some(&i) = index.get(&b.paper_id) {
                    papers[i].authors.push(AuthorRef {
                        slug: b.slug,
                        name: b.name,
                        affiliation: b.affiliation,
                    });
                }
            }
            for t in topics {
                if let Some(&i) = index.get(&t.paper_id) {
                    papers[i].topics.push(TopicRef {
                        slug: t.slug,
                        name: t.name,
                    });
                }
            }
        }
        Ok(())
    }

    /// Every author, by name, with the number of papers `visibility` allows.
    pub async fn list_authors(&self, visibility: Visibility) -> Result<Vec<Author>, StoreError> {
        self.authors_where("a.slug", None, visibility).await
    }

    /// One author by slug.
    pub async fn get_author(&self, slug: &str, visibility: Visibility) -> Result<Option<Author>, StoreError> {
        Ok(self.authors_where("a.slug", Some(slug), visibility).await?.pop())
    }

    /// Authors by slug, in the order asked, without counting their papers
    /// (`paper_count` is 0): what a paper's "About the authors" needs.
    pub async fn authors_by_slugs(&self, slugs: &[String]) -> Result<Vec<Author>, StoreError> {
        if slugs.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT a.slug, a.name, a.affiliation, a.orcid, a.bio, a.links, CAST(0 AS BIGINT) AS paper_count \
             FROM authors a WHERE a.slug IN ({})",
            placeholders(1, slugs.len())
        );
        let args: Vec<Arg> = slugs.iter().map(|s| Arg::Text(s.clone())).collect();
        let rows: Vec<AuthorRow> = with_pool!(self, pool => {
            bind_all!(sqlx::query_as::<_, AuthorRow>(AssertSqlSafe(sql)), &args).fetch_all(pool).await?
        });
        let mut authors = rows
            .into_iter()
            .map(AuthorRow::into_author)
            .collect::<Result<Vec<_>, _>>()?;
        authors.sort_by_key(|a| slugs.iter().position(|s| *s == a.slug));
        Ok(authors)
    }

    async fn authors_where(
        &self,
        slug_column: &str,
        slug: Option<&str>,
        visibility: Visibility,
    ) -> Result<Vec<Author>, StoreError> {
        let (count_condition, mut args) = visibility_args(visibility, 1);
        let condition = slug_condition(slug_column, slug, &mut args);
        let sql = format!(
            "SELECT a.slug, a.name, a.affiliation, a.orcid, a.bio, a.links, \
             (SELECT COUNT(*) FROM paper_authors pa JOIN papers p ON p.id = pa.paper_id \
              WHERE pa.author_id = a.id AND {count_condition}) AS paper_count \
             FROM authors a WHERE {condition} ORDER BY a.name, a.slug"
        );
        let rows: Vec<AuthorRow> = with_pool!(self, pool => {
            bind_all!(sqlx::query_as::<_, AuthorRow>(AssertSqlSafe(sql)), &args).fetch_all(pool).await?
        });
        rows.into_iter().map(AuthorRow::into_author).collect()
    }

    /// Every topic, by name, with the number of papers `visibility` allows.
    pub async fn list_topics(&self, visibility: Visibility) -> Result<Vec<Topic>, StoreError> {
        self.topics_where("t.slug", None, visibility).await
    }

    /// One topic by slug.
    pub async fn get_topic(&self, slug: &str, visibility: Visibility) -> Result<Option<Topic>, StoreError> {
        Ok(self.topics_where("t.slug", Some(slug), visibility).await?.pop())
    }

    async fn topics_where(
        &self,
        slug_column: &str,
        slug: Option<&str>,
        visibility: Visibility,
    ) -> Result<Vec<Topic>, StoreError> {
        let (count_condition, mut args) = visibility_args(visibility, 1);
        let condition = slug_condition(slug_column, slug, &mut args);
        let sql = format!(
            "SELECT t.slug, t.name, t.description, \
             (SELECT COUNT(*) FROM paper_topics pt JOIN papers p ON p.id = pt.paper_id \
              WHERE pt.topic_id = t.id AND {count_condition}) AS paper_count \
             FROM topics t WHERE {condition} ORDER BY t.name, t.slug"
        );
        let rows: Vec<TopicRow> = with_pool!(self, pool => {
            bind_all!(sqlx::query_as::<_, TopicRow>(AssertSqlSafe(sql)), &args).fetch_all(pool).await?
        });
        Ok(rows
            .into_iter()
            .map(|r| Topic {
                slug: r.slug,
                name: r.name,
                description: r.description,
                paper_count: r.paper_count,
            })
            .collect())
    }

    /// The papers in one translation family (an original and every paper
    /// naming it in `translation_of`) that a reader may see at `now`,
    /// `slug` itself included, ordered by language.
    pub async fn translations(
        &self,
        slug: &str,
        original: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Vec<TranslationRef>, StoreError> {
        let root = original.unwrap_or(slug);
        let sql = format!(
            "SELECT p.slug, p.title, p.language FROM papers p \
             WHERE (p.slug = $2 OR p.translation_of = $2) AND ((p.status = 'archived' AND p.trashed_at IS NULL) OR ({})) \
             ORDER BY p.language, p.slug",
            listed_condition(1)
        );
        let rows: Vec<(String, String, String)> = with_pool!(self, pool => {
            sqlx::query_as::<_, (String, String, String)>(AssertSqlSafe(sql))
                .bind(db_time(now))
                .bind(root)
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(slug, title, language)| TranslationRef { slug, title, language })
            .collect())
    }

    /// Slug and last change of every paper `q` selects, newest first: what
    /// a sitemap needs, without reading bylines or bodies.
    pub async fn paper_stamps(&self, q: &PaperQuery) -> Result<Vec<PaperStamp>, StoreError> {
        let (condition, mut args) = paper_condition(q);
        let mut sql = format!(
            "SELECT p.slug, p.updated_at FROM papers p WHERE {condition} ORDER BY p.published_at DESC, p.id DESC"
        );
        if let Some(limit) = q.limit {
            args.push(Arg::Int(i64::from(limit)));
            args.push(Arg::Int(i64::from(q.offset)));
            sql.push_str(&format!(" LIMIT ${} OFFSET ${}", args.len() - 1, args.len()));
        }
        let rows: Vec<PaperStamp> = with_pool!(self, pool => {
            bind_all!(sqlx::query_as::<_, PaperStamp>(AssertSqlSafe(sql)), &args).fetch_all(pool).await?
        });
        Ok(rows)
    }

    /// The first and last years in which readers can see papers published.
    pub async fn year_range(&self, now: OffsetDateTime) -> Result<Option<(i32, i32)>, StoreError> {
        let sql = format!(
            "SELECT MIN(p.published_at), MAX(p.published_at) FROM papers p WHERE {}",
            listed_condition(1)
        );
        let (first, last): (Option<OffsetDateTime>, Option<OffsetDateTime>) = with_pool!(self, pool => {
            sqlx::query_as(AssertSqlSafe(sql)).bind(db_time(now)).fetch_one(pool).await?
        });
        Ok(first.zip(last).map(|(a, b)| (a.year(), b.year())))
    }

    /// The Markdown bodies of the papers with these ids, for feeds.
    pub async fn bodies(&self, ids: &[i64]) -> Result<HashMap<i64, String>, StoreError> {
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT paper_id, body FROM paper_bodies WHERE paper_id IN ({})",
                placeholders(1, chunk.len())
            );
            let args: Vec<Arg> = chunk.iter().map(|id| Arg::Int(*id)).collect();
            let rows: Vec<(i64, String)> = with_pool!(self, pool => {
                bind_all!(sqlx::query_as::<_, (i64, String)>(AssertSqlSafe(sql)), &args).fetch_all(pool).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// A number that grows with every write, by any process.
    pub async fn content_version(&self) -> Result<i64, StoreError> {
        let v: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT CAST(version AS BIGINT) FROM content_version WHERE id = 1").fetch_one(pool).await?
        });
        Ok(v)
    }

    /// When the next paper becomes visible after `now`, if any is waiting.
    pub async fn next_publication_after(&self, now: OffsetDateTime) -> Result<Option<OffsetDateTime>, StoreError> {
        let t: Option<OffsetDateTime> = with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT MIN(published_at) FROM papers WHERE status IN ('published', 'scheduled') AND published_at > $1 \
                 AND trashed_at IS NULL",
            )
            .bind(db_time(now))
            .fetch_one(pool)
            .await?
        });
        Ok(t)
    }

    /// Calls `on_change` soon after any process writes content. SQLite: a
    /// change counter read every `poll`; PostgreSQL: LISTEN/NOTIFY, with
    /// the counter as a safety net when the listening connection drops.
    pub fn watch_changes<F>(&self, poll: Duration, on_change: F) -> tokio::task::JoinHandle<()>
    where
        F: Fn() + Send + Sync + 'static,
    {
        let store = self.clone();
        tokio::spawn(async move {
            let mut last = store.content_version().await.ok();
            let mut listener = match &store.db {
                Db::Postgres(pool) => match PgListener::connect_with(pool).await {
                    Ok(mut l) => match l.listen(CHANGES_CHANNEL).await {
                        Ok(()) => Some(l),
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot LISTEN for changes; polling instead");
                            None
                        }
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot LISTEN for changes; polling instead");
                        None
                    }
                },
                Db::Sqlite(_) => None,
            };
            loop {
                match listener.as_mut() {
                    Some(l) => {
                        tokio::select! {
                            n = l.try_recv() => match n {
                                Ok(Some(_)) => {
                                    last = store.content_version().await.ok().or(last);
                                    on_change();
                                    continue;
                                }
                                // The connection dropped and was re-made:
                                // anything may have happened meanwhile.
                                Ok(None) => { on_change(); continue; }
                                Err(e) => {
                                    tracing::warn!(error = %e, "change listener failed");
                                    tokio::time::sleep(poll).await;
                                }
                            },
                            () = tokio::time::sleep(poll * 10) => {}
                        }
                    }
                    None => tokio::time::sleep(poll).await,
                }
                match store.content_version().await {
                    Ok(v) if Some(v) != last => {
                        last = Some(v);
                        on_change();
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "cannot read the content version"),
                }
            }
        })
    }
}

/// The WHERE condition and its arguments for a paper query.
fn paper_condition(q: &PaperQuery) -> (String, Vec<Arg>) {
    let mut parts: Vec<String> = Vec::new();
    let mut args: Vec<Arg> = Vec::new();
    if let Visibility::ListedAt(now) = q.visibility {
        args.push(Arg::Time(db_time(now)));
        parts.push(listed_condition(args.len()));
    }
    parts.push(
        if q.trashed {
            "p.trashed_at IS NOT NULL"
        } else {
            "p.trashed_at IS NULL"
        }
        .to_owned(),
    );
    if let Some((status, now)) = q.status {
        // The SQL of Status::seen_at.
        let live = "p.status IN ('published', 'scheduled')";
        match status {
            Status::Published => {
                args.push(Arg::Time(db_time(now)));
                parts.push(format!(
                    "{live} AND p.published_at IS NOT NULL AND p.published_at <= ${}",
                    args.len()
                ));
            }
            Status::Scheduled => {
                args.push(Arg::Time(db_time(now)));
                parts.push(format!(
                    "{live} AND (p.published_at IS NULL OR p.published_at > ${})",
                    args.len()
                ));
            }
            Status::Draft | Status::Archived => {
                args.push(Arg::Text(status.as_str().to_owned()));
                parts.push(format!("p.status = ${}", args.len()));
            }
        }
    }
    if q.submitted {
        parts.push("p.status = 'draft' AND p.submitted_at IS NOT NULL".to_owned());
    }
    if let Some(kind) = &q.kind {
        args.push(Arg::Text(kind.clone()));
        parts.push(format!("p.kind = ${}", args.len()));
    }
    if let Some(author) = &q.author {
        args.push(Arg::Text(author.clone()));
        parts.push(format!(
            "p.id IN (SELECT pa.paper_id FROM paper_authors pa JOIN authors a ON a.id = pa.author_id WHERE a.slug = ${})",
            args.len()
        ));
    }
    if let Some(topic) = &q.topic {
        args.push(Arg::Text(topic.clone()));
        parts.push(format!(
            "p.id IN (SELECT pt.paper_id FROM paper_topics pt JOIN topics t ON t.id = pt.topic_id WHERE t.slug = ${})",
            args.len()
        ));
    }
    if let Some(year) = q.year {
        let start = time::Date::from_ordinal_date(year, 1).map(|d| d.midnight().assume_utc());
        let end = time::Date::from_ordinal_date(year + 1, 1).map(|d| d.midnight().assume_utc());
        if let (Ok(start), Ok(end)) = (start, end) {
            args.push(Arg::Time(start));
            args.push(Arg::Time(end));
            parts.push(format!(
                "p.published_at >= ${} AND p.published_at < ${}",
                args.len() - 1,
                args.len()
            ));
        } else {
            parts.push("1 = 0".into());
        }
    }
    if let Some(after) = q.published_after {
        args.push(Arg::Time(db_time(after)));
        parts.push(format!("p.published_at > ${}", args.len()));
    }
    if parts.is_empty() {
        parts.push("1 = 1".into());
    }
    (parts.join(" AND "), args)
}

/// `column = $n` when a slug is asked for, else no condition.
fn slug_condition(column: &str, slug: Option<&str>, args: &mut Vec<Arg>) -> String {
    match slug {
        Some(slug) => {
            args.push(Arg::Text(slug.to_owned()));
            format!("{column} = ${}", args.len())
        }
        None => "1 = 1".into(),
    }
}

/// A paper-count condition for `visibility`, its time bound to `$first`.
fn visibility_args(visibility: Visibility, first: usize) -> (String, Vec<Arg>) {
    match visibility {
        Visibility::All => ("1 = 1".into(), Vec::new()),
        Visibility::ListedAt(now) => (listed_condition(first), vec![Arg::Time(db_time(now))]),
    }
}

/// A connection failure in words a reader can act on, never with the URL's
/// password (sqlx does not print URLs; we keep it that way).
fn describe_connect_error(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::PoolTimedOut => format!(
            "no answer within {} seconds: check the host and port, and that the server is running",
            CONNECT_TIMEOUT.as_secs()
        ),
        sqlx::Error::Io(io) => format!("{io}: check the host and port, and that the server is running"),
        sqlx::Error::Database(db) => format!("the server refused: {}", db.message()),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connecting_gives_up_within_five_seconds() {
        assert!(CONNECT_TIMEOUT <= Duration::from_secs(5));
    }

    #[test]
    fn placeholders_number_from_the_first() {
        assert_eq!(placeholders(3, 3), "$3, $4, $5");
    }

    #[test]
    fn connect_errors_say_what_to_check() {
        let timeout = describe_connect_error(&sqlx::Error::PoolTimedOut);
        assert!(
            timeout.contains("5 seconds") && timeout.contains("host and port"),
            "{timeout}"
        );
        let io = describe_connect_error(&sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        assert!(io.contains("server is running"), "{io}");
    }

    #[tokio::test]
    async fn unknown_database_schemes_are_refused() {
        let err = Store::connect("mysql://root:pw@localhost/db")
            .await
            .expect_err("not supported");
        let msg = err.to_string();
        assert!(
            msg.contains("sqlite://PATH or postgres://") && !msg.contains("pw@"),
            "{msg}"
        );
    }
}
