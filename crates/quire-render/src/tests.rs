//! Snapshot tests of rendered pages: review every change as code.

use super::*;
use quire_core::domain::TranslationRef;
use quire_core::domain::{AuthorLink, AuthorRef, Paper, PaperMeta, Status, TopicRef};
use time::macros::datetime;

fn site() -> SiteView {
    SiteView {
        name: "Harbour Institute".into(),
        description: "Independent research on ports and trade".into(),
        base_url: "https://papers.example.org".into(),
        language: "en".into(),
        dir: "ltr",
        css_url: "/assets/quire.test.css".into(),
        js_url: "/assets/quire.test.js".into(),
        feeds: feed_links("", "Harbour Institute"),
    }
}

fn ada() -> Author {
    Author {
        slug: "ada-lovelace".into(),
        name: "Ada Lovelace".into(),
        affiliation: Some("Analytical Society".into()),
        orcid: Some("0000-0002-1825-0097".into()),
        bio: "Ada writes on *engines* & ports.".into(),
        links: vec![AuthorLink {
            label: "Website".into(),
            url: "https://example.org/ada".into(),
        }],
        paper_count: 3,
    }
}

fn meta(slug: &str, title: &str, language: &str) -> PaperMeta {
    PaperMeta {
        id: 1,
        slug: slug.into(),
        title: title.into(),
        subtitle: Some("Why small ports matter".into()),
        kind: "policy brief".into(),
        summary: "Small ports carry more of the regional economy than their size suggests <really>.".into(),
        language: language.into(),
        status: Status::Published,
        published_at: Some(datetime!(2026-01-05 10:00 UTC)),
        updated_at: datetime!(2026-02-01 09:00 UTC),
        canonical_url: None,
        translation_of: None,
        comments: quire_core::domain::CommentsMode::Open,
        comment_count: 0,
        trashed_at: None,
        word_count: 120,
        authors: vec![
            AuthorRef {
                slug: "ada-lovelace".into(),
                name: "Ada Lovelace".into(),
                affiliation: Some("Analytical Society".into()),
            },
            AuthorRef {
                slug: "alan-turing".into(),
                name: "Alan Turing".into(),
                affiliation: None,
            },
        ],
        topics: vec![TopicRef {
            slug: "trade".into(),
            name: "Trade".into(),
        }],
    }
}

const BODY: &str = "Ports matter.[^1]\n\n## Background\n\nText with a [link](https://example.org).\n\n## Numbers\n\n| Port | Tonnes |\n|:--|--:|\n| North | 1,200 |\n\n## Options\n\n- one\n- two\n\n[^1]: Harbour Authority, *Annual Review* (2025).\n";

fn theme() -> Theme {
    Theme::embedded().expect("theme")
}

#[test]
fn paper_page() {
    let paper = Paper {
        meta: meta("ports-harbours", "Ports & Harbours", "en"),
        body: BODY.into(),
        media: Vec::new(),
    };
    let html = render_paper(
        &theme(),
        &site(),
        &paper,
        &PaperExtras {
            authors: &[ada()],
            words_per_minute: 230,
            translations: &[],
            pdf_path: None,
            comments: None,
        },
    )
    .expect("render");
    insta::assert_snapshot!(html);
}

#[test]
fn rtl_paper_page() {
    let paper = Paper {
        meta: meta("namal", "מדיניות נמלים", "he"),
        body: "נמלים קטנים חשובים.[^1]\n\n[^1]: הערה.\n".into(),
        media: Vec::new(),
    };
    let html = render_paper(
        &theme(),
        &site(),
        &paper,
        &PaperExtras {
            authors: &[],
            words_per_minute: 230,
            translations: &[
                TranslationRef {
                    slug: "namal".into(),
                    title: "מדיניות נמלים".into(),
                    language: "he".into(),
                },
                TranslationRef {
                    slug: "ports".into(),
                    title: "Port policy".into(),
                    language: "en".into(),
                },
            ],
            pdf_path: None,
            comments: None,
        },
    )
    .expect("render");
    assert!(html.contains(r#"<link rel="alternate" hreflang="en" href="https://papers.example.org/papers/ports/">"#));
    assert!(html.contains(r#"<span aria-current="page" lang="he" dir="rtl">עברית</span>"#));
    insta::assert_snapshot!(html);
}

#[test]
fn home_page() {
    let card = PaperCard::new(&meta("ports-harbours", "Ports & Harbours", "en"), 230);
    let shelf = KindShelf {
        kind: "policy brief".into(),
        url: paths::kind("policy brief"),
        papers: vec![card.clone()],
    };
    let html = render_home(&theme(), &site(), &[card], &[shelf], &[]).expect("render");
    insta::assert_snapshot!(html);
}

#[test]
fn archive_page() {
    let card = PaperCard::new(&meta("ports-harbours", "Ports & Harbours", "en"), 230);
    let years = group_by_year(vec![(2026, card.clone()), (2025, card)]);
    let kinds = vec!["policy brief".to_owned(), "report".to_owned()];
    let html = render_archive(
        &theme(),
        &site(),
        &kinds,
        Some("policy brief"),
        &years,
        42,
        Pagination::new("/archive/?kind=policy-brief", 2, 42, 20),
    )
    .expect("render");
    insta::assert_snapshot!(html);
}

#[test]
fn author_page() {
    let card = PaperCard::new(&meta("ports-harbours", "Ports & Harbours", "en"), 230);
    let html = render_author(
        &theme(),
        &site(),
        &ada(),
        &[card],
        Pagination::new("/authors/ada-lovelace/", 1, 1, 20),
    )
    .expect("render");
    insta::assert_snapshot!(html);
}

#[test]
fn not_found_page() {
    let html = render_not_found(&theme(), &site(), &[]).expect("render");
    insta::assert_snapshot!(html);
}

#[test]
fn text_is_escaped_everywhere() {
    let mut m = meta("x", "<script>alert('t')</script>", "en");
    m.summary = "\"><img src=x onerror=alert(1)>".into();
    m.authors[0].name = "<b>Eve</b>".into();
    let paper = Paper {
        meta: m,
        body: String::new(),
        media: Vec::new(),
    };
    let html = render_paper(
        &theme(),
        &site(),
        &paper,
        &PaperExtras {
            authors: &[],
            words_per_minute: 230,
            translations: &[],
            pdf_path: None,
            comments: None,
        },
    )
    .expect("render");
    assert!(!html.contains("<script>alert") && !html.contains("<img src=x") && !html.contains("<b>Eve"));
    assert!(html.contains("&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;"));
}

#[test]
fn pagination_links() {
    let p = Pagination::new("/archive/", 2, 45, 20);
    assert_eq!(
        (p.pages, p.prev.as_deref(), p.next.as_deref()),
        (3, Some("/archive/"), Some("/archive/?page=3"))
    );
    let p = Pagination::new("/archive/?kind=report", 1, 0, 20);
    assert_eq!((p.pages, p.prev, p.next), (1, None, None));
}

#[test]
fn contents_nest_two_levels() {
    let e = |level, id| TocEntry { level, id, text: id };
    let toc = nest_toc([e(3, "lead"), e(2, "a"), e(3, "a1"), e(4, "deep"), e(3, "a2"), e(2, "b")].into_iter());
    let shape: Vec<(String, Vec<String>)> = toc
        .iter()
        .map(|t| (t.id.clone(), t.children.iter().map(|c| c.id.clone()).collect()))
        .collect();
    assert_eq!(
        shape,
        [
            ("lead".into(), vec![]),
            ("a".into(), vec!["a1".into(), "a2".into()]),
            ("b".into(), vec![])
        ]
    );
    assert!(nest_toc(std::iter::empty()).is_empty());
}

fn feed_fixture() -> (feeds::FeedInfo, Vec<feeds::FeedEntry>) {
    let site = site();
    let info = feeds::FeedInfo {
        title: site.name.clone(),
        description: site.description.clone(),
        page_url: format!("{}/", site.base_url),
        feed_url_stem: format!("{}/feed", site.base_url),
        language: "en".into(),
        site_name: site.name.clone(),
    };
    let english = meta("ports-harbours", "Ports & Harbours", "en");
    let mut hebrew = meta("namal", "מדיניות נמלים", "he");
    hebrew.published_at = Some(datetime!(2025-11-20 08:30 UTC));
    hebrew.updated_at = datetime!(2025-11-20 08:30 UTC);
    let body = quire_core::markdown::render(BODY).html;
    let entries = vec![
        feeds::FeedEntry::new(&english, &site.base_url, Some(&body)),
        feeds::FeedEntry::new(&hebrew, &site.base_url, None),
    ];
    (info, entries)
}

#[test]
fn atom_feed() {
    let (info, entries) = feed_fixture();
    insta::assert_snapshot!(feeds::atom(&info, &entries, datetime!(2026-03-01 00:00 UTC)));
}

#[test]
fn rss_feed() {
    let (info, entries) = feed_fixture();
    insta::assert_snapshot!(feeds::rss(&info, &entries, datetime!(2026-03-01 00:00 UTC)));
}

#[test]
fn json_feed() {
    let (info, entries) = feed_fixture();
    insta::assert_snapshot!(feeds::json_feed(&info, &entries));
}

#[test]
fn citation_files() {
    let paper = meta("ports-harbours", "Ports & Harbours", "en");
    let c = cite::Citation::new(
        &paper,
        "Harbour Institute",
        "https://papers.example.org/papers/ports-harbours/".into(),
    );
    insta::assert_snapshot!(format!(
        "{}\n---\n{}\n---\n{}\n---\n{}\n---\n{}",
        c.chicago_html(),
        c.apa_html(),
        c.bibtex(),
        c.ris(),
        serde_json::to_string_pretty(&c.csl_json()).unwrap_or_default()
    ));
}

#[test]
fn search_page() {
    let card = PaperCard::new(&meta("ports-harbours", "Ports & Harbours", "en"), 230);
    let view = SearchView {
        form: SearchForm {
            q: "ports \"small harbours\"".into(),
            topic: "trade".into(),
            ..SearchForm::default()
        },
        kinds: vec![FilterOption {
            value: "policy-brief".into(),
            label: "Policy brief".into(),
        }],
        topics: vec![FilterOption {
            value: "trade".into(),
            label: "Trade".into(),
        }],
        authors: vec![],
        years: vec![FilterOption {
            value: "2026".into(),
            label: "2026".into(),
        }],
        searched: true,
        results: vec![SearchResultView {
            card,
            snippet: vec![
                quire_core::domain::SnippetPart {
                    text: "…why ".into(),
                    hit: false,
                },
                quire_core::domain::SnippetPart {
                    text: "small harbours".into(),
                    hit: true,
                },
                quire_core::domain::SnippetPart {
                    text: " <matter>…".into(),
                    hit: false,
                },
            ],
        }],
        total: 21,
        total_is_exact: true,
        pagination: Pagination::new("/search?q=ports&topic=trade", 2, 21, 10),
        notices: vec!["Your search was long, so only its first words were used.".into()],
        suggestions: vec![],
    };
    let html = render_search(&theme(), &site(), &view).expect("render");
    assert!(html.contains("<mark>small harbours</mark> &lt;matter&gt;…"));
    insta::assert_snapshot!(html);
}
