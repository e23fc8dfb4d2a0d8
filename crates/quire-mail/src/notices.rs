//! Mail outside campaigns, through the outbox like every email: the
//! answers to sign-ups (confirmation links, preferences links), and
//! notices about comments, to the editors (`mail_notify`) when a comment
//! waits for moderation and to a commenter who asked to hear of replies
//! when an approved reply answers them. Each is queued as a [`Notice`]
//! and written when it is sent.

use super::MailError;
use super::compose::{self, Composed, Layouts, MailSite, Personal};
use super::links::{self, SignUp};
use quire_core::domain::{Comment, CommentStatus, MessageKind, SubscriberStatus};
use quire_core::signing::Signer;
use quire_render::paths;
use quire_store::{LinkPurpose, OutgoingMessage, Store};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// What a message outside campaigns is about. The outbox keeps this,
/// not the written email: the sender writes it when it goes, so that it
/// carries the site's name, address and links of that moment (a site
/// renamed, or served at another address, after the message was queued),
/// and links that count their hours from when they were sent.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "about", rename_all = "snake_case")]
pub enum Notice {
    /// The answer to the site's sign-up form: the confirmation link, or,
    /// to an address subscribed by then, a link to its preferences.
    SignUp { signup: SignUp },
    /// A confirmation link to someone on an imported list; nothing once
    /// they have confirmed.
    ListConfirmation { signup: SignUp },
    /// A fresh link to a subscriber's preferences, asked for with an
    /// expired one.
    NewLink { subscriber: i64 },
    /// To the editors: a comment waits for moderation.
    CommentHeld { comment: i64 },
    /// To a commenter: an approved reply answers their comment.
    CommentReply { comment: i64 },
    /// To an account: a link to set its password (an invitation, or a
    /// reset). The link is made when the email is written for sending.
    AccountLink { user: i64, purpose: LinkPurpose },
}

/// A notice written out: the email's body and the footer that says why
/// its recipient gets it.
#[derive(Clone, Debug)]
pub struct Written {
    pub body: Composed,
    pub footer: String,
}

/// What writing a notice reads: the store (the subscriber, the comment
/// and its paper as they are now) and the site's settings.
pub struct NoticeWriter {
    pub store: Store,
    pub site: Arc<MailSite>,
    /// Signs confirmation and preferences links.
    pub signer: Signer,
    /// How long a confirmation link works (`subscribe_confirm_hours`).
    pub confirm_hours: u32,
    /// How long a preferences link works (`preferences_link_days`).
    pub preferences_link: Duration,
    /// Signs set-password links; without it such notices are not sent.
    pub accounts: Option<Signer>,
}

impl NoticeWriter {
    /// The email `notice` makes at `now`, or `Err` with why nothing is
    /// to be sent any more (the comment was deleted, the subscriber
    /// confirmed meanwhile): what the outbox records as skipped.
    pub async fn write(&self, notice: &Notice, now: OffsetDateTime) -> Result<Result<Written, String>, MailError> {
        self.write_at(notice, now, true).await
    }

    /// What `write` would make, without making the links that are made
    /// only for sending (to learn a notice's subject when it is queued).
    pub async fn preview(&self, notice: &Notice, now: OffsetDateTime) -> Result<Result<Written, String>, MailError> {
        self.write_at(notice, now, false).await
    }

    async fn write_at(
        &self,
        notice: &Notice,
        now: OffsetDateTime,
        sending: bool,
    ) -> Result<Result<Written, String>, MailError> {
        let site = &*self.site;
        let base = &site.base_url;
        Ok(match notice {
            Notice::SignUp { signup } => {
                let body = match self.store.subscriber_by_email(&signup.email).await? {
                    Some(s) if s.status == SubscriberStatus::Confirmed => {
                        compose::already_subscribed(site, &self.preferences_url(&s, now))
                    }
                    _ => compose::confirmation_for(site, &self.signer, signup, self.confirm_hours, now),
                };
                Ok(Written {
                    body,
                    footer: format!("You receive this because this address was entered on {base}."),
                })
            }
            Notice::ListConfirmation { signup } => match self.store.subscriber_by_email(&signup.email).await? {
                Some(s) if s.status == SubscriberStatus::Pending => Ok(Written {
                    body: compose::confirmation_for(site, &self.signer, signup, self.confirm_hours, now),
                    footer: format!(
                        "You receive this because your address is on the mailing list of {}; nothing more will \
                         come unless you confirm.",
                        site.name
                    ),
                }),
                Some(_) => Err("the subscriber had confirmed or left by then".to_owned()),
                None => Err("the subscriber was erased".to_owned()),
            },
            Notice::NewLink { subscriber } => match self.store.subscriber(*subscriber).await? {
                Some(s) => Ok(Written {
                    body: compose::already_subscribed(site, &self.preferences_url(&s, now)),
                    footer: format!("You receive this because a new link was asked for on {base}."),
                }),
                None => Err("the subscriber was erased".to_owned()),
            },
            Notice::CommentHeld { comment } => match self.comment_on_paper(*comment).await? {
                Some((c, title)) if c.status == CommentStatus::Pending => Ok(Written {
                    body: held(site, &title, &c),
                    footer: format!("You receive this as an editor of {}.", site.name),
                }),
                Some(_) => Err("the comment was moderated before the notice went".to_owned()),
                None => Err("the comment or its paper was deleted".to_owned()),
            },
            Notice::CommentReply { comment } => match self.comment_on_paper(*comment).await? {
                Some((c, title)) if c.status == CommentStatus::Approved => {
                    let url = format!("{base}{}#comment-{}", paths::paper(&c.paper), c.id);
                    Ok(Written {
                        body: reply(site, &title, &c, &url),
                        footer: "You receive this because you asked to hear of replies to your comment.".to_owned(),
                    })
                }
                Some(_) => Err("the reply is no longer approved".to_owned()),
                None => Err("the reply or its paper was deleted".to_owned()),
            },
            Notice::AccountLink { user, purpose } => match self.store.user(*user).await? {
                Some(u) if u.disabled_at.is_none() => {
                    let Some(signer) = &self.accounts else {
                        return Ok(Err("this sender cannot sign set-password links".to_owned()));
                    };
                    let url = if sending {
                        super::account_links::make(&self.store, signer, base, u.id, *purpose, now)
                            .await?
                            .url
                    } else {
                        format!("{base}{}", super::account_links::PASSWORD_PATH)
                    };
                    let hours = super::account_links::lifetime(*purpose).whole_hours();
                    Ok(Written {
                        body: account_link(site, &u, *purpose, &url, hours),
                        footer: format!(
                            "You receive this because of your account on the admin of {}.",
                            site.name
                        ),
                    })
                }
                Some(_) => Err("the account was disabled before the email went".to_owned()),
                None => Err("the account was removed before the email went".to_owned()),
            },
        })
    }

    /// A fresh preferences link for `s`, valid for `preferences_link`.
    fn preferences_url(&self, s: &quire_store::Subscriber, now: OffsetDateTime) -> String {
        let expires = now + self.preferences_link;
        links::preferences_url(&self.site.base_url, &self.signer, s.into(), expires)
    }

    /// Comment `id` and its paper's title, if both are still there.
    async fn comment_on_paper(&self, id: i64) -> Result<Option<(Comment, String)>, MailError> {
        let Some(comment) = self.store.get_comment(id).await? else {
            return Ok(None);
        };
        let paper = self.store.get_paper(&comment.paper).await?;
        Ok(paper
            .filter(|p| p.meta.trashed_at.is_none())
            .map(|p| (comment, p.meta.title)))
    }
}

/// Queues notices, each checked by writing it once now (its subject is
/// what the outbox lists); the sender writes it again when it goes.
pub struct Postbox {
    pub writer: NoticeWriter,
}

impl Postbox {
    /// Queues `notice` to `to` (`name` greets them; empty for none).
    /// Returns the message's id, or `None` when there is nothing to say.
    pub async fn queue(
        &self,
        kind: MessageKind,
        to: &str,
        name: &str,
        notice: &Notice,
    ) -> Result<Option<i64>, MailError> {
        let now = OffsetDateTime::now_utc();
        let Ok(written) = self.writer.preview(notice, now).await? else {
            return Ok(None);
        };
        let message = OutgoingMessage {
            kind,
            recipient: to.to_owned(),
            recipient_name: name.to_owned(),
            subject: written.body.subject,
            notice: serde_json::to_string(notice).map_err(|e| MailError::Build(e.to_string()))?,
        };
        Ok(Some(self.writer.store.queue_message(&message, now).await?))
    }
}

/// The HTML and text of a written notice to `name`, in the site's layout.
pub fn personalise(
    layouts: &Layouts,
    site: &MailSite,
    language: &str,
    written: &Written,
    name: &str,
) -> Result<(String, String), MailError> {
    let personal = Personal {
        name,
        preferences_url: "",
        unsubscribe_url: "",
    };
    layouts
        .personalise(site, language, &written.body, &personal, &written.footer)
        .map_err(|e| MailError::Build(e.to_string()))
}

fn quote(text: &str) -> (String, String) {
    let short: String = text.chars().take(1500).collect();
    let more = if short.len() < text.len() { "…" } else { "" };
    let html = format!(
        "<blockquote style=\"margin:0 0 16px;padding:0 0 0 16px;border-left:3px solid #d0d7de;\">{}{more}</blockquote>",
        quire_render::escape_html(&short).replace('\n', "<br>")
    );
    let text = short.lines().map(|l| format!("> {l}")).collect::<Vec<_>>().join("\n") + more;
    (html, text)
}

/// Queues what comment `id` calls for, now that it has `status`: a notice
/// to `notify` (the editors) when it waits for moderation, a notice to
/// the commenter answered when it is an approved reply. Returns how many
/// messages were queued.
pub async fn comment_notices(postbox: &Postbox, id: i64, notify: Option<&str>) -> Result<usize, MailError> {
    let store = &postbox.writer.store;
    let Some(comment) = store.get_comment(id).await? else {
        return Ok(0);
    };
    let queued = match comment.status {
        CommentStatus::Pending => match notify.filter(|n| !n.trim().is_empty()) {
            Some(to) => {
                let to = super::parse_mailbox(to).map_err(|e| MailError::BadSettings(format!("mail_notify: {e}")))?;
                let name = to.name.clone().unwrap_or_default();
                let notice = Notice::CommentHeld { comment: id };
                postbox
                    .queue(MessageKind::Notice, to.email.as_ref(), &name, &notice)
                    .await?
            }
            None => None,
        },
        CommentStatus::Approved => match comment.parent_id {
            Some(parent) => match store.reply_subscriber(parent).await? {
                Some(to) if to != comment.email => {
                    let notice = Notice::CommentReply { comment: id };
                    postbox.queue(MessageKind::Notice, &to, "", &notice).await?
                }
                _ => None,
            },
            None => None,
        },
        CommentStatus::Spam | CommentStatus::Trash => None,
    };
    Ok(usize::from(queued.is_some()))
}

fn held(site: &MailSite, paper_title: &str, c: &Comment) -> Composed {
    let (quote_html, quote_text) = quote(&c.text);
    let esc = quire_render::escape_html;
    Composed {
        subject: format!("[{}] A comment awaits moderation: {paper_title}", site.name),
        html: format!(
            "<p style=\"margin:0 0 16px;\">{} ({}) commented on <strong>{}</strong>:</p>{quote_html}\
             <p style=\"margin:0 0 16px;\">Approve it with <code>quire comments approve {id}</code>, or mark it with \
             <code>quire comments spam {id}</code> or <code>quire comments trash {id}</code>.</p>",
            esc(&c.name),
            esc(&c.email),
            esc(paper_title),
            id = c.id
        ),
        text: format!(
            "{} ({}) commented on \"{paper_title}\":\n\n{quote_text}\n\nApprove it with `quire comments approve {id}`, \
             or mark it with `quire comments spam {id}` or `quire comments trash {id}`.",
            c.name,
            c.email,
            id = c.id
        ),
    }
}

fn account_link(site: &MailSite, user: &quire_store::User, purpose: LinkPurpose, url: &str, hours: i64) -> Composed {
    let esc = quire_render::escape_html;
    let lasts = if hours >= 48 {
        format!("{} days", hours / 24)
    } else {
        format!("{hours} hours")
    };
    let (subject, lead, button_label) = match purpose {
        LinkPurpose::Reset => (
            format!("[{}] Set a new password", site.name),
            format!(
                "Someone, probably you, asked for a new password for the account {} on the admin of {}. \
                 If it was not you, ignore this email: your password stays as it is.",
                user.email, site.name
            ),
            "Choose a new password",
        ),
        LinkPurpose::Invite | LinkPurpose::Welcome => (
            format!("[{}] You are invited to the admin", site.name),
            format!(
                "You have an account on the admin of {}, as {}, with the address {}. Choose your password to \
                 sign in.",
                site.name,
                user.role.label().to_lowercase(),
                user.email
            ),
            "Set my password",
        ),
    };
    Composed {
        subject,
        html: format!(
            "<p style=\"margin:0 0 16px;\">{}</p><p style=\"margin:0 0 24px;\">{}</p>\
             <p style=\"margin:0 0 16px;\">The link works once, for {lasts}.</p>",
            esc(&lead),
            compose::button(url, button_label)
        ),
        text: format!("{lead}\n\n{button_label}: {url}\n\nThe link works once, for {lasts}."),
    }
}

fn reply(site: &MailSite, paper_title: &str, c: &Comment, url: &str) -> Composed {
    let (quote_html, quote_text) = quote(&c.text);
    let esc = quire_render::escape_html;
    Composed {
        subject: format!("{} replied to your comment on \"{paper_title}\"", c.name),
        html: format!(
            "<p style=\"margin:0 0 16px;\">{} replied to your comment on <strong>{}</strong> at {}:</p>{quote_html}\
             <p style=\"margin:0 0 16px;\"><a href=\"{}\" style=\"color:#0b5cad;\">Read it and answer</a></p>",
            esc(&c.name),
            esc(paper_title),
            esc(&site.name),
            esc(url)
        ),
        text: format!(
            "{} replied to your comment on \"{paper_title}\" at {}:\n\n{quote_text}\n\nRead it and answer: {url}",
            c.name, site.name
        ),
    }
}
