//! Campaigns and the mail outbox in the store. Every message to every
//! recipient is a row before it is sent; senders claim rows for a while
//! (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so several servers share a
//! campaign), send them, and record what happened. A sender that dies
//! leaves its claim to lapse, and the rows are sent again.

use super::{Db, Store, StoreError, db_time};
use quire_core::domain::{AttemptResult, CampaignKind, CampaignStatus, DeliveryStatus, MessageKind};
use serde::Serialize;
use sqlx::AssertSqlSafe;
use std::time::Duration;
use time::OffsetDateTime;

/// A campaign to queue: its content, rendered once, and who receives it.
#[derive(Clone, Debug)]
pub struct NewCampaign {
    pub kind: CampaignKind,
    pub paper_id: Option<i64>,
    /// Recipients: subscribers of any of these topics, and those who take
    /// everything. Empty: every confirmed subscriber.
    pub topic_ids: Vec<i64>,
    /// The topic named by the editor, shown in status.
    pub topic_id: Option<i64>,
    pub subject: String,
    /// The body's HTML; the greeting and links are added per recipient.
    pub html: String,
    pub text: String,
    pub send_at: OffsetDateTime,
    /// A digest covers papers published up to here.
    pub digest_until: Option<OffsetDateTime>,
    /// Queued because the paper went public (`newsletter_on_publish`):
    /// unpublishing the paper before it starts cancels it.
    pub on_publish: bool,
}

/// A campaign and how far it has gone.
#[derive(Clone, Debug, Serialize)]
pub struct CampaignSummary {
    pub id: i64,
    pub kind: CampaignKind,
    pub paper: Option<String>,
    pub topic: Option<String>,
    pub subject: String,
    pub status: CampaignStatus,
    /// Queued because its paper went public, not by an editor.
    pub on_publish: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub send_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// When its copy was made: a campaign sends what the paper said then,
    /// by design, whatever changes after.
    #[serde(with = "time::serde::rfc3339")]
    pub frozen_at: OffsetDateTime,
    pub recipients: i64,
    pub queued: i64,
    pub sent: i64,
    pub failed: i64,
    pub skipped: i64,
}

/// One message in the outbox, as an editor follows it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: i64,
    pub kind: MessageKind,
    pub campaign: Option<i64>,
    /// The campaign's status when it belongs to one (a paused campaign's
    /// messages wait for it).
    pub campaign_status: Option<CampaignStatus>,
    pub recipient: String,
    /// The subject, for messages that are not a campaign's copy.
    pub subject: Option<String>,
    /// Whether the message is written when it is sent (a notice), rather
    /// than a copy frozen when it was queued (a campaign).
    pub written_when_sent: bool,
    pub status: DeliveryStatus,
    pub attempts: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub next_attempt_at: OffsetDateTime,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct OutboxRow {
    id: i64,
    kind: String,
    campaign_id: Option<i64>,
    campaign_status: Option<String>,
    recipient: String,
    subject: Option<String>,
    written_when_sent: bool,
    status: String,
    attempts: i64,
    next_attempt_at: OffsetDateTime,
    last_error: Option<String>,
    sent_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
}

const OUTBOX_SELECT: &str = "SELECT o.id, o.kind, o.campaign_id, c.status AS campaign_status, o.recipient, \
     COALESCE(o.subject, c.subject) AS subject, o.notice IS NOT NULL AS written_when_sent, o.status, o.attempts, o.next_attempt_at, o.last_error, o.sent_at, \
     o.created_at FROM outbox o LEFT JOIN campaigns c ON c.id = o.campaign_id";

impl OutboxRow {
    fn into_entry(self) -> Result<OutboxEntry, StoreError> {
        let corrupt = |what: &str, value: &str| StoreError::Corrupt(format!("message {}: {what} {value:?}", self.id));
        Ok(OutboxEntry {
            kind: MessageKind::parse(&self.kind).ok_or_else(|| corrupt("kind", &self.kind))?,
            status: DeliveryStatus::parse(&self.status).ok_or_else(|| corrupt("status", &self.status))?,
            campaign_status: match &self.campaign_status {
                Some(s) => Some(CampaignStatus::parse(s).ok_or_else(|| corrupt("campaign status", s))?),
                None => None,
            },
            id: self.id,
            campaign: self.campaign_id,
            recipient: self.recipient,
            subject: self.subject,
            written_when_sent: self.written_when_sent,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at,
            last_error: self.last_error,
            sent_at: self.sent_at,
            created_at: self.created_at,
        })
    }
}

/// What every copy of a campaign shares.
#[derive(Clone, Debug)]
pub struct CampaignContent {
    pub id: i64,
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// A message outside campaigns: a confirmation, a notice, a test copy.
#[derive(Clone, Debug)]
pub struct OutgoingMessage {
    pub kind: MessageKind,
    pub recipient: String,
    pub recipient_name: String,
    /// The subject as it would be now, for listings: the sender writes
    /// the message afresh from `notice`.
    pub subject: String,
    /// What the message is about (JSON), from which it is written when
    /// it is sent.
    pub notice: String,
}

/// A message a sender has claimed.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ClaimedMessage {
    pub id: i64,
    pub kind: String,
    pub campaign_id: Option<i64>,
    pub subscriber_id: Option<i64>,
    pub recipient: String,
    pub recipient_name: String,
    pub subject: Option<String>,
    pub html: Option<String>,
    pub text: Option<String>,
    /// What a notice is about, to write it from now (messages queued
    /// before notices were written when sent have `html` and `text`).
    pub notice: Option<String>,
    /// Attempts including this one.
    pub attempts: i64,
}

/// What became of one claimed message.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub id: i64,
    pub subscriber_id: Option<i64>,
    pub attempts: u32,
    pub result: DeliveryResult,
}

/// The outcome a sender records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryResult {
    Attempt(AttemptResult),
    /// Not sent, and why: the subscriber left or bounced before their
    /// turn, or what a notice was about is gone.
    Skipped(String),
}

/// Delivery rules the store applies when recording results.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base: Duration,
    pub bounce_limit: u32,
}

/// Counts of one campaign's messages (or of every message).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OutboxCounts {
    pub queued: i64,
    pub sent: i64,
    pub failed: i64,
    pub skipped: i64,
}

#[derive(sqlx::FromRow)]
struct CampaignRow {
    id: i64,
    kind: String,
    paper: Option<String>,
    topic: Option<String>,
    subject: String,
    status: String,
    on_publish: bool,
    send_at: OffsetDateTime,
    finished_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
    recipients: i64,
}

const CAMPAIGN_SELECT: &str = "SELECT c.id, c.kind, p.slug AS paper, t.slug AS topic, c.subject, c.status, c.on_publish, \
     c.send_at, c.finished_at, c.created_at, c.recipients FROM campaigns c LEFT JOIN papers p ON p.id = c.paper_id \
     LEFT JOIN topics t ON t.id = c.topic_id";

/// Writes campaign `$id`'s messages, one per confirmed subscriber that
/// `$topics` (comma-separated topic ids; empty: everyone) selects, and
/// marks it sending (or sent, with nobody to send to).
macro_rules! start_campaign {
    ($tx:expr, $id:expr, $topics:expr, $now:expr) => {{
        let ids: Vec<i64> = $topics
            .split(',')
            .filter_map(|t| t.trim().parse::<i64>().ok())
            .collect();
        let filter = if ids.is_empty() {
            String::new()
        } else {
            format!(
                " AND (NOT EXISTS (SELECT 1 FROM subscriber_topics st WHERE st.subscriber_id = s.id) \
                 OR EXISTS (SELECT 1 FROM subscriber_topics st WHERE st.subscriber_id = s.id AND st.topic_id IN ({})))",
                topic_list(&ids)
            )
        };
        let now = db_time($now);
        let n = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO outbox (campaign_id, subscriber_id, kind, recipient, recipient_name, status, next_attempt_at, \
             created_at) SELECT $1, s.id, 'campaign', s.email, s.name, 'queued', $2, $2 FROM subscribers s \
             WHERE s.status = 'confirmed'{filter} ORDER BY s.id"
        )))
        .bind($id)
        .bind(now)
        .execute(&mut *$tx)
        .await?
        .rows_affected();
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        sqlx::query(
            "UPDATE campaigns SET recipients = $1, status = CASE WHEN $1 = 0 THEN 'sent' ELSE 'sending' END, \
             finished_at = CASE WHEN $1 = 0 THEN $2 ELSE NULL END WHERE id = $3",
        )
        .bind(n)
        .bind(now)
        .bind($id)
        .execute(&mut *$tx)
        .await?;
    }};
}

impl Store {
    /// Queues a campaign. One due now has its recipients written at once,
    /// one message row each, in the same transaction; a later one waits
    /// for `start_due_campaigns`. Returns its id.
    pub async fn queue_campaign(&self, c: &NewCampaign, now: OffsetDateTime) -> Result<i64, StoreError> {
        let is_postgres = matches!(self.db, Db::Postgres(_));
        let due = c.send_at <= now;
        let topics = topic_list(&c.topic_ids);
        with_pool!(self, pool => {
            let mut tx = begin_write!(pool, is_postgres);
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO campaigns (kind, paper_id, topic_id, subject, html, text, status, send_at, digest_until, \
                 recipient_topics, created_at, on_publish) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'scheduled', $7, $8, $9, $10, $11) RETURNING id",
            )
            .bind(c.kind.as_str())
            .bind(c.paper_id)
            .bind(c.topic_id)
            .bind(&c.subject)
            .bind(&c.html)
            .bind(&c.text)
            .bind(db_time(c.send_at))
            .bind(c.digest_until.map(db_time))
            .bind(&topics)
            .bind(db_time(now))
            .bind(c.on_publish)
            .fetch_one(&mut *tx)
            .await?;
            if due {
                start_campaign!(tx, id, topics, now);
            }
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Starts scheduled campaigns whose time has come: writes their
    /// recipients' messages. Safe to run from several servers at once:
    /// each campaign starts once. Returns the ids started.
    pub async fn start_due_campaigns(&self, now: OffsetDateTime) -> Result<Vec<i64>, StoreError> {
        self.finish_campaigns(now).await?;
        let is_postgres = matches!(self.db, Db::Postgres(_));
        // A paper's own email goes only while readers can see the paper,
        // whatever changed it since the email was queued.
        let gone = with_pool!(self, pool => {
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM campaigns WHERE status = 'scheduled' AND on_publish AND send_at <= $1 \
                 AND NOT EXISTS (SELECT 1 FROM papers p WHERE p.id = campaigns.paper_id AND {})",
                super::listed_condition(1)
            )))
            .bind(db_time(now))
            .execute(pool)
            .await?
            .rows_affected()
        });
        if gone > 0 {
            tracing::info!(
                campaigns = gone,
                "cancelled emails of papers that readers no longer see"
            );
        }
        let due: Vec<i64> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT id FROM campaigns WHERE status = 'scheduled' AND send_at <= $1 ORDER BY id")
                .bind(db_time(now))
                .fetch_all(pool)
                .await?
        });
        let mut started = Vec::new();
        for id in due {
            let done = with_pool!(self, pool => {
                let mut tx = begin_write!(pool, is_postgres);
                // PostgreSQL: a second server waits here, then finds it started.
                let lock = if is_postgres { " FOR UPDATE" } else { "" };
                let still: Option<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                    "SELECT recipient_topics FROM campaigns WHERE id = $1 AND status = 'scheduled'{lock}"
                )))
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                if let Some(topics) = still {
                    start_campaign!(tx, id, topics, now);
                    tx.commit().await?;
                    true
                } else {
                    let _ = tx.rollback().await;
                    false
                }
            });
            if done {
                started.push(id);
            }
        }
        Ok(started)
    }

    /// Cancels the emails queued because paper `paper_id` went public
    /// that have not started; returns their ids and when they were due.
    pub async fn cancel_publish_campaigns(&self, paper_id: i64) -> Result<Vec<(i64, OffsetDateTime)>, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(
                "DELETE FROM campaigns WHERE paper_id = $1 AND on_publish AND status = 'scheduled' \
                 RETURNING id, send_at",
            )
            .bind(paper_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Queues one message outside campaigns. Returns its id.
    pub async fn queue_message(&self, m: &OutgoingMessage, now: OffsetDateTime) -> Result<i64, StoreError> {
        let id = with_pool!(self, pool => {
            sqlx::query_scalar(
                "INSERT INTO outbox (kind, recipient, recipient_name, subject, notice, status, next_attempt_at, \
                 created_at) VALUES ($1, $2, $3, $4, $5, 'queued', $6, $6) RETURNING id",
            )
            .bind(m.kind.as_str())
            .bind(&m.recipient)
            .bind(&m.recipient_name)
            .bind(&m.subject)
            .bind(&m.notice)
            .bind(db_time(now))
            .fetch_one(pool)
            .await?
        });
        Ok(id)
    }

    /// Claims up to `limit` messages due at `now` for `lease`: no other
    /// sender takes them meanwhile. Messages of paused campaigns wait.
    pub async fn claim_messages(
        &self,
        limit: u32,
        now: OffsetDateTime,
        lease: Duration,
    ) -> Result<Vec<ClaimedMessage>, StoreError> {
        let until = db_time(now + lease);
        let now = db_time(now);
        let lock = match self.db {
            Db::Postgres(_) => " FOR UPDATE OF o SKIP LOCKED",
            Db::Sqlite(_) => "",
        };
        let sql = format!(
            "UPDATE outbox SET lease_until = $1, attempts = attempts + 1 WHERE id IN (\
             SELECT o.id FROM outbox o LEFT JOIN campaigns c ON c.id = o.campaign_id \
             WHERE o.status = 'queued' AND o.next_attempt_at <= $2 AND (o.lease_until IS NULL OR o.lease_until <= $2) \
             AND (o.campaign_id IS NULL OR c.status = 'sending') \
             ORDER BY o.next_attempt_at, o.id LIMIT $3{lock}) \
             RETURNING id, kind, campaign_id, subscriber_id, recipient, recipient_name, subject, html, text, notice, \
             attempts"
        );
        let mut rows: Vec<ClaimedMessage> = with_pool!(self, pool => {
            sqlx::query_as(AssertSqlSafe(sql.clone()))
                .bind(until)
                .bind(now)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    /// The confirmed subscribers among `ids`, each with the version its
    /// links are signed with: the rest have left or bounced since their
    /// campaign was queued.
    pub async fn confirmed_among(&self, ids: &[i64]) -> Result<std::collections::HashMap<i64, i64>, StoreError> {
        let mut confirmed = std::collections::HashMap::new();
        for chunk in ids.chunks(super::IN_CHUNK) {
            let sql = format!(
                "SELECT id, link_version FROM subscribers WHERE status = 'confirmed' AND id IN ({})",
                super::placeholders(1, chunk.len())
            );
            let found: Vec<(i64, i64)> = with_pool!(self, pool => {
                let mut q = sqlx::query_as(AssertSqlSafe(sql.clone()));
                for id in chunk {
                    q = q.bind(*id);
                }
                q.fetch_all(pool).await?
            });
            confirmed.extend(found);
        }
        Ok(confirmed)
    }

    /// Records what became of claimed messages, in one transaction:
    /// delivered, to retry later, failed for good (counting a bounce
    /// against the subscriber), or skipped. `finish_campaigns` then marks
    /// the campaigns that are done.
    ///
    /// A result counts only while its claim is still the recording
    /// sender's: the row is queued and its attempt count is the one the
    /// claim set. A sender whose lease lapsed, and whose rows another
    /// sender claimed again (raising the count), records nothing over the
    /// other's results, and counts no bounce. Returns how many results
    /// were recorded.
    pub async fn record_deliveries(
        &self,
        deliveries: &[Delivery],
        policy: RetryPolicy,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        if deliveries.is_empty() {
            return Ok(0);
        }
        let is_postgres = matches!(self.db, Db::Postgres(_));
        let now = db_time(now);
        // Delivered messages by attempt (nearly always one group), one
        // statement a chunk.
        let mut sent: std::collections::BTreeMap<u32, Vec<i64>> = std::collections::BTreeMap::new();
        for d in deliveries {
            if d.result == DeliveryResult::Attempt(AttemptResult::Delivered) {
                sent.entry(d.attempts).or_default().push(d.id);
            }
        }
        let mut recorded = 0;
        with_pool!(self, pool => {
            let mut tx = begin_write!(pool, is_postgres);
            for (attempts, ids) in &sent {
                for chunk in ids.chunks(super::IN_CHUNK) {
                    let sql = format!(
                        "UPDATE outbox SET status = 'sent', sent_at = $1, lease_until = NULL, last_error = NULL \
                         WHERE status = 'queued' AND attempts = $2 AND id IN ({})",
                        super::placeholders(3, chunk.len())
                    );
                    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(now).bind(i64::from(*attempts));
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    recorded += q.execute(&mut *tx).await?.rows_affected();
                }
            }
            for d in deliveries {
                let (status, error, next) = match &d.result {
                    DeliveryResult::Attempt(AttemptResult::Delivered) => continue,
                    DeliveryResult::Skipped(why) => (DeliveryStatus::Skipped, why.clone(), now),
                    DeliveryResult::Attempt(AttemptResult::Transient(e)) => {
                        match quire_core::domain::retry_after(d.attempts, policy.max_attempts, policy.base) {
                            Some(wait) => (DeliveryStatus::Queued, e.clone(), db_time(now + wait)),
                            None => (DeliveryStatus::Failed, format!("{e} (gave up after {} attempts)", d.attempts), now),
                        }
                    }
                    DeliveryResult::Attempt(AttemptResult::Permanent(e)) => (DeliveryStatus::Failed, e.clone(), now),
                };
                let error: String = error.chars().take(1000).collect();
                let held = sqlx::query(
                    "UPDATE outbox SET status = $1, last_error = $2, next_attempt_at = $3, lease_until = NULL \
                     WHERE id = $4 AND status = 'queued' AND attempts = $5",
                )
                .bind(status.as_str())
                .bind(error)
                .bind(next)
                .bind(d.id)
                .bind(i64::from(d.attempts))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                recorded += held;
                if held == 1
                    && status == DeliveryStatus::Failed
                    && let Some(subscriber) = d.subscriber_id
                {
                    sqlx::query(
                        "UPDATE subscribers SET bounces = bounces + 1, \
                         status = CASE WHEN bounces + 1 >= $1 AND status = 'confirmed' THEN 'bounced' ELSE status END \
                         WHERE id = $2",
                    )
                    .bind(i64::from(policy.bounce_limit))
                    .bind(subscriber)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
        });
        Ok(recorded)
    }

    /// Marks sent the campaigns with nothing left to send. Senders call it
    /// after their batch's results are committed, not inside that
    /// transaction (two senders ending a campaign at once would each see the
    /// other's last rows still queued), and when they look for due
    /// campaigns, so that a sender stopped between the two leaves no
    /// campaign open.
    pub async fn finish_campaigns(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query(
                "UPDATE campaigns SET status = 'sent', finished_at = $1 WHERE status = 'sending' AND NOT EXISTS \
                 (SELECT 1 FROM outbox o WHERE o.campaign_id = campaigns.id AND o.status = 'queued')",
            )
            .bind(db_time(now))
            .execute(pool)
            .await?
            .rows_affected()
        }))
    }

    /// A campaign's shared content, for building its messages.
    pub async fn campaign_content(&self, id: i64) -> Result<Option<CampaignContent>, StoreError> {
        let row: Option<(i64, String, String, String)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT id, subject, html, text FROM campaigns WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(id, subject, html, text)| CampaignContent {
            id,
            subject,
            html,
            text,
        }))
    }

    /// Campaigns, newest first, with their message counts.
    pub async fn campaigns(&self) -> Result<Vec<CampaignSummary>, StoreError> {
        let rows: Vec<CampaignRow> = with_pool!(self, pool => {
            sqlx::query_as(AssertSqlSafe(format!("{CAMPAIGN_SELECT} ORDER BY c.id DESC")))
                .fetch_all(pool)
                .await?
        });
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(self.summarise(row).await?);
        }
        Ok(out)
    }

    /// One campaign with its message counts.
    pub async fn campaign(&self, id: i64) -> Result<Option<CampaignSummary>, StoreError> {
        let row: Option<CampaignRow> = with_pool!(self, pool => {
            sqlx::query_as(AssertSqlSafe(format!("{CAMPAIGN_SELECT} WHERE c.id = $1")))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        match row {
            Some(row) => Ok(Some(self.summarise(row).await?)),
            None => Ok(None),
        }
    }

    async fn summarise(&self, row: CampaignRow) -> Result<CampaignSummary, StoreError> {
        let counts = self.outbox_counts(Some(row.id)).await?;
        Ok(CampaignSummary {
            kind: CampaignKind::parse(&row.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("campaign {}: kind {:?}", row.id, row.kind)))?,
            status: CampaignStatus::parse(&row.status)
                .ok_or_else(|| StoreError::Corrupt(format!("campaign {}: status {:?}", row.id, row.status)))?,
            id: row.id,
            paper: row.paper,
            topic: row.topic,
            subject: row.subject,
            on_publish: row.on_publish,
            send_at: row.send_at,
            finished_at: row.finished_at,
            frozen_at: row.created_at,
            recipients: row.recipients,
            queued: counts.queued,
            sent: counts.sent,
            failed: counts.failed,
            skipped: counts.skipped,
        })
    }

    /// How many messages of a campaign (or of all mail) stand where.
    pub async fn outbox_counts(&self, campaign: Option<i64>) -> Result<OutboxCounts, StoreError> {
        let rows: Vec<(String, i64)> = with_pool!(self, pool => {
            match campaign {
                Some(id) => sqlx::query_as("SELECT status, COUNT(*) FROM outbox WHERE campaign_id = $1 GROUP BY status")
                    .bind(id)
                    .fetch_all(pool)
                    .await?,
                None => sqlx::query_as("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetch_all(pool).await?,
            }
        });
        let mut counts = OutboxCounts::default();
        for (status, n) in rows {
            match DeliveryStatus::parse(&status) {
                Some(DeliveryStatus::Queued) => counts.queued = n,
                Some(DeliveryStatus::Sent) => counts.sent = n,
                Some(DeliveryStatus::Failed) => counts.failed = n,
                Some(DeliveryStatus::Skipped) => counts.skipped = n,
                None => return Err(StoreError::Corrupt(format!("a message has the status {status:?}"))),
            }
        }
        Ok(counts)
    }

    /// Messages in the outbox, newest first, at most `limit`: all, or
    /// those with `status`.
    pub async fn outbox_entries(
        &self,
        status: Option<DeliveryStatus>,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let filter = if status.is_some() {
            "WHERE o.status = $1"
        } else {
            "WHERE $1 = $1"
        };
        let sql = format!("{OUTBOX_SELECT} {filter} ORDER BY o.id DESC LIMIT {limit}");
        let rows: Vec<OutboxRow> = with_pool!(self, pool => {
            sqlx::query_as(AssertSqlSafe(sql))
                .bind(status.map_or("", |s| s.as_str()))
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(OutboxRow::into_entry).collect()
    }

    /// One message of the outbox.
    pub async fn outbox_entry(&self, id: i64) -> Result<Option<OutboxEntry>, StoreError> {
        let sql = format!("{OUTBOX_SELECT} WHERE o.id = $1");
        let row: Option<OutboxRow> = with_pool!(self, pool => {
            sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?
        });
        row.map(OutboxRow::into_entry).transpose()
    }

    /// Makes failed or waiting messages due now, with their attempts
    /// counted afresh; returns how many. Sent and discarded ones stay.
    pub async fn retry_messages(&self, ids: &[i64], now: OffsetDateTime) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "UPDATE outbox SET status = 'queued', attempts = 0, next_attempt_at = $1, lease_until = NULL \
             WHERE status IN ('queued', 'failed') AND id IN ({})",
            super::placeholders(2, ids.len())
        );
        with_pool!(self, pool => {
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(db_time(now));
            for id in ids {
                q = q.bind(*id);
            }
            Ok(q.execute(pool).await?.rows_affected())
        })
    }

    /// Gives up on waiting or failed messages (they are kept, marked
    /// skipped, with why); returns how many.
    pub async fn discard_messages(&self, ids: &[i64]) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "UPDATE outbox SET status = 'skipped', lease_until = NULL, last_error = 'discarded from the outbox' \
             WHERE status IN ('queued', 'failed') AND id IN ({})",
            super::placeholders(1, ids.len())
        );
        with_pool!(self, pool => {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for id in ids {
                q = q.bind(*id);
            }
            Ok(q.execute(pool).await?.rows_affected())
        })
    }

    /// Messages claimed by a sender and not yet recorded: in flight.
    pub async fn messages_in_flight(&self, now: OffsetDateTime) -> Result<i64, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status = 'queued' AND lease_until > $1")
                .bind(db_time(now))
                .fetch_one(pool)
                .await?
        }))
    }

    /// Pauses a sending or scheduled campaign, or resumes a paused one.
    /// Returns the status it has now, or `None` if there is no such
    /// campaign.
    pub async fn pause_campaign(&self, id: i64, pause: bool) -> Result<Option<CampaignStatus>, StoreError> {
        let (from, to) = if pause {
            ("sending", "paused")
        } else {
            ("paused", "sending")
        };
        let status: Option<String> = with_pool!(self, pool => {
            sqlx::query("UPDATE campaigns SET status = $1 WHERE id = $2 AND status = $3")
                .bind(to)
                .bind(id)
                .bind(from)
                .execute(pool)
                .await?;
            sqlx::query_scalar("SELECT status FROM campaigns WHERE id = $1").bind(id).fetch_optional(pool).await?
        });
        Ok(status.and_then(|s| CampaignStatus::parse(&s)))
    }

    /// The ids of the topics named by `slugs` that exist.
    pub async fn topic_ids(&self, slugs: &[String]) -> Result<std::collections::HashMap<String, i64>, StoreError> {
        let mut ids = std::collections::HashMap::new();
        for slug in slugs {
            let id: Option<i64> = with_pool!(self, pool => {
                sqlx::query_scalar("SELECT id FROM topics WHERE slug = $1").bind(slug).fetch_optional(pool).await?
            });
            if let Some(id) = id {
                ids.insert(slug.clone(), id);
            }
        }
        Ok(ids)
    }

    /// Whether a campaign has sent (or is sending) paper `paper_id`.
    pub async fn paper_campaigns(&self, paper_id: i64) -> Result<Vec<i64>, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar("SELECT id FROM campaigns WHERE paper_id = $1 ORDER BY id")
                .bind(paper_id)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Where the last digest stopped: the next one starts there.
    pub async fn last_digest_until(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar("SELECT MAX(digest_until) FROM campaigns WHERE kind = 'digest'")
                .fetch_one(pool)
                .await?
        }))
    }
}

/// Topic ids as the comma-separated list kept for a scheduled campaign.
pub(super) fn topic_list(ids: &[i64]) -> String {
    ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}
