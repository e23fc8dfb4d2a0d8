//! Why an operation failed, the same whichever front door asked: each case
//! has a stable code (what a JSON client or a script branches on) and a
//! message that names no command, flag or page, so the command line adds
//! its own hints, the web its own pages, and an API its own envelope
//! (`{ "error": { "code", "message" } }`) from one value.

use quire_core::domain::{FieldError, FrontMatterError};
use quire_mail::MailError;
use quire_store::StoreError;
use std::time::Duration;

/// A failed operation.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Something the request names does not exist.
    #[error("no {what} has the {key} {value:?}")]
    NotFound {
        what: &'static str,
        key: &'static str,
        value: String,
    },
    /// One input is wrong; `field` names it as the operation calls it.
    #[error("{message}")]
    Invalid { field: &'static str, message: String },
    /// Several fields of one form are wrong, each with its message.
    #[error("{}", fields_summary(.0))]
    Fields(Vec<FieldError>),
    /// Papers that cannot be added, every problem of every source; nothing
    /// was stored.
    #[error("{} problem{} found; nothing was added", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    Papers(Vec<PaperProblem>),
    /// The paper takes no comments any more.
    #[error("comments are closed on this paper")]
    CommentsClosed,
    /// Rows of a list that cannot be imported (each with its line); nothing
    /// was stored. `good` rows could be, without the bad ones.
    #[error("{} bad row{}; nothing was imported", .bad.len(), if .bad.len() == 1 { "" } else { "s" })]
    Rows {
        bad: Vec<crate::subscribers::BadRow>,
        good: usize,
    },
    /// The comment form's token is older than forms last.
    #[error("the form was too old to take")]
    FormExpired,
    /// The comment form came without its token (something between the
    /// page and the server dropped the hidden field, or a script posted).
    #[error("the form came without its token")]
    FormTokenMissing,
    /// The comment form's token is not one the site made for this paper
    /// (forged, cut short, or copied from another paper's form).
    #[error("the form's token is not one this site made for this paper")]
    FormTokenInvalid,
    /// The same comment is already on the paper.
    #[error("this comment is already on the paper")]
    DuplicateComment,
    /// The comment replied to no longer takes replies.
    #[error("the comment replied to is no longer open for replies")]
    ReplyClosed,
    /// Too many attempts from one client or for one address.
    #[error("too many attempts: try again in {} seconds", .retry_after.as_secs().max(1))]
    RateLimited { retry_after: Duration },
    /// A paper is not published by the time something needs it to be.
    #[error("{slug:?} is not published by the time of sending")]
    NotPublished { slug: String },
    /// A paper has been sent by campaigns before.
    #[error("campaign {} already sent {slug:?}", list(.campaigns))]
    AlreadySent { slug: String, campaigns: Vec<i64> },
    /// The thing is not in a state the action applies to.
    #[error("{0}")]
    WrongState(String),
    /// Scheduling a paper readers can see would take it offline until
    /// then; done only when asked for in so many words.
    #[error("{slug:?} is live; publishing it at a later time would take it offline until then")]
    WouldGoOffline {
        slug: String,
        live_since: time::OffsetDateTime,
        at: time::OffsetDateTime,
    },
    /// Someone saved the paper after the form was opened: saving the form
    /// would undo their changes, so nothing was saved.
    #[error("{slug:?} was saved again after you opened it (revision {revision}{}); nothing was saved", by_whom(.saved_by.as_deref()))]
    EditConflict {
        slug: String,
        revision: i64,
        saved_by: Option<String>,
        saved_at: Option<time::OffsetDateTime>,
    },
    /// A signed link past its time.
    #[error("the link has expired")]
    LinkExpired,
    /// A signed link that is not one of ours (cut short, forged).
    #[error("the link does not work")]
    LinkInvalid,
    /// A single-use link already used.
    #[error("the link has been used")]
    LinkUsed,
    /// A link that names something gone since (a topic deleted).
    #[error("the link names something that no longer exists")]
    LinkGone,
    /// The address or the password is wrong (which one is not said), or
    /// the account is disabled or has no password yet.
    #[error("the address or the password is wrong")]
    LoginFailed,
    /// The second step's code is wrong, or was used already.
    #[error("the code is wrong, or was used already")]
    CodeFailed,
    /// The account's role does not allow the action.
    #[error("your role does not allow you to {action}")]
    Forbidden { action: &'static str },
    /// The mail server refused or could not be reached.
    #[error("the mail server did not take the message: {0}")]
    Delivery(String),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file the operation writes or reads (not the input's own).
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl AppError {
    /// The stable, machine-readable name of the case.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound { .. } => "not_found",
            AppError::Invalid { .. } => "invalid",
            AppError::Fields(_) => "invalid_fields",
            AppError::Papers(_) => "invalid_papers",
            AppError::Rows { .. } => "invalid_rows",
            AppError::CommentsClosed => "comments_closed",
            AppError::FormExpired => "form_expired",
            AppError::FormTokenMissing => "form_token_missing",
            AppError::FormTokenInvalid => "form_token_invalid",
            AppError::DuplicateComment => "duplicate_comment",
            AppError::ReplyClosed => "reply_closed",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::NotPublished { .. } => "not_published",
            AppError::AlreadySent { .. } => "already_sent",
            AppError::WrongState(_) => "wrong_state",
            AppError::WouldGoOffline { .. } => "would_go_offline",
            AppError::EditConflict { .. } => "edit_conflict",
            AppError::LinkExpired => "link_expired",
            AppError::LinkInvalid => "link_invalid",
            AppError::LinkUsed => "link_used",
            AppError::LinkGone => "link_gone",
            AppError::LoginFailed => "login_failed",
            AppError::Forbidden { .. } => "forbidden",
            AppError::CodeFailed => "code_failed",
            AppError::Delivery(_) => "delivery_failed",
            AppError::Mail(MailError::NotConfigured) => "mail_not_configured",
            AppError::Mail(MailError::BadSettings(_)) => "mail_settings",
            AppError::Mail(MailError::Build(_)) => "mail_build",
            AppError::Mail(MailError::Store(e)) | AppError::Store(e) => store_code(e),
            AppError::Io { .. } => "io",
        }
    }

    /// Whether the request itself is at fault (the caller can correct it),
    /// rather than the site, its database or its mail server.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self.code(), "database" | "io" | "mail_build" | "delivery_failed")
    }

    pub(crate) fn not_found(what: &'static str, key: &'static str, value: impl Into<String>) -> AppError {
        AppError::NotFound {
            what,
            key,
            value: value.into(),
        }
    }

    pub fn invalid(field: &'static str, message: impl Into<String>) -> AppError {
        AppError::Invalid {
            field,
            message: message.into(),
        }
    }
}

fn store_code(e: &StoreError) -> &'static str {
    match e {
        StoreError::NotFound { .. } | StoreError::CommentNotFound(_) => "not_found",
        StoreError::DuplicatePaper(_) => "duplicate_paper",
        StoreError::UnknownReference { .. } => "unknown_reference",
        StoreError::BadReply(_) => "reply_closed",
        StoreError::DuplicateComment => "duplicate_comment",
        StoreError::DuplicateUser(_) => "duplicate_user",
        StoreError::StaleRevision { .. } => "edit_conflict",
        StoreError::Connect { .. } | StoreError::Migrate(_) | StoreError::Corrupt(_) | StoreError::Database(_) => {
            "database"
        }
    }
}

fn fields_summary(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

fn by_whom(name: Option<&str>) -> String {
    name.map(|n| format!(", by {n}")).unwrap_or_default()
}

fn list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

/// One problem with a paper to add, where it is, and what would mend it
/// when the remedy is an option of the operation rather than an edit of
/// the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperProblem {
    pub problem: FrontMatterError,
    pub remedy: Option<Remedy>,
}

/// What else than editing the source would mend a paper problem; each
/// front door says it in its own words (a flag, a checkbox).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    /// Replace the paper that has the slug.
    Replace,
    /// Create the author with this slug (or let missing ones be created).
    CreateAuthor(String),
    /// Create the topic with this slug (or let missing ones be created).
    CreateTopic(String),
}

impl From<FrontMatterError> for PaperProblem {
    fn from(problem: FrontMatterError) -> Self {
        PaperProblem { problem, remedy: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_messages_name_no_front_door() {
        let cases = [
            (
                AppError::not_found("paper", "slug", "x"),
                "not_found",
                "no paper has the slug \"x\"",
            ),
            (AppError::invalid("at", "not a time"), "invalid", "not a time"),
            (
                AppError::AlreadySent {
                    slug: "a".into(),
                    campaigns: vec![1, 2],
                },
                "already_sent",
                "campaign 1, 2 already sent \"a\"",
            ),
            (
                AppError::Store(StoreError::DuplicatePaper("a".into())),
                "duplicate_paper",
                "",
            ),
            (AppError::Mail(MailError::NotConfigured), "mail_not_configured", ""),
            (
                AppError::RateLimited {
                    retry_after: Duration::from_millis(10),
                },
                "rate_limited",
                "too many attempts: try again in 1 seconds",
            ),
        ];
        for (error, code, message) in cases {
            assert_eq!(error.code(), code);
            let text = error.to_string();
            assert!(text.starts_with(message), "{text}");
            for door in ["--", "quire ", "`"] {
                assert!(!text.contains(door), "{code} names a front door: {text}");
            }
        }
        assert!(AppError::CommentsClosed.is_bad_input());
        assert!(!AppError::Delivery("421".into()).is_bad_input());
        assert!(!AppError::Store(StoreError::Corrupt("x".into())).is_bad_input());
    }
}
