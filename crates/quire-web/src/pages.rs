//! Handlers for the reader-facing pages. Each fetches what its page shows,
//! then renders it; the cache in `AppState::cached` does the rest.

use super::comments::CommentsRequest;
use super::{AppState, PageError};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, Uri, header};
use axum::response::IntoResponse;
use quire_core::domain::{PaperMeta, validate_slug};
use quire_render::{
    self as render, AuthorView, KindShelf, Pagination, PaperCard, PaperExtras, TopicView, group_by_year,
    kind_from_slug, paths,
};
use quire_store::{PaperQuery, Visibility};
use time::OffsetDateTime;

/// How many papers lead the home page, and how many each kind's shelf shows.
const HOME_LATEST: u32 = 6;
const HOME_SHELF: u32 = 4;
/// The highest page number a list accepts.
pub(super) const MAX_PAGE: u32 = 100_000;

pub(super) fn cards(state: &AppState, papers: &[PaperMeta]) -> Vec<PaperCard> {
    let words_per_minute = state.config().pages.words_per_minute;
    papers.iter().map(|p| PaperCard::new(p, words_per_minute)).collect()
}

pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response<Body> {
    state
        .cached(&headers, "/".to_owned(), |state| async move {
            let now = OffsetDateTime::now_utc();
            let latest = state
                .store
                .list_papers(&PaperQuery {
                    limit: Some(HOME_LATEST),
                    ..PaperQuery::listed_at(now)
                })
                .await?;
            let mut shelves = Vec::new();
            for kind in &state.config().kinds {
                let papers = state
                    .store
                    .list_papers(&PaperQuery {
                        kind: Some(kind.clone()),
                        limit: Some(HOME_SHELF),
                        ..PaperQuery::listed_at(now)
                    })
                    .await?;
                if !papers.is_empty() {
                    shelves.push(KindShelf {
                        kind: kind.clone(),
                        url: paths::kind(kind),
                        papers: cards(&state, &papers),
                    });
                }
            }
            let recent: Vec<render::RecentComment> = state
                .store
                .recent_comments(None, 5, now)
                .await?
                .iter()
                .map(|(c, title)| render::RecentComment::new(c, title))
                .collect();
            Ok(render::render_home(
                &state.theme,
                &state.site(),
                &cards(&state, &latest),
                &shelves,
                &recent,
            )?)
        })
        .await
}

/// A paper's page. Every reader shares the plain page, which the cache
/// keeps; later comment pages (`?cpage=N`), a reader answering a comment
/// (`?replytocom=ID`) and one with comments awaiting moderation get a page
/// made for them.
pub async fn paper(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response<Body> {
    if validate_slug(&slug).is_err() {
        return PageError::NotFound.into_response();
    }
    let mut request = CommentsRequest {
        page: 1,
        ..CommentsRequest::default()
    };
    for (k, v) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "cpage" => request.page = v.parse::<u32>().unwrap_or(1).clamp(1, MAX_PAGE),
            "replytocom" => request.reply_to = v.parse::<i64>().ok(),
            _ => {}
        }
    }
    if super::comments::cookie_present(&headers) {
        match state.signer().await {
            Ok(signer) => request.held = super::comments::held_ids(signer, &headers),
            Err(e) => return e.into_response(),
        }
    }
    if !request.is_shared() {
        let built = async {
            let paper = state.public_paper(&slug, OffsetDateTime::now_utc()).await?;
            render_paper_page(&state, &paper, request).await
        };
        return match built.await {
            Ok(html) => super::plumbing::private_page(StatusCode::OK, html),
            Err(e) => e.into_response(),
        };
    }
    state
        .cached(&headers, paths::paper(&slug), |state| async move {
            let paper = state.public_paper(&slug, OffsetDateTime::now_utc()).await?;
            render_paper_page(&state, &paper, request).await
        })
        .await
}

/// Renders `paper`'s page with the comments `request` asks for.
pub(super) async fn render_paper_page(
    state: &AppState,
    paper: &quire_core::domain::Paper,
    request: CommentsRequest,
) -> Result<String, PageError> {
    let comments = super::comments::section(state, paper, request).await?;
    render_paper_with(state, paper, comments).await
}

/// Renders `paper`'s page as a reader would see it, without its
/// comments: what the admin's editor previews.
pub(crate) async fn render_paper_preview(
    state: &AppState,
    paper: &quire_core::domain::Paper,
) -> Result<String, PageError> {
    render_paper_with(state, paper, None).await
}

async fn render_paper_with(
    state: &AppState,
    paper: &quire_core::domain::Paper,
    comments: Option<quire_render::comments::CommentsView>,
) -> Result<String, PageError> {
    let now = OffsetDateTime::now_utc();
    let slugs: Vec<String> = paper.meta.authors.iter().map(|a| a.slug.clone()).collect();
    let authors = state.store.authors_by_slugs(&slugs).await?;
    let translations = state
        .store
        .translations(&paper.meta.slug, paper.meta.translation_of.as_deref(), now)
        .await?;
    // Rendering (Markdown above all) takes time in proportion to the paper.
    let (theme, site, paper) = (state.theme.clone(), state.site(), paper.clone());
    let words_per_minute = state.config().pages.words_per_minute;
    super::off_async(move || {
        let extras = PaperExtras {
            authors: &authors,
            words_per_minute,
            translations: &translations,
            pdf_path: Some(format!(
                "{}.pdf",
                render::paths::paper(&paper.meta.slug).trim_end_matches('/')
            )),
            comments: comments.as_ref(),
        };
        Ok(render::render_paper(&theme, &site, &paper, &extras)?)
    })
    .await
}

/// The `page` and `kind` a list was asked for; anything else in the query
/// is ignored and kept out of the cache key.
struct ListParams {
    page: u32,
    kind: Option<String>,
}

/// Reads `?page=N&kind=slug`; `None` when a value is not one we serve.
fn list_params(uri: &Uri) -> Option<ListParams> {
    let mut params = ListParams { page: 1, kind: None };
    for pair in uri.query().unwrap_or("").split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "page" => {
                let n = canonical_number(value)?;
                if n == 0 || n > MAX_PAGE {
                    return None;
                }
                params.page = n;
            }
            "kind" => params.kind = Some(value.to_owned()),
            _ => {}
        }
    }
    Some(params)
}

/// A number written the one way Quire writes it: digits, no sign, no
/// leading zero. `+1`, `01` and `001` are other addresses, and answer
/// 404, so that no spelling of one page makes another cache entry.
pub(super) fn canonical_number(s: &str) -> Option<u32> {
    let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse().ok()
}

/// `base` with `page=N` added when N is past the first page.
fn list_key(base: &str, page: u32) -> String {
    match (page, base.contains('?')) {
        (1, _) => base.to_owned(),
        (n, true) => format!("{base}&page={n}"),
        (n, false) => format!("{base}?page={n}"),
    }
}

pub async fn archive(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response<Body> {
    let Some(params) = list_params(&uri) else {
        return PageError::NotFound.into_response();
    };
    let kind = match &params.kind {
        Some(slug) => match kind_from_slug(&state.config().kinds, slug) {
            Some(kind) => Some(kind.to_owned()),
            None => return PageError::NotFound.into_response(),
        },
        None => None,
    };
    let base = kind.as_deref().map_or_else(|| "/archive/".to_owned(), paths::kind);
    let key = list_key(&base, params.page);
    state
        .cached(&headers, key, |state| async move {
            let now = OffsetDateTime::now_utc();
            let per_page = state.config().pages.papers_per_page;
            let query = PaperQuery {
                kind: kind.clone(),
                ..PaperQuery::listed_at(now)
            };
            let total = state.store.count_papers(&query).await?;
            let pagination = Pagination::new(&base, params.page, total, per_page);
            if params.page > pagination.pages {
                return Err(PageError::NotFound);
            }
            let papers = state
                .store
                .list_papers(&PaperQuery {
                    limit: Some(per_page),
                    offset: (params.page - 1) * per_page,
                    ..query
                })
                .await?;
            let years = group_by_year(
                cards(&state, &papers)
                    .into_iter()
                    .zip(&papers)
                    .map(|(card, p)| (p.published_at.map_or(0, |t| t.year()), card))
                    .collect(),
            );
            Ok(render::render_archive(
                &state.theme,
                &state.site(),
                &state.config().kinds,
                kind.as_deref(),
                &years,
                total,
                pagination,
            )?)
        })
        .await
}

/// Which list of papers a profile page shows.
enum Profile {
    Author,
    Topic,
}

async fn profile(state: AppState, profile: Profile, slug: String, uri: Uri, headers: HeaderMap) -> Response<Body> {
    let params = list_params(&uri);
    let (Some(params), Ok(())) = (params, validate_slug(&slug)) else {
        return PageError::NotFound.into_response();
    };
    let base = match profile {
        Profile::Author => paths::author(&slug),
        Profile::Topic => paths::topic(&slug),
    };
    let key = list_key(&base, params.page);
    state
        .cached(&headers, key, |state| async move {
            let now = OffsetDateTime::now_utc();
            let visibility = Visibility::ListedAt(now);
            let per_page = state.config().pages.papers_per_page;
            let mut query = PaperQuery::listed_at(now);
            let (author, topic) = match profile {
                Profile::Author => {
                    query.author = Some(slug.clone());
                    (
                        Some(
                            state
                                .store
                                .get_author(&slug, visibility)
                                .await?
                                .ok_or(PageError::NotFound)?,
                        ),
                        None,
                    )
                }
                Profile::Topic => {
                    query.topic = Some(slug.clone());
                    (
                        None,
                        Some(
                            state
                                .store
                                .get_topic(&slug, visibility)
                                .await?
                                .ok_or(PageError::NotFound)?,
                        ),
                    )
                }
            };
            let total = state.store.count_papers(&query).await?;
            let pagination = Pagination::new(&base, params.page, total, per_page);
            if params.page > pagination.pages {
                return Err(PageError::NotFound);
            }
            let papers = state
                .store
                .list_papers(&PaperQuery {
                    limit: Some(per_page),
                    offset: (params.page - 1) * per_page,
                    ..query
                })
                .await?;
            let papers = cards(&state, &papers);
            Ok(match (author, topic) {
                (Some(a), _) => render::render_author(&state.theme, &state.site(), &a, &papers, pagination)?,
                (_, Some(t)) => render::render_topic(&state.theme, &state.site(), &t, &papers, pagination)?,
                (None, None) => return Err(PageError::NotFound),
            })
        })
        .await
}

pub async fn author(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response<Body> {
    profile(state, Profile::Author, slug, uri, headers).await
}

pub async fn topic(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response<Body> {
    profile(state, Profile::Topic, slug, uri, headers).await
}

pub async fn authors(State(state): State<AppState>, headers: HeaderMap) -> Response<Body> {
    state
        .cached(&headers, "/authors/".to_owned(), |state| async move {
            let authors = state
                .store
                .list_authors(Visibility::ListedAt(OffsetDateTime::now_utc()))
                .await?;
            let views: Vec<AuthorView> = authors
                .iter()
                .filter(|a| a.paper_count > 0)
                .map(AuthorView::new)
                .collect();
            Ok(render::render_authors(&state.theme, &state.site(), &views)?)
        })
        .await
}

pub async fn topics(State(state): State<AppState>, headers: HeaderMap) -> Response<Body> {
    state
        .cached(&headers, "/topics/".to_owned(), |state| async move {
            let topics = state
                .store
                .list_topics(Visibility::ListedAt(OffsetDateTime::now_utc()))
                .await?;
            let views: Vec<TopicView> = topics
                .iter()
                .filter(|t| t.paper_count > 0)
                .map(TopicView::new)
                .collect();
            Ok(render::render_topics(&state.theme, &state.site(), &views)?)
        })
        .await
}

/// The body of the 404 page: links back in, and the latest papers.
pub(super) async fn build_not_found(state: &AppState) -> Result<String, PageError> {
    let latest = state
        .store
        .list_papers(&PaperQuery {
            limit: Some(5),
            ..PaperQuery::listed_at(OffsetDateTime::now_utc())
        })
        .await?;
    Ok(render::render_not_found(
        &state.theme,
        &state.site(),
        &cards(state, &latest),
    )?)
}

pub async fn not_found() -> Response<Body> {
    PageError::NotFound.into_response()
}

/// `/papers/slug` → `/papers/slug/` (and the same for every section), so
/// each page has one address. Only well-formed paths are redirected.
/// `/papers/{slug}.pdf` is the paper's PDF; any other `/papers/{slug}`
/// goes to the paper's page.
pub async fn paper_or_pdf(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response<Body> {
    let last = uri.path().rsplit('/').next().unwrap_or("");
    if let Some(slug) = last.strip_suffix(".pdf") {
        let slug = percent_decode(slug);
        if validate_slug(&slug).is_err() {
            return PageError::NotFound.into_response();
        }
        return super::pdf::paper_pdf(state, &slug, &headers).await;
    }
    add_slash(uri).await
}

pub async fn add_slash(uri: Uri) -> Response<Body> {
    let path = uri.path();
    let well_formed = path
        .trim_matches('/')
        .split('/')
        .all(|segment| validate_slug(&percent_decode(segment)).is_ok());
    if !well_formed || path.len() > 300 {
        return PageError::NotFound.into_response();
    }
    let mut target = format!("{path}/");
    if let Some(q) = uri.query() {
        target.push('?');
        target.push_str(q);
    }
    redirect(&target)
}

pub async fn to_archive() -> Response<Body> {
    redirect("/archive/")
}

pub async fn to_search(uri: Uri) -> Response<Body> {
    match uri.query() {
        Some(q) => redirect(&format!("/search?{q}")),
        None => redirect("/search"),
    }
}

/// `/subscribe/` → `/subscribe`.
pub async fn to_subscribe() -> Response<Body> {
    redirect("/subscribe")
}

pub(super) fn redirect(target: &str) -> Response<Body> {
    match HeaderValue::from_str(target) {
        Ok(location) => Response::builder()
            .status(StatusCode::PERMANENT_REDIRECT)
            .header(header::LOCATION, location)
            .body(Body::empty())
            .unwrap_or_default(),
        Err(_) => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Body::empty())
            .unwrap_or_default(),
    }
}

/// Decodes `%XX` escapes; invalid escapes and non-UTF-8 stay as they are
/// (and then fail slug validation).
pub(super) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

/// Theme files under their hashed names, cached by browsers for a year,
/// compressed as the client accepts.
pub async fn asset(State(state): State<AppState>, Path(file): Path<String>, headers: HeaderMap) -> Response<Body> {
    match state.assets.get(&file) {
        Some(page) => page.respond(&headers),
        None => PageError::NotFound.into_response(),
    }
}

/// `/healthz`, for process monitors: 200 whenever the process answers. It
/// touches nothing else, so it costs nothing and cannot be made slow.
pub async fn health() -> Response<Body> {
    super::plumbing::plain(StatusCode::OK, "ok\n")
}

/// `/readyz`, for load balancers: 200 when the database answers and its
/// schema is this build's; 503 otherwise, with the reason.
pub async fn ready(State(state): State<AppState>) -> Response<Body> {
    match state.store.pending_migrations().await {
        Ok(0) => super::plumbing::plain(StatusCode::OK, "ready\n"),
        Ok(n) => super::plumbing::plain(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("{n} database migrations are not applied yet\n"),
        ),
        Err(e) => {
            tracing::error!(error = %e, "readiness check failed");
            super::plumbing::plain(StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_params_are_strict() {
        let p = |q: &str| list_params(&format!("/archive/?{q}").parse::<Uri>().expect("uri"));
        assert_eq!(p("page=3").map(|p| p.page), Some(3));
        assert_eq!(p("utm_source=x").map(|p| p.page), Some(1));
        assert!(p("page=0").is_none());
        assert!(p("page=-1").is_none());
        assert!(p("page=abc").is_none());
        assert!(p("page=99999999999").is_none());
        assert_eq!(p("kind=report&page=2").and_then(|p| p.kind), Some("report".into()));
    }

    #[test]
    fn numbers_have_one_spelling() {
        assert_eq!(super::canonical_number("1"), Some(1));
        assert_eq!(super::canonical_number("0"), Some(0));
        assert_eq!(super::canonical_number("120"), Some(120));
        for other in ["", "+1", "01", "001", "1.0", " 1", "1 ", "-1", "１", "99999999999"] {
            assert_eq!(super::canonical_number(other), None, "{other:?}");
        }
    }

    #[test]
    fn list_keys_ignore_noise() {
        assert_eq!(list_key("/archive/", 1), "/archive/");
        assert_eq!(list_key("/archive/", 2), "/archive/?page=2");
        assert_eq!(list_key("/archive/?kind=report", 3), "/archive/?kind=report&page=3");
    }

    #[test]
    fn percent_decoding_is_careful() {
        assert_eq!(percent_decode("a%2Fb"), "a/b");
        assert_eq!(percent_decode("%D7%A0"), "נ");
        assert_eq!(percent_decode("%zz%"), "%zz%");
        assert_eq!(percent_decode("%FF"), "%FF");
        assert_eq!(percent_decode("%נ%"), "%נ%");
        assert_eq!(percent_decode("ab%4"), "ab%4");
    }
}
