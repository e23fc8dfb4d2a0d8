//! Notices about comments, through the outbox like every email: to the
//! editors (`mail_notify`) when a comment waits for moderation, and to a
//! commenter who asked to hear of replies when an approved reply answers
//! them.

use super::MailError;
use super::compose::{Composed, Layouts, MailSite, Personal};
use quire_core::domain::{Comment, CommentStatus, MessageKind};
use quire_render::paths;
use quire_store::{OutgoingMessage, Store};
use time::OffsetDateTime;

/// Queues messages outside campaigns in the site's email layout.
pub struct Postbox<'a> {
    pub store: &'a Store,
    pub layouts: &'a Layouts,
    pub site: &'a MailSite,
    pub language: &'a str,
}

impl Postbox<'_> {
    /// Queues `body` to `to`; `footer` says why they receive it.
    pub async fn queue(
        &self,
        kind: MessageKind,
        to: &str,
        name: &str,
        body: &Composed,
        footer: &str,
    ) -> Result<i64, MailError> {
        let personal = Personal {
            name,
            preferences_url: "",
            unsubscribe_url: "",
        };
        let (html, text) = self
            .layouts
            .personalise(self.site, self.language, body, &personal, footer)
            .map_err(|e| MailError::Build(e.to_string()))?;
        let message = OutgoingMessage {
            kind,
            recipient: to.to_owned(),
            recipient_name: name.to_owned(),
            subject: body.subject.clone(),
            html,
            text,
        };
        Ok(self.store.queue_message(&message, OffsetDateTime::now_utc()).await?)
    }
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
pub async fn comment_notices(postbox: &Postbox<'_>, id: i64, notify: Option<&str>) -> Result<usize, MailError> {
    let Some(comment) = postbox.store.get_comment(id).await? else {
        return Ok(0);
    };
    let Some(paper) = postbox.store.get_paper(&comment.paper).await? else {
        return Ok(0);
    };
    let url = format!(
        "{}{}#comment-{}",
        postbox.site.base_url,
        paths::paper(&comment.paper),
        comment.id
    );
    let mut queued = 0;
    match comment.status {
        CommentStatus::Pending => {
            if let Some(to) = notify.filter(|n| !n.trim().is_empty()) {
                let to = super::parse_mailbox(to).map_err(|e| MailError::BadSettings(format!("mail_notify: {e}")))?;
                let body = held(postbox.site, &paper.meta.title, &comment);
                let footer = format!("You receive this as an editor of {}.", postbox.site.name);
                let name = to.name.clone().unwrap_or_default();
                postbox
                    .queue(MessageKind::Notice, to.email.as_ref(), &name, &body, &footer)
                    .await?;
                queued += 1;
            }
        }
        CommentStatus::Approved => {
            if let Some(parent) = comment.parent_id
                && let Some(to) = postbox.store.reply_subscriber(parent).await?
                && to != comment.email
            {
                let body = reply(postbox.site, &paper.meta.title, &comment, &url);
                let footer = "You receive this because you asked to hear of replies to your comment.";
                postbox.queue(MessageKind::Notice, &to, "", &body, footer).await?;
                queued += 1;
            }
        }
        CommentStatus::Spam | CommentStatus::Trash => {}
    }
    Ok(queued)
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
