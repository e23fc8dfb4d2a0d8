//! The newsletter: a reader signs up (double opt-in: nothing is stored
//! until the signed link in the confirmation email is used), confirms,
//! changes their preferences or leaves by their signed links; an editor
//! queues a paper or a digest as a campaign, sends a test copy, pauses and
//! resumes delivery.

use crate::{App, AppError};
use quire_core::domain::{
    AttemptResult, CampaignKind, CampaignStatus, FieldError, MessageKind, PaperMeta, Status, SubscriberInput,
    validate_subscriber_email, validate_subscriber_name,
};
use quire_core::signing::Signer;
use quire_mail::compose;
use quire_mail::links::{self, LinkError, SignUp};
use quire_mail::notices::Notice;
use quire_store::{CampaignSummary, NewCampaign, PaperQuery, SlugTable, StoreError, Subscriber};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// Where the unsubscribe page is, which a subscriber's links name.
pub const UNSUBSCRIBE_PATH: &str = "/newsletter/unsubscribe";

/// What a sign-up form sends, as typed.
pub struct SignUpForm<'a> {
    pub email: &'a str,
    pub name: &'a str,
    /// Topic slugs chosen; empty means everything.
    pub topics: Vec<String>,
    /// Whether the field people never see was filled (robots fill it).
    pub honeypot_filled: bool,
    pub ip: IpAddr,
}

/// A subscriber's link, as its query carries it.
#[derive(Clone, Copy, Debug)]
pub struct SubscriberLink<'a> {
    pub id: Option<i64>,
    pub sig: &'a str,
    /// The preferences link's expiry (unix seconds).
    pub exp: Option<i64>,
}

/// What a subscriber's link is for: each has its own signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkPurpose {
    Preferences,
    Unsubscribe,
}

/// What `newsletter_on_publish` did about a paper that changed, so that
/// the command that changed it can say so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Announcement {
    /// Nothing: the setting is off, or the paper neither went public nor
    /// had an email waiting.
    Nothing,
    /// Its email (campaign `id`) goes at `at`.
    Queued { id: i64, at: OffsetDateTime },
    /// It is not emailed on its own, and why.
    NotNew(String),
    /// Readers no longer see it: its waiting emails were cancelled.
    Cancelled { ids: Vec<i64> },
}

/// A paper to send as a campaign.
pub struct PaperCampaign<'a> {
    pub slug: &'a str,
    /// Only this topic's subscribers (and those who take everything).
    pub topic: Option<&'a str>,
    pub at: Option<OffsetDateTime>,
    pub subject: Option<&'a str>,
    /// Send a paper that a campaign has sent before.
    pub again: bool,
}

/// A digest to send as a campaign.
pub struct DigestCampaign<'a> {
    pub topic: Option<&'a str>,
    pub at: Option<OffsetDateTime>,
    /// Papers published since [default: where the last digest ended, or 7 days ago].
    pub since: Option<OffsetDateTime>,
    pub subject: Option<&'a str>,
}

/// The next digest: its papers, subject, and where it ends.
pub struct NextDigest {
    pub papers: Vec<PaperMeta>,
    pub subject: String,
    pub until: OffsetDateTime,
}

fn link_error(e: LinkError) -> AppError {
    match e {
        LinkError::Expired => AppError::LinkExpired,
        LinkError::Invalid => AppError::LinkInvalid,
    }
}

impl App {
    /// Topic slugs among `wanted` that are not topics of the site.
    pub async fn unknown_topics(&self, wanted: &[String]) -> Result<Vec<String>, AppError> {
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let known = self.store.existing_slugs(SlugTable::Topics, wanted).await?;
        Ok(wanted.iter().filter(|t| !known.contains(t)).cloned().collect())
    }

    /// Whether another email to `email` may go today (per-address limit);
    /// counts this one.
    fn address_allows(&self, email: &str) -> bool {
        let key: [u8; 32] = Sha256::digest(email.as_bytes()).into();
        let per_day = self.config().newsletter.address_per_day;
        self.address_limits
            .check_within(key, &[(Duration::from_secs(86_400), per_day)], Instant::now())
            .is_ok()
    }

    /// Takes a sign-up: checks it and emails the confirmation link (or, to
    /// an address already subscribed, a link to its preferences). The
    /// outcome is the same whatever the address's standing, so that it
    /// cannot be used to learn who subscribes: past the per-address limit,
    /// and for robots, nothing is sent and nothing said.
    pub async fn sign_up(&self, form: SignUpForm<'_>) -> Result<(), AppError> {
        if form.honeypot_filled {
            return Ok(());
        }
        let per_hour = self.config().newsletter.rate_per_hour;
        self.subscribe_limits
            .check_within(
                crate::limits::limit_key(form.ip),
                &[(Duration::from_secs(3600), per_hour)],
                Instant::now(),
            )
            .map_err(|wait| AppError::RateLimited { retry_after: wait })?;
        let email = validate_subscriber_email(form.email);
        let name = validate_subscriber_name(form.name);
        let unknown = self.unknown_topics(&form.topics).await?;
        let (email, name) = match (email, name, unknown.is_empty()) {
            (Ok(email), Ok(name), true) => (email, name),
            (email, name, _) => return Err(subscriber_fields(email.err(), name.err(), &unknown)),
        };
        if self.address_allows(&email) {
            let signup = SignUp {
                email,
                name,
                topics: form.topics,
            };
            self.queue_sign_up_mail(&signup).await?;
        }
        Ok(())
    }

    /// Queues the email a sign-up gets: the confirmation link, or, for an
    /// address subscribed by the time it is sent, a link to its
    /// preferences.
    async fn queue_sign_up_mail(&self, signup: &SignUp) -> Result<(), AppError> {
        // No greeting by the typed name, and no name beside the address: the
        // form is open to anyone, and what they type must not reach others'
        // inboxes.
        let notice = Notice::SignUp { signup: signup.clone() };
        self.queue_mail(MessageKind::Confirm, &signup.email, "", &notice).await
    }

    /// Queues a message outside campaigns, written when it is sent, and
    /// wakes this process's sender.
    async fn queue_mail(&self, kind: MessageKind, to: &str, name: &str, notice: &Notice) -> Result<(), AppError> {
        self.postbox().await?.queue(kind, to, name, notice).await?;
        self.wake_sender();
        Ok(())
    }

    /// A fresh preferences link for `s`, valid for `preferences_link_days`;
    /// `base` is the site's address, or empty for a path.
    pub fn preferences_url(&self, signer: &Signer, s: &Subscriber, base: &str, now: OffsetDateTime) -> String {
        let expires = now + self.config().preferences_link();
        links::preferences_url(base, signer, s.into(), expires)
    }

    /// The unsubscribe path of `s` (it never expires).
    pub async fn unsubscribe_path(&self, s: &Subscriber) -> Result<String, AppError> {
        let signer = self.newsletter_signer().await?;
        Ok(format!(
            "{UNSUBSCRIBE_PATH}?id={}&sig={}",
            s.id,
            links::unsubscribe_sig(signer, s.into())
        ))
    }

    /// The sign-up a confirmation link carries, if it can be used.
    pub async fn open_confirmation(&self, token: &str) -> Result<SignUp, AppError> {
        let signer = self.newsletter_signer().await?;
        links::open_confirm_token(signer, token, OffsetDateTime::now_utc())
            .map(|(signup, _)| signup)
            .map_err(link_error)
    }

    /// Makes the subscription a confirmation link carries; each link works
    /// once. Returns the subscriber and a path to their preferences.
    pub async fn confirm_subscription(&self, token: &str) -> Result<(Subscriber, String), AppError> {
        let signer = self.newsletter_signer().await?;
        let now = OffsetDateTime::now_utc();
        let (signup, expires) = links::open_confirm_token(signer, token, now).map_err(link_error)?;
        if validate_subscriber_email(&signup.email).is_err() || !self.unknown_topics(&signup.topics).await?.is_empty() {
            return Err(AppError::LinkGone);
        }
        let input = SubscriberInput {
            email: signup.email.clone(),
            name: signup.name.clone(),
            topics: signup.topics.clone(),
        };
        let digest = links::token_digest(token);
        let id = match self.store.confirm_subscriber_once(&input, &digest, expires, now).await {
            Ok(Some(id)) => id,
            Ok(None) => return Err(AppError::LinkUsed),
            Err(StoreError::UnknownReference { .. }) => return Err(AppError::LinkGone),
            Err(e) => return Err(e.into()),
        };
        let subscriber = self
            .store
            .subscriber(id)
            .await?
            .ok_or_else(|| AppError::not_found("subscriber", "id", id.to_string()))?;
        let preferences = self.preferences_url(signer, &subscriber, "", now);
        Ok((subscriber, preferences))
    }

    /// The subscriber a link names, if its signature is one for `purpose`.
    /// An expired preferences link is [`AppError::LinkExpired`].
    pub async fn linked_subscriber(
        &self,
        link: SubscriberLink<'_>,
        purpose: LinkPurpose,
    ) -> Result<Subscriber, AppError> {
        let Some(id) = link.id else {
            return Err(AppError::LinkInvalid);
        };
        let Some(subscriber) = self.store.subscriber(id).await? else {
            return Err(AppError::LinkInvalid);
        };
        let signer = self.newsletter_signer().await?;
        let checked = match purpose {
            LinkPurpose::Unsubscribe => {
                if links::check_unsubscribe(signer, (&subscriber).into(), link.sig) {
                    Ok(())
                } else {
                    Err(LinkError::Invalid)
                }
            }
            LinkPurpose::Preferences => match link.exp {
                Some(exp) => {
                    links::check_preferences(signer, (&subscriber).into(), exp, link.sig, OffsetDateTime::now_utc())
                }
                None => Err(LinkError::Invalid),
            },
        };
        checked.map(|()| subscriber).map_err(link_error)
    }

    /// Emails a fresh preferences link to the address an expired (but
    /// genuine) link was sent to, at most `subscribe_address_per_day`
    /// times a day; past that, nothing is sent and nothing said.
    pub async fn send_preferences_link(&self, link: SubscriberLink<'_>) -> Result<(), AppError> {
        let subscriber = match self.linked_subscriber(link, LinkPurpose::Preferences).await {
            Ok(s) => s,
            Err(AppError::LinkExpired) => match link.id {
                Some(id) => self.store.subscriber(id).await?.ok_or(AppError::LinkInvalid)?,
                None => return Err(AppError::LinkInvalid),
            },
            Err(e) => return Err(e),
        };
        if self.address_allows(&subscriber.email) {
            let notice = Notice::NewLink {
                subscriber: subscriber.id,
            };
            self.queue_mail(MessageKind::Confirm, &subscriber.email, "", &notice)
                .await?;
        }
        Ok(())
    }

    /// Saves a subscriber's new name and topics (empty: everything).
    pub async fn save_preferences(
        &self,
        s: &Subscriber,
        name: &str,
        topics: &[String],
    ) -> Result<Subscriber, AppError> {
        let name = validate_subscriber_name(name);
        let unknown = self.unknown_topics(topics).await?;
        let name = match (name, unknown.is_empty()) {
            (Ok(name), true) => name,
            (name, _) => return Err(subscriber_fields(None, name.err(), &unknown)),
        };
        self.store.set_subscriber_preferences(s.id, &name, topics).await?;
        Ok(self.store.subscriber(s.id).await?.unwrap_or_else(|| s.clone()))
    }

    /// Stops sending to `s`, keeping the record.
    pub async fn unsubscribe(&self, s: &Subscriber) -> Result<(), AppError> {
        self.store.unsubscribe(s.id, OffsetDateTime::now_utc()).await?;
        Ok(())
    }

    /// The topic `slug`'s id.
    async fn topic_id(&self, slug: &str) -> Result<i64, AppError> {
        self.store
            .topic_ids(&[slug.to_owned()])
            .await?
            .get(slug)
            .copied()
            .ok_or_else(|| AppError::not_found("topic", "slug", slug))
    }

    /// Campaign `id`.
    pub async fn campaign(&self, id: i64) -> Result<CampaignSummary, AppError> {
        self.store
            .campaign(id)
            .await?
            .ok_or_else(|| AppError::not_found("campaign", "id", id.to_string()))
    }

    /// Queues paper `c.slug` as a campaign to its topics' subscribers (or
    /// `c.topic`'s) and those who take everything; returns its id.
    pub async fn queue_paper_campaign(&self, c: PaperCampaign<'_>) -> Result<i64, AppError> {
        let now = OffsetDateTime::now_utc();
        let send_at = c.at.unwrap_or(now);
        let paper = self.paper(c.slug).await?;
        self.queue_campaign_of(&paper, &c, send_at, false).await
    }

    /// Queues `paper`'s campaign for `send_at`, as `c` asks;
    /// `on_publish` marks the one its going public queued.
    async fn queue_campaign_of(
        &self,
        paper: &quire_core::domain::Paper,
        c: &PaperCampaign<'_>,
        send_at: OffsetDateTime,
        on_publish: bool,
    ) -> Result<i64, AppError> {
        let now = OffsetDateTime::now_utc();
        let published = matches!(paper.meta.status, Status::Published | Status::Scheduled)
            && paper.meta.trashed_at.is_none()
            && paper.meta.published_at.is_some_and(|t| t <= send_at.max(now));
        if !published {
            return Err(AppError::NotPublished { slug: c.slug.into() });
        }
        let earlier = self.store.paper_campaigns(paper.meta.id).await?;
        if !earlier.is_empty() && !c.again {
            return Err(AppError::AlreadySent {
                slug: c.slug.into(),
                campaigns: earlier,
            });
        }
        let (topic_id, topic_ids) = match c.topic {
            Some(t) => {
                let id = self.topic_id(t).await?;
                (Some(id), vec![id])
            }
            None => {
                let slugs: Vec<String> = paper.meta.topics.iter().map(|t| t.slug.clone()).collect();
                (None, self.store.topic_ids(&slugs).await?.into_values().collect())
            }
        };
        let mut composed = compose::paper_campaign(paper, &self.mail_site());
        if let Some(s) = c.subject {
            composed.subject = checked_subject(s)?;
        }
        let campaign = NewCampaign {
            kind: CampaignKind::Paper,
            paper_id: Some(paper.meta.id),
            topic_ids,
            topic_id,
            subject: composed.subject,
            html: composed.html,
            text: composed.text,
            send_at,
            digest_until: None,
            on_publish,
        };
        Ok(self.store.queue_campaign(&campaign, now).await?)
    }

    /// What `newsletter_on_publish` calls for now that paper `slug` has
    /// changed (added, published, scheduled, unpublished, deleted);
    /// `was_public` says whether readers saw it just before. A paper
    /// going public (now or at a later time) is queued to its topics'
    /// subscribers `newsletter_publish_delay` after that; a paper that
    /// readers no longer see loses its waiting email; a waiting email is
    /// written again from the paper as it is now, at the same time.
    pub async fn announce(&self, slug: &str, was_public: bool) -> Result<Announcement, AppError> {
        let config = self.config();
        if !config.newsletter.on_publish {
            return Ok(Announcement::Nothing);
        }
        let now = OffsetDateTime::now_utc();
        let paper = self.paper(slug).await?;
        let cancelled = self.store.cancel_publish_campaigns(paper.meta.id).await?;
        let waiting = cancelled.iter().map(|(_, at)| *at).min();
        let goes_live = match (paper.meta.status, paper.meta.published_at, paper.meta.trashed_at) {
            (Status::Published | Status::Scheduled, Some(at), None) => at,
            _ if cancelled.is_empty() => return Ok(Announcement::Nothing),
            _ => {
                return Ok(Announcement::Cancelled {
                    ids: cancelled.into_iter().map(|(id, _)| id).collect(),
                });
            }
        };
        if waiting.is_none() && was_public {
            return Ok(Announcement::Nothing);
        }
        let earlier = self.store.paper_campaigns(paper.meta.id).await?;
        if let Some(first) = earlier.first() {
            return Ok(Announcement::NotNew(format!(
                "it was emailed before (campaign {first}); `quire newsletter send --paper {slug} --again` sends it again"
            )));
        }
        if waiting.is_none() && goes_live < now - time::Duration::days(1) {
            return Ok(Announcement::NotNew(format!(
                "it is dated {}, more than a day ago (an older paper put up now); `quire newsletter send --paper \
                 {slug}` emails it if it is news",
                config.zone().describe(goes_live)
            )));
        }
        let delay = config.publish_delay();
        let at = match waiting {
            _ if goes_live > now => goes_live + delay,
            Some(at) => at,
            None => now + delay,
        };
        let c = PaperCampaign {
            slug,
            topic: None,
            subject: None,
            at: Some(at),
            again: false,
        };
        let id = self.queue_campaign_of(&paper, &c, at, true).await?;
        Ok(Announcement::Queued { id, at })
    }

    /// The papers and subject of the next digest, and where it ends.
    pub async fn next_digest(
        &self,
        topic: Option<&str>,
        since: Option<OffsetDateTime>,
        subject: Option<&str>,
    ) -> Result<NextDigest, AppError> {
        let now = OffsetDateTime::now_utc();
        let since = match since {
            Some(t) => t,
            None => self
                .store
                .last_digest_until()
                .await?
                .unwrap_or(now - time::Duration::days(7)),
        };
        let papers = self
            .store
            .list_papers(&PaperQuery {
                published_after: Some(since),
                topic: topic.map(str::to_owned),
                limit: Some(100),
                ..PaperQuery::listed_at(now)
            })
            .await?;
        let subject = match subject {
            Some(s) => checked_subject(s)?,
            None => format!("New from {}", self.config().site_name),
        };
        Ok(NextDigest {
            papers,
            subject,
            until: now,
        })
    }

    /// Queues a digest of the papers published since the last one; None
    /// when there are none. Returns the campaign's id and how many papers
    /// it holds.
    pub async fn queue_digest(&self, c: DigestCampaign<'_>) -> Result<Option<(i64, usize)>, AppError> {
        let now = OffsetDateTime::now_utc();
        let send_at = c.at.unwrap_or(now);
        let topic_id = match c.topic {
            Some(t) => Some(self.topic_id(t).await?),
            None => None,
        };
        let NextDigest { papers, subject, until } = self.next_digest(c.topic, c.since, c.subject).await?;
        if papers.is_empty() {
            return Ok(None);
        }
        let composed = compose::digest_campaign(&papers, &self.mail_site(), &subject);
        let topic_ids = match topic_id {
            Some(id) => vec![id],
            // Papers without topics concern everyone.
            None if papers.iter().any(|p| p.topics.is_empty()) => Vec::new(),
            None => {
                let mut slugs: Vec<String> = papers
                    .iter()
                    .flat_map(|p| p.topics.iter().map(|t| t.slug.clone()))
                    .collect();
                slugs.sort();
                slugs.dedup();
                self.store.topic_ids(&slugs).await?.into_values().collect()
            }
        };
        let campaign = NewCampaign {
            kind: CampaignKind::Digest,
            paper_id: None,
            topic_ids,
            topic_id,
            subject: composed.subject,
            html: composed.html,
            text: composed.text,
            send_at,
            digest_until: Some(until),
            on_publish: false,
        };
        let id = self.store.queue_campaign(&campaign, now).await?;
        Ok(Some((id, papers.len())))
    }

    /// Stops campaign `id`'s delivery until it is resumed.
    pub async fn pause_campaign(&self, id: i64) -> Result<(), AppError> {
        match self.store.pause_campaign(id, true).await? {
            Some(CampaignStatus::Paused) => Ok(()),
            Some(other) => Err(AppError::WrongState(format!(
                "campaign {id} is {other}; only a sending campaign can be paused"
            ))),
            None => Err(AppError::not_found("campaign", "id", id.to_string())),
        }
    }

    /// Resumes paused campaign `id`.
    pub async fn resume_campaign(&self, id: i64) -> Result<(), AppError> {
        match self.store.pause_campaign(id, false).await? {
            Some(CampaignStatus::Sending) => {
                self.wake_sender();
                Ok(())
            }
            Some(other) => Err(AppError::WrongState(format!("campaign {id} is {other}, not paused"))),
            None => Err(AppError::not_found("campaign", "id", id.to_string())),
        }
    }

    /// Sends one copy of paper `slug`'s campaign (or of the next digest)
    /// to `to` now, outside the outbox, so that the editor sees the mail
    /// server's answer. Returns the subject sent and the address, as checked.
    pub async fn send_test(&self, to: &str, slug: Option<&str>) -> Result<TestSent, AppError> {
        let address = validate_subscriber_email(to).map_err(|e| AppError::invalid("to", format!("the address {e}")))?;
        let site = &*self.mail_site();
        let body = match slug {
            Some(slug) => compose::paper_campaign(&self.paper(slug).await?, site),
            None => {
                let next = self.next_digest(None, None, None).await?;
                compose::digest_campaign(&next.papers, site, &next.subject)
            }
        };
        let mailer = self.mailer()?;
        let personal = compose::Personal {
            name: "",
            preferences_url: &format!("{}/subscribe", site.base_url),
            unsubscribe_url: &format!("{}/subscribe", site.base_url),
        };
        let (html, text) = self
            .layouts
            .personalise(
                site,
                &self.config().language,
                &body,
                &personal,
                "This is a test copy: subscribers get their own links here.",
            )
            .map_err(|e| quire_mail::MailError::Build(format!("the email layout failed: {e}")))?;
        let stamp = OffsetDateTime::now_utc().unix_timestamp_nanos();
        let letter = compose::Letter {
            to: &address,
            to_name: "",
            subject: &format!("[Test] {}", body.subject),
            parts: compose::Parts::Plain { html, text },
            message_id: &format!("<quire.test.{stamp}@{}>", site.host),
        };
        let message =
            compose::build_message(&mailer.from, letter, None).map_err(|e| AppError::invalid("to", e.to_string()))?;
        match mailer.send_with_reply(message).await {
            (AttemptResult::Delivered, reply) => Ok(TestSent {
                subject: body.subject,
                address,
                reply: reply.unwrap_or_default(),
            }),
            (AttemptResult::Transient(e) | AttemptResult::Permanent(e), _) => Err(AppError::Delivery(e)),
        }
    }
}

/// A test copy the mail server took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestSent {
    pub subject: String,
    pub address: String,
    /// The server's answer, code first (`250 2.0.0 Ok: queued as 4F1A`).
    pub reply: String,
}

/// The problems of a subscriber's form: the address's, the name's, and
/// the first topic that does not exist.
fn subscriber_fields(email: Option<String>, name: Option<String>, unknown: &[String]) -> AppError {
    let mut fields = Vec::new();
    if let Some(message) = email {
        fields.push(FieldError {
            field: "email",
            message,
        });
    }
    if let Some(message) = name {
        fields.push(FieldError { field: "name", message });
    }
    if let Some(topic) = unknown.first() {
        fields.push(FieldError {
            field: "topics",
            message: format!("no topic has the slug {topic:?}"),
        });
    }
    AppError::Fields(fields)
}

/// A campaign's subject line as an editor gives it.
fn checked_subject(s: &str) -> Result<String, AppError> {
    let s = s.trim();
    if s.is_empty() || s.chars().any(char::is_control) || s.chars().count() > 200 {
        return Err(AppError::invalid("subject", "write one line of 1 to 200 characters"));
    }
    Ok(s.to_owned())
}

/// Why a message of the outbox has not left, in words; None once it has
/// (or will not: sent, failed, discarded).
pub fn waiting_reason(
    entry: &quire_store::OutboxEntry,
    mail_server_set: bool,
    zone: &crate::clock::SiteZone,
    now: OffsetDateTime,
) -> Option<String> {
    use quire_core::domain::DeliveryStatus;
    if entry.status != DeliveryStatus::Queued {
        return None;
    }
    Some(if entry.campaign_status == Some(CampaignStatus::Paused) {
        format!("its campaign {} is paused", entry.campaign.unwrap_or_default())
    } else if entry.campaign_status == Some(CampaignStatus::Scheduled) {
        format!("its campaign {} has not started", entry.campaign.unwrap_or_default())
    } else if !mail_server_set {
        "no mail server set".to_owned()
    } else if entry.attempts > 0 {
        format!(
            "{} attempt{} failed ({}); next at {}",
            entry.attempts,
            if entry.attempts == 1 { "" } else { "s" },
            entry.last_error.as_deref().unwrap_or("no reason given"),
            zone.describe(entry.next_attempt_at)
        )
    } else if entry.next_attempt_at > now {
        format!("due at {}", zone.describe(entry.next_attempt_at))
    } else {
        "due now: the server sends it".to_owned()
    })
}

impl App {
    /// The outbox's messages, newest first, at most `limit` (1 to 1000).
    pub async fn outbox(
        &self,
        status: Option<quire_core::domain::DeliveryStatus>,
        limit: u32,
    ) -> Result<Vec<quire_store::OutboxEntry>, AppError> {
        Ok(self.store.outbox_entries(status, limit.clamp(1, 1000)).await?)
    }

    /// One message of the outbox.
    pub async fn outbox_message(&self, id: i64) -> Result<quire_store::OutboxEntry, AppError> {
        self.store
            .outbox_entry(id)
            .await?
            .ok_or_else(|| AppError::not_found("message", "id", id.to_string()))
    }

    /// Sends waiting or failed messages again as soon as a sender runs,
    /// attempts counted afresh, all or none: an id that is not in the
    /// outbox, or a message already sent or discarded, is refused.
    pub async fn retry_messages(&self, ids: &[i64]) -> Result<u64, AppError> {
        self.check_undelivered(ids).await?;
        Ok(self.store.retry_messages(ids, OffsetDateTime::now_utc()).await?)
    }

    /// Gives up on waiting or failed messages (kept, marked skipped), all
    /// or none as [`App::retry_messages`].
    pub async fn discard_messages(&self, ids: &[i64]) -> Result<u64, AppError> {
        self.check_undelivered(ids).await?;
        Ok(self.store.discard_messages(ids).await?)
    }

    async fn check_undelivered(&self, ids: &[i64]) -> Result<(), AppError> {
        use quire_core::domain::DeliveryStatus;
        for id in ids {
            let m = self.outbox_message(*id).await?;
            if matches!(m.status, DeliveryStatus::Sent | DeliveryStatus::Skipped) {
                return Err(AppError::WrongState(format!(
                    "message {id} is {} already",
                    m.status.as_str()
                )));
            }
        }
        Ok(())
    }
}
