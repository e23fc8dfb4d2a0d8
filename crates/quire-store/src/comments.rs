//! Comments in the store: adding them with their duplicate and reply
//! checks, reading a paper's thread, moderating, purging, and answering
//! data requests. One SQL text for both back ends throughout.

use super::{Arg, CHANGES_CHANNEL, Db, Store, StoreError, db_time, placeholders};
use quire_core::domain::{Comment, CommentInput, CommentStatus, truncate_ip};
use sqlx::AssertSqlSafe;
use std::collections::HashMap;
use time::OffsetDateTime;

/// What the address of an erased commenter becomes.
pub const ERASED_EMAIL: &str = "erased@invalid";
/// What the name of an erased commenter becomes.
pub const ERASED_NAME: &str = "Anonymous";

const COMMENT_COLUMNS: &str = "c.id, p.slug AS paper, c.parent_id, c.status, c.name, c.email, c.url, c.body, c.ip, \
     c.created_at";

#[derive(sqlx::FromRow)]
struct CommentRow {
    id: i64,
    paper: String,
    parent_id: Option<i64>,
    status: String,
    name: String,
    email: String,
    url: Option<String>,
    body: String,
    ip: Option<String>,
    created_at: OffsetDateTime,
}

impl CommentRow {
    fn into_comment(self) -> Result<Comment, StoreError> {
        let status = self
            .status
            .parse::<CommentStatus>()
            .map_err(|e| StoreError::Corrupt(format!("comment {}: {e}", self.id)))?;
        Ok(Comment {
            id: self.id,
            paper: self.paper,
            parent_id: self.parent_id,
            status,
            name: self.name,
            email: self.email,
            url: self.url,
            text: self.body,
            ip: self.ip,
            created_at: self.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct RecentRow {
    #[sqlx(flatten)]
    comment: CommentRow,
    title: String,
    subtitle: Option<String>,
}

/// A comment to add, checked and moderated.
pub struct NewComment<'a> {
    pub paper_id: i64,
    pub input: &'a CommentInput,
    pub status: CommentStatus,
    pub ip: &'a str,
    pub user_agent: &'a str,
    /// The commenter asked to hear of replies.
    pub notify_replies: bool,
    pub now: OffsetDateTime,
}

/// Which comments `list_comments` returns, newest first.
#[derive(Clone, Debug, Default)]
pub struct CommentQuery {
    pub status: Option<CommentStatus>,
    /// A paper's slug.
    pub paper: Option<String>,
    /// A commenter's address (lower case): their other comments.
    pub email: Option<String>,
    pub limit: Option<u32>,
    /// Comments skipped before the first returned (with `limit`).
    pub offset: u32,
}

/// The condition (on `comments c`) for the comments of paper `paper_id` a
/// reader sees: the approved ones, and their own pending ones among `also`
/// (at most 50), with its arguments.
fn shown_to_reader(paper_id: i64, also: &[i64]) -> (String, Vec<Arg>) {
    let also = &also[..also.len().min(50)];
    let mut condition = String::from("c.paper_id = $1 AND (c.status = 'approved'");
    if !also.is_empty() {
        condition.push_str(&format!(
            " OR (c.status = 'pending' AND c.id IN ({}))",
            placeholders(2, also.len())
        ));
    }
    condition.push(')');
    let mut args = vec![Arg::Int(paper_id)];
    args.extend(also.iter().map(|id| Arg::Int(*id)));
    (condition, args)
}

fn rows_into(rows: Vec<CommentRow>) -> Result<Vec<Comment>, StoreError> {
    rows.into_iter().map(CommentRow::into_comment).collect()
}

impl Store {
    /// Adds a comment in one transaction. A reply must answer an approved
    /// comment on the same paper; the same text twice on one paper is a
    /// duplicate (WordPress's rule), refused whoever sends it.
    pub async fn add_comment(&self, c: &NewComment<'_>) -> Result<i64, StoreError> {
        let is_postgres = matches!(self.db, Db::Postgres(_));
        let input = c.input;
        with_pool!(self, pool => {
            let mut tx = begin_write!(pool, is_postgres);
            let written: Result<i64, StoreError> = async {
                if let Some(parent) = input.parent_id {
                    let found: Option<(i64, String)> =
                        sqlx::query_as("SELECT paper_id, status FROM comments WHERE id = $1")
                            .bind(parent)
                            .fetch_optional(&mut *tx)
                            .await?;
                    match found {
                        Some((paper, status)) if paper == c.paper_id && status == "approved" => {}
                        _ => return Err(StoreError::BadReply(parent)),
                    }
                }
                let duplicate: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM comments WHERE paper_id = $1 AND body = $2 AND status <> 'trash' LIMIT 1",
                )
                .bind(c.paper_id)
                .bind(&input.text)
                .fetch_optional(&mut *tx)
                .await?;
                if duplicate.is_some() {
                    return Err(StoreError::DuplicateComment);
                }
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO comments (paper_id, parent_id, status, name, email, url, body, ip, user_agent, \
                     notify_replies, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                )
                .bind(c.paper_id)
                .bind(input.parent_id)
                .bind(c.status.as_str())
                .bind(&input.name)
                .bind(&input.email)
                .bind(&input.url)
                .bind(&input.text)
                .bind(c.ip)
                .bind(c.user_agent)
                .bind(c.notify_replies)
                .bind(db_time(c.now))
                .fetch_one(&mut *tx)
                .await?;
                if c.status == CommentStatus::Approved {
                    bump_version!(tx, is_postgres);
                }
                Ok(id)
            }
            .await;
            match written {
                Ok(id) => {
                    tx.commit().await?;
                    Ok(id)
                }
                Err(e) => {
                    let _ = tx.rollback().await;
                    Err(e)
                }
            }
        })
    }

    /// The site's secret key `name`: made at random on first use, then the
    /// same for every server sharing this database, so a form signed by
    /// one is accepted by another.
    pub async fn site_key(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        let mut fresh = [0u8; 32];
        getrandom::fill(&mut fresh).map_err(|e| StoreError::Corrupt(format!("no randomness for a key: {e}")))?;
        let key: Vec<u8> = with_pool!(self, pool => {
            sqlx::query("INSERT INTO site_keys (name, secret, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
                .bind(name)
                .bind(fresh.as_slice())
                .bind(db_time(OffsetDateTime::now_utc()))
                .execute(pool)
                .await?;
            sqlx::query_scalar("SELECT secret FROM site_keys WHERE name = $1").bind(name).fetch_one(pool).await?
        });
        Ok(key)
    }

    /// The address to tell of replies to comment `id`, when its writer
    /// asked to hear of them.
    pub async fn reply_subscriber(&self, id: i64) -> Result<Option<String>, StoreError> {
        let email: Option<String> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT email FROM comments WHERE id = $1 AND notify_replies = $2 AND status = 'approved'")
                .bind(id)
                .bind(true)
                .fetch_optional(pool)
                .await?
        });
        Ok(email)
    }

    /// Whether a comment under this name and address was approved before:
    /// WordPress approves such commenters at once. Both must match, as
    /// in WordPress: an address alone is easily known to others.
    pub async fn approved_before(&self, name: &str, email: &str) -> Result<bool, StoreError> {
        let found: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT id FROM comments WHERE email = $1 AND status = 'approved' AND name = $2 LIMIT 1",
            )
            .bind(email.to_lowercase())
            .bind(name)
            .fetch_optional(pool)
            .await?
        });
        Ok(found.is_some())
    }

    /// A paper's approved comments and, among `also`, its pending ones (a
    /// commenter sees their own while it waits), oldest first.
    pub async fn paper_comments(&self, paper_id: i64, also: &[i64]) -> Result<Vec<Comment>, StoreError> {
        let (condition, args) = shown_to_reader(paper_id, also);
        let sql = format!(
            "SELECT {COMMENT_COLUMNS} FROM comments c JOIN papers p ON p.id = c.paper_id \
             WHERE {condition} ORDER BY c.id"
        );
        let rows: Vec<CommentRow> = with_pool!(self, pool => {
            bind_all!(sqlx::query_as::<_, CommentRow>(AssertSqlSafe(sql)), &args).fetch_all(pool).await?
        });
        rows_into(rows)
    }

    /// The ids of a paper's approved comments and of `also` (pending ones
    /// of one reader), each with the id it replies to: enough to find the
    /// page a comment is on without reading every text.
    pub async fn comment_links(&self, paper_id: i64, also: &[i64]) -> Result<Vec<(i64, Option<i64>)>, StoreError> {
        let (condition, args) = shown_to_reader(paper_id, also);
        let sql = format!("SELECT c.id, c.parent_id FROM comments c WHERE {condition}");
        let rows: Vec<(i64, Option<i64>)> = with_pool!(self, pool => {
            bind_all!(sqlx::query_as::<_, (i64, Option<i64>)>(AssertSqlSafe(sql)), &args).fetch_all(pool).await?
        });
        Ok(rows)
    }

    /// The newest approved comments readers may see at `now` (on public
    /// papers whose comments are not hidden), on one paper or all, with
    /// each paper's full title.
    pub async fn recent_comments(
        &self,
        paper_id: Option<i64>,
        limit: u32,
        now: OffsetDateTime,
    ) -> Result<Vec<(Comment, String)>, StoreError> {
        let one = if paper_id.is_some() { " AND c.paper_id = $2" } else { "" };
        let sql = format!(
            "SELECT {COMMENT_COLUMNS}, p.title, p.subtitle FROM comments c JOIN papers p ON p.id = c.paper_id \
             WHERE c.status = 'approved' AND p.comments <> 'hidden' AND p.status IN ('published', 'scheduled', 'archived') \
             AND p.trashed_at IS NULL AND p.published_at <= $1{one} ORDER BY c.id DESC LIMIT {limit}"
        );
        let mut args = vec![Arg::Time(db_time(now))];
        if let Some(id) = paper_id {
            args.push(Arg::Int(id));
        }
        let rows: Vec<RecentRow> = with_pool!(self, pool => {
            bind_all!(sqlx::query_as::<_, RecentRow>(AssertSqlSafe(sql)), &args).fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|r| {
                let title = quire_core::domain::full_title(&r.title, r.subtitle.as_deref());
                Ok((r.comment.into_comment()?, title))
            })
            .collect()
    }

    /// Approved comments per paper, for counts on pages and lists.
    pub async fn comment_counts(&self, paper_ids: &[i64]) -> Result<HashMap<i64, u64>, StoreError> {
        let mut out = HashMap::new();
        for chunk in paper_ids.chunks(super::IN_CHUNK) {
            let sql = format!(
                "SELECT paper_id, COUNT(*) FROM comments WHERE status = 'approved' AND paper_id IN ({}) \
                 GROUP BY paper_id",
                placeholders(1, chunk.len())
            );
            let args: Vec<Arg> = chunk.iter().map(|id| Arg::Int(*id)).collect();
            let rows: Vec<(i64, i64)> = with_pool!(self, pool => {
                bind_all!(sqlx::query_as::<_, (i64, i64)>(AssertSqlSafe(sql)), &args).fetch_all(pool).await?
            });
            out.extend(rows.into_iter().map(|(id, n)| (id, u64::try_from(n).unwrap_or(0))));
        }
        Ok(out)
    }

    /// How many comments have `status`, on every paper.
    pub async fn count_comments(&self, status: CommentStatus) -> Result<u64, StoreError> {
        let n: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM comments WHERE status = $1")
                .bind(status.as_str())
                .fetch_one(pool)
                .await?
        });
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Comments for moderators, newest first.
    pub async fn list_comments(&self, q: &CommentQuery) -> Result<Vec<Comment>, StoreError> {
        let mut conditions = Vec::new();
        let mut args = Vec::new();
        if let Some(status) = q.status {
            args.push(Arg::Text(status.as_str().to_owned()));
            conditions.push(format!("c.status = ${}", args.len()));
        }
        if let Some(paper) = &q.paper {
            args.push(Arg::Text(paper.clone()));
            conditions.push(format!("p.slug = ${}", args.len()));
        }
        if let Some(email) = &q.email {
            args.push(Arg::Text(email.clone()));
            conditions.push(format!("c.email = ${}", args.len()));
        }
        let condition = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let limit = q
            .limit
            .map(|n| format!(" LIMIT {n} OFFSET {}", q.offset))
            .unwrap_or_default();
        let sql = format!(
            "SELECT {COMMENT_COLUMNS} FROM comments c JOIN papers p ON p.id = c.paper_id {condition} \
             ORDER BY c.id DESC{limit}"
        );
        let rows: Vec<CommentRow> = with_pool!(self, pool => {
            bind_all!(sqlx::query_as::<_, CommentRow>(AssertSqlSafe(sql)), &args).fetch_all(pool).await?
        });
        rows_into(rows)
    }

    /// One comment, whatever its status.
    pub async fn get_comment(&self, id: i64) -> Result<Option<Comment>, StoreError> {
        let sql =
            format!("SELECT {COMMENT_COLUMNS} FROM comments c JOIN papers p ON p.id = c.paper_id WHERE c.id = $1");
        let row: Option<CommentRow> = with_pool!(self, pool => {
            sqlx::query_as::<_, CommentRow>(AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?
        });
        row.map(CommentRow::into_comment).transpose()
    }

    /// Moves comments to `to`, all or none: an unknown id changes nothing.
    /// Sending one to spam or trash remembers where it was, for `restore`.
    pub async fn set_comment_status(&self, ids: &[i64], to: CommentStatus) -> Result<(), StoreError> {
        self.change_comments(ids, Some(to)).await
    }

    /// Returns comments from spam or trash to where they were before.
    pub async fn restore_comments(&self, ids: &[i64]) -> Result<(), StoreError> {
        self.change_comments(ids, None).await
    }

    async fn change_comments(&self, ids: &[i64], to: Option<CommentStatus>) -> Result<(), StoreError> {
        let is_postgres = matches!(self.db, Db::Postgres(_));
        with_pool!(self, pool => {
            let mut tx = begin_write!(pool, is_postgres);
            let written: Result<(), StoreError> = async {
                for id in ids {
                    let status: Option<String> = sqlx::query_scalar("SELECT status FROM comments WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some(status) = status else {
                        return Err(StoreError::CommentNotFound(*id));
                    };
                    match to {
                        Some(to) => {
                            let keep = matches!(to, CommentStatus::Spam | CommentStatus::Trash)
                                && !matches!(status.as_str(), "spam" | "trash");
                            let sql = if keep {
                                "UPDATE comments SET previous_status = status, status = $2 WHERE id = $1"
                            } else {
                                "UPDATE comments SET status = $2 WHERE id = $1"
                            };
                            sqlx::query(sql).bind(id).bind(to.as_str()).execute(&mut *tx).await?;
                        }
                        None => {
                            sqlx::query(
                                "UPDATE comments SET status = previous_status \
                                 WHERE id = $1 AND status IN ('spam', 'trash')",
                            )
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                }
                bump_version!(tx, is_postgres);
                Ok(())
            }
            .await;
            match written {
                Ok(()) => {
                    tx.commit().await?;
                    Ok(())
                }
                Err(e) => {
                    let _ = tx.rollback().await;
                    Err(e)
                }
            }
        })
    }

    /// Deletes comments in `statuses` made before `before`; replies to them
    /// stay, as top-level comments. Returns how many went.
    pub async fn purge_comments(&self, statuses: &[CommentStatus], before: OffsetDateTime) -> Result<u64, StoreError> {
        if statuses.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "DELETE FROM comments WHERE created_at <= $1 AND status IN ({})",
            placeholders(2, statuses.len())
        );
        let mut args = vec![Arg::Time(db_time(before))];
        args.extend(statuses.iter().map(|s| Arg::Text(s.as_str().to_owned())));
        let done = with_pool!(self, pool => {
            bind_all!(sqlx::query(AssertSqlSafe(sql)), &args).execute(pool).await?.rows_affected()
        });
        Ok(done)
    }

    /// Every comment made with `email`, for a data request.
    pub async fn comments_by_email(&self, email: &str) -> Result<Vec<Comment>, StoreError> {
        let sql = format!(
            "SELECT {COMMENT_COLUMNS} FROM comments c JOIN papers p ON p.id = c.paper_id \
             WHERE c.email = $1 ORDER BY c.id"
        );
        let rows: Vec<CommentRow> = with_pool!(self, pool => {
            sqlx::query_as::<_, CommentRow>(AssertSqlSafe(sql)).bind(email.trim().to_lowercase()).fetch_all(pool).await?
        });
        rows_into(rows)
    }

    /// Erases what identifies the person behind `email` from their
    /// comments (name, address, website, IP address, browser), as
    /// WordPress's eraser does; the text stays, so threads still read.
    /// Returns how many comments were changed.
    pub async fn erase_comments_by_email(&self, email: &str) -> Result<u64, StoreError> {
        let is_postgres = matches!(self.db, Db::Postgres(_));
        with_pool!(self, pool => {
            let mut tx = begin_write!(pool, is_postgres);
            let done = sqlx::query(
                "UPDATE comments SET name = $2, email = $3, url = NULL, ip = NULL, user_agent = '', \
                 notify_replies = $4 WHERE email = $1",
            )
            .bind(email.trim().to_lowercase())
            .bind(ERASED_NAME)
            .bind(ERASED_EMAIL)
            .bind(false)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            bump_version!(tx, is_postgres);
            tx.commit().await?;
            Ok(done)
        })
    }

    /// Truncates the IP addresses of comments made before `before` (the
    /// end of the retention period). Returns how many were truncated.
    pub async fn truncate_comment_ips(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let rows: Vec<(i64, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, ip FROM comments WHERE created_at < $1 AND ip IS NOT NULL AND ip_truncated = $2",
            )
            .bind(db_time(before))
            .bind(false)
            .fetch_all(pool)
            .await?
        });
        for (id, ip) in &rows {
            with_pool!(self, pool => {
                sqlx::query("UPDATE comments SET ip = $2, ip_truncated = $3 WHERE id = $1")
                    .bind(id)
                    .bind(truncate_ip(ip))
                    .bind(true)
                    .execute(pool)
                    .await?;
            });
        }
        Ok(rows.len() as u64)
    }
}
