//! Search latency on 100,000 papers, SQLite and PostgreSQL side by side:
//! 200 varied queries (single words common and rare, several words,
//! phrases, filters by kind, topic, author and year, words that match
//! nothing, Hebrew), each a whole `/search` request through the router
//! (query, snippets, page rendering, compression), timed one by one.
//! Prints p50, p95, p99 and max per back end against the 20 ms target.
//!
//! `cargo bench --bench search` (release build). The papers are generated
//! once and kept: SQLite in `bench/out/search-100k.db`, PostgreSQL in the
//! schema `quire_bench_search` of `QUIRE_BENCH_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`; set it to `skip` to run
//! SQLite alone). `QUIRE_BENCH_PAPERS` changes the count.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use quire_app::config::Config;
use quire_core::domain::PaperInput;
use quire_render::Theme;
use quire_store::{AddOptions, PaperQuery, Store};
use quire_web::{AppState, app};
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, Connection};
use std::str::FromStr;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tower::ServiceExt;

const TARGET_P99: Duration = Duration::from_millis(20);
const QUERIES: usize = 200;

fn papers_wanted() -> usize {
    std::env::var("QUIRE_BENCH_PAPERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

/// Fills `store` with the demo generator's papers unless it has them.
async fn fill(store: &Store, wanted: usize, now: OffsetDateTime) {
    let have = store.count_papers(&PaperQuery::all()).await.expect("count");
    if have as usize == wanted {
        println!("  reusing {wanted} papers");
        return;
    }
    assert_eq!(
        have, 0,
        "the bench database holds {have} papers, not {wanted}: delete it first"
    );
    let started = Instant::now();
    let (authors, topics, mut papers) = quire::demo::generate_lazily(wanted, now, &Config::default().kinds);
    for a in &authors {
        store.upsert_author(a).await.expect("author");
    }
    for t in &topics {
        store.upsert_topic(t).await.expect("topic");
    }
    let mut done = 0;
    loop {
        let batch: Vec<PaperInput> = papers.by_ref().take(1000).collect();
        if batch.is_empty() {
            break;
        }
        store.add_papers(&batch, AddOptions::default()).await.expect("add");
        done += batch.len();
        if done % 20_000 == 0 {
            println!("  {done} papers stored ({:.0} s)", started.elapsed().as_secs_f64());
        }
    }
    println!("  {wanted} papers stored in {:.0} s", started.elapsed().as_secs_f64());
}

/// 200 queries (kind of query, query string), the same every run, drawn
/// from the papers' own words.
async fn queries(store: &Store) -> Vec<(&'static str, String)> {
    let sample = store
        .list_papers(&PaperQuery {
            limit: Some(60),
            offset: 1000,
            ..PaperQuery::listed_at(OffsetDateTime::now_utc())
        })
        .await
        .expect("sample");
    let mut words: Vec<String> = Vec::new();
    let mut pairs: Vec<String> = Vec::new();
    for p in &sample {
        let paper = store.get_paper(&p.slug).await.expect("paper").expect("exists");
        let body = quire_core::markdown::to_plain_text(&paper.body);
        // Words of the text in order; a phrase is two that stand side by
        // side in it (only a space between them).
        let ws: Vec<&str> = body.split(' ').collect();
        let plain = |w: &str| w.len() > 3 && w.chars().all(char::is_alphanumeric);
        for (i, w) in ws.iter().enumerate().step_by(97).take(3) {
            if plain(w) {
                words.push(w.to_lowercase());
            }
            if let Some(pair) = ws[i..].windows(2).find(|p| plain(p[0]) && plain(p[1])) {
                pairs.push(format!("{} {}", pair[0], pair[1]).to_lowercase());
            }
        }
    }
    words.sort();
    words.dedup();
    pairs.sort();
    pairs.dedup();
    let year = OffsetDateTime::now_utc().year() - 2;
    let mut out = Vec::with_capacity(QUERIES);
    let mut i = 0;
    while out.len() < QUERIES {
        let w = &words[i % words.len()];
        let w2 = &words[(i * 7 + 3) % words.len()];
        let pair = &pairs[i % pairs.len()];
        let q = match i % 10 {
            0 | 1 => ("one word", format!("q={w}")),
            2 => ("two words", format!("q={w}+{w2}")),
            3 => ("phrase", format!("q=%22{}%22", pair.replace(' ', "+"))),
            4 => ("word + kind", format!("q={w}&kind=report")),
            5 => ("word + year", format!("q={w}&year={year}")),
            6 => ("words + topic", format!("q={w}+{w2}&topic=climate")),
            7 => ("page 3", format!("q={w}&page=3")),
            8 => ("no match", format!("q={w}zq")),
            _ => ("Hebrew", "q=%D7%9E%D7%93%D7%99%D7%A0%D7%99%D7%95%D7%AA".to_owned()),
        };
        out.push(q);
        i += 1;
    }
    out
}

/// Runs every query through the router; returns the latencies, in the
/// order of `queries`.
async fn run(state: &AppState, queries: &[(&'static str, String)]) -> Vec<Duration> {
    let router = app(state.clone());
    let one = |q: String| {
        let router = router.clone();
        async move {
            let request = Request::builder()
                .uri(format!("/search?{q}"))
                .header("accept-encoding", "br, gzip")
                .body(Body::empty())
                .expect("request");
            let started = Instant::now();
            let response = router.oneshot(request).await.expect("infallible");
            assert_eq!(response.status(), StatusCode::OK, "{q}");
            let _ = response.into_body().collect().await.expect("body");
            started.elapsed()
        }
    };
    for (_, q) in queries.iter().take(20) {
        one(q.clone()).await;
    }
    let mut times = Vec::with_capacity(queries.len());
    for (_, q) in queries {
        times.push(one(q.clone()).await);
    }
    times
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(name: &str, times: &[Duration]) -> Duration {
    let mut times = times.to_vec();
    times.sort();
    let times = &times[..];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p99 = percentile(times, 0.99);
    println!(
        "{name:<10} p50 {:>7.2} ms   p95 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms   p99 / target {:.2}",
        ms(percentile(times, 0.5)),
        ms(percentile(times, 0.95)),
        ms(p99),
        ms(*times.last().unwrap_or(&Duration::ZERO)),
        p99.as_secs_f64() / TARGET_P99.as_secs_f64()
    );
    p99
}

fn main() {
    // `cargo bench` passes `--bench`; this bench takes no filters.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let wanted = papers_wanted();
        let now = OffsetDateTime::now_utc();
        let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/out");
        std::fs::create_dir_all(&out).expect("bench/out");
        let file = out.join(format!("search-{}k.db", wanted / 1000));
        println!("SQLite: {}", file.display());
        let sqlite = Store::connect(&format!("sqlite://{}", file.display()))
            .await
            .expect("sqlite");
        fill(&sqlite, wanted, now).await;
        if std::env::var_os("QUIRE_BENCH_FILL_ONLY").is_some() {
            return;
        }
        let queries = queries(&sqlite).await;

        let mut results = Vec::new();
        let config = Config {
            pages: quire_app::config::PagesConfig {
                papers_per_page: 20,
                ..Default::default()
            },
            ..Config::default()
        };
        let theme = || Theme::embedded().expect("theme");
        let state = AppState::new(sqlite.clone(), config.clone(), theme());
        results.push(("sqlite", run(&state, &queries).await));

        let pg_url = std::env::var("QUIRE_BENCH_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        if pg_url != "skip" {
            let schema = format!("quire_bench_search_{}k", wanted / 1000);
            println!("PostgreSQL: schema {schema}");
            let mut admin = sqlx::PgConnection::connect(&pg_url).await.expect("postgres");
            sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA IF NOT EXISTS {schema}")))
                .execute(&mut admin)
                .await
                .expect("schema");
            let options = PgConnectOptions::from_str(&pg_url)
                .expect("url")
                .options([("search_path", schema.as_str())]);
            let pg = Store::connect_postgres(options).await.expect("postgres");
            pg.migrate().await.expect("migrate");
            fill(&pg, wanted, now).await;
            // The state autovacuum brings a table to within a minute of
            // a bulk load: dead row versions gone, statistics fresh.
            for table in ["papers", "paper_search"] {
                sqlx::query(AssertSqlSafe(format!("VACUUM ANALYZE {schema}.{table}")))
                    .execute(&mut admin)
                    .await
                    .expect("vacuum");
            }
            let state = AppState::new(pg.clone(), config.clone(), theme());
            results.push(("postgres", run(&state, &queries).await));
        }

        println!(
            "\n/search latency over {QUERIES} queries on {wanted} papers (target: p99 < {} ms)",
            TARGET_P99.as_millis()
        );
        for (name, times) in &results {
            report(name, times);
        }
        for (name, times) in &results {
            let mut slowest: Vec<(Duration, &str)> =
                times.iter().zip(&queries).map(|(t, (_, q))| (*t, q.as_str())).collect();
            slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
            println!("\nSlowest on {name}:");
            for (t, q) in slowest.iter().take(3) {
                println!("  {:>7.2} ms  /search?{q}", t.as_secs_f64() * 1000.0);
            }
        }
        println!("\nBy kind of query (p50 / max, ms):");
        let mut kinds: Vec<&str> = queries.iter().map(|(k, _)| *k).collect();
        kinds.dedup();
        kinds.sort();
        kinds.dedup();
        for kind in kinds {
            let mut line = format!("  {kind:<14}");
            for (name, times) in &results {
                let mut mine: Vec<Duration> = queries
                    .iter()
                    .zip(times)
                    .filter(|((k, _), _)| *k == kind)
                    .map(|(_, t)| *t)
                    .collect();
                mine.sort();
                let ms = |d: Duration| d.as_secs_f64() * 1000.0;
                line.push_str(&format!(
                    "  {name} {:>6.1} / {:>6.1}",
                    ms(percentile(&mine, 0.5)),
                    ms(*mine.last().unwrap_or(&Duration::ZERO))
                ));
            }
            println!("{line}");
        }
    });
}
