//! Helpers shared by the whole-program tests: stores on a real SQLite file
//! or a real PostgreSQL schema, and paper fixtures.
#![allow(dead_code)]

pub mod http;
pub mod smtp;
pub mod store_suite;

use quire_core::domain::{AuthorInput, PaperInput, Status, TopicInput};
use quire_store::Store;
use sqlx::Connection;
use sqlx::postgres::PgConnectOptions;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use time::OffsetDateTime;

/// A store on a fresh SQLite file; keep the directory alive with it.
pub async fn sqlite_store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("quire.db").display());
    let store = Store::connect(&url).await.expect("open sqlite");
    (store, dir)
}

/// A PostgreSQL test database: its own schema, dropped by `cleanup`.
pub struct PgTestDb {
    pub url: String,
    pub schema: String,
}

static SCHEMAS: AtomicU32 = AtomicU32::new(0);

/// Says, once per test binary and past the test harness's output capture,
/// that the PostgreSQL tests did not run.
pub fn say_postgres_skipped(test: &str) {
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "PostgreSQL suite skipped: QUIRE_TEST_POSTGRES_URL is not set (first skipped test: {test}). \
             .ci/run sets it; to run it yourself: \
             QUIRE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo test --test store_postgres --test comments --test newsletter"
        );
    });
}

impl PgTestDb {
    /// A fresh schema in `QUIRE_TEST_POSTGRES_URL`, or `None` (printing
    /// that the test was skipped) when the variable is not set.
    pub async fn create(test: &str) -> Option<PgTestDb> {
        let Ok(url) = std::env::var("QUIRE_TEST_POSTGRES_URL") else {
            say_postgres_skipped(test);
            return None;
        };
        let schema = format!(
            "quire_test_{}_{}_{}",
            std::process::id(),
            SCHEMAS.fetch_add(1, Ordering::Relaxed),
            OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000
        );
        let mut conn = sqlx::PgConnection::connect(&url)
            .await
            .expect("connect to QUIRE_TEST_POSTGRES_URL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&mut conn)
            .await
            .expect("create schema");
        conn.close().await.ok();
        Some(PgTestDb { url, schema })
    }

    /// A new, migrated store (its own pool) on this schema.
    pub async fn store(&self) -> Store {
        let store = self.unmigrated_store().await;
        store.migrate().await.expect("migrate");
        store
    }

    /// A store on this schema as it is: upgrade tests build old schemas.
    pub async fn unmigrated_store(&self) -> Store {
        let options = PgConnectOptions::from_str(&self.url)
            .expect("postgres url")
            .options([("search_path", self.schema.as_str())]);
        Store::connect_postgres(options).await.expect("connect")
    }

    pub async fn cleanup(self) {
        if let Ok(mut conn) = sqlx::PgConnection::connect(&self.url).await {
            // Never hang a test run on a lock: a schema left behind is harmless.
            let _ = sqlx::query("SET lock_timeout = '5s'").execute(&mut conn).await;
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {} CASCADE", self.schema)))
                .execute(&mut conn)
                .await;
        }
    }
}

/// Keeps a test's PostgreSQL schema while the test runs and drops it when
/// the test ends.
pub struct PgGuard {
    db: Option<PgTestDb>,
}

impl PgGuard {
    pub fn new(db: PgTestDb) -> PgGuard {
        PgGuard { db: Some(db) }
    }

    pub fn db(&self) -> &PgTestDb {
        self.db.as_ref().expect("db")
    }

    /// Another store (its own pool) on the same schema, as a second server.
    pub async fn second_store(&self) -> Store {
        self.db.as_ref().expect("db").store().await
    }
}

impl Drop for PgGuard {
    fn drop(&mut self) {
        if let Some(db) = self.db.take() {
            // Cleanup needs a runtime of its own: the test's is shutting down.
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    rt.block_on(db.cleanup());
                }
            })
            .join();
        }
    }
}

pub fn author(slug: &str, name: &str) -> AuthorInput {
    AuthorInput {
        slug: slug.into(),
        name: name.into(),
        affiliation: Some("Institute of Tests".into()),
        orcid: None,
        bio: "Writes *tests*.".into(),
        links: vec![],
    }
}

pub fn topic(slug: &str, name: &str) -> TopicInput {
    TopicInput {
        slug: slug.into(),
        name: name.into(),
        description: format!("About {name}."),
    }
}

/// A published paper by `authors` on `topics`, published at `published_at`.
pub fn paper(slug: &str, published_at: OffsetDateTime, authors: &[&str], topics: &[&str]) -> PaperInput {
    PaperInput {
        slug: slug.into(),
        title: format!("Paper {slug}"),
        subtitle: Some("A subtitle".into()),
        kind: "report".into(),
        summary: format!("Summary of {slug}."),
        body: "## Background\n\nSome words here.[^1]\n\n[^1]: A note.\n".into(),
        authors: authors.iter().map(|s| s.to_string()).collect(),
        topics: topics.iter().map(|s| s.to_string()).collect(),
        language: "en".into(),
        status: Status::Published,
        published_at: Some(published_at),
        canonical_url: None,
        translation_of: None,
        comments: quire_core::domain::CommentsMode::Open,
        media: Vec::new(),
    }
}

/// A real PNG of `w` × `h` pixels in one colour, so that tests need no
/// binary fixtures.
pub fn png(w: u32, h: u32, rgb: [u8; 3]) -> Vec<u8> {
    use std::io::Write;
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend(u32::try_from(data.len()).expect("chunk size").to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend(kind);
        out.extend(data);
        out.extend(crc.sum().to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend(w.to_be_bytes());
    header.extend(h.to_be_bytes());
    header.extend([8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &header);
    // Each row: filter byte 0, then the pixels.
    let row: Vec<u8> = std::iter::once(0)
        .chain(rgb.iter().copied().cycle().take(3 * w as usize))
        .collect();
    let raw = row.repeat(h as usize);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&raw).expect("compress");
    chunk(&mut out, b"IDAT", &z.finish().expect("compress"));
    chunk(&mut out, b"IEND", &[]);
    out
}

/// A small SVG drawing that also carries a script, which must never run.
pub const SVG: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"30\" height=\"10\" viewBox=\"0 0 30 10\">\
    <script>alert(1)</script><rect width=\"30\" height=\"10\" fill=\"#c00\"/></svg>";

/// `data` as an image the paper stores under `name`.
pub fn media(name: &str, data: &[u8]) -> quire_core::domain::MediaInput {
    let (kind, size) = quire_core::domain::check_media(name, data).expect("a valid test image");
    quire_core::domain::MediaInput {
        name: name.into(),
        kind,
        width: size.map(|s| s.0),
        height: size.map(|s| s.1),
        data: data.to_vec(),
    }
}
