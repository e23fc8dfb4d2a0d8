//! Readers' comments: posting one (its token, rate limit, honeypot,
//! checks and the moderation rules, with the "too fast means pending"
//! rule), moderating them with the notices approval sends, purging old
//! ones, and a commenter's data on request.

use crate::{App, AppError};
use quire_core::domain::{Comment, CommentForm, CommentStatus, CommentsMode, Paper, moderate, validate_comment};
use quire_core::signing::Signer;
use quire_store::{NewComment, StoreError};
use std::net::IpAddr;
use std::time::Instant;
use time::OffsetDateTime;

/// Held comments one reader's list remembers.
pub const HELD_KEPT: usize = 20;

/// A form older than this (seconds) must be shown again before it is
/// taken.
pub const TOKEN_LIFETIME: i64 = 24 * 3600;

/// The signed form token for `paper_id`, issued at `at`.
pub fn form_token(signer: &Signer, paper_id: i64, at: OffsetDateTime) -> String {
    signer.sign(&format!("c{paper_id}:{}", at.unix_timestamp()))
}

/// How old a token for `paper_id` is, in seconds; None when it is not one
/// Quire signed for that paper.
pub fn token_age(signer: &Signer, token: &str, paper_id: i64, now: OffsetDateTime) -> Option<i64> {
    let text = signer.open(token.trim())?;
    let (paper, issued) = text.strip_prefix('c')?.split_once(':')?;
    if paper.parse::<i64>().ok()? != paper_id {
        return None;
    }
    Some(now.unix_timestamp() - issued.parse::<i64>().ok()?)
}

/// A reader's held-comments list, signed, as it travels (in a cookie).
pub fn seal_held(signer: &Signer, held: &[i64]) -> String {
    let list: Vec<String> = held.iter().map(i64::to_string).collect();
    signer.sign(&format!("h{}", list.join("-")))
}

/// The comment ids of a sealed held-comments list, if Quire signed it.
pub fn open_held(signer: &Signer, sealed: &str) -> Vec<i64> {
    let Some(text) = signer.open(sealed) else {
        return Vec::new();
    };
    text.strip_prefix('h')
        .unwrap_or("")
        .split('-')
        .filter_map(|id| id.parse::<i64>().ok())
        .take(HELD_KEPT)
        .collect()
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

/// A comment as a reader sends it, with what the front door knows of them.
pub struct CommentPost<'a> {
    pub form: CommentForm,
    /// The form's signed token.
    pub token: &'a str,
    /// Whether the field people never see was filled (robots fill it).
    pub honeypot_filled: bool,
    pub notify_replies: bool,
    pub ip: IpAddr,
    pub user_agent: &'a str,
    /// The reader's held comments so far (from their sealed list).
    pub held: Vec<i64>,
}

/// What became of a comment post.
#[derive(Debug, PartialEq, Eq)]
pub enum Posted {
    /// Stored with `status`; `held` is the reader's list with it added,
    /// whatever its status, so that the answer cannot tell whether the
    /// name and address had comments approved before.
    Kept {
        id: i64,
        status: CommentStatus,
        held: Vec<i64>,
    },
    /// A robot's: nothing was kept, and it is answered as if it had been.
    Discarded,
}

/// Comments on one page of the moderation queue.
pub const COMMENTS_PER_PAGE: u32 = 50;

/// What the moderation queue shows.
#[derive(Clone, Debug)]
pub struct CommentQueueQuery {
    pub status: CommentStatus,
    /// One commenter's comments (any status) instead.
    pub email: Option<String>,
    pub page: u32,
}

/// A page of the moderation queue.
#[derive(Clone, Debug)]
pub struct CommentQueue {
    pub comments: Vec<Comment>,
    /// Whether a next page has more.
    pub more: bool,
    pub page: u32,
    /// Comments per status, pending first.
    pub counts: Vec<(CommentStatus, u64)>,
}

impl Moderation {
    pub fn parse(s: &str) -> Option<Moderation> {
        match s {
            "approve" => Some(Moderation::Approve),
            "spam" => Some(Moderation::Spam),
            "trash" => Some(Moderation::Trash),
            "restore" => Some(Moderation::Restore),
            _ => None,
        }
    }
}

/// A moderation action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moderation {
    Approve,
    Spam,
    Trash,
    /// Back from spam or trash to where it was.
    Restore,
}

/// What a moderation did: comments changed, reply notices queued.
#[derive(Debug, PartialEq, Eq)]
pub struct Moderated {
    pub comments: usize,
    pub notices: usize,
}

impl App {
    /// Whether `paper` takes comments now.
    pub fn comments_open(&self, paper: &Paper, now: OffsetDateTime) -> bool {
        comments_open(paper, self.config().comments.close_after_days, now)
    }

    /// Posts a reader's comment on `paper` (a public one): the closing,
    /// the client's rate limit, the form's token, the honeypot, the
    /// fields' checks, then the moderation rules decide its status (a
    /// form sent sooner than `comment_min_seconds` after it was shown
    /// waits for moderation); the notices it calls for are queued.
    pub async fn post_comment(&self, paper: &Paper, post: CommentPost<'_>) -> Result<Posted, AppError> {
        let now = OffsetDateTime::now_utc();
        if paper.meta.comments == CommentsMode::Hidden {
            return Err(AppError::not_found("paper", "slug", &paper.meta.slug));
        }
        if !self.comments_open(paper, now) {
            return Err(AppError::CommentsClosed);
        }
        let c = &*self.config();
        if let Err(wait) = self.comment_limits.check(
            crate::limits::limit_key(post.ip),
            c.comments.rate_per_minute,
            c.comments.rate_per_hour,
            Instant::now(),
        ) {
            return Err(AppError::RateLimited { retry_after: wait });
        }
        let signer = self.comment_signer().await?;
        if post.token.trim().is_empty() {
            return Err(AppError::FormTokenMissing);
        }
        let age = match token_age(signer, post.token, paper.meta.id, now) {
            None => return Err(AppError::FormTokenInvalid),
            // Made later than now by more than clocks drift: not ours.
            Some(a) if a < -60 => return Err(AppError::FormTokenInvalid),
            Some(a) if a > TOKEN_LIFETIME => return Err(AppError::FormExpired),
            Some(a) => a,
        };
        if post.honeypot_filled {
            tracing::info!(ip = %post.ip, slug = %paper.meta.slug, "comment refused: the hidden field was filled");
            return Ok(Posted::Discarded);
        }
        let input = validate_comment(&post.form).map_err(AppError::Fields)?;
        let ip_text = post.ip.to_string();
        let approved_before = self.store.approved_before(&input.name, &input.email).await?;
        let mut verdict = moderate(&input, &ip_text, &c.moderation_rules(), approved_before);
        if age < i64::from(c.comments.min_seconds) && verdict.status == CommentStatus::Approved {
            verdict.status = CommentStatus::Pending;
            verdict.reason = format!("posted {age} s after the form was shown");
        }
        let user_agent: String = post.user_agent.chars().take(255).collect();
        let id = self
            .store
            .add_comment(&NewComment {
                paper_id: paper.meta.id,
                input: &input,
                status: verdict.status,
                ip: &ip_text,
                user_agent: &user_agent,
                notify_replies: post.notify_replies,
                now,
            })
            .await
            .map_err(|e| match e {
                StoreError::DuplicateComment => AppError::DuplicateComment,
                StoreError::BadReply(_) => AppError::ReplyClosed,
                e => e.into(),
            })?;
        tracing::info!(id, slug = %paper.meta.slug, status = %verdict.status, reason = %verdict.reason, "comment added");
        self.queue_comment_notices(id);
        let mut held = post.held;
        held.retain(|h| *h != id);
        held.push(id);
        if held.len() > HELD_KEPT {
            held.drain(..held.len() - HELD_KEPT);
        }
        Ok(Posted::Kept {
            id,
            status: verdict.status,
            held,
        })
    }

    /// Who hears of a new comment: the editors (`mail_notify`) of one that
    /// waits for moderation, and the writer of the comment answered, when
    /// they asked to hear of replies. Queued in the background: the reader
    /// is not kept waiting for it.
    fn queue_comment_notices(&self, id: i64) {
        let app = self.clone();
        tokio::spawn(async move {
            let notify = app.config().mail.notify.clone();
            let queued = match app.postbox().await {
                Ok(postbox) => quire_mail::notices::comment_notices(&postbox, id, Some(&notify))
                    .await
                    .map_err(AppError::from),
                Err(e) => Err(e),
            };
            match queued {
                Ok(0) => {}
                Ok(_) => app.wake_sender(),
                Err(e) => tracing::warn!(comment = id, error = %e, "cannot queue the comment's notices"),
            }
        });
    }

    /// Moderates comments `ids`; approving queues the reply notices of
    /// the comments it makes visible.
    pub async fn moderate_comments(&self, ids: &[i64], action: Moderation) -> Result<Moderated, AppError> {
        let to = match action {
            Moderation::Approve => Some(CommentStatus::Approved),
            Moderation::Spam => Some(CommentStatus::Spam),
            Moderation::Trash => Some(CommentStatus::Trash),
            Moderation::Restore => None,
        };
        let mut newly = Vec::new();
        if action == Moderation::Approve {
            for id in ids {
                if self
                    .store
                    .get_comment(*id)
                    .await?
                    .is_some_and(|c| c.status != CommentStatus::Approved)
                {
                    newly.push(*id);
                }
            }
        }
        match to {
            Some(to) => self.store.set_comment_status(ids, to).await?,
            None => self.store.restore_comments(ids).await?,
        }
        // Approved replies tell the commenters answered who asked.
        let mut notices = 0;
        if !newly.is_empty() {
            let postbox = self.postbox().await?;
            for id in &newly {
                notices += quire_mail::notices::comment_notices(&postbox, *id, None).await?;
            }
        }
        if notices > 0 {
            self.wake_sender();
        }
        Ok(Moderated {
            comments: ids.len(),
            notices,
        })
    }

    /// A page of the moderation queue: comments with `status` (pending
    /// first, by default), or all of one commenter's, newest first; with
    /// the count of each status.
    pub async fn comment_queue(
        &self,
        actor: &crate::accounts::Actor,
        query: &CommentQueueQuery,
    ) -> Result<CommentQueue, AppError> {
        actor.require(quire_core::domain::Action::Moderate, "moderate comments")?;
        let page = query.page.clamp(1, 10_000);
        // A stored address never holds a control character (PostgreSQL
        // would refuse a NUL in the query itself): such a one matches none.
        if query.email.as_deref().is_some_and(|e| e.chars().any(char::is_control)) {
            return Ok(CommentQueue {
                comments: Vec::new(),
                more: false,
                page,
                counts: Vec::new(),
            });
        }
        let comments = self
            .store
            .list_comments(&quire_store::CommentQuery {
                status: if query.email.is_some() {
                    None
                } else {
                    Some(query.status)
                },
                email: query.email.as_ref().map(|e| e.trim().to_ascii_lowercase()),
                limit: Some(COMMENTS_PER_PAGE + 1),
                offset: (page - 1) * COMMENTS_PER_PAGE,
                ..Default::default()
            })
            .await?;
        let more = comments.len() > COMMENTS_PER_PAGE as usize;
        let mut counts = Vec::new();
        for status in [
            CommentStatus::Pending,
            CommentStatus::Approved,
            CommentStatus::Spam,
            CommentStatus::Trash,
        ] {
            counts.push((status, self.store.count_comments(status).await?));
        }
        Ok(CommentQueue {
            comments: comments.into_iter().take(COMMENTS_PER_PAGE as usize).collect(),
            more,
            page,
            counts,
        })
    }

    /// Moderates comments `ids` as `actor` (who must moderate), in the
    /// audit log.
    pub async fn moderate_as(
        &self,
        actor: &crate::accounts::Actor,
        ids: &[i64],
        action: Moderation,
    ) -> Result<Moderated, AppError> {
        actor.require(quire_core::domain::Action::Moderate, "moderate comments")?;
        if ids.is_empty() {
            return Err(AppError::invalid("comment", "no comment was chosen: tick at least one"));
        }
        if ids.len() > 500 {
            return Err(AppError::invalid("comment", "choose at most 500 comments at a time"));
        }
        let done = self.moderate_comments(ids, action).await?;
        let name = match action {
            Moderation::Approve => "comment.approve",
            Moderation::Spam => "comment.spam",
            Moderation::Trash => "comment.trash",
            Moderation::Restore => "comment.restore",
        };
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        self.audit(actor, name, &list.join(", "), "").await?;
        Ok(done)
    }

    /// Deletes for good the comments with `statuses` older than `age`;
    /// approved comments must go to the trash first.
    pub async fn purge_comments(&self, statuses: &[CommentStatus], age: time::Duration) -> Result<u64, AppError> {
        if statuses.contains(&CommentStatus::Approved) {
            return Err(AppError::invalid(
                "status",
                "purge deletes for good and does not take approved comments: move them to the trash first",
            ));
        }
        Ok(self
            .store
            .purge_comments(statuses, OffsetDateTime::now_utc() - age)
            .await?)
    }

    /// Every comment made with `email` (a data request).
    pub async fn export_comments(&self, email: &str) -> Result<Vec<Comment>, AppError> {
        Ok(self.store.comments_by_email(email).await?)
    }

    /// Removes the name, address, website and IP address from every
    /// comment made with `email`; returns how many.
    pub async fn erase_comments(&self, email: &str) -> Result<u64, AppError> {
        Ok(self.store.erase_comments_by_email(email).await?)
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
    fn held_lists_must_be_signed() {
        let signer = Signer::new(b"k");
        assert_eq!(open_held(&signer, &seal_held(&signer, &[3, 9])), [3, 9]);
        assert!(
            open_held(&signer, "h3-9.deadbeef").is_empty(),
            "a forged list shows nothing"
        );
        let long: Vec<i64> = (1..=50).collect();
        assert_eq!(open_held(&signer, &seal_held(&signer, &long)).len(), HELD_KEPT);
    }
}
