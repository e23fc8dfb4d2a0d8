//! The delivery worker: claims due messages from the outbox in batches,
//! builds each one (a campaign copy gets its recipient's greeting and
//! links), hands them to the SMTP server over a pool of connections at a
//! bounded rate, and records every result in one transaction per batch.
//! Any number of workers, in `quire serve` and `quire newsletter send
//! --wait`, share the outbox.

use super::compose::{self, Composed, Layouts, Letter, ListHeaders, MailSite, Parts, Personal};
use super::links;
use super::notices::{self, Notice, NoticeWriter};
use super::{MailError, Mailer};
use arc_swap::ArcSwap;
use quire_core::domain::{AttemptResult, MessageKind};
use quire_core::signing::Signer;
use quire_store::{ClaimedMessage, Delivery, DeliveryResult, RetryPolicy, Store};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::{Mutex, Notify, Semaphore};
use tokio::time::Instant;

/// Results are recorded in groups of this many as they come in: a sender
/// that dies has at most this many (and those under way) sent but not
/// recorded, which are the messages that may arrive twice.
const RECORD_EVERY: usize = 32;

fn collect(finished: Result<Delivery, tokio::task::JoinError>, deliveries: &mut Vec<Delivery>) {
    match finished {
        Ok(delivery) => deliveries.push(delivery),
        Err(e) => tracing::error!(error = %e, "a send task failed; its message will be sent again"),
    }
}

/// How a worker sends.
#[derive(Clone, Debug)]
pub struct SenderSettings {
    pub concurrency: u32,
    /// Messages a second (0: no limit).
    pub rate_per_second: u32,
    pub policy: RetryPolicy,
    /// How long claimed messages stay this worker's.
    pub lease: Duration,
    /// Language of the emails' chrome.
    pub language: String,
    /// Where the mailto unsubscribe link goes.
    pub unsubscribe_mailbox: String,
    /// How long the preferences links in campaigns and notices work.
    pub preferences_link: Duration,
    /// How long the confirmation links in notices work.
    pub confirm_hours: u32,
}

/// A claimed message made ready, or why it is not to be sent.
enum Built {
    Ready(lettre::Message),
    Skip(String),
}

/// What every copy of a campaign shares, ready to be filled in.
struct CampaignCopy {
    body: Composed,
    footer: String,
    prepared: Option<compose::Prepared>,
}

/// What a sender works with that the settings make, swapped whole when
/// they change: a round uses one version from start to end.
struct SenderLive {
    /// `None` while no mail server is set: nothing is sent until one is.
    mailer: Option<Arc<Mailer>>,
    site: Arc<MailSite>,
    settings: SenderSettings,
}

/// One delivery worker.
pub struct Sender {
    store: Store,
    signer: Signer,
    live: ArcSwap<SenderLive>,
    layouts: Layouts,
    campaigns: Mutex<HashMap<i64, Arc<CampaignCopy>>>,
    /// When the next message may go, under the rate limit.
    next_slot: Mutex<Instant>,
    /// Woken when this process queues mail, to send it at once.
    pub wake: Arc<Notify>,
    /// Signs the set-password links of account notices (none: they are
    /// not sent).
    pub accounts: Option<Signer>,
}

impl Sender {
    /// A sender through `mailer`, or one that waits for a mail server to
    /// be set ([`Sender::set_mailer`]) when it is `None`.
    pub fn new(
        store: Store,
        mailer: impl Into<Option<Mailer>>,
        site: impl Into<Arc<MailSite>>,
        signer: Signer,
        settings: SenderSettings,
    ) -> Sender {
        let live = SenderLive {
            mailer: mailer.into().map(Arc::new),
            site: site.into(),
            settings,
        };
        Sender {
            store,
            signer,
            live: ArcSwap::from_pointee(live),
            layouts: Layouts::new(),
            campaigns: Mutex::new(HashMap::new()),
            next_slot: Mutex::new(Instant::now()),
            wake: Arc::new(Notify::new()),
            accounts: None,
        }
    }

    /// Sends through `mailer` from the next round on (`None`: nothing is
    /// sent until one is set); the connections of the one before close.
    pub fn set_mailer(&self, mailer: Option<Mailer>) {
        let now = self.live.load_full();
        self.live.store(Arc::new(SenderLive {
            mailer: mailer.map(Arc::new),
            site: now.site.clone(),
            settings: now.settings.clone(),
        }));
        self.wake.notify_one();
    }

    /// Writes and sends with `site` and `settings` from the next round
    /// on: reloaded settings reach mail waiting in the outbox.
    pub async fn set_settings(&self, site: Arc<MailSite>, settings: SenderSettings) {
        let now = self.live.load_full();
        self.live.store(Arc::new(SenderLive {
            mailer: now.mailer.clone(),
            site,
            settings,
        }));
        // Campaign copies keep their content; their layout and footer
        // follow the site.
        self.campaigns.lock().await.clear();
        self.wake.notify_one();
    }

    /// Messages claimed at once: enough to keep every connection busy, few
    /// enough that a batch ends well within its claim.
    fn batch_size(settings: &SenderSettings) -> u32 {
        let by_connections = settings.concurrency.saturating_mul(64).clamp(16, 2000);
        match settings.rate_per_second {
            0 => by_connections,
            rate => by_connections.min(rate.saturating_mul(10).max(1)),
        }
    }

    /// Delivers mail until the task is dropped: starts campaigns when due,
    /// and sends what is due, waking each second or when told.
    pub async fn run(self: Arc<Self>) {
        let mut last_start = Instant::now() - Duration::from_secs(60);
        loop {
            if self.live.load().mailer.is_none() {
                tokio::select! {
                    () = self.wake.notified() => {}
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                continue;
            }
            if last_start.elapsed() >= Duration::from_secs(5) {
                last_start = Instant::now();
                if let Err(e) = self.store.start_due_campaigns(OffsetDateTime::now_utc()).await {
                    tracing::warn!(error = %e, "cannot start due campaigns");
                }
            }
            match self.round().await {
                Ok(0) => {
                    tokio::select! {
                        () = self.wake.notified() => {}
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "mail delivery failed; trying again shortly");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            }
        }
    }

    /// One batch: claim, send, record. Returns how many messages it took.
    pub async fn round(&self) -> Result<usize, MailError> {
        let live = self.live.load_full();
        let Some(mailer) = live.mailer.clone() else {
            return Ok(0);
        };
        let settings = &live.settings;
        let now = OffsetDateTime::now_utc();
        let claimed = self
            .store
            .claim_messages(Sender::batch_size(settings), now, settings.lease)
            .await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let subscriber_ids: Vec<i64> = claimed
            .iter()
            .filter(|m| m.kind == MessageKind::Campaign.as_str())
            .filter_map(|m| m.subscriber_id)
            .collect();
        let confirmed = self.store.confirmed_among(&subscriber_ids).await?;
        let permits = Arc::new(Semaphore::new(settings.concurrency.max(1) as usize));
        let mut tasks = tokio::task::JoinSet::new();
        let mut deliveries = Vec::with_capacity(RECORD_EVERY * 2);
        let mut handled = 0;
        for message in claimed {
            let attempts = u32::try_from(message.attempts).unwrap_or(u32::MAX);
            let skip = message.kind == MessageKind::Campaign.as_str()
                && !message.subscriber_id.is_some_and(|id| confirmed.contains_key(&id));
            if skip {
                deliveries.push(Delivery {
                    id: message.id,
                    subscriber_id: message.subscriber_id,
                    attempts,
                    result: DeliveryResult::Skipped("the subscriber left or bounced".to_owned()),
                });
                continue;
            }
            let version = message
                .subscriber_id
                .and_then(|id| confirmed.get(&id))
                .copied()
                .unwrap_or(1);
            let built = self.build(&live, &mailer, &message, version).await;
            let (id, subscriber_id) = (message.id, message.subscriber_id);
            let email = match built {
                Ok(Built::Ready(email)) => email,
                Ok(Built::Skip(why)) => {
                    deliveries.push(Delivery {
                        id,
                        subscriber_id,
                        attempts,
                        result: DeliveryResult::Skipped(why),
                    });
                    continue;
                }
                Err(reason) => {
                    deliveries.push(Delivery {
                        id,
                        subscriber_id,
                        attempts,
                        result: DeliveryResult::Attempt(AttemptResult::Permanent(reason)),
                    });
                    continue;
                }
            };
            let permit = permits.clone().acquire_owned().await;
            while let Some(finished) = tasks.try_join_next() {
                collect(finished, &mut deliveries);
            }
            if deliveries.len() >= RECORD_EVERY {
                handled += self.record(&mut deliveries, settings.policy).await?;
            }
            self.wait_for_slot(settings.rate_per_second).await;
            let mailer = mailer.clone();
            tasks.spawn(async move {
                let result = mailer.send(email).await;
                drop(permit);
                Delivery {
                    id,
                    subscriber_id,
                    attempts,
                    result: DeliveryResult::Attempt(result),
                }
            });
        }
        while let Some(finished) = tasks.join_next().await {
            collect(finished, &mut deliveries);
            if deliveries.len() >= RECORD_EVERY {
                handled += self.record(&mut deliveries, settings.policy).await?;
            }
        }
        handled += self.record(&mut deliveries, settings.policy).await?;
        // Once per batch, after its last results are committed.
        self.store.finish_campaigns(OffsetDateTime::now_utc()).await?;
        Ok(handled)
    }

    /// Records finished deliveries and empties the list; returns how many.
    async fn record(&self, deliveries: &mut Vec<Delivery>, policy: RetryPolicy) -> Result<usize, MailError> {
        for d in deliveries.iter() {
            if let DeliveryResult::Attempt(AttemptResult::Transient(e) | AttemptResult::Permanent(e)) = &d.result {
                tracing::info!(message = d.id, attempt = d.attempts, error = %e, "a message was not delivered");
            }
        }
        let recorded = self
            .store
            .record_deliveries(deliveries, policy, OffsetDateTime::now_utc())
            .await?;
        let n = deliveries.len();
        if recorded < n as u64 {
            // Our lease lapsed and another sender claimed these again:
            // its results stand, ours are dropped.
            tracing::warn!(
                dropped = n as u64 - recorded,
                "results of messages another sender claimed meanwhile were not recorded; raise mail_claim_seconds"
            );
        }
        deliveries.clear();
        Ok(n)
    }

    /// Waits for the next send slot under `mail_rate_per_second`.
    async fn wait_for_slot(&self, rate: u32) {
        if rate == 0 {
            return;
        }
        let at = {
            let mut next = self.next_slot.lock().await;
            let at = (*next).max(Instant::now());
            *next = at + Duration::from_secs(1) / rate;
            at
        };
        tokio::time::sleep_until(at).await;
    }

    async fn campaign(&self, live: &SenderLive, id: i64) -> Result<Arc<CampaignCopy>, String> {
        let mut cache = self.campaigns.lock().await;
        if let Some(c) = cache.get(&id) {
            return Ok(c.clone());
        }
        let content = self
            .store
            .campaign_content(id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("campaign {id} is gone"))?;
        let body = Composed {
            subject: content.subject,
            html: content.html,
            text: content.text,
        };
        let footer = format!("You receive this because you subscribed to {}.", live.site.name);
        let prepared = compose::Prepared::new(&self.layouts, &live.site, &live.settings.language, &body, &footer);
        let copy = Arc::new(CampaignCopy { body, footer, prepared });
        if cache.len() > 64 {
            cache.clear();
        }
        cache.insert(id, copy.clone());
        Ok(copy)
    }

    /// The email for one claimed message, or why it cannot be made.
    async fn build(
        &self,
        live: &SenderLive,
        mailer: &Mailer,
        m: &ClaimedMessage,
        link_version: i64,
    ) -> Result<Built, String> {
        let (site, settings) = (&live.site, &live.settings);
        let message_id = compose::message_id(site, m.id);
        if let (Some(campaign), Some(subscriber)) = (m.campaign_id, m.subscriber_id) {
            let copy = self.campaign(live, campaign).await?;
            let holder = links::LinkHolder {
                id: subscriber,
                email: &m.recipient,
                version: link_version,
            };
            let expires = time::OffsetDateTime::now_utc() + settings.preferences_link;
            let own = links::SubscriberLinks::new(&site.base_url, &self.signer, holder, expires);
            let personal = Personal {
                name: &m.recipient_name,
                preferences_url: &own.preferences,
                unsubscribe_url: &own.unsubscribe,
            };
            let parts = match &copy.prepared {
                Some(prepared) => prepared.parts(&personal),
                None => {
                    let (html, text) = self
                        .layouts
                        .personalise(site, &settings.language, &copy.body, &personal, &copy.footer)
                        .map_err(|e| e.to_string())?;
                    Parts::Plain { html, text }
                }
            };
            let list = ListHeaders {
                list_id: site.list_id(),
                unsubscribe_mailto: format!(
                    "mailto:{}?subject=unsubscribe%20{subscriber}-{}",
                    settings.unsubscribe_mailbox, own.sig
                ),
                unsubscribe_url: own.unsubscribe.clone(),
            };
            let letter = Letter {
                to: &m.recipient,
                to_name: &m.recipient_name,
                subject: &copy.body.subject,
                parts,
                message_id: &message_id,
            };
            return compose::build_message(&mailer.from, letter, Some(&list)).map(Built::Ready);
        }
        let (subject, html, text) = match (&m.notice, &m.subject, &m.html, &m.text) {
            (Some(notice), ..) => {
                let notice: Notice =
                    serde_json::from_str(notice).map_err(|e| format!("the notice cannot be read: {e}"))?;
                let writer = NoticeWriter {
                    store: self.store.clone(),
                    site: site.clone(),
                    signer: self.signer.clone(),
                    confirm_hours: settings.confirm_hours,
                    preferences_link: settings.preferences_link,
                    accounts: self.accounts.clone(),
                };
                let written = match writer.write(&notice, OffsetDateTime::now_utc()).await {
                    Ok(Ok(written)) => written,
                    Ok(Err(why)) => return Ok(Built::Skip(why)),
                    Err(e) => return Err(e.to_string()),
                };
                let (html, text) =
                    notices::personalise(&self.layouts, site, &settings.language, &written, &m.recipient_name)
                        .map_err(|e| e.to_string())?;
                (written.body.subject, html, text)
            }
            // Queued before notices were written when sent.
            (None, Some(subject), Some(html), Some(text)) => (subject.clone(), html.clone(), text.clone()),
            _ => return Err("the message has no content".into()),
        };
        let letter = Letter {
            to: &m.recipient,
            to_name: &m.recipient_name,
            subject: &subject,
            parts: Parts::Plain { html, text },
            message_id: &message_id,
        };
        compose::build_message(&mailer.from, letter, None).map(Built::Ready)
    }
}
