//! Feeds (Atom 1.0, RSS 2.0, JSON Feed 1.1) and sitemaps: what machines
//! read. Written directly rather than through templates: their grammar is
//! fixed and their escaping rules differ from HTML's.

use super::{DateView, paths};
use quire_core::domain::PaperMeta;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::{Rfc2822, Rfc3339};

/// Most URLs one sitemap file may list (the sitemaps.org limit).
pub const SITEMAP_MAX_URLS: u32 = 50_000;

/// A feed's own description.
#[derive(Clone, Debug)]
pub struct FeedInfo {
    pub title: String,
    pub description: String,
    /// Absolute URL of the page the feed follows.
    pub page_url: String,
    /// Absolute URL of the feed without its extension: `…/feed`.
    pub feed_url_stem: String,
    pub language: String,
    pub site_name: String,
}

/// One paper as a feed entry.
#[derive(Clone, Debug)]
pub struct FeedEntry {
    pub url: String,
    pub title: String,
    pub summary: String,
    /// Full text as HTML with absolute links, when feeds carry full text.
    pub content_html: Option<String>,
    pub published: OffsetDateTime,
    pub updated: OffsetDateTime,
    /// (name, absolute URL).
    pub authors: Vec<(String, String)>,
    pub categories: Vec<String>,
    pub language: String,
}

impl FeedEntry {
    /// The entry for `paper`; `body_html` is its rendered body when feeds
    /// carry full text.
    pub fn new(paper: &PaperMeta, base_url: &str, body_html: Option<&str>) -> FeedEntry {
        let url = format!("{base_url}{}", paths::paper(&paper.slug));
        let published = paper.published_at.unwrap_or(paper.updated_at);
        FeedEntry {
            content_html: body_html.map(|html| absolute_links(html, base_url, &url)),
            title: paper.full_title(),
            summary: paper.summary.clone(),
            published,
            updated: paper.updated_at.max(published),
            authors: paper
                .authors
                .iter()
                .map(|a| (a.name.clone(), format!("{base_url}{}", paths::author(&a.slug))))
                .collect(),
            categories: paper.topics.iter().map(|t| t.name.clone()).collect(),
            language: paper.language.clone(),
            url,
        }
    }
}

impl FeedEntry {
    /// The entry for an approved comment on the paper `paper_title` (its
    /// full title), as WordPress titles them: "Comment on … by …".
    pub fn comment(
        comment: &quire_core::domain::Comment,
        paper_title: &str,
        base_url: &str,
        language: &str,
    ) -> FeedEntry {
        let paper_url = format!("{base_url}{}", paths::paper(&comment.paper));
        let url = format!("{paper_url}#comment-{}", comment.id);
        let summary: String = comment.text.split_whitespace().collect::<Vec<_>>().join(" ");
        let summary = match summary.char_indices().nth(300) {
            Some((cut, _)) => format!("{}…", &summary[..cut]),
            None => summary,
        };
        FeedEntry {
            title: format!("Comment on {paper_title} by {}", comment.name),
            summary,
            content_html: Some(quire_core::domain::comment_html(&comment.text)),
            published: comment.created_at,
            updated: comment.created_at,
            authors: vec![(comment.name.clone(), url.clone())],
            categories: Vec::new(),
            language: language.to_owned(),
            url,
        }
    }
}

/// Rewrites the links a paper body uses (`#fn:1`, `/papers/…`) to absolute
/// ones: feed readers show entries away from the site.
pub fn absolute_links(html: &str, base_url: &str, page_url: &str) -> String {
    html.replace("href=\"#", &format!("href=\"{page_url}#"))
        .replace("href=\"/", &format!("href=\"{base_url}/"))
        .replace("src=\"/", &format!("src=\"{base_url}/"))
}

/// Escapes text for XML; the characters XML 1.0 cannot hold are dropped,
/// as they are from HTML.
pub fn xml_escape(s: &str) -> String {
    super::escape_html(s)
}

fn rfc3339(t: OffsetDateTime) -> String {
    DateView::new(t).iso
}

fn rfc2822(t: OffsetDateTime) -> String {
    t.format(&Rfc2822)
        .unwrap_or_else(|_| t.format(&Rfc3339).unwrap_or_default())
}

/// The newest change among the entries, or `fallback` for an empty feed.
fn feed_updated(entries: &[FeedEntry], fallback: OffsetDateTime) -> OffsetDateTime {
    entries.iter().map(|e| e.updated).max().unwrap_or(fallback)
}

/// Atom 1.0 (RFC 4287).
pub fn atom(info: &FeedInfo, entries: &[FeedEntry], fallback_updated: OffsetDateTime) -> String {
    let mut out = String::with_capacity(4096 + entries.len() * 2048);
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str(&format!(
        "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{}\">\n",
        xml_escape(&info.language)
    ));
    out.push_str(&format!("  <id>{}</id>\n", xml_escape(&info.page_url)));
    out.push_str(&format!("  <title>{}</title>\n", xml_escape(&info.title)));
    out.push_str(&format!("  <subtitle>{}</subtitle>\n", xml_escape(&info.description)));
    out.push_str(&format!(
        "  <updated>{}</updated>\n",
        rfc3339(feed_updated(entries, fallback_updated))
    ));
    out.push_str(&format!(
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
        xml_escape(&info.page_url)
    ));
    out.push_str(&format!(
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}.atom\"/>\n",
        xml_escape(&info.feed_url_stem)
    ));
    out.push_str(&format!(
        "  <author><name>{}</name></author>\n",
        xml_escape(&info.site_name)
    ));
    out.push_str("  <generator>Quire</generator>\n");
    for e in entries {
        out.push_str(&format!("  <entry xml:lang=\"{}\">\n", xml_escape(&e.language)));
        out.push_str(&format!("    <id>{}</id>\n", xml_escape(&e.url)));
        out.push_str(&format!("    <title>{}</title>\n", xml_escape(&e.title)));
        out.push_str(&format!(
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
            xml_escape(&e.url)
        ));
        out.push_str(&format!("    <published>{}</published>\n", rfc3339(e.published)));
        out.push_str(&format!("    <updated>{}</updated>\n", rfc3339(e.updated)));
        for (name, url) in &e.authors {
            out.push_str(&format!(
                "    <author><name>{}</name><uri>{}</uri></author>\n",
                xml_escape(name),
                xml_escape(url)
            ));
        }
        for c in &e.categories {
            out.push_str(&format!("    <category term=\"{}\"/>\n", xml_escape(c)));
        }
        out.push_str(&format!("    <summary>{}</summary>\n", xml_escape(&e.summary)));
        if let Some(html) = &e.content_html {
            out.push_str(&format!(
                "    <content type=\"html\" xml:base=\"{}\">{}</content>\n",
                xml_escape(&e.url),
                xml_escape(html)
            ));
        }
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

/// RSS 2.0, with `content:encoded` for full text and `dc:creator` for authors.
pub fn rss(info: &FeedInfo, entries: &[FeedEntry], fallback_updated: OffsetDateTime) -> String {
    let mut out = String::with_capacity(4096 + entries.len() * 2048);
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str(
        "<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\" \
         xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n<channel>\n",
    );
    out.push_str(&format!("  <title>{}</title>\n", xml_escape(&info.title)));
    out.push_str(&format!("  <link>{}</link>\n", xml_escape(&info.page_url)));
    out.push_str(&format!(
        "  <description>{}</description>\n",
        xml_escape(&info.description)
    ));
    out.push_str(&format!("  <language>{}</language>\n", xml_escape(&info.language)));
    out.push_str(&format!(
        "  <lastBuildDate>{}</lastBuildDate>\n",
        rfc2822(feed_updated(entries, fallback_updated))
    ));
    out.push_str("  <generator>Quire</generator>\n");
    out.push_str(&format!(
        "  <atom:link rel=\"self\" type=\"application/rss+xml\" href=\"{}.rss\"/>\n",
        xml_escape(&info.feed_url_stem)
    ));
    for e in entries {
        out.push_str("  <item>\n");
        out.push_str(&format!("    <title>{}</title>\n", xml_escape(&e.title)));
        out.push_str(&format!("    <link>{}</link>\n", xml_escape(&e.url)));
        out.push_str(&format!(
            "    <guid isPermaLink=\"true\">{}</guid>\n",
            xml_escape(&e.url)
        ));
        out.push_str(&format!("    <pubDate>{}</pubDate>\n", rfc2822(e.published)));
        for (name, _) in &e.authors {
            out.push_str(&format!("    <dc:creator>{}</dc:creator>\n", xml_escape(name)));
        }
        for c in &e.categories {
            out.push_str(&format!("    <category>{}</category>\n", xml_escape(c)));
        }
        out.push_str(&format!("    <description>{}</description>\n", xml_escape(&e.summary)));
        if let Some(html) = &e.content_html {
            out.push_str(&format!(
                "    <content:encoded>{}</content:encoded>\n",
                xml_escape(html)
            ));
        }
        out.push_str("  </item>\n");
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

/// JSON Feed 1.1.
pub fn json_feed(info: &FeedInfo, entries: &[FeedEntry]) -> String {
    let items: Vec<serde_json::Value> = entries
        .iter()
        .map(|e| {
            let mut item = json!({
                "id": e.url,
                "url": e.url,
                "title": e.title,
                "summary": e.summary,
                "date_published": rfc3339(e.published),
                "date_modified": rfc3339(e.updated),
                "language": e.language,
                "authors": e.authors.iter().map(|(name, url)| json!({ "name": name, "url": url })).collect::<Vec<_>>(),
                "tags": e.categories,
            });
            // JSON Feed requires content; the summary stands in when feeds
            // carry summaries only.
            match &e.content_html {
                Some(html) => item["content_html"] = json!(html),
                None => item["content_text"] = json!(e.summary),
            }
            item
        })
        .collect();
    let feed = json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": info.title,
        "home_page_url": info.page_url,
        "feed_url": format!("{}.json", info.feed_url_stem),
        "description": info.description,
        "language": info.language,
        "authors": [{ "name": info.site_name }],
        "items": items,
    });
    serde_json::to_string_pretty(&feed).unwrap_or_default()
}

/// A sitemap: `(absolute URL, last change)` pairs.
pub fn sitemap_urlset(urls: &[(String, Option<OffsetDateTime>)]) -> String {
    let mut out = String::with_capacity(128 + urls.len() * 120);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for (loc, lastmod) in urls {
        out.push_str("  <url><loc>");
        out.push_str(&xml_escape(loc));
        out.push_str("</loc>");
        if let Some(t) = lastmod {
            out.push_str(&format!("<lastmod>{}</lastmod>", rfc3339(*t)));
        }
        out.push_str("</url>\n");
    }
    out.push_str("</urlset>\n");
    out
}

/// A sitemap index pointing at the sitemap files.
pub fn sitemap_index(sitemaps: &[String]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for loc in sitemaps {
        out.push_str(&format!("  <sitemap><loc>{}</loc></sitemap>\n", xml_escape(loc)));
    }
    out.push_str("</sitemapindex>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn info() -> FeedInfo {
        FeedInfo {
            title: "Centre & Co".into(),
            description: "Papers <b>".into(),
            page_url: "https://x.org/".into(),
            feed_url_stem: "https://x.org/feed".into(),
            language: "en".into(),
            site_name: "Centre & Co".into(),
        }
    }

    fn entry() -> FeedEntry {
        FeedEntry {
            url: "https://x.org/papers/a/".into(),
            title: "A <title> & \"quotes\"\u{1}".into(),
            summary: "Sum".into(),
            content_html: Some(absolute_links(
                "<p><a href=\"#fn:1\">1</a> <a href=\"/topics/t/\">t</a> <img src=\"/i.png\" alt=\"\"></p>",
                "https://x.org",
                "https://x.org/papers/a/",
            )),
            published: datetime!(2025-01-05 10:00 UTC),
            updated: datetime!(2025-02-01 09:00 UTC),
            authors: vec![("Ana".into(), "https://x.org/authors/ana/".into())],
            categories: vec!["Trade".into()],
            language: "en".into(),
        }
    }

    #[test]
    fn links_in_full_text_become_absolute() {
        let html = entry().content_html.unwrap_or_default();
        assert!(html.contains("href=\"https://x.org/papers/a/#fn:1\""));
        assert!(html.contains("href=\"https://x.org/topics/t/\""));
        assert!(html.contains("src=\"https://x.org/i.png\""));
    }

    #[test]
    fn feeds_escape_and_date_correctly() {
        let now = datetime!(2026-01-01 00:00 UTC);
        let a = atom(&info(), &[entry()], now);
        assert!(a.contains("<title>A &lt;title&gt; &amp; &quot;quotes&quot;</title>"));
        assert!(a.contains("<updated>2025-02-01T09:00:00Z</updated>"));
        assert!(a.contains("<published>2025-01-05T10:00:00Z</published>"));
        assert!(!a.contains('\u{1}'));
        let r = rss(&info(), &[entry()], now);
        assert!(r.contains("<pubDate>Sun, 05 Jan 2025 10:00:00 +0000</pubDate>"));
        assert!(r.contains("<dc:creator>Ana</dc:creator>"));
        let json: serde_json::Value = serde_json::from_str(&json_feed(&info(), &[entry()])).expect("json");
        assert_eq!(json["version"], "https://jsonfeed.org/version/1.1");
        assert_eq!(json["items"][0]["date_published"], "2025-01-05T10:00:00Z");
        assert_eq!(json["feed_url"], "https://x.org/feed.json");
        let empty = atom(&info(), &[], now);
        assert!(empty.contains("<updated>2026-01-01T00:00:00Z</updated>"));
    }

    #[test]
    fn sitemaps_list_urls_and_files() {
        let set = sitemap_urlset(&[
            ("https://x.org/".into(), None),
            (
                "https://x.org/papers/a&b/".into(),
                Some(datetime!(2025-01-05 10:00 UTC)),
            ),
        ]);
        assert!(set.contains("<url><loc>https://x.org/</loc></url>"));
        assert!(set.contains("<loc>https://x.org/papers/a&amp;b/</loc><lastmod>2025-01-05T10:00:00Z</lastmod>"));
        let index = sitemap_index(&["https://x.org/sitemaps/1.xml".into()]);
        assert!(index.contains("<sitemap><loc>https://x.org/sitemaps/1.xml</loc></sitemap>"));
    }
}
