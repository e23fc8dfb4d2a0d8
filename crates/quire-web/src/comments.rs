//! Comments over HTTP: the comments section of a paper's page, the form's
//! POST with its defences (same-site check, per-IP rate limits, a signed
//! and timed form token, a honeypot), moderation, and the cookie that shows
//! a commenter their own held comments.

use super::{AppState, PageError};
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use quire_core::domain::{CommentForm, CommentStatus, CommentsMode, Paper, PublicComment, moderate, validate_comment};
use quire_core::signing::Signer;
use quire_render::comments::{CommentFormView, CommentLayout, CommentsView, comments_view, page_of};
use quire_render::paths;
use quire_store::{NewComment, StoreError};
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;
use time::OffsetDateTime;

/// The cookie that lists a commenter's held comments, signed.
pub const HELD_COOKIE: &str = "quire_held";
/// Held comments one cookie remembers.
const HELD_KEPT: usize = 20;
/// A form older than this must be shown again before it is taken.
const TOKEN_LIFETIME: i64 = 24 * 3600;
/// Largest form body: the longest comment, percent-encoded, and the rest.
const MAX_BODY: usize = 65_525 * 4 * 3 + 16 * 1024;
/// The honeypot field: people never see it, form-filling robots fill it.
const HONEYPOT: &str = "website_confirm";

/// What a paper page shows beyond the paper: which comment page, which
/// comment is being answered, the reader's held comments, and a form
/// coming back with problems.
#[derive(Default)]
pub struct CommentsRequest {
    pub page: u32,
    pub reply_to: Option<i64>,
    pub held: Vec<i64>,
    pub form: Option<CommentFormView>,
}

impl CommentsRequest {
    /// The view every reader shares, which the page cache keeps: the
    /// first comment page only, so that made-up page numbers cannot fill
    /// the cache.
    pub fn is_shared(&self) -> bool {
        self.page <= 1 && self.reply_to.is_none() && self.held.is_empty() && self.form.is_none()
    }
}

/// The signed form token for `paper_id`, issued at `at`.
pub fn form_token(signer: &Signer, paper_id: i64, at: OffsetDateTime) -> String {
    signer.sign(&format!("c{paper_id}:{}", at.unix_timestamp()))
}

/// How old a token for `paper_id` is, in seconds; None when it is not one
/// Quire signed for that paper.
fn token_age(signer: &Signer, token: &str, paper_id: i64, now: OffsetDateTime) -> Option<i64> {
    let text = signer.open(token.trim())?;
    let (paper, issued) = text.strip_prefix('c')?.split_once(':')?;
    if paper.parse::<i64>().ok()? != paper_id {
        return None;
    }
    Some(now.unix_timestamp() - issued.parse::<i64>().ok()?)
}

/// The comment ids in a reader's held-comments cookie, if it is one Quire
/// signed.
pub fn held_ids(signer: &Signer, headers: &HeaderMap) -> Vec<i64> {
    let Some(value) = cookie(headers, HELD_COOKIE) else {
        return Vec::new();
    };
    let Some(text) = signer.open(&value) else {
        return Vec::new();
    };
    text.strip_prefix('h')
        .unwrap_or("")
        .split('-')
        .filter_map(|id| id.parse::<i64>().ok())
        .take(HELD_KEPT)
        .collect()
}

/// Whether the request carries a held-comments cookie at all (most do
/// not: they need no key to be read).
pub fn cookie_present(headers: &HeaderMap) -> bool {
    cookie(headers, HELD_COOKIE).is_some()
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Whether readers may comment on `paper` now: its own setting, and the
/// site's closing of old papers.
pub fn comments_open(paper: &Paper, close_after_days: u32, now: OffsetDateTime) -> bool {
    if paper.meta.comments != CommentsMode::Open {
        return false;
    }
    match paper.meta.published_at {
        Some(published) if close_after_days > 0 => now - published < time::Duration::days(i64::from(close_after_days)),
        _ => true,
    }
}

fn layout(state: &AppState) -> CommentLayout {
    CommentLayout {
        depth: state.config.comment_depth,
        per_page: state.config.comments_per_page,
        newest_first: state.config.comment_order == "newest",
    }
}

/// A paper's comments as readers may see them, with `held` among them
/// when they are this reader's own.
async fn public_comments(state: &AppState, paper: &Paper, held: &[i64]) -> Result<Vec<PublicComment>, PageError> {
    Ok(state
        .store
        .paper_comments(paper.meta.id, held)
        .await?
        .into_iter()
        .map(PublicComment::from)
        .collect())
}

/// The comments section of `paper`'s page; None when its comments are
/// hidden.
pub async fn section(
    state: &AppState,
    paper: &Paper,
    request: CommentsRequest,
) -> Result<Option<CommentsView>, PageError> {
    if paper.meta.comments == CommentsMode::Hidden {
        return Ok(None);
    }
    let now = OffsetDateTime::now_utc();
    let comments = public_comments(state, paper, &request.held).await?;
    let path = paths::paper(&paper.meta.slug);
    let mut kept_text: Option<String> = None;
    let form = if comments_open(paper, state.config.comment_close_after_days, now) {
        let signer = state.signer().await?;
        let mut form = request.form.unwrap_or_default();
        form.action = format!("{path}comments");
        form.token = form_token(signer, paper.meta.id, now);
        form.cancel_reply_url = format!("{path}#respond");
        if let Some(parent) = request.reply_to.or(form.parent)
            && let Some(c) = comments
                .iter()
                .find(|c| c.id == parent && c.status == CommentStatus::Approved)
        {
            form.parent = Some(parent);
            form.reply_to_name = Some(c.name.clone());
        } else {
            form.parent = None;
        }
        Some(form)
    } else {
        kept_text = request.form.map(|f| f.text).filter(|t| !t.trim().is_empty());
        None
    };
    // Threading thousands of comments takes time in proportion to them.
    let (layout, page) = (layout(state), request.page.max(1));
    let mut view = super::off_async(move || Ok(comments_view(&path, &comments, &layout, page, form))).await?;
    view.kept_text = kept_text;
    Ok(Some(view))
}

/// Whether the post comes from a page of this site: browsers send Origin
/// (and Sec-Fetch-Site) with form posts; another site's page is refused.
pub(super) fn same_site(headers: &HeaderMap, base_url: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && site == "cross-site"
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else { return false };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let origin = origin.trim_end_matches('/');
    origin == base_url.trim_end_matches('/')
        || origin
            .split_once("://")
            .is_some_and(|(_, rest)| !host.is_empty() && rest == host)
}

/// The form fields of a urlencoded body (invalid UTF-8 becomes U+FFFD).
pub(super) fn form_fields(body: &[u8]) -> HashMap<String, String> {
    let mut fields = HashMap::new();
    for (k, v) in form_urlencoded::parse(body) {
        fields.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    fields
}

/// `POST /papers/{slug}/comments`.
pub async fn post_comment(State(state): State<AppState>, Path(slug): Path<String>, request: Request) -> Response<Body> {
    let headers = request.headers().clone();
    if quire_core::domain::validate_slug(&slug).is_err() {
        return state.not_found_page(&headers).await;
    }
    let ip = state.client_ip(&request);
    let body = match super::server::read_form(request.into_body(), MAX_BODY, "comment").await {
        Ok(b) => b,
        Err(response) => return response,
    };
    match post(&state, &slug, ip, &headers, &body).await {
        Ok(response) => response,
        Err(PageError::NotFound | PageError::NotPublic) => state.not_found_page(&headers).await,
        Err(e) => state.error_page(&e),
    }
}

pub(super) fn plain(status: StatusCode, text: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(text.to_owned()))
        .unwrap_or_default()
}

async fn post(
    state: &AppState,
    slug: &str,
    ip: IpAddr,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response<Body>, PageError> {
    let now = OffsetDateTime::now_utc();
    let paper = state.public_paper(slug, now).await?;
    if paper.meta.comments == CommentsMode::Hidden {
        return Err(PageError::NotFound);
    }
    let fields = form_fields(body);
    let field = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let form = CommentForm {
        name: field("author"),
        email: field("email"),
        url: field("url"),
        text: field("comment"),
        parent: field("comment_parent"),
    };
    // What the reader typed goes back into the form whatever happens.
    let typed = CommentFormView {
        name: form.name.clone(),
        email: form.email.clone(),
        url: form.url.clone(),
        text: form.text.clone(),
        parent: form.parent.trim().parse().ok(),
        notify_replies: !field("notify_replies").is_empty(),
        ..CommentFormView::default()
    };
    let again = |problem: &str, status: StatusCode| {
        let form = CommentFormView {
            problem: Some(problem.to_owned()),
            ..typed.clone()
        };
        (form, status)
    };
    if !comments_open(&paper, state.config.comment_close_after_days, now) {
        let (form, status) = again("Comments are closed on this paper.", StatusCode::FORBIDDEN);
        return form_page(state, &paper, headers, form, status).await;
    }
    if !same_site(headers, &state.site.base_url) {
        return Ok(plain(
            StatusCode::FORBIDDEN,
            "Comments are taken only from this site's own pages.",
        ));
    }
    let limits = (state.config.comment_rate_per_minute, state.config.comment_rate_per_hour);
    if let Err(wait) = state
        .comment_limits
        .check(super::client::limit_key(ip), limits.0, limits.1, Instant::now())
    {
        let seconds = wait.as_secs().max(1);
        let (form, status) = again(
            &format!(
                "You have posted many comments in a short time. Wait {seconds} seconds, then post this one: it is kept below."
            ),
            StatusCode::TOO_MANY_REQUESTS,
        );
        let mut response = form_page(state, &paper, headers, form, status).await?;
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        return Ok(response);
    }
    let signer = state.signer().await?;
    let age = token_age(signer, &field("token"), paper.meta.id, now);
    let Some(age) = age.filter(|a| *a <= TOKEN_LIFETIME && *a >= -60) else {
        let (form, status) = again(
            "This form was too old to take (forms last a day). Check your comment below and post it again.",
            StatusCode::UNPROCESSABLE_ENTITY,
        );
        return form_page(state, &paper, headers, form, status).await;
    };
    if !field(HONEYPOT).is_empty() {
        // A robot: nothing is kept, and it learns nothing.
        tracing::info!(%ip, slug, "comment refused: the hidden field was filled");
        return Ok(see_other(&format!("{}#comments", paths::paper(slug))));
    }
    let input = match validate_comment(&form) {
        Ok(input) => input,
        Err(errors) => {
            let mut view = typed.clone();
            for e in errors {
                view.errors.insert(e.field, e.message);
            }
            if view.errors.contains_key("parent") {
                view.parent = None;
            }
            return form_page(state, &paper, headers, view, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let ip_text = ip.to_string();
    let approved_before = state.store.approved_before(&input.name, &input.email).await?;
    let mut verdict = moderate(&input, &ip_text, &state.config.moderation_rules(), approved_before);
    let too_fast = age < i64::from(state.config.comment_min_seconds);
    if too_fast && verdict.status == CommentStatus::Approved {
        verdict.status = CommentStatus::Pending;
        verdict.reason = format!("posted {age} s after the form was shown");
    }
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(255)
        .collect::<String>();
    let added = state
        .store
        .add_comment(&NewComment {
            paper_id: paper.meta.id,
            input: &input,
            status: verdict.status,
            ip: &ip_text,
            user_agent: &user_agent,
            notify_replies: typed.notify_replies,
            now,
        })
        .await;
    let id = match added {
        Ok(id) => id,
        Err(StoreError::DuplicateComment) => {
            let (form, status) = again(
                "This comment is already on the paper: it looks as though you have already said that.",
                StatusCode::CONFLICT,
            );
            return form_page(state, &paper, headers, form, status).await;
        }
        Err(StoreError::BadReply(_)) => {
            let (mut form, status) = again(
                "The comment you replied to is no longer open for replies; your comment is kept below.",
                StatusCode::UNPROCESSABLE_ENTITY,
            );
            form.parent = None;
            return form_page(state, &paper, headers, form, status).await;
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(id, slug, status = %verdict.status, reason = %verdict.reason, "comment added");
    notify_comment(state, id);
    // The cookie names every comment the reader posted, approved or not,
    // so that the answer is the same either way: it must not tell whether
    // the name and address had comments approved before.
    let mut held = held_ids(signer, headers);
    held.retain(|h| *h != id);
    held.push(id);
    if held.len() > HELD_KEPT {
        held.drain(..held.len() - HELD_KEPT);
    }
    let links = state.store.comment_links(paper.meta.id, &held).await?;
    let page = page_of(&links, id, &layout(state));
    let path = paths::paper(slug);
    let target = if page > 1 {
        format!("{path}?cpage={page}#comment-{id}")
    } else {
        format!("{path}#comment-{id}")
    };
    let mut response = see_other(&target);
    let list: Vec<String> = held.iter().map(i64::to_string).collect();
    let value = signer.sign(&format!("h{}", list.join("-")));
    let secure = if state.site.base_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!("{HELD_COOKIE}={value}; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax{secure}");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// Who hears of a new comment: the editors (`mail_notify`) of one that
/// waits for moderation, and the writer of the comment answered, when
/// they asked to hear of replies. The messages go through the outbox.
fn notify_comment(state: &AppState, id: i64) {
    let state = state.clone();
    tokio::spawn(async move {
        let notify = state.config.mail_notify.clone();
        match quire_mail::notices::comment_notices(&state.postbox(), id, Some(&notify)).await {
            Ok(0) => {}
            Ok(_) => state.mail_wake.notify_one(),
            Err(e) => tracing::warn!(comment = id, error = %e, "cannot queue the comment's notices"),
        }
    });
}

pub(super) fn see_other(location: &str) -> Response<Body> {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, location)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::empty())
        .unwrap_or_default()
}

/// The paper page again, its form holding what the reader typed and what
/// was wrong, never cached.
async fn form_page(
    state: &AppState,
    paper: &Paper,
    headers: &HeaderMap,
    form: CommentFormView,
    status: StatusCode,
) -> Result<Response<Body>, PageError> {
    let signer = state.signer().await?;
    let request = CommentsRequest {
        page: 1,
        reply_to: None,
        held: held_ids(signer, headers),
        form: Some(form),
    };
    let html = super::pages::render_paper_page(state, paper, request).await?;
    Ok(private_page(status, html))
}

/// An HTML page for one reader: not kept by the cache or by browsers.
pub fn private_page(status: StatusCode, html: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, super::cache::HTML)
        .header(header::CACHE_CONTROL, "private, no-store")
        .header(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(super::cache::CONTENT_SECURITY_POLICY),
        )
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(Body::from(html))
        .unwrap_or_default()
}

/// `GET /papers/{slug}/comments/page?id=N`: the comment page that shows
/// approved comment N, so that the permalink `/papers/{slug}/#comment-N`
/// reaches it (the page's script asks when the comment is not on the
/// first page).
pub async fn comment_page(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response<Body> {
    let id = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "id")
        .and_then(|(_, v)| v.parse::<i64>().ok());
    let (Some(id), Ok(())) = (id, quire_core::domain::validate_slug(&slug).map(|_| ())) else {
        return state.not_found_page(&headers).await;
    };
    let found = async {
        let paper = state.public_paper(&slug, OffsetDateTime::now_utc()).await?;
        if paper.meta.comments == CommentsMode::Hidden {
            return Err(PageError::NotFound);
        }
        let links = state.store.comment_links(paper.meta.id, &[]).await?;
        if !links.iter().any(|(c, _)| *c == id) {
            return Err(PageError::NotFound);
        }
        Ok(page_of(&links, id, &layout(&state)))
    };
    match found.await {
        Ok(page) => plain(StatusCode::OK, &page.to_string()),
        Err(PageError::NotFound | PageError::NotPublic) => state.not_found_page(&headers).await,
        Err(e) => state.error_page(&e),
    }
}

/// `GET /papers/{slug}/comments/token`: a fresh form token, which the
/// page's script puts in the form (the cached page's own was signed when
/// the page was made).
pub async fn fresh_token(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Response<Body> {
    if quire_core::domain::validate_slug(&slug).is_err() {
        return state.not_found_page(&headers).await;
    }
    let now = OffsetDateTime::now_utc();
    let paper = match state.public_paper(&slug, now).await {
        Ok(p) if comments_open(&p, state.config.comment_close_after_days, now) => p,
        Ok(_) | Err(PageError::NotFound | PageError::NotPublic) => return state.not_found_page(&headers).await,
        Err(e) => return state.error_page(&e),
    };
    match state.signer().await {
        Ok(signer) => plain(StatusCode::OK, &form_token(signer, paper.meta.id, now)),
        Err(e) => state.error_page(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_for_one_paper_and_carry_their_age() {
        let signer = Signer::new(b"k");
        let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time");
        let token = form_token(&signer, 7, at);
        assert_eq!(token_age(&signer, &token, 7, at + time::Duration::seconds(9)), Some(9));
        assert_eq!(token_age(&signer, &token, 8, at), None, "another paper");
        assert_eq!(token_age(&Signer::new(b"other"), &token, 7, at), None);
        assert_eq!(token_age(&signer, "c7:1800000000.00", 7, at), None);
    }

    #[test]
    fn held_cookies_must_be_signed() {
        let signer = Signer::new(b"k");
        let mut headers = HeaderMap::new();
        let value = signer.sign("h3-9");
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("a=b; {HELD_COOKIE}={value}")).expect("h"),
        );
        assert_eq!(held_ids(&signer, &headers), [3, 9]);
        headers.insert(header::COOKIE, HeaderValue::from_static("quire_held=h3-9.deadbeef"));
        assert!(held_ids(&signer, &headers).is_empty(), "a forged list shows nothing");
    }

    #[test]
    fn posts_from_other_sites_are_refused() {
        let with = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, HeaderValue::from_static(v));
            }
            same_site(&h, "https://papers.example.org")
        };
        assert!(with(&[]), "no Origin: an old browser or a test client");
        assert!(with(&[("origin", "https://papers.example.org")]));
        assert!(with(&[("origin", "http://127.0.0.1:8080"), ("host", "127.0.0.1:8080")]));
        assert!(!with(&[("origin", "https://evil.example")]));
        assert!(!with(&[("origin", "null")]), "a sandboxed or privacy-stripped origin");
        assert!(!with(&[("sec-fetch-site", "cross-site")]));
    }
}
