//! The comment form's POST and its defences (same-site check, per-address
//! rate limits, the signed and timed token, a honeypot), moderation, the
//! held-comments cookie it sets, and the comment pages and fresh tokens
//! the form's script asks for.

use super::comments::{
    CommentsRequest, HELD_COOKIE, HELD_KEPT, TOKEN_LIFETIME, comments_open, form_token, held_ids, layout, token_age,
};
use super::plumbing::{form_fields, plain, private_page, same_site, see_other};
use super::{AppState, PageError};
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use quire_core::domain::{CommentForm, CommentStatus, CommentsMode, Paper, moderate, validate_comment};
use quire_render::comments::{CommentFormView, page_of};
use quire_render::paths;
use quire_store::{NewComment, StoreError};
use std::net::IpAddr;
use std::time::Instant;
use time::OffsetDateTime;

/// Largest form body: the longest comment, percent-encoded, and the rest.
const MAX_BODY: usize = 65_525 * 4 * 3 + 16 * 1024;

/// The honeypot field: people never see it, form-filling robots fill it.
const HONEYPOT: &str = "website_confirm";

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
