//! The comment form's POST and its defences (same-site check, per-address
//! rate limits, the signed and timed token, a honeypot), moderation, the
//! held-comments cookie it sets, and the comment pages and fresh tokens
//! the form's script asks for.

use super::comments::{CommentsRequest, HELD_COOKIE, held_ids, layout};
use super::forms::{ClientIp, Form, FormKind};
use super::plumbing::{plain, private_page, same_site, see_other};
use super::{AppState, PageError};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use cookie::{Cookie, SameSite};
use quire_app::AppError;
use quire_app::comments::{CommentPost, Posted, form_token, seal_held};
use quire_core::domain::{CommentForm, CommentsMode, Paper};
use quire_render::comments::{CommentFormView, page_of};
use quire_render::paths;
use std::net::IpAddr;
use time::OffsetDateTime;

/// A comment form's body: the longest comment, percent-encoded, and the
/// rest.
pub(super) struct CommentBody;

impl FormKind for CommentBody {
    const MAX_BYTES: usize = 65_525 * 4 * 3 + 16 * 1024;
    const WHAT: &'static str = "comment";
}

/// The honeypot field: people never see it, form-filling robots fill it.
const HONEYPOT: &str = "website_confirm";

/// `POST /papers/{slug}/comments`.
pub async fn post_comment(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    form: Form<CommentBody>,
) -> Result<Response<Body>, PageError> {
    quire_core::domain::validate_slug(&slug).map_err(|_| PageError::NotFound)?;
    post(&state, &slug, ip, &headers, &form).await
}

async fn post(
    state: &AppState,
    slug: &str,
    ip: IpAddr,
    headers: &HeaderMap,
    fields: &Form<CommentBody>,
) -> Result<Response<Body>, PageError> {
    let now = OffsetDateTime::now_utc();
    let paper = state.public_paper(slug, now).await?;
    if paper.meta.comments == CommentsMode::Hidden {
        return Err(PageError::NotFound);
    }
    let field = |k: &str| fields.field(k).to_owned();
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
    let again = |problem: &str| CommentFormView {
        problem: Some(problem.to_owned()),
        ..typed.clone()
    };
    if !state.app.comments_open(&paper, now) {
        let form = again("Comments are closed on this paper.");
        return form_page(state, &paper, headers, form, StatusCode::FORBIDDEN).await;
    }
    if !same_site(headers, &state.site().base_url) {
        return Ok(plain(
            StatusCode::FORBIDDEN,
            "Comments are taken only from this site's own pages.",
        ));
    }
    let signer = state.signer().await?;
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let token = field("token");
    let post = CommentPost {
        form,
        token: &token,
        honeypot_filled: !field(HONEYPOT).is_empty(),
        notify_replies: typed.notify_replies,
        ip,
        user_agent,
        held: held_ids(signer, headers),
    };
    let (id, held) = match state.app.post_comment(&paper, post).await {
        Ok(Posted::Kept { id, held, .. }) => (id, held),
        // A robot: nothing is kept, and it learns nothing.
        Ok(Posted::Discarded) => return Ok(see_other(&format!("{}#comments", paths::paper(slug)))),
        Err(AppError::RateLimited { retry_after }) => {
            let seconds = retry_after.as_secs().max(1);
            let form = again(&format!(
                "You have posted many comments in a short time. Wait {seconds} seconds, then post this one: it is kept below."
            ));
            let mut response = form_page(state, &paper, headers, form, StatusCode::TOO_MANY_REQUESTS).await?;
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            return Ok(response);
        }
        Err(AppError::CommentsClosed) => {
            let form = again("Comments are closed on this paper.");
            return form_page(state, &paper, headers, form, StatusCode::FORBIDDEN).await;
        }
        Err(AppError::FormExpired) => {
            let form =
                again("This form was too old to take (forms last a day). Check your comment below and post it again.");
            return form_page(state, &paper, headers, form, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(AppError::FormTokenMissing) => {
            let form = again(
                "This form arrived without the hidden check the page puts in it, so it could not be taken. Your comment is kept below: post it again from this page. If this keeps happening, a browser extension or a proxy may be removing hidden form fields.",
            );
            return form_page(state, &paper, headers, form, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(AppError::FormTokenInvalid) => {
            let form = again(
                "This form's hidden check does not belong to this paper's page, so it could not be taken. Your comment is kept below: post it again from this page.",
            );
            return form_page(state, &paper, headers, form, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(AppError::Fields(errors)) => {
            let mut view = typed.clone();
            for e in errors {
                view.errors.insert(e.field, e.message);
            }
            if view.errors.contains_key("parent") {
                view.parent = None;
            }
            return form_page(state, &paper, headers, view, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(AppError::DuplicateComment) => {
            let form = again("This comment is already on the paper: it looks as though you have already said that.");
            return form_page(state, &paper, headers, form, StatusCode::CONFLICT).await;
        }
        Err(AppError::ReplyClosed) => {
            let mut form =
                again("The comment you replied to is no longer open for replies; your comment is kept below.");
            form.parent = None;
            return form_page(state, &paper, headers, form, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(e) => return Err(e.into()),
    };
    let links = state.store.comment_links(paper.meta.id, &held).await?;
    let page = page_of(&links, id, &layout(state));
    let path = paths::paper(slug);
    let target = if page > 1 {
        format!("{path}?cpage={page}#comment-{id}")
    } else {
        format!("{path}#comment-{id}")
    };
    let mut response = see_other(&target);
    let cookie = Cookie::build((HELD_COOKIE, seal_held(signer, &held)))
        .path("/")
        .max_age(cookie::time::Duration::days(30))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.site().base_url.starts_with("https://"))
        .build();
    if let Ok(v) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(response)
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
) -> Result<Response<Body>, PageError> {
    let id = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "id")
        .and_then(|(_, v)| v.parse::<i64>().ok());
    let (Some(id), Ok(())) = (id, quire_core::domain::validate_slug(&slug).map(|_| ())) else {
        return Err(PageError::NotFound);
    };
    let paper = state.public_paper(&slug, OffsetDateTime::now_utc()).await?;
    if paper.meta.comments == CommentsMode::Hidden {
        return Err(PageError::NotFound);
    }
    let links = state.store.comment_links(paper.meta.id, &[]).await?;
    if !links.iter().any(|(c, _)| *c == id) {
        return Err(PageError::NotFound);
    }
    let page = page_of(&links, id, &layout(&state));
    Ok(plain(StatusCode::OK, &page.to_string()))
}

/// `GET /papers/{slug}/comments/token`: a fresh form token, which the
/// page's script puts in the form (the cached page's own was signed when
/// the page was made).
pub async fn fresh_token(State(state): State<AppState>, Path(slug): Path<String>) -> Result<Response<Body>, PageError> {
    quire_core::domain::validate_slug(&slug).map_err(|_| PageError::NotFound)?;
    let now = OffsetDateTime::now_utc();
    let paper = state.public_paper(&slug, now).await?;
    if !state.app.comments_open(&paper, now) {
        return Err(PageError::NotFound);
    }
    let signer = state.signer().await?;
    Ok(plain(StatusCode::OK, &form_token(signer, paper.meta.id, now)))
}
