//! Newsletter subscribers in the store: importing lists in one
//! transaction, listing them for export, and erasing one on request.

use super::{Arg, Db, Store, StoreError, db_time};
use quire_core::domain::{Consent, SubscriberInput, SubscriberStatus};
use serde::Serialize;
use sqlx::AssertSqlSafe;
use std::collections::HashMap;
use time::OffsetDateTime;

/// A stored subscriber.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Subscriber {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub status: SubscriberStatus,
    pub consent: Consent,
    /// Topic slugs; empty means everything.
    pub topics: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub confirmed_at: Option<OffsetDateTime>,
    /// Signed into the subscriber's links; raised to revoke them all.
    #[serde(skip)]
    pub link_version: i64,
}

/// What an import did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub added: usize,
    /// Addresses already on the list, left as they were.
    pub existing: usize,
}

#[derive(sqlx::FromRow)]
struct SubscriberRow {
    id: i64,
    email: String,
    name: String,
    status: String,
    consent: String,
    created_at: OffsetDateTime,
    confirmed_at: Option<OffsetDateTime>,
    link_version: i64,
}

impl SubscriberRow {
    fn into_subscriber(self, topics: Vec<String>) -> Result<Subscriber, StoreError> {
        let status = self
            .status
            .parse::<SubscriberStatus>()
            .map_err(|e| StoreError::Corrupt(format!("subscriber {}: {e}", self.id)))?;
        let consent = Consent::parse(&self.consent)
            .ok_or_else(|| StoreError::Corrupt(format!("subscriber {}: consent {:?}", self.id, self.consent)))?;
        Ok(Subscriber {
            topics,
            id: self.id,
            email: self.email,
            name: self.name,
            status,
            consent,
            created_at: self.created_at,
            confirmed_at: self.confirmed_at,
            link_version: self.link_version,
        })
    }
}

/// Replaces subscriber `$id`'s topics with the topics named by `$slugs`;
/// an unknown slug fails the enclosing transaction.
macro_rules! set_topics {
    ($tx:expr, $id:expr, $slugs:expr) => {{
        sqlx::query("DELETE FROM subscriber_topics WHERE subscriber_id = $1")
            .bind($id)
            .execute(&mut *$tx)
            .await?;
        for slug in $slugs {
            let topic: Option<i64> = sqlx::query_scalar("SELECT id FROM topics WHERE slug = $1")
                .bind(slug)
                .fetch_optional(&mut *$tx)
                .await?;
            let topic = topic.ok_or_else(|| StoreError::UnknownReference {
                what: "topic",
                slug: slug.clone(),
            })?;
            sqlx::query(
                "INSERT INTO subscriber_topics (subscriber_id, topic_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind($id)
            .bind(topic)
            .execute(&mut *$tx)
            .await?;
        }
    }};
}

impl Store {
    /// Adds `rows` as one transaction: all of them or, on any error, none.
    /// With `consent` the editor declares the list consented, and the
    /// subscribers are confirmed; without it they wait to confirm, and are
    /// sent nothing else. An address already on the list is left as it is.
    /// `progress` hears how many rows are done.
    pub async fn import_subscribers(
        &self,
        rows: &[SubscriberInput],
        consent: bool,
        now: OffsetDateTime,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<ImportReport, StoreError> {
        let is_postgres = matches!(self.db, Db::Postgres(_));
        let (status, consent, confirmed_at) = if consent {
            (
                SubscriberStatus::Confirmed,
                Consent::ImportedWithConsent,
                Some(db_time(now)),
            )
        } else {
            (SubscriberStatus::Pending, Consent::Imported, None)
        };
        with_pool!(self, pool => {
            let mut tx = begin_write!(pool, is_postgres);
            let written: Result<ImportReport, StoreError> = async {
                let mut report = ImportReport::default();
                let mut topic_ids: HashMap<String, i64> = HashMap::new();
                for (i, row) in rows.iter().enumerate() {
                    let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM subscribers WHERE email = $1")
                        .bind(&row.email)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if existing.is_some() {
                        report.existing += 1;
                    } else {
                        let id: i64 = sqlx::query_scalar(
                            "INSERT INTO subscribers (email, name, status, consent, created_at, confirmed_at) \
                             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                        )
                        .bind(&row.email)
                        .bind(&row.name)
                        .bind(status.as_str())
                        .bind(consent.as_str())
                        .bind(db_time(now))
                        .bind(confirmed_at)
                        .fetch_one(&mut *tx)
                        .await?;
                        for slug in &row.topics {
                            let topic = match topic_ids.get(slug) {
                                Some(t) => *t,
                                None => {
                                    let t: Option<i64> = sqlx::query_scalar("SELECT id FROM topics WHERE slug = $1")
                                        .bind(slug)
                                        .fetch_optional(&mut *tx)
                                        .await?;
                                    let t = t.ok_or_else(|| StoreError::UnknownReference { what: "topic", slug: slug.clone() })?;
                                    topic_ids.insert(slug.clone(), t);
                                    t
                                }
                            };
                            sqlx::query(
                                "INSERT INTO subscriber_topics (subscriber_id, topic_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                            )
                            .bind(id)
                            .bind(topic)
                            .execute(&mut *tx)
                            .await?;
                        }
                        report.added += 1;
                    }
                    if i % 256 == 255 {
                        progress(i + 1);
                    }
                }
                progress(rows.len());
                Ok(report)
            }
            .await;
            match written {
                Ok(report) => {
                    tx.commit().await?;
                    Ok(report)
                }
                Err(e) => {
                    let _ = tx.rollback().await;
                    Err(e)
                }
            }
        })
    }

    /// Every subscriber, oldest first, with their topics.
    pub async fn list_subscribers(&self) -> Result<Vec<Subscriber>, StoreError> {
        let (rows, topics): (Vec<SubscriberRow>, Vec<(i64, String)>) = with_pool!(self, pool => {(
            sqlx::query_as::<_, SubscriberRow>(
                "SELECT id, email, name, status, consent, created_at, confirmed_at, link_version FROM subscribers ORDER BY id",
            )
            .fetch_all(pool)
            .await?,
            sqlx::query_as::<_, (i64, String)>(
                "SELECT st.subscriber_id, t.slug FROM subscriber_topics st JOIN topics t ON t.id = st.topic_id \
                 ORDER BY st.subscriber_id, t.slug",
            )
            .fetch_all(pool)
            .await?,
        )});
        let mut by_subscriber: HashMap<i64, Vec<String>> = HashMap::new();
        for (id, slug) in topics {
            by_subscriber.entry(id).or_default().push(slug);
        }
        rows.into_iter()
            .map(|r| {
                let topics = by_subscriber.remove(&r.id).unwrap_or_default();
                r.into_subscriber(topics)
            })
            .collect()
    }

    /// Makes `email` a confirmed subscriber from the confirmation link
    /// with `digest`, once: new, or back after leaving, with the name and
    /// topics the sign-up chose. The link is recorded as used (until
    /// `expires`, when it would fail anyway) in the same transaction.
    /// Returns the subscriber's id, or None when the link was used before,
    /// so that a link opened again after leaving subscribes no one.
    pub async fn confirm_subscriber_once(
        &self,
        input: &SubscriberInput,
        digest: &str,
        expires: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<i64>, StoreError> {
        let is_postgres = matches!(self.db, Db::Postgres(_));
        let now = db_time(now);
        with_pool!(self, pool => {
            let mut tx = begin_write!(pool, is_postgres);
            let fresh = sqlx::query(
                "INSERT INTO used_links (digest, expires_at) VALUES ($1, $2) ON CONFLICT (digest) DO NOTHING",
            )
            .bind(digest)
            .bind(db_time(expires))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if fresh == 0 {
                let _ = tx.rollback().await;
                return Ok(None);
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO subscribers (email, name, status, consent, created_at, confirmed_at) \
                 VALUES ($1, $2, 'confirmed', 'form', $3, $3) \
                 ON CONFLICT (email) DO UPDATE SET name = CASE WHEN excluded.name = '' THEN subscribers.name \
                 ELSE excluded.name END, status = 'confirmed', consent = 'form', confirmed_at = $3, \
                 unsubscribed_at = NULL, bounces = 0 RETURNING id",
            )
            .bind(&input.email)
            .bind(&input.name)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            set_topics!(tx, id, &input.topics);
            tx.commit().await?;
            Ok(Some(id))
        })
    }

    /// Revokes every link sent to `email` (preferences and unsubscribe):
    /// new emails carry new ones. Returns whether there was such a
    /// subscriber.
    pub async fn revoke_subscriber_links(&self, email: &str) -> Result<bool, StoreError> {
        let done = with_pool!(self, pool => {
            sqlx::query("UPDATE subscribers SET link_version = link_version + 1 WHERE email = $1")
                .bind(email.trim().to_ascii_lowercase())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }

    /// Forgets used confirmation links past their expiry: they fail as
    /// expired by then.
    pub async fn purge_used_links(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query("DELETE FROM used_links WHERE expires_at < $1")
                .bind(db_time(now))
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }

    /// The subscriber with `id`, if there is one.
    pub async fn subscriber(&self, id: i64) -> Result<Option<Subscriber>, StoreError> {
        self.subscriber_where("id = $1", Arg::Int(id)).await
    }

    /// The subscriber with `email`, if there is one.
    pub async fn subscriber_by_email(&self, email: &str) -> Result<Option<Subscriber>, StoreError> {
        self.subscriber_where("email = $1", Arg::Text(email.trim().to_ascii_lowercase()))
            .await
    }

    async fn subscriber_where(&self, condition: &str, arg: Arg) -> Result<Option<Subscriber>, StoreError> {
        let sql = format!(
            "SELECT id, email, name, status, consent, created_at, confirmed_at, link_version FROM subscribers \
             WHERE {condition}"
        );
        let row: Option<SubscriberRow> = with_pool!(self, pool => {
            bind_all!(sqlx::query_as::<_, SubscriberRow>(AssertSqlSafe(sql.clone())), [&arg]).fetch_optional(pool).await?
        });
        let Some(row) = row else { return Ok(None) };
        let topics: Vec<String> = with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT t.slug FROM subscriber_topics st JOIN topics t ON t.id = st.topic_id \
                 WHERE st.subscriber_id = $1 ORDER BY t.slug",
            )
            .bind(row.id)
            .fetch_all(pool)
            .await?
        });
        row.into_subscriber(topics).map(Some)
    }

    /// Changes a subscriber's name and topics (empty: everything).
    /// Returns whether there was such a subscriber.
    pub async fn set_subscriber_preferences(&self, id: i64, name: &str, topics: &[String]) -> Result<bool, StoreError> {
        let is_postgres = matches!(self.db, Db::Postgres(_));
        with_pool!(self, pool => {
            let mut tx = begin_write!(pool, is_postgres);
            let found = sqlx::query("UPDATE subscribers SET name = $1 WHERE id = $2")
                .bind(name)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if found == 0 {
                let _ = tx.rollback().await;
                return Ok(false);
            }
            set_topics!(tx, id, topics);
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Unsubscribes subscriber `id`: they are sent nothing more, queued
    /// campaign copies included. Returns whether they were subscribed.
    pub async fn unsubscribe(&self, id: i64, now: OffsetDateTime) -> Result<bool, StoreError> {
        let done = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = $1 \
                 WHERE id = $2 AND status <> 'unsubscribed'",
            )
            .bind(db_time(now))
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(done > 0)
    }

    /// Deletes the subscriber with `email` and everything kept about them,
    /// the mail to the address included. Returns whether there was one.
    pub async fn erase_subscriber(&self, email: &str) -> Result<bool, StoreError> {
        let is_postgres = matches!(self.db, Db::Postgres(_));
        let email = email.trim().to_ascii_lowercase();
        let done = with_pool!(self, pool => {
            let mut tx = begin_write!(pool, is_postgres);
            let done = sqlx::query("DELETE FROM subscribers WHERE email = $1")
                .bind(&email)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query("DELETE FROM outbox WHERE recipient = $1").bind(&email).execute(&mut *tx).await?;
            tx.commit().await?;
            done
        });
        Ok(done > 0)
    }

    /// Unsubscribes the subscriber with `email`, keeping the record.
    /// Returns whether there was one still subscribed.
    pub async fn unsubscribe_email(&self, email: &str, now: OffsetDateTime) -> Result<bool, StoreError> {
        match self.subscriber_by_email(email).await? {
            Some(s) => self.unsubscribe(s.id, now).await,
            None => Ok(false),
        }
    }

    /// Deletes confirmations, notices and test copies sent or failed
    /// before `before`: they hold addresses of people who may never have
    /// subscribed. Campaign copies stay, as the campaign's record.
    pub async fn purge_old_mail(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query(
                "DELETE FROM outbox WHERE campaign_id IS NULL AND status IN ('sent', 'failed', 'skipped') \
                 AND created_at < $1",
            )
            .bind(db_time(before))
            .execute(pool)
            .await?
            .rows_affected()
        }))
    }
}
