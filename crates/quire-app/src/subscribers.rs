//! An editor's subscriber actions: confirmation emails to everyone still
//! waiting, stopping mail to one address, revoking the links sent to it,
//! and erasing a subscriber on request.

use crate::{App, AppError};
use quire_core::domain::{MessageKind, SubscriberStatus};
use quire_mail::links::SignUp;
use quire_mail::notices::Notice;
use time::OffsetDateTime;

impl App {
    /// Queues a confirmation email (double opt-in) to every subscriber
    /// still waiting to confirm; returns how many.
    pub async fn send_confirmations(&self) -> Result<usize, AppError> {
        let pending: Vec<_> = self
            .store
            .list_subscribers()
            .await?
            .into_iter()
            .filter(|s| s.status == SubscriberStatus::Pending)
            .collect();
        if pending.is_empty() {
            return Ok(0);
        }
        let postbox = self.postbox().await?;
        for s in &pending {
            let signup = SignUp {
                email: s.email.clone(),
                name: s.name.clone(),
                topics: s.topics.clone(),
            };
            let notice = Notice::ListConfirmation { signup };
            postbox.queue(MessageKind::Confirm, &s.email, &s.name, &notice).await?;
        }
        self.wake_sender();
        Ok(pending.len())
    }

    /// Stops sending to `email` (as its unsubscribe link does), keeping the
    /// record.
    pub async fn unsubscribe_email(&self, email: &str) -> Result<(), AppError> {
        if self.store.unsubscribe_email(email, OffsetDateTime::now_utc()).await? {
            Ok(())
        } else {
            Err(AppError::not_found("subscribed address", "value", email))
        }
    }

    /// Makes every preferences and unsubscribe link sent to `email` stop
    /// working; new emails carry new links.
    pub async fn revoke_subscriber_links(&self, email: &str) -> Result<(), AppError> {
        if self.store.revoke_subscriber_links(email).await? {
            Ok(())
        } else {
            Err(AppError::not_found("subscriber", "address", email))
        }
    }

    /// Deletes the subscriber `email` and everything kept about them.
    pub async fn erase_subscriber(&self, email: &str) -> Result<(), AppError> {
        if self.store.erase_subscriber(email).await? {
            Ok(())
        } else {
            Err(AppError::not_found("subscriber", "address", email))
        }
    }
}

/// A row of a subscriber list, as read from its file.
#[derive(Debug, Clone, Default)]
pub struct SubscriberRow {
    /// Where it is, for messages.
    pub line: u64,
    pub email: String,
    pub name: String,
    /// Topic slugs separated by `;` (`everything`, or none: all topics).
    pub topics: String,
}

/// A row that cannot be imported: where, which field, why, and what else
/// than editing the file would mend it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    pub line: u64,
    pub field: &'static str,
    pub message: String,
    pub remedy: Option<crate::Remedy>,
}

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub added: usize,
    /// Addresses already on the list, left as they were.
    pub existing: usize,
    /// Rows left out (with `skip_bad`).
    pub bad: Vec<BadRow>,
}

impl App {
    /// Adds subscribers from `rows` (a file's, or a form's), every row
    /// checked as the sign-up form checks it, addresses unique in the
    /// list and topics existing: all or nothing, unless `skip_bad`, when
    /// the good rows go in and the bad come back in the report. Rows that
    /// could not be read at all come as `Err`. With `with_consent` the
    /// editor declares that everyone agreed: they are confirmed at once;
    /// otherwise each must confirm first.
    pub async fn import_subscribers(
        &self,
        rows: Vec<Result<SubscriberRow, BadRow>>,
        skip_bad: bool,
        with_consent: bool,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<ImportReport, AppError> {
        use quire_core::domain::{SubscriberInput, validate_slug, validate_subscriber_email, validate_subscriber_name};
        let mut good: Vec<(u64, SubscriberInput)> = Vec::new();
        let mut bad: Vec<BadRow> = Vec::new();
        let mut seen: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
        for row in rows {
            let row = match row {
                Ok(r) => r,
                Err(b) => {
                    bad.push(b);
                    continue;
                }
            };
            let line = row.line;
            let mut problem = |field: &'static str, message: String| {
                bad.push(BadRow {
                    line,
                    field,
                    message,
                    remedy: None,
                })
            };
            let email = match validate_subscriber_email(&row.email) {
                Ok(e) => e,
                Err(m) => {
                    problem("email", format!("{:?} {m}", row.email));
                    continue;
                }
            };
            if let Some(first) = seen.get(&email) {
                problem("email", format!("{email} is also on line {first}: keep one of them"));
                continue;
            }
            let name = match validate_subscriber_name(&row.name) {
                Ok(n) => n,
                Err(m) => {
                    problem("name", m);
                    continue;
                }
            };
            let mut slugs = Vec::new();
            let mut topics_ok = true;
            for slug in row
                .topics
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty() && *s != "everything")
            {
                if let Err(m) = validate_slug(slug) {
                    problem("topics", format!("{slug:?}: {m}"));
                    topics_ok = false;
                } else {
                    slugs.push(slug.to_owned());
                }
            }
            if !topics_ok {
                continue;
            }
            seen.insert(email.clone(), line);
            good.push((
                line,
                SubscriberInput {
                    email,
                    name,
                    topics: slugs,
                },
            ));
        }
        // Topics must exist: found with one query for the whole list.
        let mut wanted: Vec<String> = good.iter().flat_map(|(_, r)| r.topics.clone()).collect();
        wanted.sort();
        wanted.dedup();
        let known = self
            .store
            .existing_slugs(quire_store::SlugTable::Topics, &wanted)
            .await?;
        good.retain(|(line, r)| match r.topics.iter().find(|t| !known.contains(t)) {
            Some(t) => {
                bad.push(BadRow {
                    line: *line,
                    field: "topics",
                    message: format!("unknown topic {t:?}"),
                    remedy: Some(crate::Remedy::CreateTopic(t.clone())),
                });
                false
            }
            None => true,
        });
        bad.sort_by_key(|b| b.line);
        if !bad.is_empty() && !skip_bad {
            return Err(AppError::Rows { bad, good: good.len() });
        }
        let inputs: Vec<SubscriberInput> = good.into_iter().map(|(_, r)| r).collect();
        let report = self
            .store
            .import_subscribers(&inputs, with_consent, OffsetDateTime::now_utc(), progress)
            .await?;
        Ok(ImportReport {
            added: report.added,
            existing: report.existing,
            bad,
        })
    }
}
