//! An editor's subscriber actions: confirmation emails to everyone still
//! waiting, stopping mail to one address, revoking the links sent to it,
//! and erasing a subscriber on request.

use crate::{App, AppError};
use quire_core::domain::{MessageKind, SubscriberStatus};
use quire_mail::compose::confirmation_for;
use quire_mail::links::SignUp;
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
        let signer = self.newsletter_signer().await?;
        let site = self.mail_site();
        let footer = format!(
            "You receive this because your address is on the mailing list of {}; nothing more will come unless you confirm.",
            site.name
        );
        let now = OffsetDateTime::now_utc();
        let postbox = self.postbox();
        for s in &pending {
            let signup = SignUp {
                email: s.email.clone(),
                name: s.name.clone(),
                topics: s.topics.clone(),
            };
            let body = confirmation_for(site, signer, &signup, self.config.newsletter.confirm_hours, now);
            postbox
                .queue(MessageKind::Confirm, &s.email, &s.name, &body, &footer)
                .await?;
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
