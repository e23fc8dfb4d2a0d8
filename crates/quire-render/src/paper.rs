//! The paper page: the text, the actions under its title (print, PDF,
//! email, cite), links to its translations, and the metadata that search
//! engines, scholar indexes and link previews read.

use super::cite::Citation;
use super::{AuthorView, DateView, PageHead, PaperCard, RenderError, SiteView, Theme, TocItem, nest_toc, paths};
use quire_core::domain::TranslationRef;
use quire_core::domain::{Author, Paper, PaperMeta, direction_of};
use quire_core::markdown;
use serde::Serialize;
use serde_json::json;

/// A paper page's extra data beyond the paper itself.
pub struct PaperExtras<'a> {
    /// Full entries of the paper's authors, in byline order.
    pub authors: &'a [Author],
    pub words_per_minute: u32,
    /// Every paper in the translation family, this one included.
    pub translations: &'a [TranslationRef],
    /// Path of the typeset PDF, when Quire can make one.
    pub pdf_path: Option<String>,
    /// The comments section; None when the paper's comments are hidden.
    pub comments: Option<&'a super::comments::CommentsView>,
}

#[derive(Serialize)]
struct PaperContext<'a> {
    site: &'a SiteView,
    page: PageHead,
    paper: PaperView,
    comments: Option<&'a super::comments::CommentsView>,
}

/// A whole paper as its page shows it.
#[derive(Serialize)]
struct PaperView {
    #[serde(flatten)]
    card: PaperCard,
    updated: Option<DateView>,
    archived: bool,
    body_html: String,
    toc: Vec<TocItem>,
    about_authors: Vec<AuthorView>,
    word_count: usize,
    cite: CiteView,
    email_url: String,
    pdf_url: Option<String>,
    translations: Vec<TranslationLink>,
    /// `<meta property>` pairs: OpenGraph.
    og: Vec<(&'static str, String)>,
    /// `<meta name>` pairs: Twitter card and Highwire Press (Google Scholar).
    meta: Vec<(&'static str, String)>,
    /// schema.org JSON-LD, escaped for a `<script>` data block.
    json_ld: String,
}

/// The "Cite" box: formatted citations and the download links.
#[derive(Serialize)]
struct CiteView {
    chicago_html: String,
    apa_html: String,
    bib_url: String,
    ris_url: String,
    json_url: String,
}

/// One language in the translation switch.
#[derive(Serialize)]
struct TranslationLink {
    language: String,
    /// The language's name in that language: "עברית", "Français".
    label: String,
    dir: &'static str,
    url: String,
    absolute_url: String,
    title: String,
    current: bool,
}

/// Languages by their own name, for the switch; others show their tag.
const LANGUAGE_NAMES: &[(&str, &str)] = &[
    ("ar", "العربية"),
    ("de", "Deutsch"),
    ("en", "English"),
    ("es", "Español"),
    ("fa", "فارسی"),
    ("fr", "Français"),
    ("he", "עברית"),
    ("hi", "हिन्दी"),
    ("it", "Italiano"),
    ("ja", "日本語"),
    ("ko", "한국어"),
    ("nl", "Nederlands"),
    ("pl", "Polski"),
    ("pt", "Português"),
    ("ru", "Русский"),
    ("sv", "Svenska"),
    ("tr", "Türkçe"),
    ("uk", "Українська"),
    ("ur", "اردو"),
    ("zh", "中文"),
];

/// "he" → "עברית"; "pt-BR" → "Português (pt-BR)"; unknown → the tag.
pub fn language_name(tag: &str) -> String {
    let primary = tag.split('-').next().unwrap_or(tag).to_ascii_lowercase();
    match LANGUAGE_NAMES.iter().find(|(t, _)| *t == primary) {
        Some((_, name)) if primary == tag => (*name).to_owned(),
        Some((_, name)) => format!("{name} ({tag})"),
        None => tag.to_owned(),
    }
}

/// Percent-encodes a `mailto:` header value (RFC 6068).
fn mailto_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// schema.org type for a kind of paper: scholarly kinds are articles,
/// everything else a report.
/// An ORCID iD's address, as ORCID asks it be shown and linked.
fn orcid_url(id: &str) -> String {
    format!("https://orcid.org/{id}")
}

fn schema_type(kind: &str) -> &'static str {
    let k = kind.to_lowercase();
    if k.contains("article") || k.contains("working paper") || k.contains("journal") {
        "ScholarlyArticle"
    } else {
        "Report"
    }
}

/// JSON for inside `<script type="application/ld+json">`: `<`, `>` and `&`
/// escaped so no text can close the element.
fn script_json(value: &serde_json::Value) -> String {
    serde_json::to_string(value)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

fn json_ld(meta: &PaperMeta, site: &SiteView, url: &str, authors: &[Author], words: usize) -> serde_json::Value {
    let people: Vec<serde_json::Value> = meta
        .authors
        .iter()
        .map(|a| {
            let mut person = json!({
                "@type": "Person",
                "name": a.name,
                "url": format!("{}{}", site.base_url, paths::author(&a.slug)),
            });
            if let Some(aff) = &a.affiliation {
                person["affiliation"] = json!({ "@type": "Organization", "name": aff });
            }
            let links: Vec<String> = authors
                .iter()
                .filter(|full| full.slug == a.slug)
                .flat_map(|full| {
                    let orcid = full.orcid.iter().map(|id| orcid_url(id));
                    full.links.iter().map(|l| l.url.clone()).chain(orcid)
                })
                .collect();
            if !links.is_empty() {
                person["sameAs"] = json!(links);
            }
            person
        })
        .collect();
    let mut ld = json!({
        "@context": "https://schema.org",
        "@type": schema_type(&meta.kind),
        "headline": meta.title,
        "name": meta.title,
        "description": meta.summary,
        "inLanguage": meta.language,
        "url": url,
        "mainEntityOfPage": url,
        "genre": meta.kind,
        "wordCount": words,
        "author": people,
        "publisher": { "@type": "Organization", "name": site.name, "url": format!("{}/", site.base_url) },
        "dateModified": DateView::new(meta.updated_at).iso,
    });
    if let Some(sub) = &meta.subtitle {
        ld["alternativeHeadline"] = json!(sub);
    }
    if let Some(t) = meta.published_at {
        ld["datePublished"] = json!(DateView::new(t).iso);
    }
    if !meta.topics.is_empty() {
        ld["keywords"] = json!(meta.topics.iter().map(|t| t.name.as_str()).collect::<Vec<_>>());
    }
    ld
}

/// A paper's page.
pub fn render_paper(
    theme: &Theme,
    site: &SiteView,
    paper: &Paper,
    extras: &PaperExtras<'_>,
) -> Result<String, RenderError> {
    let meta = &paper.meta;
    let path = paths::paper(&meta.slug);
    let body = markdown::render_with_images(
        &paper.body,
        Some(&markdown::ImageLinks {
            prefix: &path,
            media: &paper.media,
            svg_as_png: false,
        }),
    );
    let card = PaperCard::new(meta, extras.words_per_minute);
    // An edit on a later day than publication is worth telling readers.
    let updated = match meta.published_at {
        Some(p) if meta.updated_at.date() > p.date() => Some(DateView::new(meta.updated_at)),
        _ => None,
    };
    let permalink = format!("{}{}", site.base_url, path);
    let canonical = meta.canonical_url.clone().unwrap_or_else(|| permalink.clone());
    let full_title = meta.full_title();
    let page = PageHead {
        title: format!("{} | {}", meta.title, site.name),
        description: meta.summary.clone(),
        lang: meta.language.clone(),
        dir: meta.direction().as_str(),
        canonical: canonical.clone(),
        feeds: site.feeds.clone(),
        robots: None,
    };
    let citation = Citation::new(meta, &site.name, permalink.clone());
    let cite = CiteView {
        chicago_html: citation.chicago_html(),
        apa_html: citation.apa_html(),
        bib_url: format!("{path}cite.bib"),
        ris_url: format!("{path}cite.ris"),
        json_url: format!("{path}cite.json"),
    };
    let pdf_url = extras.pdf_path.clone();
    let translations: Vec<TranslationLink> = if extras.translations.len() > 1 {
        extras
            .translations
            .iter()
            .map(|t| TranslationLink {
                label: language_name(&t.language),
                dir: direction_of(&t.language).as_str(),
                url: paths::paper(&t.slug),
                absolute_url: format!("{}{}", site.base_url, paths::paper(&t.slug)),
                title: t.title.clone(),
                current: t.slug == meta.slug,
                language: t.language.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };

    let published = meta.published_at.map(|t| DateView::new(t).iso);
    let mut og: Vec<(&'static str, String)> = vec![
        ("og:type", "article".into()),
        ("og:title", full_title.clone()),
        ("og:description", meta.summary.clone()),
        ("og:url", canonical.clone()),
        ("og:site_name", site.name.clone()),
        ("og:locale", meta.language.replace('-', "_")),
    ];
    for t in &translations {
        if !t.current {
            og.push(("og:locale:alternate", t.language.replace('-', "_")));
        }
    }
    if let Some(p) = &published {
        og.push(("article:published_time", p.clone()));
    }
    og.push(("article:modified_time", DateView::new(meta.updated_at).iso));
    og.push(("article:section", super::capitalise(&meta.kind)));
    for a in &meta.authors {
        og.push(("article:author", format!("{}{}", site.base_url, paths::author(&a.slug))));
    }
    for t in &meta.topics {
        og.push(("article:tag", t.name.clone()));
    }
    let mut tags: Vec<(&'static str, String)> = vec![
        ("twitter:card", "summary".into()),
        ("twitter:title", full_title.clone()),
        ("twitter:description", meta.summary.clone()),
        ("citation_title", full_title.clone()),
    ];
    for a in &meta.authors {
        tags.push(("citation_author", a.name.clone()));
        if let Some(aff) = &a.affiliation {
            tags.push(("citation_author_institution", aff.clone()));
        }
        // The author's ORCID iD follows their name, as Open Journal
        // Systems writes it, for indexers that read it.
        if let Some(id) = extras
            .authors
            .iter()
            .find(|f| f.slug == a.slug)
            .and_then(|f| f.orcid.as_ref())
        {
            tags.push(("citation_author_orcid", orcid_url(id)));
        }
    }
    if let Some(t) = meta.published_at {
        tags.push((
            "citation_publication_date",
            format!("{:04}/{:02}/{:02}", t.year(), u8::from(t.month()), t.day()),
        ));
    }
    tags.push(("citation_publisher", site.name.clone()));
    if schema_type(&meta.kind) == "Report" {
        tags.push(("citation_technical_report_institution", site.name.clone()));
    }
    tags.push(("citation_language", meta.language.clone()));
    tags.push(("citation_abstract_html_url", permalink.clone()));
    for t in &meta.topics {
        tags.push(("citation_keywords", t.name.clone()));
    }
    if let Some(pdf) = &pdf_url {
        tags.push(("citation_pdf_url", format!("{}{}", site.base_url, pdf)));
    }
    let json_ld = script_json(&json_ld(meta, site, &canonical, extras.authors, body.word_count));
    let email_url = format!(
        "mailto:?subject={}&body={}",
        mailto_encode(&full_title),
        mailto_encode(&format!("{full_title}\r\n{permalink}"))
    );

    let toc = nest_toc(body.toc.iter());
    let paper = PaperView {
        card: PaperCard {
            reading_minutes: markdown::reading_minutes(body.word_count, extras.words_per_minute),
            ..card
        },
        updated,
        archived: meta.status == quire_core::domain::Status::Archived,
        body_html: body.html,
        toc: if body.toc.len() >= 3 { toc } else { Vec::new() },
        about_authors: extras.authors.iter().map(AuthorView::new).collect(),
        word_count: body.word_count,
        cite,
        email_url,
        pdf_url,
        translations,
        og,
        meta: tags,
        json_ld,
    };
    theme.render(
        "paper.html",
        &PaperContext {
            site,
            page,
            paper,
            comments: extras.comments,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_names_and_mailto() {
        assert_eq!(language_name("he"), "עברית");
        assert_eq!(language_name("pt-BR"), "Português (pt-BR)");
        assert_eq!(language_name("xx"), "xx");
        assert_eq!(
            mailto_encode("A & B?\r\nhttps://x/"),
            "A%20%26%20B%3F%0D%0Ahttps%3A%2F%2Fx%2F"
        );
    }

    #[test]
    fn json_ld_cannot_close_its_script() {
        let v = json!({ "name": "</script><script>alert(1)</script> & <!--" });
        let s = script_json(&v);
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&'), "{s}");
        let back: serde_json::Value = serde_json::from_str(&s).expect("still JSON");
        assert_eq!(back, v);
    }

    #[test]
    fn kinds_map_to_schema_types() {
        assert_eq!(schema_type("working paper"), "ScholarlyArticle");
        assert_eq!(schema_type("policy brief"), "Report");
        assert_eq!(schema_type("report"), "Report");
    }
}
