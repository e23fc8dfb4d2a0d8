//! The Store API suite on PostgreSQL: each test in its own schema of the
//! database named by QUIRE_TEST_POSTGRES_URL. Skipped (with a message)
//! when that variable is not set; .ci/run always sets it.

use crate::common;

use quire_store::Store;

use common::PgGuard as Guard;

async fn open(name: &str) -> Option<(Store, Guard)> {
    let db = common::PgTestDb::create(name).await?;
    let store = db.store().await;
    Some((store, Guard::new(db)))
}

crate::store_suite!(open);

#[tokio::test]
async fn unreachable_server_fails_fast_without_password() {
    let started = std::time::Instant::now();
    let err = Store::connect("postgres://quire:hunter2@127.0.0.1:1/quire")
        .await
        .expect_err("no server there");
    let msg = err.to_string();
    assert!(msg.contains("postgres://quire:***@127.0.0.1:1/quire"), "{msg}");
    assert!(!msg.contains("hunter2"), "{msg}");
    println!("refused connection reported after {:?}", started.elapsed());
}

#[tokio::test]
async fn refused_login_is_explained_without_password() {
    let Ok(url) = std::env::var("QUIRE_TEST_POSTGRES_URL") else {
        common::say_postgres_skipped("refused_login_is_explained_without_password");
        return;
    };
    let host = url
        .split('@')
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or("127.0.0.1:5432");
    let bad = format!("postgres://no_such_role_quire:hunter2@{host}/no_such_db_quire");
    let err = Store::connect(&bad).await.expect_err("no such role");
    let msg = err.to_string();
    assert!(msg.contains("no_such_role_quire:***@"), "{msg}");
    assert!(!msg.contains("hunter2"), "{msg}");
    assert!(
        msg.contains("refused") || msg.contains("does not exist") || msg.contains("authentication"),
        "{msg}"
    );
}

/// The site itself on PostgreSQL: every page type renders from this back end.
#[tokio::test]
async fn pages_render_from_postgres() {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use quire_store::AddOptions;
    use tower::ServiceExt;

    let Some(db) = common::PgTestDb::create("pages_render_from_postgres").await else {
        return;
    };
    let guard = Guard::new(db);
    let store = guard.second_store().await;
    store
        .upsert_author(&common::author("ada", "Ada Lovelace"))
        .await
        .expect("author");
    let now = time::OffsetDateTime::now_utc();
    let mut papers: Vec<_> = (0..35)
        .map(|i| {
            common::paper(
                &format!("p{i}"),
                now - time::Duration::days(i * 40),
                &["ada"],
                &["trade"],
            )
        })
        .collect();
    papers[0].language = "ar".into();
    store
        .add_papers(
            &papers,
            AddOptions {
                create_missing: true,
                replace: false,
                ..AddOptions::default()
            },
        )
        .await
        .expect("add");
    let state = quire_web::AppState::new(
        store,
        quire_app::config::Config {
            pages: quire_app::config::PagesConfig {
                papers_per_page: 10,
                ..Default::default()
            },
            ..Default::default()
        },
        quire_render::Theme::embedded().expect("theme"),
    );
    for (uri, status, needle) in [
        ("/", StatusCode::OK, "Paper p1"),
        ("/papers/p0/", StatusCode::OK, "<html lang=\"ar\" dir=\"rtl\">"),
        ("/archive/?page=4", StatusCode::OK, "Page 4 of 4"),
        ("/archive/?page=5", StatusCode::NOT_FOUND, "Page not found"),
        ("/authors/ada/?page=2", StatusCode::OK, "Page 2 of 4"),
        ("/topics/trade/", StatusCode::OK, "Paper p9"),
        ("/authors/", StatusCode::OK, "35 papers"),
        ("/healthz", StatusCode::OK, "ok"),
        ("/search?q=summary+p3", StatusCode::OK, "1 paper found"),
        ("/search?q=summary&author=ada", StatusCode::OK, "35 papers found"),
        (
            "/search?q=%22%3E%3C%2F%3E%2A",
            StatusCode::OK,
            "Type words to search for",
        ),
        ("/search?q=%22%3E%3Cscript%3E", StatusCode::OK, "No papers found"),
        ("/feed.atom", StatusCode::OK, "<entry xml:lang=\"ar\">"),
        (
            "/topics/trade/feed.json",
            StatusCode::OK,
            "\"version\": \"https://jsonfeed.org/version/1.1\"",
        ),
        ("/sitemap.xml", StatusCode::OK, "/papers/p34/</loc>"),
        ("/papers/p1/cite.bib", StatusCode::OK, "@techreport{p1,"),
    ] {
        let res = quire_web::app(state.clone())
            .oneshot(Request::builder().uri(uri).body(Body::empty()).expect("request"))
            .await
            .expect("infallible");
        assert_eq!(res.status(), status, "{uri}");
        let body = res.into_body().collect().await.expect("body").to_bytes();
        assert!(
            String::from_utf8_lossy(&body).contains(needle),
            "{uri} lacks {needle:?}"
        );
    }
}

/// PostgreSQL reads matches window by window of recency words, newest
/// first: papers far apart in id, a draft among them, and a phrase and a
/// topic filter are all found, in order, with the right count.
#[tokio::test]
async fn search_finds_matches_across_recency_windows() {
    use quire_store::{AddOptions, PaperQuery, SearchQuery, SearchTerms};
    use sqlx::Connection;
    let Some(db) = common::PgTestDb::create("recency_windows").await else {
        return;
    };
    let guard = Guard::new(db);
    let db = guard.db();
    let store = db.store().await;
    store
        .upsert_author(&common::author("ada", "Ada Lovelace"))
        .await
        .expect("author");
    store
        .upsert_topic(&common::topic("coasts", "Coasts"))
        .await
        .expect("topic");
    let mut sql = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    let now = time::OffsetDateTime::now_utc();
    // Ids 1…, 5,000…, 70,000… and 300,000…: the newest window, windows
    // further back, and the pass over everything older.
    let mut expected = Vec::new();
    for (start, slugs) in [
        (None, vec!["a1", "a2"]),
        (Some(5_000), vec!["b1", "b-foghorn"]),
        (Some(70_000), vec!["c1", "c-draft", "c-foghorn"]),
        (Some(300_000), vec!["d1", "d2"]),
    ] {
        if let Some(start) = start {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "ALTER TABLE {}.papers ALTER COLUMN id RESTART WITH {start}",
                db.schema
            )))
            .execute(&mut sql)
            .await
            .expect("restart ids");
        }
        let papers: Vec<_> = slugs
            .iter()
            .map(|slug| {
                let mut p = common::paper(slug, now - time::Duration::days(3), &["ada"], &["coasts"]);
                p.body = if slug.ends_with('1') {
                    "The lighthouse keeper kept the log.".into()
                } else {
                    "A keeper of the old lighthouse.".into()
                };
                if slug.ends_with("foghorn") {
                    p.body = "Only a foghorn here.".into();
                }
                if *slug == "b1" {
                    p.published_at = Some(now - time::Duration::days(800));
                }
                if *slug == "c-draft" {
                    p.status = quire_core::domain::Status::Draft;
                    p.published_at = None;
                }
                p
            })
            .collect();
        store.add_papers(&papers, AddOptions::default()).await.expect("add");
        expected.extend(slugs.into_iter().filter(|s| *s != "c-draft" && !s.ends_with("foghorn")));
    }
    expected.reverse();
    let search = |q: &str, topic: Option<&str>| SearchQuery {
        terms: SearchTerms::parse(q),
        filter: PaperQuery {
            limit: Some(10),
            topic: topic.map(str::to_owned),
            ..PaperQuery::listed_at(time::OffsetDateTime::now_utc())
        },
    };
    let slugs =
        |page: quire_store::SearchPage| -> Vec<String> { page.hits.into_iter().map(|h| h.paper.slug).collect() };
    let all = store.search(&search("lighthouse", None)).await.expect("search");
    assert_eq!((all.total, all.total_is_exact), (6, true));
    assert_eq!(slugs(all), expected, "every window, newest first, no draft");
    let phrase = store
        .search(&search("\"lighthouse keeper\"", Some("coasts")))
        .await
        .expect("phrase");
    assert_eq!(slugs(phrase), ["d1", "c1", "b1", "a1"]);
    // Only far back: the search narrows down to where the matches are.
    let rare = store.search(&search("foghorn", None)).await.expect("rare");
    assert_eq!(slugs(rare), ["c-foghorn", "b-foghorn"]);
    // A filter every paper has does not lead the search astray.
    let rare = store.search(&search("foghorn", Some("coasts"))).await.expect("rare");
    assert_eq!(slugs(rare), ["c-foghorn", "b-foghorn"]);
    // Only far back: found after the newer windows turned out empty.
    let mut long_ago = search("lighthouse", None);
    long_ago.filter.year = Some((now - time::Duration::days(800)).year());
    assert_eq!(slugs(store.search(&long_ago).await.expect("year")), ["b1"]);
    let none = store
        .search(&search("lighthouse", Some("nowhere")))
        .await
        .expect("search");
    assert_eq!(none.total, 0);
}

#[tokio::test]
async fn papers_indexed_before_word_pairs_are_found_after_upgrading() {
    use quire_store::{PaperQuery, SearchQuery, SearchTerms};
    use sqlx::Connection;
    let Some(db) = common::PgTestDb::create("upgrade_pairs").await else {
        return;
    };
    let guard = Guard::new(db);
    let db = guard.db();
    let old = db.unmigrated_store().await;
    old.migrate_up_to(3).await.expect("schema 3");
    // Two papers as schema 3 stored them: one published in 2021, one draft.
    let mut sql = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    sqlx::query(sqlx::AssertSqlSafe(format!("SET search_path = {}", db.schema)))
        .execute(&mut sql)
        .await
        .expect("schema");
    for (slug, status, published) in [
        ("old", "published", Some("2021-03-04T05:06:07Z")),
        ("draft", "draft", None),
    ] {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO papers (slug, title, kind, summary, language, status, published_at, word_count, \
             created_at, updated_at) VALUES ($1, 'Harbour lights', 'report', 'Coasts.', 'en', $2, \
             CAST($3 AS timestamptz), 6, now(), now()) RETURNING id",
        )
        .bind(slug)
        .bind(status)
        .bind(published)
        .fetch_one(&mut sql)
        .await
        .expect("paper");
        let body = "The lighthouse keeper kept the log of every ship.";
        sqlx::query("INSERT INTO paper_bodies (paper_id, body) VALUES ($1, $2)")
            .bind(id)
            .bind(body)
            .execute(&mut sql)
            .await
            .expect("body");
        let facets = if published.is_some() {
            "xqkreport xqy2021"
        } else {
            "xqkreport"
        };
        sqlx::query(
            "INSERT INTO paper_search (paper_id, body_text, head, document) \
             SELECT $1, $4, head, head || setweight(to_tsvector('english', $4), 'D') \
               || array_to_tsvector(string_to_array($5, ' ') || ('xqr' || ($1 / 1024))) \
             FROM (SELECT setweight(to_tsvector('english', $2), 'A') || setweight(to_tsvector('english', $3), 'B') AS head) h",
        )
        .bind(id)
        .bind("Harbour lights")
        .bind("Coasts.")
        .bind(body)
        .bind(facets)
        .execute(&mut sql)
        .await
        .expect("search entry");
    }
    let store = db.store().await;
    let search = |q: &str, year: Option<i32>| SearchQuery {
        terms: SearchTerms::parse(q),
        filter: PaperQuery {
            limit: Some(10),
            year,
            ..PaperQuery::listed_at(time::OffsetDateTime::now_utc())
        },
    };
    let slugs =
        |page: quire_store::SearchPage| -> Vec<String> { page.hits.into_iter().map(|h| h.paper.slug).collect() };
    for (q, year, expected) in [
        ("\"lighthouse keeper\"", None, vec!["old"]),
        ("\"keeper lighthouse\"", None, vec![]),
        ("\"kept the log\"", Some(2021), vec!["old"]),
        ("ship", Some(2020), vec![]),
    ] {
        assert_eq!(
            slugs(store.search(&search(q, year)).await.expect("search")),
            expected,
            "{q}"
        );
    }
    // Readers' view came from the papers: the draft stays hidden until
    // it is published.
    store
        .set_status(
            "draft",
            quire_core::domain::Status::Published,
            Some(time::OffsetDateTime::now_utc()),
        )
        .await
        .expect("publish");
    let mut found = slugs(
        store
            .search(&search("\"lighthouse keeper\"", None))
            .await
            .expect("search"),
    );
    found.sort();
    assert_eq!(found, ["draft", "old"]);
}
