//! The moderation queue: comments by status (pending first), one
//! commenter's comments, and approve, spam, trash and restore, one at a
//! time or many; for the roles that moderate.

use super::session::{SignedIn, StaffForm};
use super::users::refused;
use super::{admin_page, chrome};
use crate::AppState;
use crate::forms::FormKind;
use crate::plumbing::see_other;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{Response, StatusCode};
use quire_app::AppError;
use quire_app::accounts::Actor;
use quire_app::comments::{CommentQueueQuery, Moderation};
use quire_core::domain::CommentStatus;
use quire_render::admin::{CommentRowView, CommentsView, PagerLink, TabView};

/// The moderation form: up to 500 ids and an action.
pub(crate) struct ModerationForm;
impl FormKind for ModerationForm {
    const MAX_BYTES: usize = 32 * 1024;
    const WHAT: &'static str = "form";
}

const STATUSES: [(CommentStatus, &str); 4] = [
    (CommentStatus::Pending, "Pending"),
    (CommentStatus::Approved, "Approved"),
    (CommentStatus::Spam, "Spam"),
    (CommentStatus::Trash, "Trash"),
];

fn label(status: CommentStatus) -> &'static str {
    STATUSES.iter().find(|s| s.0 == status).map_or("", |s| s.1)
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The queue's address for `query`.
fn address(query: &CommentQueueQuery, page: u32) -> String {
    let mut parts = Vec::new();
    match &query.email {
        Some(email) => parts.push(format!("email={}", encode(email))),
        None if query.status != CommentStatus::Pending => parts.push(format!("status={}", query.status.as_str())),
        None => {}
    }
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if parts.is_empty() {
        "/admin/comments".to_owned()
    } else {
        format!("/admin/comments?{}", parts.join("&"))
    }
}

fn parse(raw: Option<&str>) -> (CommentQueueQuery, Option<String>) {
    let mut query = CommentQueueQuery {
        status: CommentStatus::Pending,
        email: None,
        page: 1,
    };
    let (mut status, mut email, mut page, mut done) = (None, None, None, None);
    for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let slot = match key.as_ref() {
            "status" => &mut status,
            "email" => &mut email,
            "page" => &mut page,
            "done" => &mut done,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(value.into_owned());
        }
    }
    if let Some(s) = status.and_then(|s| STATUSES.iter().find(|x| x.0.as_str() == s).map(|x| x.0)) {
        query.status = s;
    }
    query.email = email
        .map(|e| e.trim().chars().take(254).collect::<String>())
        .filter(|e| !e.is_empty());
    query.page = page.and_then(|p| p.trim().parse().ok()).unwrap_or(1);
    (query, done)
}

/// `GET /admin/comments`.
pub(crate) async fn queue(State(state): State<AppState>, signed: SignedIn, RawQuery(raw): RawQuery) -> Response<Body> {
    let (query, done) = parse(raw.as_deref());
    let actor = Actor::Staff(signed.staff().clone());
    let page = async {
        let queue = state.app.comment_queue(&actor, &query).await?;
        let zone = state.config().zone();
        let tabs = queue
            .counts
            .iter()
            .map(|&(status, count)| TabView {
                href: address(
                    &CommentQueueQuery {
                        status,
                        email: None,
                        page: 1,
                    },
                    1,
                ),
                label: label(status).into(),
                count,
                current: query.email.is_none() && query.status == status,
            })
            .collect();
        let comments = queue
            .comments
            .iter()
            .map(|c| CommentRowView {
                id: c.id,
                name: c.name.clone(),
                email: c.email.clone(),
                url: c.url.clone(),
                ip: c.ip.clone(),
                status: c.status.as_str(),
                status_label: label(c.status),
                paper: c.paper.clone(),
                paper_href: quire_render::paths::paper(&c.paper),
                parent_id: c.parent_id,
                text: c.text.clone(),
                at: zone.describe(c.created_at),
                at_iso: c
                    .created_at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                others_href: format!("/admin/comments?email={}", encode(&c.email)),
            })
            .collect();
        let mut pager = Vec::new();
        if queue.page > 1 {
            pager.push(PagerLink {
                label: "Newer".into(),
                href: Some(address(&query, queue.page - 1)),
                rel: Some("prev"),
            });
        }
        if queue.more {
            pager.push(PagerLink {
                label: "Older".into(),
                href: Some(address(&query, queue.page + 1)),
                rel: Some("next"),
            });
        }
        let view = CommentsView {
            tabs,
            comments,
            email: query.email.clone(),
            pager,
            here: address(&query, queue.page),
        };
        let mut chrome = chrome(&state, Some(&signed), "/admin/comments").await?;
        chrome.notice = done
            .and_then(|d| d.parse::<usize>().ok())
            .map(|n| format!("Done: {n} comment{}.", if n == 1 { "" } else { "s" }));
        Ok::<_, AppError>(state.admin.comments(&chrome, &view))
    };
    match page.await {
        Ok(Ok(html)) => admin_page(StatusCode::OK, html),
        Ok(Err(e)) => state.error_page(&e.into()),
        Err(e) => refused(&state, &signed, e).await,
    }
}

/// `POST /admin/comments/moderate`: a row's own button (`only=ID:ACTION`)
/// or the bulk action on the ticked comments.
pub(crate) async fn moderate(State(state): State<AppState>, posted: StaffForm<ModerationForm>) -> Response<Body> {
    let form = &posted.form;
    let (ids, action) = match form.field("only").split_once(':') {
        Some((id, action)) => (id.parse::<i64>().ok().into_iter().collect::<Vec<_>>(), action),
        None => (
            form.all("id").iter().filter_map(|id| id.parse::<i64>().ok()).collect(),
            form.field("action"),
        ),
    };
    let Some(action) = Moderation::parse(action) else {
        let e = AppError::invalid("action", "is not one of approve, spam, trash and restore");
        return refused(&state, &posted.signed, e).await;
    };
    let actor = Actor::Staff(posted.signed.staff().clone());
    match state.app.moderate_as(&actor, &ids, action).await {
        Ok(done) => {
            let back = super::door::safe_next(Some(form.field("back")));
            let back = if back.starts_with("/admin/comments") {
                back
            } else {
                "/admin/comments".to_owned()
            };
            let glue = if back.contains('?') { '&' } else { '?' };
            see_other(&format!("{back}{glue}done={}", done.comments))
        }
        Err(e) => refused(&state, &posted.signed, e).await,
    }
}
