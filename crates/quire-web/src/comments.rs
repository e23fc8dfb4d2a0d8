//! The comments section of a paper's page: which comments it shows (a
//! commenter's own held ones too, by a signed cookie), the form with its
//! signed and timed token, and whether comments are still open. The form's
//! POST is `comment_form`.

use super::plumbing::cookie;
use super::{AppState, PageError};
use axum::http::HeaderMap;
use quire_app::comments::{form_token, open_held};
use quire_core::domain::{CommentStatus, CommentsMode, Paper, PublicComment};
use quire_core::signing::Signer;
use quire_render::comments::{CommentFormView, CommentLayout, CommentsView, comments_view};
use quire_render::paths;
use time::OffsetDateTime;

/// The cookie that lists a commenter's held comments, signed.
pub const HELD_COOKIE: &str = "quire_held";

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

/// The comment ids in a reader's held-comments cookie, if it is one Quire
/// signed.
pub fn held_ids(signer: &Signer, headers: &HeaderMap) -> Vec<i64> {
    let Some(value) = cookie(headers, HELD_COOKIE) else {
        return Vec::new();
    };
    open_held(signer, &value)
}

/// Whether the request carries a held-comments cookie at all (most do
/// not: they need no key to be read).
pub fn cookie_present(headers: &HeaderMap) -> bool {
    cookie(headers, HELD_COOKIE).is_some()
}

pub(super) fn layout(state: &AppState) -> CommentLayout {
    CommentLayout {
        depth: state.config().comments.depth,
        per_page: state.config().comments.per_page,
        newest_first: state.config().comments.order == quire_app::config::CommentOrder::Newest,
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
    let form = if state.app.comments_open(paper, now) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, header};

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
}
