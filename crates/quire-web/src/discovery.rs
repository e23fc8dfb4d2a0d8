//! What machines fetch: feeds for the site, each topic and each author;
//! citation files; sitemaps and robots.txt. All cached like pages, with
//! the same ETags, Last-Modified and 304s.

use super::cache::{CachedPage, RenderedPage};
use super::pages::redirect;
use super::{AppState, PageError};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Response, StatusCode};
use axum::response::IntoResponse;
use bytes::Bytes;
use quire_core::domain::{PaperMeta, validate_slug};
use quire_render::cite::Citation;
use quire_render::feeds::{self, FeedEntry, FeedInfo};
use quire_render::paths;
use quire_store::{PaperQuery, Visibility};
use time::OffsetDateTime;

/// The feed formats, by file extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FeedFormat {
    Atom,
    Rss,
    Json,
}

impl FeedFormat {
    fn from_file(file: &str) -> Option<FeedFormat> {
        match file {
            "feed.atom" => Some(FeedFormat::Atom),
            "feed.rss" => Some(FeedFormat::Rss),
            "feed.json" => Some(FeedFormat::Json),
            _ => None,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            FeedFormat::Atom => "application/atom+xml; charset=utf-8",
            FeedFormat::Rss => "application/rss+xml; charset=utf-8",
            FeedFormat::Json => "application/feed+json; charset=utf-8",
        }
    }
}

/// Whose papers a feed follows.
#[derive(Clone, Debug)]
enum FeedScope {
    Site,
    Topic(String),
    Author(String),
}

fn file_response(body: String, content_type: &'static str) -> RenderedPage {
    RenderedPage {
        status: StatusCode::OK,
        html: body,
        content_type,
        download_as: None,
    }
}

async fn feed(state: AppState, scope: FeedScope, format: FeedFormat, headers: HeaderMap) -> Response<Body> {
    let prefix = match &scope {
        FeedScope::Site => String::new(),
        FeedScope::Topic(slug) => paths::topic(slug).trim_end_matches('/').to_owned(),
        FeedScope::Author(slug) => paths::author(slug).trim_end_matches('/').to_owned(),
    };
    let key = format!(
        "{prefix}/feed.{}",
        match format {
            FeedFormat::Atom => "atom",
            FeedFormat::Rss => "rss",
            FeedFormat::Json => "json",
        }
    );
    state
        .cached_file(&headers, key, |state| async move {
            let now = OffsetDateTime::now_utc();
            let visibility = Visibility::ListedAt(now);
            let base = state.site().base_url.clone();
            let site_name = state.site().name.clone();
            let mut query = PaperQuery {
                limit: Some(state.config().feeds.items),
                ..PaperQuery::listed_at(now)
            };
            let (title, description, page_path) = match &scope {
                FeedScope::Site => (site_name.clone(), state.site().description.clone(), "/".to_owned()),
                FeedScope::Topic(slug) => {
                    let topic = state
                        .store
                        .get_topic(slug, visibility)
                        .await?
                        .ok_or(PageError::NotFound)?;
                    query.topic = Some(slug.clone());
                    let description = if topic.description.is_empty() {
                        format!("Papers on {} from {}.", topic.name, site_name)
                    } else {
                        topic.description.clone()
                    };
                    (format!("{site_name}: {}", topic.name), description, paths::topic(slug))
                }
                FeedScope::Author(slug) => {
                    let author = state
                        .store
                        .get_author(slug, visibility)
                        .await?
                        .ok_or(PageError::NotFound)?;
                    query.author = Some(slug.clone());
                    (
                        format!("{site_name}: {}", author.name),
                        format!("Papers by {} from {}.", author.name, site_name),
                        paths::author(slug),
                    )
                }
            };
            let papers = state.store.list_papers(&query).await?;
            let bodies = if state.config().full_text_feeds() {
                let ids: Vec<i64> = papers.iter().map(|p| p.id).collect();
                Some(state.store.bodies(&ids).await?)
            } else {
                None
            };
            let info = FeedInfo {
                title,
                description,
                page_url: format!("{base}{page_path}"),
                feed_url_stem: format!("{base}{prefix}/feed"),
                language: state.site().language.clone(),
                site_name,
            };
            // Full texts are Markdown to render: in proportion to the papers.
            super::off_async(move || {
                let entries = feed_entries(&base, &papers, bodies.as_ref());
                let body = match format {
                    FeedFormat::Atom => feeds::atom(&info, &entries, now),
                    FeedFormat::Rss => feeds::rss(&info, &entries, now),
                    FeedFormat::Json => feeds::json_feed(&info, &entries),
                };
                Ok(file_response(body, format.content_type()))
            })
            .await
        })
        .await
}

pub async fn site_comments_feed(State(state): State<AppState>, headers: HeaderMap) -> Response<Body> {
    comments_feed(state, None, headers).await
}

/// `/comments.atom` (every paper) and `/papers/{slug}/comments.atom`: the
/// newest approved comments, as WordPress's comment feeds.
pub async fn comments_feed(state: AppState, slug: Option<String>, headers: HeaderMap) -> Response<Body> {
    if slug.as_deref().is_some_and(|s| validate_slug(s).is_err()) {
        return PageError::NotFound.into_response();
    }
    let key = match &slug {
        Some(s) => format!("{}comments.atom", paths::paper(s)),
        None => "/comments.atom".to_owned(),
    };
    state
        .cached_file(&headers, key, |state| async move {
            let now = OffsetDateTime::now_utc();
            let base = state.site().base_url.clone();
            let (paper, title, page_url) = match &slug {
                Some(s) => {
                    let paper = state.public_paper(s, now).await?;
                    if paper.meta.comments == quire_core::domain::CommentsMode::Hidden {
                        return Err(PageError::NotFound);
                    }
                    let title = format!("Comments on {}", paper.meta.full_title());
                    (Some(paper), title, format!("{base}{}", paths::paper(s)))
                }
                None => (None, format!("Comments on {}", state.site().name), format!("{base}/")),
            };
            let comments = state
                .store
                .recent_comments(paper.as_ref().map(|p| p.meta.id), state.config().feeds.items, now)
                .await?;
            let language = paper
                .as_ref()
                .map_or(state.config().language.clone(), |p| p.meta.language.clone());
            let entries: Vec<FeedEntry> = comments
                .iter()
                .map(|(c, title)| FeedEntry::comment(c, title, &base, &language))
                .collect();
            let info = FeedInfo {
                title,
                description: format!("The newest comments, from {}", state.site().name),
                feed_url_stem: format!("{}/comments", page_url.trim_end_matches('/')),
                page_url,
                language,
                site_name: state.site().name.clone(),
            };
            let updated = paper.as_ref().map_or(now, |p| p.meta.updated_at);
            Ok(file_response(
                feeds::atom(&info, &entries, updated),
                "application/atom+xml; charset=utf-8",
            ))
        })
        .await
}

/// An image stored with a paper, served beside it while readers may see
/// the paper (a draft's images stay private).
async fn paper_media(state: AppState, slug: String, name: String, headers: &HeaderMap) -> Response<Body> {
    if name.ends_with(".svg.png") {
        return drawing_as_png(state, slug, name, headers).await;
    }
    // Only names Quire could have stored, in the one spelling it stores.
    let canonical = quire_core::domain::media_name(&quire_core::domain::media_path(&name));
    if validate_slug(&slug).is_err() || canonical != Ok(Some(name.clone())) {
        return PageError::NotFound.into_response();
    }
    let key = format!("{}{}", paths::paper(&slug), quire_core::domain::media_path(&name));
    state
        .cached_page(headers, key, |state| async move {
            let paper = state.public_paper(&slug, OffsetDateTime::now_utc()).await?;
            let file = state
                .store
                .media_file(paper.meta.id, &name)
                .await?
                .ok_or(PageError::NotFound)?;
            Ok(CachedPage::media(
                Bytes::from(file.data),
                file.meta.kind,
                paper.meta.updated_at,
            ))
        })
        .await
}

/// The widest PNG an SVG drawing is drawn as, in pixels.
const DRAWING_PNG_WIDTH: u32 = 1600;

/// `NAME.svg.png`: a paper's SVG drawing NAME.svg as PNG, for emails
/// (most email programs show no SVG), or a PNG stored under that very
/// name. Drawn off the async workers, once per version of the paper
/// while the page cache keeps it.
async fn drawing_as_png(state: AppState, slug: String, png_name: String, headers: &HeaderMap) -> Response<Body> {
    let name = png_name.trim_end_matches(".png").to_owned();
    let canonical =
        |n: &str| quire_core::domain::media_name(&quire_core::domain::media_path(n)) == Ok(Some(n.to_owned()));
    if validate_slug(&slug).is_err() || !canonical(&name) {
        return PageError::NotFound.into_response();
    }
    let key = format!("{}{}.png", paths::paper(&slug), quire_core::domain::media_path(&name));
    state
        .cached_page(headers, key, |state| async move {
            let paper = state.public_paper(&slug, OffsetDateTime::now_utc()).await?;
            let Some(file) = state.store.media_file(paper.meta.id, &name).await? else {
                // Not a drawing of ours: perhaps a PNG stored under the name.
                let stored = match canonical(&png_name) {
                    true => state.store.media_file(paper.meta.id, &png_name).await?,
                    false => None,
                };
                let file = stored.ok_or(PageError::NotFound)?;
                return Ok(CachedPage::media(
                    Bytes::from(file.data),
                    file.meta.kind,
                    paper.meta.updated_at,
                ));
            };
            let png = crate::off_async(move || {
                quire_pdf::svg_to_png(&file.data, DRAWING_PNG_WIDTH).map_err(|e| {
                    tracing::warn!(drawing = %name, error = %e, "a stored drawing cannot be drawn as PNG");
                    PageError::NotFound
                })
            })
            .await?;
            Ok(CachedPage::media(
                Bytes::from(png),
                quire_core::domain::MediaKind::Png,
                paper.meta.updated_at,
            ))
        })
        .await
}

/// Feed entries for `papers`, with their full texts when `bodies` holds
/// them (by paper id).
fn feed_entries(
    base: &str,
    papers: &[PaperMeta],
    bodies: Option<&std::collections::HashMap<i64, String>>,
) -> Vec<FeedEntry> {
    papers
        .iter()
        .map(|p| {
            let html = bodies.and_then(|b| b.get(&p.id)).map(|body| {
                // Feed readers resolve nothing: images get absolute addresses.
                let prefix = format!("{base}{}", paths::paper(&p.slug));
                let links = quire_core::markdown::ImageLinks {
                    prefix: &prefix,
                    media: &[],
                    svg_as_png: false,
                };
                quire_core::markdown::render_with_images(body, Some(&links)).html
            });
            FeedEntry::new(p, base, html.as_deref())
        })
        .collect()
}

pub async fn site_feed_atom(State(state): State<AppState>, headers: HeaderMap) -> Response<Body> {
    feed(state, FeedScope::Site, FeedFormat::Atom, headers).await
}

pub async fn site_feed_rss(State(state): State<AppState>, headers: HeaderMap) -> Response<Body> {
    feed(state, FeedScope::Site, FeedFormat::Rss, headers).await
}

pub async fn site_feed_json(State(state): State<AppState>, headers: HeaderMap) -> Response<Body> {
    feed(state, FeedScope::Site, FeedFormat::Json, headers).await
}

pub async fn topic_feed(
    State(state): State<AppState>,
    Path((slug, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response<Body> {
    match (validate_slug(&slug), FeedFormat::from_file(&file)) {
        (Ok(()), Some(format)) => feed(state, FeedScope::Topic(slug), format, headers).await,
        _ => PageError::NotFound.into_response(),
    }
}

pub async fn author_feed(
    State(state): State<AppState>,
    Path((slug, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response<Body> {
    match (validate_slug(&slug), FeedFormat::from_file(&file)) {
        (Ok(()), Some(format)) => feed(state, FeedScope::Author(slug), format, headers).await,
        _ => PageError::NotFound.into_response(),
    }
}

/// The citation formats a paper offers as downloads.
#[derive(Clone, Copy)]
enum CiteFormat {
    Bibtex,
    Ris,
    CslJson,
}

/// `/papers/{slug}/cite.bib`, `cite.ris`, `cite.json`.
pub async fn paper_file(
    State(state): State<AppState>,
    Path((slug, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response<Body> {
    let format = match file.as_str() {
        "cite.bib" => CiteFormat::Bibtex,
        "cite.ris" => CiteFormat::Ris,
        "cite.json" => CiteFormat::CslJson,
        "comments.atom" => return comments_feed(state, Some(slug), headers).await,
        _ => return paper_media(state, slug, file, &headers).await,
    };
    if validate_slug(&slug).is_err() {
        return PageError::NotFound.into_response();
    }
    let key = format!("{}{file}", paths::paper(&slug));
    state
        .cached_file(&headers, key, |state| async move {
            let paper = state.public_paper(&slug, OffsetDateTime::now_utc()).await?;
            let url = format!("{}{}", state.site().base_url, paths::paper(&slug));
            let citation = Citation::new(&paper.meta, &state.site().name, url);
            let (body, content_type, ext) = match format {
                CiteFormat::Bibtex => (citation.bibtex(), "application/x-bibtex; charset=utf-8", "bib"),
                CiteFormat::Ris => (
                    citation.ris(),
                    "application/x-research-info-systems; charset=utf-8",
                    "ris",
                ),
                CiteFormat::CslJson => (
                    serde_json::to_string_pretty(&citation.csl_json()).unwrap_or_default(),
                    "application/vnd.citationstyles.csl+json; charset=utf-8",
                    "json",
                ),
            };
            Ok(RenderedPage {
                download_as: Some(format!("{slug}.{ext}")),
                ..file_response(body, content_type)
            })
        })
        .await
}

/// The site's pages other than papers, for the sitemap.
async fn section_urls(
    state: &AppState,
    now: OffsetDateTime,
) -> Result<Vec<(String, Option<OffsetDateTime>)>, PageError> {
    let base = &state.site().base_url;
    let visibility = Visibility::ListedAt(now);
    let mut urls: Vec<(String, Option<OffsetDateTime>)> = ["/", "/archive/", "/authors/", "/topics/"]
        .iter()
        .map(|p| (format!("{base}{p}"), None))
        .collect();
    for a in state.store.list_authors(visibility).await? {
        if a.paper_count > 0 {
            urls.push((format!("{base}{}", paths::author(&a.slug)), None));
        }
    }
    for t in state.store.list_topics(visibility).await? {
        if t.paper_count > 0 {
            urls.push((format!("{base}{}", paths::topic(&t.slug)), None));
        }
    }
    Ok(urls)
}

async fn paper_urls(
    state: &AppState,
    now: OffsetDateTime,
    limit: Option<u32>,
    offset: u32,
) -> Result<Vec<(String, Option<OffsetDateTime>)>, PageError> {
    let stamps = state
        .store
        .paper_stamps(&PaperQuery {
            limit,
            offset,
            ..PaperQuery::listed_at(now)
        })
        .await?;
    let site = state.site();
    Ok(stamps
        .into_iter()
        .map(|s| {
            (
                format!("{}{}", site.base_url, paths::paper(&s.slug)),
                Some(s.updated_at),
            )
        })
        .collect())
}

const XML: &str = "application/xml; charset=utf-8";

/// `/sitemap.xml`: every URL when they fit one file, else an index of
/// `/sitemaps/pages.xml` and `/sitemaps/papers-N.xml`.
pub async fn sitemap(State(state): State<AppState>, headers: HeaderMap) -> Response<Body> {
    state
        .cached_file(&headers, "/sitemap.xml".to_owned(), |state| async move {
            let now = OffsetDateTime::now_utc();
            let per_file = state.config().feeds.sitemap_urls_per_file;
            let sections = section_urls(&state, now).await?;
            let papers = state.store.count_papers(&PaperQuery::listed_at(now)).await?;
            let body = if papers + sections.len() as u64 <= u64::from(per_file) {
                let mut urls = sections;
                urls.extend(paper_urls(&state, now, None, 0).await?);
                super::off_async(move || Ok(feeds::sitemap_urlset(&urls))).await?
            } else {
                let base = &state.site().base_url;
                let files = papers.div_ceil(u64::from(per_file));
                let mut locs = vec![format!("{base}/sitemaps/pages.xml")];
                locs.extend((1..=files).map(|n| format!("{base}/sitemaps/papers-{n}.xml")));
                feeds::sitemap_index(&locs)
            };
            Ok(file_response(body, XML))
        })
        .await
}

/// One file of a split sitemap.
pub async fn sitemap_file(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response<Body> {
    let part = match file.as_str() {
        "pages.xml" => Some(0),
        f => f
            .strip_prefix("papers-")
            .and_then(|rest| rest.strip_suffix(".xml"))
            .and_then(super::pages::canonical_number)
            .filter(|n| *n >= 1 && *n <= 100_000),
    };
    let Some(part) = part else {
        return PageError::NotFound.into_response();
    };
    // The key is made from the number, never from the name as sent.
    let key = if part == 0 {
        "/sitemaps/pages.xml".to_owned()
    } else {
        format!("/sitemaps/papers-{part}.xml")
    };
    state
        .cached_file(&headers, key, |state| async move {
            let now = OffsetDateTime::now_utc();
            let per_file = state.config().feeds.sitemap_urls_per_file;
            let urls = if part == 0 {
                let mut urls = section_urls(&state, now).await?;
                urls.truncate(per_file as usize);
                urls
            } else {
                let urls = paper_urls(&state, now, Some(per_file), (part - 1).saturating_mul(per_file)).await?;
                if urls.is_empty() {
                    return Err(PageError::NotFound);
                }
                urls
            };
            super::off_async(move || Ok(file_response(feeds::sitemap_urlset(&urls), XML))).await
        })
        .await
}

/// Crawlers may read everything but search results, and find the sitemap.
pub async fn robots(State(state): State<AppState>, headers: HeaderMap) -> Response<Body> {
    state
        .cached_file(&headers, "/robots.txt".to_owned(), |state| async move {
            let body = format!(
                "User-agent: *\nDisallow: /search\n\nSitemap: {}/sitemap.xml\n",
                state.site().base_url
            );
            Ok(file_response(body, "text/plain; charset=utf-8"))
        })
        .await
}

/// WordPress's feed address, `/feed/`, leads to the RSS feed, so readers'
/// subscriptions survive a move to Quire.
pub async fn wordpress_feed() -> Response<Body> {
    redirect("/feed.rss")
}
