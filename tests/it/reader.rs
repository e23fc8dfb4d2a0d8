//! What readers and their tools get beyond the pages: feeds, citation
//! files, sitemaps, search, translations, page metadata and theme folders.

use crate::common;

use axum::http::StatusCode;
use common::http::{get, request, site_with, standard_papers};
use quire_app::config::Config;
use quire_render::Theme;
use quire_web::AppState;

async fn reader_site(config: Config) -> common::http::Site {
    let mut papers = standard_papers();
    for p in &mut papers {
        if p.slug == "namal" {
            p.translation_of = Some("ports".into());
        }
    }
    site_with(papers, config).await
}

fn header<'a>(reply: &'a common::http::Reply, name: &str) -> &'a str {
    reply.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[tokio::test]
async fn site_feeds_list_what_readers_may_see() {
    let site = reader_site(Config::default()).await;
    let atom = get(&site.state, "/feed.atom").await;
    assert_eq!(atom.status, StatusCode::OK);
    assert_eq!(header(&atom, "content-type"), "application/atom+xml; charset=utf-8");
    let text = atom.text();
    assert_eq!(
        text.matches("<entry ").count(),
        3,
        "ports, namal and old; no draft or future paper"
    );
    assert!(text.contains("<id>http://127.0.0.1:8080/papers/ports/</id>"));
    assert!(!text.contains("secret-draft") && !text.contains("/papers/future/"));
    assert!(text.contains("<author><name>Ada Lovelace</name>"));
    assert!(text.contains("&lt;table&gt;"), "full text, escaped");
    assert!(!text.contains("<script"), "no script gets into feeds");

    let rss = get(&site.state, "/feed.rss").await.text();
    assert_eq!(rss.matches("<item>").count(), 3);
    assert!(rss.contains("<content:encoded>"));
    let json: serde_json::Value = serde_json::from_slice(&get(&site.state, "/feed.json").await.body).expect("json");
    assert_eq!(json["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(json["items"][0]["url"], "http://127.0.0.1:8080/papers/ports/");

    // Conditional requests, as for pages.
    let etag = header(&atom, "etag").to_owned();
    let again = request(&site.state, "GET", "/feed.atom", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    let since = header(&atom, "last-modified").to_owned();
    let again = request(&site.state, "GET", "/feed.atom", &[("if-modified-since", &since)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);

    // WordPress's feed address still works for old subscriptions.
    let wp = get(&site.state, "/feed/").await;
    assert_eq!(wp.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(header(&wp, "location"), "/feed.rss");
}

#[tokio::test]
async fn topic_and_author_feeds_follow_their_papers() {
    let site = reader_site(Config::default()).await;
    let topic = get(&site.state, "/topics/trade/feed.atom").await;
    assert_eq!(topic.status, StatusCode::OK);
    assert_eq!(topic.text().matches("<entry ").count(), 2, "ports and namal");
    assert!(topic.text().contains("<title>Quire: Trade</title>"));
    let author = get(&site.state, "/authors/alan/feed.rss").await.text();
    assert_eq!(author.matches("<item>").count(), 2, "ports and old");
    let json: serde_json::Value =
        serde_json::from_slice(&get(&site.state, "/authors/alan/feed.json").await.body).expect("json");
    assert_eq!(json["feed_url"], "http://127.0.0.1:8080/authors/alan/feed.json");
    for missing in [
        "/topics/nothing/feed.atom",
        "/authors/nobody/feed.rss",
        "/topics/trade/feed.xml",
        "/topics/trade/..%2Ffeed.atom",
    ] {
        assert_eq!(
            get(&site.state, missing).await.status,
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
    // Pages advertise their feeds.
    let html = get(&site.state, "/topics/trade/").await.text();
    assert!(html.contains(r#"<link rel="alternate" type="application/atom+xml" title="Quire: Trade (Atom)" href="/topics/trade/feed.atom">"#));
    assert!(html.contains(r#"href="/feed.json">"#));
}

#[tokio::test]
async fn summary_feeds_leave_the_text_out() {
    let config = Config {
        feeds: quire_app::config::FeedsConfig {
            content: quire_app::config::FeedContent::Summary,
            items: 2,
            ..Default::default()
        },
        ..Config::default()
    };
    let site = reader_site(config).await;
    let atom = get(&site.state, "/feed.atom").await.text();
    assert_eq!(atom.matches("<entry ").count(), 2, "feed_items caps the feed");
    assert!(!atom.contains("<content"));
    assert!(atom.contains("<summary>Summary of ports.</summary>"));
    let json: serde_json::Value = serde_json::from_slice(&get(&site.state, "/feed.json").await.body).expect("json");
    assert!(json["items"][0].get("content_html").is_none());
    assert_eq!(json["items"][0]["content_text"], "Summary of ports.");
}

#[tokio::test]
async fn citations_download_in_three_formats() {
    let site = reader_site(Config::default()).await;
    let bib = get(&site.state, "/papers/ports/cite.bib").await;
    assert_eq!(bib.status, StatusCode::OK);
    assert_eq!(header(&bib, "content-type"), "application/x-bibtex; charset=utf-8");
    assert_eq!(
        header(&bib, "content-disposition"),
        "attachment; filename=\"ports.bib\""
    );
    let text = bib.text();
    assert!(text.starts_with("@techreport{ports,"), "{text}");
    assert!(text.contains("author = {Lovelace, Ada and Turing, Alan}"), "{text}");
    assert!(text.contains("title = {{Ports and Harbours: A subtitle}}"), "{text}");
    assert!(text.contains("institution = {Quire}"), "{text}");
    assert!(text.contains("url = {http://127.0.0.1:8080/papers/ports/}"), "{text}");
    let ris = get(&site.state, "/papers/ports/cite.ris").await;
    assert_eq!(
        header(&ris, "content-type"),
        "application/x-research-info-systems; charset=utf-8"
    );
    assert!(ris.text().contains("AU  - Lovelace, Ada\r\nAU  - Turing, Alan\r\n"));
    let csl: serde_json::Value =
        serde_json::from_slice(&get(&site.state, "/papers/ports/cite.json").await.body).expect("CSL-JSON parses");
    assert_eq!(csl[0]["author"][0]["family"], "Lovelace");
    assert_eq!(csl[0]["publisher"], "Quire");
    assert!(csl[0]["issued"]["date-parts"][0][0].is_number());
    for missing in [
        "/papers/secret-draft/cite.bib",
        "/papers/future/cite.ris",
        "/papers/nothing/cite.json",
        "/papers/ports/cite.txt",
        "/papers/ports/..%2F..%2Fetc%2Fpasswd",
    ] {
        assert_eq!(
            get(&site.state, missing).await.status,
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
}

#[tokio::test]
async fn paper_pages_carry_metadata_for_every_reader() {
    let site = reader_site(Config::default()).await;
    let html = get(&site.state, "/papers/ports/").await.text();
    for expected in [
        r#"<meta property="og:type" content="article">"#,
        r#"<meta property="og:title" content="Ports and Harbours: A subtitle">"#,
        r#"<meta property="og:url" content="http://127.0.0.1:8080/papers/ports/">"#,
        r#"<meta property="og:locale:alternate" content="he">"#,
        r#"<meta name="twitter:card" content="summary">"#,
        r#"<meta name="citation_title" content="Ports and Harbours: A subtitle">"#,
        r#"<meta name="citation_author" content="Ada Lovelace">"#,
        r#"<meta name="citation_author" content="Alan Turing">"#,
        r#"<meta name="citation_publisher" content="Quire">"#,
        r#"<link rel="alternate" hreflang="he" href="http://127.0.0.1:8080/papers/namal/">"#,
        r#"<link rel="alternate" hreflang="en" href="http://127.0.0.1:8080/papers/ports/">"#,
        r#"<a href="/papers/namal/" hreflang="he" lang="he" dir="rtl""#,
        r#"href="mailto:?subject=Ports%20and%20Harbours%3A%20A%20subtitle&amp;body="#,
        r#"<a href="/papers/ports/cite.bib" download>BibTeX</a>"#,
        "Lovelace, Ada, and Alan Turing.",
        "Lovelace, A., &amp; Turing, A.",
    ] {
        assert!(html.contains(expected), "missing {expected}");
    }
    assert!(html.contains(r#"<meta name="citation_publication_date" content=""#));
    assert!(html.contains(r#"<meta name="citation_pdf_url" content="http://127.0.0.1:8080/papers/ports.pdf">"#));
    let start = html.find(r#"<script type="application/ld+json">"#).expect("JSON-LD") + 35;
    let end = start + html[start..].find("</script>").expect("end");
    let ld: serde_json::Value = serde_json::from_str(&html[start..end]).expect("JSON-LD parses");
    assert_eq!(ld["@type"], "Report");
    assert_eq!(ld["author"][1]["@type"], "Person");
    assert_eq!(ld["author"][1]["name"], "Alan Turing");
    assert_eq!(ld["publisher"]["@type"], "Organization");
    assert_eq!(ld["publisher"]["name"], "Quire");
    // The translation links back.
    let hebrew = get(&site.state, "/papers/namal/").await.text();
    assert!(hebrew.contains(r#"<a href="/papers/ports/" hreflang="en" lang="en" dir="ltr""#));
    assert!(hebrew.contains(r#"<span aria-current="page" lang="he" dir="rtl">עברית</span>"#));
}

#[tokio::test]
async fn sitemap_lists_every_public_address() {
    let site = reader_site(Config::default()).await;
    let map = get(&site.state, "/sitemap.xml").await;
    assert_eq!(header(&map, "content-type"), "application/xml; charset=utf-8");
    let text = map.text();
    assert!(text.starts_with("<?xml") && text.contains("<urlset"));
    for url in [
        "/papers/ports/",
        "/papers/namal/",
        "/papers/old/",
        "/authors/ada/",
        "/topics/trade/",
        "/archive/",
    ] {
        assert!(
            text.contains(&format!("<loc>http://127.0.0.1:8080{url}</loc>")),
            "{url}"
        );
    }
    assert!(!text.contains("secret-draft") && !text.contains("/papers/future/"));
    assert!(text.contains("<lastmod>"));
    let robots = get(&site.state, "/robots.txt").await.text();
    assert!(robots.contains("Sitemap: http://127.0.0.1:8080/sitemap.xml"));
    assert!(robots.contains("Disallow: /search"));
}

#[tokio::test]
async fn large_sitemaps_split_into_an_index() {
    let config = Config {
        feeds: quire_app::config::FeedsConfig {
            sitemap_urls_per_file: 2,
            ..Default::default()
        },
        ..Config::default()
    };
    let site = reader_site(config).await;
    let index = get(&site.state, "/sitemap.xml").await.text();
    assert!(index.contains("<sitemapindex"), "{index}");
    assert!(index.contains("<loc>http://127.0.0.1:8080/sitemaps/pages.xml</loc>"));
    assert!(index.contains("<loc>http://127.0.0.1:8080/sitemaps/papers-2.xml</loc>"));
    assert!(!index.contains("papers-3.xml"));
    let first = get(&site.state, "/sitemaps/papers-1.xml").await.text();
    let second = get(&site.state, "/sitemaps/papers-2.xml").await.text();
    assert_eq!(first.matches("<url>").count(), 2);
    assert_eq!(second.matches("<url>").count(), 1);
    assert!(second.contains("/papers/old/"), "oldest last");
    assert_eq!(
        get(&site.state, "/sitemaps/pages.xml")
            .await
            .text()
            .matches("<url>")
            .count(),
        2
    );
    for missing in [
        "/sitemaps/papers-3.xml",
        "/sitemaps/papers-0.xml",
        "/sitemaps/papers-x.xml",
        "/sitemaps/papers--1.xml",
        "/sitemaps/other.xml",
    ] {
        assert_eq!(
            get(&site.state, missing).await.status,
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
}

#[tokio::test]
async fn search_finds_ranks_filters_and_pages() {
    let config = Config {
        pages: quire_app::config::PagesConfig {
            search_per_page: 1,
            ..Default::default()
        },
        ..Config::default()
    };
    let site = reader_site(config).await;
    let page = get(&site.state, "/search?q=harbours").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("1 paper found"), "only ports mentions harbours");
    assert!(html.contains(r#"<a href="/papers/ports/">Ports and Harbours</a>"#));
    assert!(html.contains(r#"<meta name="robots" content="noindex">"#));
    assert!(html.contains(r#"value="harbours""#), "the query stays in the box");
    let html = get(&site.state, "/search?q=summary").await.text();
    assert!(html.contains("3 papers found"), "every listed paper's summary matches");
    assert!(html.contains("Page 1 of 3"));
    assert!(html.contains(r#"<a rel="next" href="/search?q=summary&amp;page=2">"#));
    let html = get(&site.state, "/search?q=summary&author=alan&page=2").await.text();
    assert!(html.contains("2 papers found") && html.contains("Page 2 of 2"));
    let html = get(&site.state, "/search?q=summary&kind=policy-brief").await.text();
    assert!(html.contains("1 paper found"));
    assert!(html.contains(r#"<option value="policy-brief" selected>"#));
    // Filters alone browse.
    let html = get(&site.state, "/search?topic=trade").await.text();
    assert!(html.contains("2 papers found"), "{html}");
    // Nothing found: a way out.
    let html = get(&site.state, "/search?q=zzqx&topic=trade").await.text();
    assert!(html.contains("No papers found"));
    assert!(html.contains(r#"<a href="/search?q=zzqx">Search every paper for “zzqx”</a>"#));
    // The empty form.
    let html = get(&site.state, "/search").await.text();
    assert!(!html.contains("found</h2>"));
    assert_eq!(
        get(&site.state, "/search/").await.status,
        StatusCode::PERMANENT_REDIRECT
    );
}

#[tokio::test]
async fn hostile_searches_get_results_or_a_friendly_message() {
    let site = reader_site(Config::default()).await;
    let ten_kb = format!("q={}", "ports%20".repeat(1300));
    let queries = [
        "q=%22".to_owned(),
        "q=title%3Aports%20OR%20*".to_owned(),
        "q=NEAR(ports%20water%2C%202)".to_owned(),
        "q=%27%3B%20DROP%20TABLE%20papers%3B%20--".to_owned(),
        "q=%3Cscript%3Ealert(1)%3C%2Fscript%3E".to_owned(),
        "q=%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E".to_owned(),
        "q=%00%01%02%1b%5B31m".to_owned(),
        "q=%FF%FE%80".to_owned(),
        "q=%E2%80%AEports".to_owned(),
        "q=%%%%".to_owned(),
        "q=ports&q=second&kind=%00&topic=..%2F..&author=%3Cb%3E&year=-1&page=-5".to_owned(),
        "year=99999999999999999999".to_owned(),
        "q=a&page=1e9".to_owned(),
        "q=".to_owned() + &"x".repeat(3000),
        ten_kb.clone(),
    ];
    for q in &queries {
        let reply = get(&site.state, &format!("/search?{q}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", &q[..q.len().min(80)]);
        let html = reply.text();
        let main = &html[html.find("<main").expect("main")..];
        assert!(!main.contains("<script") && !main.contains("<img"), "{q}");
        assert!(!html.contains('\u{0}') && !html.contains('\u{1b}'), "{q}");
    }
    let long = get(&site.state, &format!("/search?{ten_kb}")).await.text();
    assert!(long.contains("Your search was long, so only its first words were used."));
    assert!(long.contains("1 paper found"));
    let symbols = get(&site.state, "/search?q=%2A%2A%2A").await.text();
    assert!(symbols.contains("Type words to search for"));
    let bad_filters = get(&site.state, "/search?q=ports&topic=nothing&year=1066").await.text();
    assert!(bad_filters.contains("There is no topic “nothing”"));
    assert!(bad_filters.contains("No papers were published in “1066”"));
    // Past even the search page's limit: refused, not read.
    let huge = format!("/search?q={}", "x".repeat(40_000));
    assert_eq!(get(&site.state, &huge).await.status, StatusCode::URI_TOO_LONG);
}

#[tokio::test]
async fn a_theme_folder_overrides_templates_and_assets_by_name() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::create_dir_all(dir.path().join("templates")).expect("templates");
    std::fs::create_dir_all(dir.path().join("assets/img")).expect("assets");
    std::fs::write(
        dir.path().join("templates/not_found.html"),
        "{% extends \"base.html\" %}{% block main %}<p class=\"lost\">Lost at sea: {{ site.name }}</p>\
         <img src=\"{{ asset_url('img/logo.svg') }}\" alt=\"\">{% endblock %}",
    )
    .expect("write");
    std::fs::write(dir.path().join("assets/quire.css"), "body { color: teal; }").expect("write");
    std::fs::write(
        dir.path().join("assets/img/logo.svg"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    )
    .expect("write");
    let theme = Theme::load(dir.path()).expect("theme loads");
    let logo = theme.assets.url("img/logo.svg");
    let site = reader_site(Config::default()).await;
    let state = AppState::new(site.store.clone(), Config::default(), theme);
    let html = get(&state, "/nowhere/").await.text();
    assert!(html.contains("<p class=\"lost\">Lost at sea: Quire</p>"), "{html}");
    assert!(html.contains(&format!("<img src=\"{logo}\" alt=\"\">")), "{html}");
    let css_url = state.site().css_url.clone();
    let css = get(&state, &css_url).await;
    assert_eq!(css.text(), "body { color: teal; }");
    assert!(header(&css, "cache-control").contains("immutable"));
    let svg = get(&state, &logo).await;
    assert_eq!(svg.status, StatusCode::OK, "{logo}");
    assert_eq!(header(&svg, "content-type"), "image/svg+xml");
    // Templates not overridden are the built-in ones.
    assert!(
        get(&state, "/papers/ports/")
            .await
            .text()
            .contains("class=\"paper-title\"")
    );
}

#[tokio::test]
async fn broken_theme_folders_are_refused_with_the_file_and_line() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::create_dir_all(dir.path().join("templates")).expect("templates");
    std::fs::write(
        dir.path().join("templates/paper.html"),
        "{% extends \"base.html\" %}\n{% block main %}\n{{ paper.title \n{% endblock %}",
    )
    .expect("write");
    let message = Theme::load(dir.path()).err().map(|e| e.to_string()).expect("refused");
    assert!(
        message.contains("paper.html") && message.contains("line 4"),
        "{message}"
    );
    let empty = tempfile::tempdir().expect("dir");
    let message = Theme::load(empty.path()).err().map(|e| e.to_string()).expect("refused");
    assert!(
        message.contains("templates/") && message.contains("assets/"),
        "{message}"
    );
    let missing = Theme::load(&empty.path().join("nope"))
        .err()
        .map(|e| e.to_string())
        .expect("refused");
    assert!(missing.contains("is not a folder"), "{missing}");
}

#[tokio::test]
async fn papers_come_as_typeset_pdfs_kept_until_edited() {
    let site = reader_site(Config::default()).await;
    let page = get(&site.state, "/papers/ports/").await;
    assert!(
        page.text().contains("href=\"/papers/ports.pdf\""),
        "the page links its PDF"
    );
    assert!(
        page.text()
            .contains("name=\"citation_pdf_url\" content=\"http://127.0.0.1:8080/papers/ports.pdf\""),
        "scholarly indexers find the PDF"
    );
    let pdf = get(&site.state, "/papers/ports.pdf").await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(header(&pdf, "content-type"), "application/pdf");
    assert!(pdf.body.starts_with(b"%PDF-"));
    let etag = header(&pdf, "etag").to_owned();
    let again = request(
        &site.state,
        "GET",
        "/papers/ports.pdf",
        &[("if-none-match", etag.as_str())],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    // The Hebrew paper typesets too; drafts, future papers and strangers'
    // paths are not found.
    assert_eq!(get(&site.state, "/papers/namal.pdf").await.status, StatusCode::OK);
    for path in [
        "/papers/secret-draft.pdf",
        "/papers/future.pdf",
        "/papers/nope.pdf",
        "/papers/..%2Fetc%2Fpasswd.pdf",
        "/papers/%00.pdf",
        "/papers/.pdf",
    ] {
        assert_eq!(get(&site.state, path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    // An edit makes a new PDF.
    let mut ports = standard_papers()
        .into_iter()
        .find(|p| p.slug == "ports")
        .expect("ports");
    ports.body.push_str("\n\nA new closing paragraph.\n");
    site.state
        .store
        .add_papers(
            &[ports],
            quire_store::AddOptions {
                replace: true,
                ..Default::default()
            },
        )
        .await
        .expect("edit");
    site.state.cache.invalidate();
    let edited = get(&site.state, "/papers/ports.pdf").await;
    assert_eq!(edited.status, StatusCode::OK);
    assert_ne!(header(&edited, "etag"), etag, "the edited paper's PDF is new");
}

#[tokio::test]
async fn a_broken_pdf_template_gives_an_error_page_not_a_crash() {
    let site = reader_site(Config::default()).await;
    let mut theme = Theme::embedded().expect("theme");
    theme.pdf_template = Some("#let paper(..args, doc) = { oops( }\n".into());
    let state = AppState::new(site.state.store.clone(), Config::default(), theme);
    for _ in 0..2 {
        let reply = get(&state, "/papers/ports.pdf").await;
        assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(reply.text().contains("Something went wrong"), "{}", reply.text());
    }
    // The rest of the site is unharmed.
    assert_eq!(get(&state, "/papers/ports/").await.status, StatusCode::OK);
}
