//! Pages as HTML: the embedded MiniJinja theme and the view models handed
//! to it. Functions from data to `String`; no database, no files, no
//! network. Templates only print what they are given.

pub mod admin;
mod assets;
pub mod cite;
pub mod comments;
pub mod feeds;
mod paper;
pub mod pdf;
mod search;

pub use assets::{Asset, Assets, compressible};
pub use paper::{PaperExtras, render_paper};
pub use search::{FilterOption, SearchForm, SearchResultView, SearchView, render_search};

use minijinja::Environment;
use minijinja::value::{Serde, Value};
use quire_core::domain::{Author, PaperMeta, Topic, direction_of, slugify};
use quire_core::markdown::{self, TocEntry};
use serde::Serialize;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A template failed to render: a bug in a template, never reader input.
#[derive(Debug, thiserror::Error)]
#[error("template {template}: {source}")]
pub struct RenderError {
    template: &'static str,
    #[source]
    source: minijinja::Error,
}

/// The templates, embedded in the binary.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("home.html", include_str!("../templates/home.html")),
    ("paper.html", include_str!("../templates/paper.html")),
    ("archive.html", include_str!("../templates/archive.html")),
    ("author.html", include_str!("../templates/author.html")),
    ("authors.html", include_str!("../templates/authors.html")),
    ("topic.html", include_str!("../templates/topic.html")),
    ("topics.html", include_str!("../templates/topics.html")),
    ("not_found.html", include_str!("../templates/not_found.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("search.html", include_str!("../templates/search.html")),
    ("newsletter.html", include_str!("../templates/newsletter.html")),
];

/// The site's look: templates and static assets, loaded once at start.
pub struct Theme {
    env: Environment<'static>,
    pub assets: Assets,
    /// The theme's PDF template (`pdf/paper.typ`), if it has one.
    pub pdf_template: Option<String>,
}

/// A theme folder that cannot be used, naming the file and the fix.
#[derive(Debug, thiserror::Error)]
#[error("theme file {path}: {message}")]
pub struct ThemeError {
    path: String,
    message: String,
}

impl ThemeError {
    fn new(path: &Path, message: impl Into<String>) -> ThemeError {
        ThemeError {
            path: path.display().to_string(),
            message: message.into(),
        }
    }
}

/// Deepest folder nesting read inside a theme folder.
const MAX_THEME_DEPTH: usize = 4;

/// Every file under `dir` as (name relative to `dir` with `/`, path);
/// hidden files are skipped.
fn files_under(dir: &Path) -> Result<Vec<(String, PathBuf)>, ThemeError> {
    fn walk(root: &Path, dir: &Path, depth: usize, out: &mut Vec<(String, PathBuf)>) -> Result<(), ThemeError> {
        let entries =
            std::fs::read_dir(dir).map_err(|e| ThemeError::new(dir, format!("cannot read the folder: {e}")))?;
        for entry in entries {
            let entry = entry.map_err(|e| ThemeError::new(dir, e.to_string()))?;
            let path = entry.path();
            let file_name = entry.file_name();
            let Some(file_name) = file_name.to_str() else {
                return Err(ThemeError::new(&path, "the name is not UTF-8; rename the file"));
            };
            if file_name.starts_with('.') {
                continue;
            }
            let kind = entry.file_type().map_err(|e| ThemeError::new(&path, e.to_string()))?;
            if kind.is_dir() {
                if depth >= MAX_THEME_DEPTH {
                    return Err(ThemeError::new(&path, "folders nest too deep (four levels at most)"));
                }
                walk(root, &path, depth + 1, out)?;
            } else {
                let rel = path.strip_prefix(root).unwrap_or(&path);
                let name = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((name, path));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, 0, &mut out)?;
    out.sort();
    Ok(out)
}

impl Theme {
    /// The default theme built into Quire.
    pub fn embedded() -> Result<Theme, RenderError> {
        let mut env = Environment::new();
        env.set_formatter(html_formatter);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .map_err(|source| RenderError { template: name, source })?;
        }
        let mut theme = Theme {
            env,
            assets: Assets::embedded(),
            pdf_template: None,
        };
        theme.register_asset_urls();
        Ok(theme)
    }

    /// Gives templates `asset_url("name")`: the hashed URL of a theme file,
    /// so that a changed file is never served stale from a browser cache.
    fn register_asset_urls(&mut self) {
        let urls = std::sync::Arc::new(self.assets.urls());
        self.env.add_function("asset_url", move |name: &str| {
            urls.get(name).cloned().ok_or_else(|| {
                minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    format!("asset_url: no theme file named {name:?} in assets/"),
                )
            })
        });
    }

    /// The default theme with a site's own files laid over it: any file in
    /// `DIR/templates/` replaces the template of the same name (or adds one
    /// for `{% include %}`), any file in `DIR/assets/` the asset of that
    /// name. Every template is checked now, so a mistake stops the start
    /// with its file and line rather than breaking pages later.
    pub fn load(dir: &Path) -> Result<Theme, ThemeError> {
        if !dir.is_dir() {
            return Err(ThemeError::new(
                dir,
                "is not a folder; give the theme folder, which holds templates/ and assets/",
            ));
        }
        let mut theme = Theme::embedded().map_err(|e| ThemeError::new(dir, e.to_string()))?;
        let templates = dir.join("templates");
        let assets = dir.join("assets");
        let pdf = dir.join("pdf").join("paper.typ");
        if !templates.is_dir() && !assets.is_dir() && !pdf.is_file() {
            return Err(ThemeError::new(
                dir,
                "holds neither templates/ nor assets/ nor pdf/paper.typ; put overriding templates in templates/, \
                 files in assets/ and a PDF template in pdf/paper.typ",
            ));
        }
        if pdf.is_file() {
            let source = std::fs::read_to_string(&pdf)
                .map_err(|e| ThemeError::new(&pdf, format!("cannot read it as UTF-8 text: {e}")))?;
            theme.pdf_template = Some(source);
        }
        if templates.is_dir() {
            for (name, path) in files_under(&templates)? {
                let source = std::fs::read_to_string(&path)
                    .map_err(|e| ThemeError::new(&path, format!("cannot read it as UTF-8 text: {e}")))?;
                theme
                    .env
                    .add_template_owned(name, source)
                    .map_err(|e| ThemeError::new(&path, template_error(&e)))?;
            }
            // Rendering needs every template the pages use to compile.
            for (name, _) in TEMPLATES {
                theme
                    .env
                    .get_template(name)
                    .map_err(|e| ThemeError::new(&templates.join(name), template_error(&e)))?;
            }
        }
        if assets.is_dir() {
            theme.assets.overlay_dir(&assets)?;
            theme.register_asset_urls();
        }
        Ok(theme)
    }

    fn render<T: Serialize>(&self, template: &'static str, ctx: &T) -> Result<String, RenderError> {
        let wrap = |source| RenderError { template, source };
        self.env
            .get_template(template)
            .map_err(wrap)?
            .render(Value::from(Serde(ctx)))
            .map_err(wrap)
    }
}

/// A template error as one line with its line number.
fn template_error(e: &minijinja::Error) -> String {
    match e.line() {
        Some(line) => format!("line {line}: {}", e.detail().unwrap_or(&e.kind().to_string())),
        None => e.to_string(),
    }
}

/// Escapes printed strings for HTML like the default formatter, but leaves
/// `/` alone: URLs stay readable and pages smaller. Emails use it too.
pub fn html_formatter(
    out: &mut minijinja::Output,
    state: &mut minijinja::State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    if matches!(state.auto_escape(), minijinja::AutoEscape::Html)
        && !value.is_safe()
        && let Some(s) = value.as_str()
    {
        return out.write_str(&escape_html(s)).map_err(minijinja::Error::from);
    }
    minijinja::escape_formatter(out, state, value)
}

/// Escapes the five characters that matter in HTML (and XML) text and
/// attributes, and drops control characters, which neither may hold.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {}
            c => out.push(c),
        }
    }
    out
}

/// What every page knows about the site.
#[derive(Clone, Debug, Serialize)]
pub struct SiteView {
    pub name: String,
    pub description: String,
    pub base_url: String,
    pub language: String,
    pub dir: &'static str,
    pub css_url: String,
    pub js_url: String,
    /// The whole site's feeds.
    pub feeds: Vec<FeedLink>,
}

/// A feed a page advertises with `<link rel="alternate">`.
#[derive(Clone, Debug, Serialize)]
pub struct FeedLink {
    pub title: String,
    pub url: String,
    pub mime: &'static str,
}

/// The three feeds under `prefix` ("" for the site, "/topics/x" for a
/// topic), titled after `name`.
pub fn feed_links(prefix: &str, name: &str) -> Vec<FeedLink> {
    [
        ("atom", "Atom", "application/atom+xml"),
        ("rss", "RSS", "application/rss+xml"),
        ("json", "JSON Feed", "application/feed+json"),
    ]
    .into_iter()
    .map(|(ext, label, mime)| FeedLink {
        title: format!("{name} ({label})"),
        url: format!("{prefix}/feed.{ext}"),
        mime,
    })
    .collect()
}

impl SiteView {
    /// The site as every page shows it: its settings (name, description,
    /// canonical base URL without a trailing slash, language) and the
    /// theme's asset addresses.
    pub fn new(name: &str, description: &str, base_url: &str, language: &str, assets: &Assets) -> SiteView {
        SiteView {
            name: name.to_owned(),
            description: description.to_owned(),
            base_url: base_url.to_owned(),
            language: language.to_owned(),
            dir: direction_of(language).as_str(),
            css_url: assets.url("quire.css"),
            js_url: assets.url("quire.js"),
            feeds: feed_links("", name),
        }
    }
}

/// The head of one page: its title, language, direction and canonical URL.
#[derive(Clone, Debug, Serialize)]
pub struct PageHead {
    pub title: String,
    pub description: String,
    pub lang: String,
    pub dir: &'static str,
    /// Absolute URL of this page.
    pub canonical: String,
    /// Feeds to advertise: this page's own, then the site's.
    pub feeds: Vec<FeedLink>,
    /// `noindex` for pages search engines should not keep.
    pub robots: Option<&'static str>,
}

/// A date for people and for machines.
#[derive(Clone, Debug, Serialize)]
pub struct DateView {
    /// RFC 3339, for `<time datetime>`.
    pub iso: String,
    /// "5 January 2026".
    pub display: String,
}

impl DateView {
    pub fn new(t: OffsetDateTime) -> DateView {
        DateView {
            iso: t.format(&Rfc3339).unwrap_or_default(),
            display: format!("{} {} {}", t.day(), t.month(), t.year()),
        }
    }
}

/// A link to an author with what a byline shows.
#[derive(Clone, Debug, Serialize)]
pub struct BylineView {
    pub name: String,
    pub url: String,
    pub affiliation: Option<String>,
}

/// A link with a label: topics, pagination, navigation.
#[derive(Clone, Debug, Serialize)]
pub struct LinkView {
    pub label: String,
    pub url: String,
}

/// A paper as shown in lists.
#[derive(Clone, Debug, Serialize)]
pub struct PaperCard {
    pub url: String,
    pub title: String,
    pub subtitle: Option<String>,
    pub kind: String,
    pub kind_url: String,
    pub summary: String,
    pub language: String,
    pub dir: &'static str,
    pub authors: Vec<BylineView>,
    pub topics: Vec<LinkView>,
    pub published: Option<DateView>,
    pub reading_minutes: u32,
    /// Approved comments, shown when there are any.
    pub comment_count: u64,
}

/// Paths of the site's pages, in one place.
pub mod paths {
    pub fn paper(slug: &str) -> String {
        format!("/papers/{slug}/")
    }
    pub fn author(slug: &str) -> String {
        format!("/authors/{slug}/")
    }
    pub fn topic(slug: &str) -> String {
        format!("/topics/{slug}/")
    }
    pub fn kind(kind: &str) -> String {
        format!("/archive/?kind={}", quire_core::domain::slugify(kind))
    }
}

impl PaperCard {
    pub fn new(p: &PaperMeta, words_per_minute: u32) -> PaperCard {
        PaperCard {
            url: paths::paper(&p.slug),
            title: p.title.clone(),
            subtitle: p.subtitle.clone(),
            kind: p.kind.clone(),
            kind_url: paths::kind(&p.kind),
            summary: p.summary.clone(),
            language: p.language.clone(),
            dir: p.direction().as_str(),
            authors: p
                .authors
                .iter()
                .map(|a| BylineView {
                    name: a.name.clone(),
                    url: paths::author(&a.slug),
                    affiliation: a.affiliation.clone(),
                })
                .collect(),
            topics: p
                .topics
                .iter()
                .map(|t| LinkView {
                    label: t.name.clone(),
                    url: paths::topic(&t.slug),
                })
                .collect(),
            published: p.published_at.map(DateView::new),
            reading_minutes: markdown::reading_minutes(usize::try_from(p.word_count).unwrap_or(0), words_per_minute),
            comment_count: p.comment_count,
        }
    }
}

/// Page navigation for long lists.
#[derive(Clone, Debug, Serialize)]
pub struct Pagination {
    pub page: u32,
    pub pages: u32,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pagination {
    /// `base` is the list's path with any filter, e.g. `/archive/?kind=report`.
    pub fn new(base: &str, page: u32, total: u64, per_page: u32) -> Pagination {
        let pages = u32::try_from(total.div_ceil(u64::from(per_page.max(1))))
            .unwrap_or(u32::MAX)
            .max(1);
        let url = |n: u32| {
            if n == 1 {
                base.to_owned()
            } else if base.contains('?') {
                format!("{base}&page={n}")
            } else {
                format!("{base}?page={n}")
            }
        };
        Pagination {
            page,
            pages,
            prev: (page > 1).then(|| url(page - 1)),
            next: (page < pages).then(|| url(page + 1)),
        }
    }
}

/// An author's full entry at the foot of a paper or on their page.
#[derive(Clone, Debug, Serialize)]
pub struct AuthorView {
    pub name: String,
    pub url: String,
    pub affiliation: Option<String>,
    /// The ORCID iD's address (`https://orcid.org/…`), also the last of
    /// `links`.
    pub orcid_url: Option<String>,
    pub bio_html: String,
    pub links: Vec<LinkView>,
    pub paper_count: i64,
}

impl AuthorView {
    pub fn new(a: &Author) -> AuthorView {
        AuthorView {
            name: a.name.clone(),
            url: paths::author(&a.slug),
            affiliation: a.affiliation.clone(),
            bio_html: if a.bio.trim().is_empty() {
                String::new()
            } else {
                markdown::render(&a.bio).html
            },
            links: a
                .links
                .iter()
                .map(|l| LinkView {
                    label: l.label.clone(),
                    url: l.url.clone(),
                })
                .chain(a.orcid.iter().map(|id| LinkView {
                    label: format!("ORCID iD {id}"),
                    url: format!("https://orcid.org/{id}"),
                }))
                .collect(),
            orcid_url: a.orcid.as_ref().map(|id| format!("https://orcid.org/{id}")),
            paper_count: a.paper_count,
        }
    }
}

/// A topic with its link and count.
#[derive(Clone, Debug, Serialize)]
pub struct TopicView {
    pub name: String,
    pub url: String,
    pub description: String,
    pub paper_count: i64,
}

impl TopicView {
    pub fn new(t: &Topic) -> TopicView {
        TopicView {
            name: t.name.clone(),
            url: paths::topic(&t.slug),
            description: t.description.clone(),
            paper_count: t.paper_count,
        }
    }
}

pub(crate) fn head(site: &SiteView, title: String, description: String, path: &str) -> PageHead {
    PageHead {
        title,
        description,
        lang: site.language.clone(),
        dir: site.dir,
        canonical: format!("{}{}", site.base_url, path),
        feeds: site.feeds.clone(),
        robots: None,
    }
}

/// One kind's shelf on the home page.
#[derive(Clone, Debug, Serialize)]
pub struct KindShelf {
    pub kind: String,
    pub url: String,
    pub papers: Vec<PaperCard>,
}

#[derive(Serialize)]
struct HomeContext<'a> {
    site: &'a SiteView,
    page: PageHead,
    latest: &'a [PaperCard],
    shelves: &'a [KindShelf],
    recent_comments: &'a [RecentComment],
}

/// A line of the home page's "Recent comments": who, on which paper.
#[derive(Clone, Debug, Serialize)]
pub struct RecentComment {
    pub name: String,
    pub paper_title: String,
    /// The comment's permalink.
    pub url: String,
}

impl RecentComment {
    pub fn new(comment: &quire_core::domain::Comment, paper_title: &str) -> RecentComment {
        RecentComment {
            name: comment.name.clone(),
            paper_title: paper_title.to_owned(),
            url: format!("{}#comment-{}", paths::paper(&comment.paper), comment.id),
        }
    }
}

/// The home page: the latest papers, then a shelf per kind, and the
/// newest comments (WordPress's "Recent Comments").
pub fn render_home(
    theme: &Theme,
    site: &SiteView,
    latest: &[PaperCard],
    shelves: &[KindShelf],
    recent_comments: &[RecentComment],
) -> Result<String, RenderError> {
    let page = head(site, site.name.clone(), site.description.clone(), "/");
    theme.render(
        "home.html",
        &HomeContext {
            site,
            page,
            latest,
            shelves,
            recent_comments,
        },
    )
}

/// A table-of-contents line with the headings under it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct TocItem {
    pub id: String,
    pub text: String,
    pub children: Vec<TocItem>,
}

/// Two levels of contents: the paper's top heading level and the one
/// below it; deeper headings are left to the page.
pub fn nest_toc<'t>(entries: impl Iterator<Item = TocEntry<'t>> + Clone) -> Vec<TocItem> {
    let Some(top) = entries.clone().map(|e| e.level).min() else {
        return Vec::new();
    };
    let mut items: Vec<TocItem> = Vec::new();
    for e in entries {
        let item = TocItem {
            id: e.id.to_owned(),
            text: e.text.to_owned(),
            children: Vec::new(),
        };
        match (e.level - top, items.last_mut()) {
            (0, _) | (1, None) => items.push(item),
            (1, Some(parent)) => parent.children.push(item),
            _ => {}
        }
    }
    items
}

/// One year's papers on the archive page.
#[derive(Clone, Debug, Serialize)]
pub struct YearGroup {
    pub year: i32,
    pub papers: Vec<PaperCard>,
}

/// Splits newest-first papers into years.
pub fn group_by_year(papers: Vec<(i32, PaperCard)>) -> Vec<YearGroup> {
    let mut groups: Vec<YearGroup> = Vec::new();
    for (year, card) in papers {
        match groups.last_mut() {
            Some(g) if g.year == year => g.papers.push(card),
            _ => groups.push(YearGroup {
                year,
                papers: vec![card],
            }),
        }
    }
    groups
}

#[derive(Serialize)]
struct ArchiveContext<'a> {
    site: &'a SiteView,
    page: PageHead,
    kind: Option<&'a str>,
    kinds: Vec<LinkView>,
    years: &'a [YearGroup],
    total: u64,
    pagination: Pagination,
}

/// The archive: every paper by year, a page at a time, optionally of one kind.
pub fn render_archive(
    theme: &Theme,
    site: &SiteView,
    kinds: &[String],
    kind: Option<&str>,
    years: &[YearGroup],
    total: u64,
    pagination: Pagination,
) -> Result<String, RenderError> {
    let title = match kind {
        Some(k) => format!("Archive: {} | {}", capitalise(k), site.name),
        None => format!("Archive | {}", site.name),
    };
    let mut path = match kind {
        Some(k) => paths::kind(k),
        None => "/archive/".to_owned(),
    };
    if pagination.page > 1 {
        path.push_str(if path.contains('?') { "&" } else { "?" });
        path.push_str(&format!("page={}", pagination.page));
    }
    let page = head(
        site,
        title,
        format!("Every paper published by {}, by year.", site.name),
        &path,
    );
    let kinds = kinds
        .iter()
        .map(|k| LinkView {
            label: capitalise(k),
            url: paths::kind(k),
        })
        .collect();
    theme.render(
        "archive.html",
        &ArchiveContext {
            site,
            page,
            kind,
            kinds,
            years,
            total,
            pagination,
        },
    )
}

#[derive(Serialize)]
struct AuthorContext<'a> {
    site: &'a SiteView,
    page: PageHead,
    author: AuthorView,
    papers: &'a [PaperCard],
    pagination: Pagination,
}

/// An author's page: who they are and what they wrote.
pub fn render_author(
    theme: &Theme,
    site: &SiteView,
    author: &Author,
    papers: &[PaperCard],
    pagination: Pagination,
) -> Result<String, RenderError> {
    let description = match &author.affiliation {
        Some(a) => format!("Papers by {}, {}.", author.name, a),
        None => format!("Papers by {}.", author.name),
    };
    let mut page = head(
        site,
        format!("{} | {}", author.name, site.name),
        description,
        &paths::author(&author.slug),
    );
    let own = feed_links(
        paths::author(&author.slug).trim_end_matches('/'),
        &format!("{}: {}", site.name, author.name),
    );
    page.feeds = own.into_iter().chain(page.feeds).collect();
    theme.render(
        "author.html",
        &AuthorContext {
            site,
            page,
            author: AuthorView::new(author),
            papers,
            pagination,
        },
    )
}

#[derive(Serialize)]
struct TopicContext<'a> {
    site: &'a SiteView,
    page: PageHead,
    topic: TopicView,
    papers: &'a [PaperCard],
    pagination: Pagination,
}

/// A topic's page: its description and papers.
pub fn render_topic(
    theme: &Theme,
    site: &SiteView,
    topic: &Topic,
    papers: &[PaperCard],
    pagination: Pagination,
) -> Result<String, RenderError> {
    let description = if topic.description.is_empty() {
        format!("Papers on {}.", topic.name)
    } else {
        topic.description.clone()
    };
    let mut page = head(
        site,
        format!("{} | {}", topic.name, site.name),
        description,
        &paths::topic(&topic.slug),
    );
    let own = feed_links(
        paths::topic(&topic.slug).trim_end_matches('/'),
        &format!("{}: {}", site.name, topic.name),
    );
    page.feeds = own.into_iter().chain(page.feeds).collect();
    theme.render(
        "topic.html",
        &TopicContext {
            site,
            page,
            topic: TopicView::new(topic),
            papers,
            pagination,
        },
    )
}

#[derive(Serialize)]
struct IndexContext<'a, T> {
    site: &'a SiteView,
    page: PageHead,
    items: &'a [T],
}

/// Every author with at least one paper.
pub fn render_authors(theme: &Theme, site: &SiteView, authors: &[AuthorView]) -> Result<String, RenderError> {
    let page = head(
        site,
        format!("Authors | {}", site.name),
        format!("The authors of {}.", site.name),
        "/authors/",
    );
    theme.render(
        "authors.html",
        &IndexContext {
            site,
            page,
            items: authors,
        },
    )
}

/// Every topic with at least one paper.
pub fn render_topics(theme: &Theme, site: &SiteView, topics: &[TopicView]) -> Result<String, RenderError> {
    let page = head(
        site,
        format!("Topics | {}", site.name),
        format!("Topics covered by {}.", site.name),
        "/topics/",
    );
    theme.render(
        "topics.html",
        &IndexContext {
            site,
            page,
            items: topics,
        },
    )
}

#[derive(Serialize)]
struct NotFoundContext<'a> {
    site: &'a SiteView,
    page: PageHead,
    latest: &'a [PaperCard],
}

/// The 404 page, with ways back into the site.
pub fn render_not_found(theme: &Theme, site: &SiteView, latest: &[PaperCard]) -> Result<String, RenderError> {
    let mut page = head(site, format!("Page not found | {}", site.name), String::new(), "/404");
    page.robots = Some("noindex");
    theme.render("not_found.html", &NotFoundContext { site, page, latest })
}

#[derive(Serialize)]
struct ErrorContext<'a> {
    site: &'a SiteView,
    page: PageHead,
    request_id: &'a str,
}

/// The page a reader sees when Quire fails: an apology and a request id,
/// never internal detail.
pub fn render_error(theme: &Theme, site: &SiteView, request_id: &str) -> Result<String, RenderError> {
    let page = head(
        site,
        format!("Something went wrong | {}", site.name),
        String::new(),
        "/",
    );
    theme.render("error.html", &ErrorContext { site, page, request_id })
}

/// A topic a reader may pick for their newsletter.
#[derive(Clone, Debug, Serialize)]
pub struct TopicChoice {
    pub slug: String,
    pub name: String,
    pub checked: bool,
}

/// The newsletter pages: the sign-up form, its outcomes, a subscriber's
/// preferences and the unsubscribe page.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NewsletterView {
    /// "subscribe", "preferences", "message" (an outcome alone) or
    /// "button" (a message and one button that posts to `action`).
    pub mode: &'static str,
    pub heading: String,
    pub message: String,
    /// What went wrong with the form as a whole.
    pub problem: String,
    pub action: String,
    /// Where the Unsubscribe button posts, when there is one.
    pub unsubscribe_action: String,
    pub email: String,
    pub email_error: String,
    pub name: String,
    pub name_error: String,
    pub everything: bool,
    pub topics: Vec<TopicChoice>,
    pub topics_error: String,
    /// The button's label, in "button" mode.
    pub button: String,
    /// A confirmation token the button posts.
    pub token: String,
}

#[derive(Serialize)]
struct NewsletterContext<'a> {
    site: &'a SiteView,
    page: PageHead,
    view: &'a NewsletterView,
}

/// A newsletter page at `path`; never indexed.
pub fn render_newsletter(
    theme: &Theme,
    site: &SiteView,
    path: &str,
    view: &NewsletterView,
) -> Result<String, RenderError> {
    let mut page = head(site, format!("{} | {}", view.heading, site.name), String::new(), path);
    page.robots = Some("noindex");
    theme.render("newsletter.html", &NewsletterContext { site, page, view })
}

/// "policy brief" → "Policy brief".
pub fn capitalise(s: &str) -> String {
    let mut cs = s.chars();
    match cs.next() {
        Some(c) => c.to_uppercase().chain(cs).collect(),
        None => String::new(),
    }
}

/// The kind in `kinds` whose slug is `slug`.
pub fn kind_from_slug<'a>(kinds: &'a [String], slug: &str) -> Option<&'a str> {
    kinds.iter().find(|k| slugify(k) == slug).map(String::as_str)
}

#[cfg(test)]
mod tests;
