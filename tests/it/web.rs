//! The site over HTTP, without a socket: `app(state)` answers requests
//! against a real SQLite file.

use crate::common;

use axum::http::StatusCode;
use common::http::{days_ago, get, request, site_with, standard_papers, standard_site};
use quire_app::config::Config;
use quire_core::domain::{PaperInput, Status};
use quire_store::{AddOptions, Store};
use std::time::Duration;
use time::OffsetDateTime;

fn assert_page_basics(html: &str) {
    let body = &html[html.find("<body>").expect("body")..];
    let first_link = body.find("<a ").expect("a link");
    assert!(
        body[first_link..].starts_with("<a class=\"skip-link\" href=\"#content\""),
        "skip link first"
    );
    assert!(html.contains("<main id=\"content\""), "main landmark");
    assert!(
        html.contains("<html lang=\"") && html.contains("\" dir=\""),
        "lang and dir"
    );
}

#[tokio::test]
async fn home_shows_latest_papers_by_kind() {
    let site = standard_site().await;
    let r = get(&site.state, "/").await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    assert_page_basics(&html);
    assert!(html.contains("<html lang=\"en\" dir=\"ltr\">"));
    assert!(html.contains("Ports and Harbours"));
    assert!(
        html.contains("href=\"/archive/?kind=policy-brief\">Policy brief</a></h2>"),
        "a shelf per kind"
    );
    assert!(html.contains("lang=\"he\" dir=\"rtl\""), "Hebrew card marked");
    assert!(!html.contains("Secret Draft"), "drafts never appear");
    assert!(!html.contains("Future Paper"), "scheduled papers wait for their time");
    assert_eq!(r.headers["content-type"], "text/html; charset=utf-8");
    assert!(
        r.headers["content-security-policy"]
            .to_str()
            .expect("csp")
            .contains("script-src 'self'")
    );
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn paper_page_has_everything_a_reader_needs() {
    let site = standard_site().await;
    let r = get(&site.state, "/papers/ports/").await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    assert_page_basics(&html);
    assert!(html.contains("<h1 class=\"paper-title\">Ports and Harbours</h1>"));
    assert!(html.contains("<bdi><a href=\"/authors/ada/\">Ada Lovelace</a> <span class=\"affiliation\">(Institute of Tests)</span></bdi> and <bdi><a href=\"/authors/alan/\">Alan Turing</a>"));
    assert!(html.contains("<a href=\"/topics/trade/\">Trade</a>"));
    assert!(
        html.contains("<nav class=\"toc\" aria-label=\"Contents\">"),
        "table of contents"
    );
    assert!(
        html.contains("<li id=\"fn:1\"><p>The note. <a href=\"#fnref:1\""),
        "footnote with back-link"
    );
    assert!(html.contains("<div class=\"table-scroll\"><table>"));
    let body = &html[html.find("<main").expect("main")..];
    assert!(!body.contains("<script"), "raw scripts removed");
    assert!(html.contains("About the authors"));
    assert!(html.contains("<link rel=\"canonical\" href=\"http://127.0.0.1:8080/papers/ports/\">"));
}

#[tokio::test]
async fn right_to_left_papers_set_lang_and_dir() {
    let site = standard_site().await;
    let r = get(&site.state, "/papers/namal/").await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    assert!(
        html.starts_with("<!DOCTYPE html>\n<html lang=\"he\" dir=\"rtl\">"),
        "{}",
        &html[..80]
    );
    assert!(
        html.contains("<header class=\"site-header\" lang=\"en\" dir=\"ltr\">"),
        "site chrome keeps its own language"
    );
    assert_page_basics(&html);
}

#[tokio::test]
async fn drafts_and_future_papers_are_not_found() {
    let site = standard_site().await;
    for uri in ["/papers/secret-draft/", "/papers/future/"] {
        let r = get(&site.state, uri).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}");
        assert!(r.text().contains("Page not found"));
    }
    let archive = get(&site.state, "/archive/").await.text();
    assert!(!archive.contains("Secret Draft") && !archive.contains("Future Paper"));
    let topic = get(&site.state, "/topics/trade/").await.text();
    assert!(!topic.contains("Secret Draft") && !topic.contains("Future Paper"));
}

#[tokio::test]
async fn archive_groups_by_year_and_paginates() {
    let papers: Vec<PaperInput> = (0..45)
        .map(|i| common::paper(&format!("p{i}"), days_ago(i * 20), &["ada"], &[]))
        .collect();
    let config = Config {
        pages: quire_app::config::PagesConfig {
            papers_per_page: 20,
            ..Default::default()
        },
        ..Config::default()
    };
    let site = site_with(papers, config).await;
    let first = get(&site.state, "/archive/").await;
    assert_eq!(first.status, StatusCode::OK);
    let html = first.text();
    assert_page_basics(&html);
    assert!(html.contains("45 papers"));
    assert!(html.contains(&format!("<h2 id=\"year-{}\">", days_ago(0).year())));
    assert!(html.contains("Page 1 of 3"));
    assert!(html.contains("href=\"/archive/?page=2\""));
    let third = get(&site.state, "/archive/?page=3").await;
    assert_eq!(third.status, StatusCode::OK);
    assert!(third.text().contains("Page 3 of 3"));
    assert_eq!(third.text().matches("class=\"card\"").count(), 5);
    for bad in [
        "/archive/?page=4",
        "/archive/?page=0",
        "/archive/?page=-1",
        "/archive/?page=abc",
        "/archive/?page=1e9",
        "/archive/?kind=nope",
    ] {
        assert_eq!(get(&site.state, bad).await.status, StatusCode::NOT_FOUND, "{bad}");
    }
    let kind = get(&site.state, "/archive/?kind=report").await;
    assert_eq!(kind.status, StatusCode::OK);
    assert!(kind.text().contains("Archive: Report"));
    // Unknown parameters neither break the page nor change what it shows.
    assert_eq!(
        get(&site.state, "/archive/?utm_source=x&page=2").await.text(),
        get(&site.state, "/archive/?page=2").await.text()
    );
}

#[tokio::test]
async fn author_and_topic_pages() {
    let site = standard_site().await;
    let r = get(&site.state, "/authors/ada/").await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    assert_page_basics(&html);
    assert!(html.contains("<h1 class=\"page-title\">Ada Lovelace</h1>"));
    assert!(html.contains("Writes <em>tests</em>."), "bio rendered from Markdown");
    assert!(html.contains("Ports and Harbours"));
    let r = get(&site.state, "/topics/trade/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("About Trade."));
    for uri in ["/authors/nobody/", "/topics/nothing/", "/authors/ada/?page=2"] {
        assert_eq!(get(&site.state, uri).await.status, StatusCode::NOT_FOUND, "{uri}");
    }
    let authors = get(&site.state, "/authors/").await.text();
    assert!(authors.contains("Ada Lovelace") && authors.contains("Alan Turing"));
    let topics = get(&site.state, "/topics/").await.text();
    assert!(topics.contains("Trade"));
}

#[tokio::test]
async fn unknown_urls_get_a_helpful_404() {
    let site = standard_site().await;
    let r = get(&site.state, "/no/such/page").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let html = r.text();
    assert_page_basics(&html);
    assert!(
        html.contains("href=\"/archive/\"")
            && html.contains("href=\"/topics/\"")
            && html.contains("Ports and Harbours")
    );
}

#[tokio::test]
async fn hostile_urls_never_fail() {
    let site = standard_site().await;
    let long = format!("/papers/{}/", "a".repeat(3000));
    let long_query = format!("/?q={}", "x".repeat(3000));
    assert_eq!(get(&site.state, &long).await.status, StatusCode::URI_TOO_LONG);
    assert_eq!(get(&site.state, &long_query).await.status, StatusCode::URI_TOO_LONG);
    let cases = [
        "/papers/../../etc/passwd",
        "/papers/..%2F..%2Fetc%2Fpasswd/",
        "/papers/%2e%2e/",
        "/assets/..%2F..%2FCargo.toml",
        "/assets/quire.css",
        "/papers/%00/",
        "/papers/%FF%FE/",
        "/papers/a%20b/",
        "/papers/%3Cscript%3Ealert(1)%3C%2Fscript%3E/",
        "/authors/%E2%80%AEevil/",
        "/topics/'%20OR%201=1--/",
        "/archive/?page=%00",
        "/archive/?kind=%3Cscript%3E",
        "/archive/?page=99999999999999999999",
        "/papers/PORTS/",
        "/papers//",
        "//etc/passwd",
        "/papers/ports/extra/",
        "/papers/ports.pdf.pdf",
        "/papers/%23read.pdf",
        "/papers/ports",
    ];
    for uri in cases {
        let r = get(&site.state, uri).await;
        assert!(
            matches!(
                r.status,
                StatusCode::NOT_FOUND | StatusCode::PERMANENT_REDIRECT | StatusCode::BAD_REQUEST
            ),
            "{uri}: {}",
            r.status
        );
        let text = r.text();
        assert!(!text.contains("<script>alert"), "{uri} reflected input");
        assert!(!text.contains("root:"), "{uri} leaked a file");
    }
    for (k, v) in [
        ("if-none-match", "garbage\"unbalanced, W/"),
        ("accept-encoding", "br;q=abc, gzip;q=-1, *;q=0"),
        ("if-modified-since", "not a date"),
    ] {
        let r = request(&site.state, "GET", "/", &[(k, v)]).await;
        assert_eq!(r.status, StatusCode::OK, "{k}: {v}");
    }
}

#[tokio::test]
async fn short_addresses_redirect_to_the_canonical_one() {
    let site = standard_site().await;
    let r = get(&site.state, "/papers/ports").await;
    assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(r.headers["location"], "/papers/ports/");
    let r = get(&site.state, "/archive?page=2").await;
    assert_eq!(r.headers["location"], "/archive/?page=2");
    let r = get(&site.state, "/papers/%D7%A0%D7%9E%D7%9C").await;
    assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(r.headers["location"], "/papers/%D7%A0%D7%9E%D7%9C/");
}

#[tokio::test]
async fn conditional_requests_and_compression() {
    let site = standard_site().await;
    let r = get(&site.state, "/papers/ports/").await;
    let etag = r.headers["etag"].to_str().expect("etag").to_owned();
    let last_modified = r.headers["last-modified"].to_str().expect("lm").to_owned();
    assert_eq!(r.headers["vary"], "accept-encoding");
    let again = request(&site.state, "GET", "/papers/ports/", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    let since = request(
        &site.state,
        "GET",
        "/papers/ports/",
        &[("if-modified-since", &last_modified)],
    )
    .await;
    assert_eq!(since.status, StatusCode::NOT_MODIFIED);
    let br = request(&site.state, "GET", "/papers/ports/", &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(br.headers["content-encoding"], "br");
    let mut plain = Vec::new();
    brotli::BrotliDecompress(&mut &br.body[..], &mut plain).expect("brotli");
    assert_eq!(plain, r.body);
    let gz = request(&site.state, "GET", "/papers/ports/", &[("accept-encoding", "gzip")]).await;
    assert_eq!(gz.headers["content-encoding"], "gzip");
    assert!(gz.body.len() < r.body.len() / 2);
    let head = request(&site.state, "HEAD", "/papers/ports/", &[]).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
}

#[tokio::test]
async fn assets_are_immutable_under_hashed_names() {
    let site = standard_site().await;
    let html = get(&site.state, "/").await.text();
    let start = html.find("/assets/quire.").expect("css link");
    let url = &html[start..start + html[start..].find('"').expect("end")];
    let r = get(&site.state, url).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-type"], "text/css; charset=utf-8");
    assert!(r.headers["cache-control"].to_str().expect("cc").contains("immutable"));
    let css = r.body.clone();
    let br = request(&site.state, "GET", url, &[("accept-encoding", "br")]).await;
    assert_eq!(br.headers["content-encoding"], "br");
    assert!(br.body.len() * 2 < css.len(), "the stylesheet is sent compressed");
    let etag = br.headers["etag"].to_str().expect("etag").to_owned();
    let again = request(
        &site.state,
        "GET",
        url,
        &[("accept-encoding", "br"), ("if-none-match", &etag)],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert_eq!(
        get(&site.state, "/assets/quire.0000.css").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn pages_follow_writes_from_another_process() {
    let site = standard_site().await;
    let upkeep = quire_web::spawn_cache_upkeep(&site.state);
    let before = get(&site.state, "/").await.text();
    assert!(!before.contains("Fresh Paper"));
    // A second pool on the same file stands in for a `quire paper add`.
    let common::http::Keep::Dir(dir) = &site._keep else {
        panic!("the standard site is on SQLite")
    };
    let url = format!("sqlite://{}", dir.path().join("quire.db").display());
    let other = Store::connect(&url).await.expect("second store");
    let mut fresh = common::paper("fresh", days_ago(0), &["ada"], &[]);
    fresh.title = "Fresh Paper".into();
    other.add_papers(&[fresh], AddOptions::default()).await.expect("add");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if get(&site.state, "/").await.text().contains("Fresh Paper") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the home page never showed the new paper"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    other.set_status("fresh", Status::Draft, None).await.expect("unpublish");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while get(&site.state, "/papers/fresh/").await.status != StatusCode::NOT_FOUND {
        assert!(std::time::Instant::now() < deadline, "the unpublished paper stayed up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for task in upkeep {
        task.abort();
    }
}

#[tokio::test]
async fn scheduled_papers_appear_by_themselves() {
    let site = standard_site().await;
    let upkeep = quire_web::spawn_cache_upkeep(&site.state);
    let mut soon = common::paper(
        "soon",
        OffsetDateTime::now_utc() + time::Duration::seconds(4),
        &["ada"],
        &[],
    );
    soon.status = Status::Scheduled;
    soon.title = "Soon Paper".into();
    site.store
        .add_papers(&[soon], AddOptions::default())
        .await
        .expect("add");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(get(&site.state, "/papers/soon/").await.status, StatusCode::NOT_FOUND);
    assert!(
        !get(&site.state, "/").await.text().contains("Soon Paper"),
        "cached home page without it"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !get(&site.state, "/").await.text().contains("Soon Paper") {
        assert!(
            std::time::Instant::now() < deadline,
            "the scheduled paper never appeared"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(get(&site.state, "/papers/soon/").await.status, StatusCode::OK);
    for task in upkeep {
        task.abort();
    }
}

/// A scheduled paper whose write the change watcher never saw (it landed
/// before the watcher's first look) still appears once its time has
/// passed, even when the schedule is next read after that time.
#[tokio::test]
async fn scheduled_papers_appear_when_their_write_went_unseen() {
    let site = standard_site().await;
    let upkeep = quire_web::spawn_cache_upkeep(&site.state);
    // Without its watcher, the cache hears of no change: only the
    // schedule, read again every five seconds, can refresh it.
    upkeep[0].abort();
    let mut soon = common::paper(
        "unseen",
        OffsetDateTime::now_utc() + time::Duration::seconds(1),
        &["ada"],
        &[],
    );
    soon.status = Status::Scheduled;
    soon.title = "Unseen Paper".into();
    site.store
        .add_papers(&[soon], AddOptions::default())
        .await
        .expect("add");
    assert!(
        !get(&site.state, "/").await.text().contains("Unseen Paper"),
        "cached home page without it"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !get(&site.state, "/").await.text().contains("Unseen Paper") {
        assert!(
            std::time::Instant::now() < deadline,
            "the scheduled paper never appeared"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for task in upkeep {
        task.abort();
    }
}

#[tokio::test]
async fn health_check_answers() {
    let site = standard_site().await;
    let r = get(&site.state, "/healthz").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text(), "ok\n");
    let r = get(&site.state, "/readyz").await;
    assert_eq!((r.status, r.text().as_str()), (StatusCode::OK, "ready\n"));
    // A database whose schema is behind this build is not ready.
    let common::http::Keep::Dir(dir) = &site._keep else {
        panic!("a SQLite site")
    };
    let url = format!("sqlite://{}", dir.path().join("quire.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.expect("open");
    let behind: (i64,) = sqlx::query_as("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .expect("version");
    sqlx::query("UPDATE _sqlx_migrations SET success = FALSE WHERE version = $1")
        .bind(behind.0)
        .execute(&pool)
        .await
        .expect("mark");
    let r = get(&site.state, "/readyz").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.text(), "1 database migrations are not applied yet\n");
    pool.close().await;
    site.store.close().await;
    // The process still answers; it is not ready.
    assert_eq!(get(&site.state, "/healthz").await.status, StatusCode::OK);
    let r = get(&site.state, "/readyz").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.text(), "database unavailable\n");
    // A page that needs the database now fails politely, without detail.
    let r = get(&site.state, "/papers/ports/").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    let html = r.text();
    assert!(html.contains("Something went wrong") && html.contains("<code>"));
    assert!(!html.to_lowercase().contains("pool") && !html.contains("sqlx"));
}

/// A published paper with a PNG in a subfolder and an SVG, and a draft
/// with an image of its own.
async fn site_with_images(png: &[u8]) -> common::http::Site {
    let mut charts = common::paper("charts", days_ago(1), &["ada"], &["trade"]);
    charts.body = "Intro.\n\n![Exports by port, <2025>](figures/exports%20by%20port.png \"Figure 1\")\n\n\
                   ![A drawing](./drawing.svg)\n\n![From elsewhere](https://example.org/x.png)\n\n\
                   ![Escaping](../secret/leak.png)\n"
        .into();
    charts.media = vec![
        common::media("figures/exports by port.png", png),
        common::media("drawing.svg", common::SVG.as_bytes()),
    ];
    let mut secret = common::paper("secret", days_ago(1), &["ada"], &[]);
    secret.status = quire_core::domain::Status::Draft;
    secret.body = "![Leak](leak.png)\n".into();
    secret.media = vec![common::media("leak.png", png)];
    site_with(vec![charts, secret], Config::default()).await
}

#[tokio::test]
async fn paper_images_are_shown_served_and_sandboxed() {
    let png = common::png(40, 20, [0, 90, 160]);
    let site = site_with_images(&png).await;
    let page = get(&site.state, "/papers/charts/").await.text();
    assert!(
        page.contains(
            "<figure><img src=\"/papers/charts/figures/exports%20by%20port.png\" alt=\"Exports by port, &lt;2025&gt;\" \
             width=\"40\" height=\"20\" loading=\"lazy\" decoding=\"async\"><figcaption>Figure 1</figcaption></figure>"
        ),
        "{page}"
    );
    assert!(page.contains("<img src=\"/papers/charts/drawing.svg\" alt=\"A drawing\" loading=\"lazy\""));
    assert!(
        page.contains("src=\"https://example.org/x.png\""),
        "web images stay where they are"
    );

    let r = get(&site.state, "/papers/charts/figures/exports%20by%20port.png").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, png, "the stored bytes, unchanged");
    assert_eq!(r.headers["content-type"], "image/png");
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    assert_eq!(r.headers["cache-control"], "public, max-age=3600");
    assert!(
        r.headers.get("content-encoding").is_none(),
        "PNG is not compressed again"
    );
    let etag = r.headers["etag"].to_str().expect("etag").to_owned();
    let again = request(
        &site.state,
        "GET",
        "/papers/charts/figures/exports%20by%20port.png",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);

    let r = request(
        &site.state,
        "GET",
        "/papers/charts/drawing.svg",
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-type"], "image/svg+xml");
    let csp = r.headers["content-security-policy"].to_str().expect("csp");
    assert!(
        csp.contains("sandbox") && csp.contains("default-src 'none'"),
        "an SVG opened alone runs no script: {csp}"
    );

    for uri in [
        "/papers/charts/missing.png",
        "/papers/charts/../secret/leak.png",
        "/papers/charts/%2e%2e/secret/leak.png",
        "/papers/charts/..%2Fsecret%2Fleak.png",
        "/papers/charts/figures/..%2F..%2F..%2Fquire.db",
        "/papers/charts/drawing.svg%00.png",
        "/papers/charts/%252e%252e/x.png",
        "/papers/charts/DRAWING.SVG",
        "/papers/charts/figures/exports%20by%20port.png/",
        "/papers/secret/leak.png",
        "/papers/nobody/leak.png",
        "/papers/charts/cite.txt",
    ] {
        let r = get(&site.state, uri).await;
        assert!(
            matches!(r.status, StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST),
            "{uri}: {}",
            r.status
        );
        assert_ne!(r.body, png, "{uri} served an image it should not");
    }
    assert_eq!(
        get(&site.state, "/papers/charts/cite.bib").await.status,
        StatusCode::OK,
        "citations still live beside the images"
    );

    let feed = get(&site.state, "/feed.atom").await.text();
    assert!(
        feed.contains("http://127.0.0.1:8080/papers/charts/figures/exports%20by%20port.png"),
        "feed readers get absolute image addresses"
    );
    assert!(!feed.contains("leak.png\""), "the draft is not in the feed");
}

#[tokio::test]
async fn a_papers_pdf_embeds_its_images() {
    let png = common::png(40, 20, [0, 90, 160]);
    let site = site_with_images(&png).await;
    let r = get(&site.state, "/papers/charts.pdf").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let pdf = String::from_utf8_lossy(&r.body).replace("/Subtype /", "/Subtype/");
    assert!(pdf.contains("/Subtype/Image"), "the PNG is embedded as an image");
    assert!(pdf.contains("/Width 40"), "at its own size");
    assert!(!pdf.contains("/Width 30"), "the SVG is drawn as vectors, not a picture");
}

/// The headers every response carries (the rest of the security set is
/// in `docs/deployment.md`).
const SECURITY_HEADERS: [&str; 8] = [
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "permissions-policy",
    "cross-origin-opener-policy",
    "cross-origin-resource-policy",
    "x-permitted-cross-domain-policies",
];

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let site = standard_site().await;
    let asset = get(&site.state, "/").await.text();
    let css = asset
        .split("href=\"")
        .find_map(|s| {
            s.split('"')
                .next()
                .filter(|h| h.starts_with("/assets/") && h.ends_with(".css"))
        })
        .expect("a stylesheet")
        .to_owned();
    let long = format!("/{}", "x".repeat(3000));
    for (method, path) in [
        ("GET", "/"),
        ("GET", "/papers/ports/"),
        ("GET", "/no-such-page"),
        ("GET", "/archive"),
        ("GET", "/feed.atom"),
        ("GET", "/robots.txt"),
        ("GET", "/healthz"),
        ("GET", css.as_str()),
        ("GET", long.as_str()),
        ("GET", "/newsletter/preferences?id=1&sig=00"),
        ("POST", "/subscribe"),
        ("POST", "/papers/ports/comments"),
    ] {
        let r = request(&site.state, method, path, &[("origin", "https://evil.example")]).await;
        for name in SECURITY_HEADERS {
            assert!(
                r.headers.contains_key(name),
                "{method} {path} ({}) lacks {name}",
                r.status
            );
        }
        assert_eq!(r.headers["x-frame-options"], "SAMEORIGIN");
        assert_eq!(r.headers["cross-origin-opener-policy"], "same-origin");
        assert!(
            r.headers.get("strict-transport-security").is_none(),
            "no HSTS for a site on plain HTTP"
        );
    }
    let https = site_with(
        standard_papers(),
        Config {
            base_url: Some("https://papers.example.org".into()),
            ..Config::default()
        },
    )
    .await;
    for path in ["/", "/no-such-page", "/healthz"] {
        let r = get(&https.state, path).await;
        assert_eq!(
            r.headers["strict-transport-security"], "max-age=31536000; includeSubDomains",
            "{path}"
        );
    }
}

/// Attribute vectors in Markdown heading attributes (`{…}`), which the
/// parser turns into attributes of the heading.
const ATTRIBUTE_VECTORS: &str = "## Harbour dues {onmouseover=alert(1) style=color:red autofocus onfocus=alert(2)}\n\n\
     Text.\n\n### Tonnage {#tonnage .note tabindex=0 onclick=alert(3) data-x=1 contenteditable}\n\nMore.\n";

/// What none of the outputs may hold once the vectors pass through.
const FORBIDDEN: [&str; 8] = [
    "onmouseover",
    "onfocus",
    "onclick",
    "autofocus",
    "color:red",
    "tabindex=\"0\"",
    "data-x",
    "contenteditable",
];

#[tokio::test]
async fn markdown_attributes_reach_no_output() {
    let mut paper = common::paper("dues", days_ago(1), &["ada"], &["trade"]);
    paper.body = ATTRIBUTE_VECTORS.into();
    let site = site_with(vec![paper], Config::default()).await;
    let mut ada = common::author("ada", "Ada Lovelace");
    ada.bio = ATTRIBUTE_VECTORS.into();
    site.store.upsert_author(&ada).await.expect("author");
    site.state.cache.invalidate();
    let paper = site.store.get_paper("dues").await.expect("get").expect("dues");
    let email = quire_mail::compose::paper_campaign(&paper, &site.state.app.mail_site()).html;
    let mut outputs = vec![("email HTML".to_owned(), email)];
    for path in [
        "/papers/dues/",
        "/authors/ada/",
        "/feed.atom",
        "/feed.rss",
        "/feed.json",
    ] {
        let r = get(&site.state, path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        outputs.push((path.to_owned(), r.text()));
    }
    for (what, text) in &outputs {
        assert!(text.contains("Tonnage"), "{what} shows the heading");
        for bad in FORBIDDEN {
            assert!(!text.contains(bad), "{what} holds {bad}: {text}");
        }
    }
    let page = &outputs[1].1;
    assert!(
        page.contains("<h3 id=\"tonnage\" class=\"note\">Tonnage</h3>"),
        "{page}"
    );
}

#[tokio::test]
async fn cache_entries_are_keyed_by_the_canonical_address() {
    let site = standard_site().await;
    let first = get(&site.state, "/sitemaps/papers-1.xml").await;
    assert_eq!(first.status, StatusCode::OK);
    let held = site.state.cache.len();
    for other in [
        "/sitemaps/papers-01.xml",
        "/sitemaps/papers-+1.xml",
        "/sitemaps/papers-001.xml",
        "/sitemaps/papers-1.xml?x=1",
        "/archive/?page=01",
        "/archive/?page=+1",
        "/authors/ada/?page=001",
    ] {
        let r = get(&site.state, other).await;
        if other.ends_with("?x=1") {
            assert_eq!(r.body, first.body, "{other}: stray parameters are ignored");
        } else {
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{other}");
        }
    }
    // Only the shared 404 page was added, once.
    assert!(site.state.cache.len() <= held + 1, "{} entries", site.state.cache.len());
    for n in 0..50 {
        get(&site.state, &format!("/sitemaps/papers-{}1.xml", "0".repeat(n))).await;
    }
    assert!(site.state.cache.len() <= held + 1);
}

#[tokio::test]
async fn answers_for_papers_not_yet_public_are_remembered_until_content_changes() {
    let site = standard_site().await;
    for path in ["/papers/secret-draft/", "/papers/future/", "/papers/future.pdf"] {
        assert_eq!(get(&site.state, path).await.status, StatusCode::NOT_FOUND, "{path}");
        let kept = site
            .state
            .cache
            .get(path)
            .unwrap_or_else(|| panic!("{path} is not remembered"));
        let answer = kept.respond(&axum::http::HeaderMap::new());
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // Unknown papers share the one 404 page: strangers cannot add entries.
    assert_eq!(
        get(&site.state, "/papers/no-such-paper/").await.status,
        StatusCode::NOT_FOUND
    );
    assert!(site.state.cache.get("/papers/no-such-paper/").is_none());
    // A change of content forgets them.
    site.state.cache.invalidate();
    assert!(site.state.cache.get("/papers/secret-draft/").is_none());
}

#[tokio::test]
async fn cached_pages_are_answered_before_routing_exactly_as_routed() {
    use axum::http::{HeaderMap, HeaderValue, Method, Uri};
    use http_body_util::BodyExt;
    let site = standard_site().await;
    let routed = get(&site.state, "/papers/ports/").await;
    let uri: Uri = "/papers/ports/".parse().expect("uri");
    let fast = site
        .state
        .ready_answer(&Method::GET, &uri, &HeaderMap::new())
        .expect("a cached page is answered at once")
        .into_response();
    assert_eq!(fast.status(), routed.status);
    let mut fast_names: Vec<String> = fast.headers().keys().map(|k| k.to_string()).collect();
    // (Content-Length is written by hyper from the body's size either way.)
    let mut routed_names: Vec<String> = routed
        .headers
        .keys()
        .map(|k| k.to_string())
        .filter(|k| k != "content-length")
        .collect();
    fast_names.sort();
    routed_names.sort();
    assert_eq!(fast_names, routed_names, "the same headers");
    for name in [
        "etag",
        "content-type",
        "content-security-policy",
        "x-frame-options",
        "cache-control",
    ] {
        assert_eq!(fast.headers()[name], routed.headers[name], "{name}");
    }
    let body = fast.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(body.as_ref(), routed.body.as_slice());
    // Only plain GETs of cached pages, and never a reader's own view.
    let mut held = HeaderMap::new();
    held.insert("cookie", HeaderValue::from_static("quire_held=h1.00"));
    let with_query: Uri = "/papers/ports/?cpage=2".parse().expect("uri");
    let unknown: Uri = "/papers/not-cached/".parse().expect("uri");
    assert!(site.state.ready_answer(&Method::GET, &uri, &held).is_none());
    assert!(
        site.state
            .ready_answer(&Method::GET, &with_query, &HeaderMap::new())
            .is_none()
    );
    assert!(
        site.state
            .ready_answer(&Method::POST, &uri, &HeaderMap::new())
            .is_none()
    );
    assert!(
        site.state
            .ready_answer(&Method::GET, &unknown, &HeaderMap::new())
            .is_none()
    );
    // A conditional request gets its 304 there too.
    let mut conditional = HeaderMap::new();
    conditional.insert("if-none-match", routed.headers["etag"].clone());
    let not_modified = site
        .state
        .ready_answer(&Method::GET, &uri, &conditional)
        .expect("answer")
        .into_response();
    assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
}
