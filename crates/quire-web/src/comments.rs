//! The comments section of a paper's page: which comments it shows (a
//! commenter's own held ones too, by a signed cookie), the form with its
//! signed and timed token, and whether comments are still open. The form's
//! POST is `comment_form`.

use super::plumbing::cookie;
use super::{AppState, PageError};
use axum::http::HeaderMap;
use quire_core::domain::{CommentStatus, CommentsMode, Paper, PublicComment};
use quire_core::signing::Signer;
use quire_render::comments::{CommentFormView, CommentLayout, CommentsView, comments_view};
use quire_render::paths;
use time::OffsetDateTime;

/// The cookie that lists a commenter's held comments, signed.
pub const HELD_COOKIE: &str = "quire_held";

/// Held comments one cookie remembers.
pub(super) const HELD_KEPT: usize = 20;

/// A form older than this must be shown again before it is taken.
pub(super) const TOKEN_LIFETIME: i64 = 24 * 3600;

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
pub(super) fn token_age(signer: &Signer, token: &str, paper_id: i64, now: OffsetDateTime) -> Option<i64> {
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

pub(super) fn layout(state: &AppState) -> CommentLayout {
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, header};

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
}
