//! Revisions of papers: every save kept as the paper file it wrote (see
//! `add_papers`), listed newest first and read back one at a time to be
//! compared or restored; and review: a draft submitted for an editor.

use super::{CHANGES_CHANNEL, Db, Store, StoreError, db_time};
use serde::Serialize;
use time::OffsetDateTime;

/// Most revisions one listing returns, newest first.
pub const MAX_REVISIONS_LISTED: i64 = 500;

/// One saved version of a paper, without its text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct RevisionMeta {
    pub number: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub saved_at: OffsetDateTime,
    /// The account's name, or none for the command line (or an account
    /// since removed).
    pub saved_by: Option<String>,
}

/// One saved version of a paper: the paper file as saved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Revision {
    pub meta: RevisionMeta,
    pub source: String,
}

/// Where a paper stands in editing: its latest revision and whether it
/// waits for review.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EditState {
    pub paper_id: i64,
    pub revision: i64,
    pub submitted_at: Option<OffsetDateTime>,
}

impl Store {
    /// The paper `slug`'s latest revision and review mark, trashed
    /// papers too; `None` when there is no such paper.
    pub async fn edit_state(&self, slug: &str) -> Result<Option<EditState>, StoreError> {
        let row: Option<(i64, i64, Option<OffsetDateTime>)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT id, revision, submitted_at FROM papers WHERE slug = $1")
                .bind(slug)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(paper_id, revision, submitted_at)| EditState {
            paper_id,
            revision,
            submitted_at,
        }))
    }

    /// The paper's revisions, newest first (at most
    /// [`MAX_REVISIONS_LISTED`]).
    pub async fn revisions(&self, paper_id: i64) -> Result<Vec<RevisionMeta>, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT r.number, r.saved_at, u.name AS saved_by FROM paper_revisions r \
                 LEFT JOIN users u ON u.id = r.user_id \
                 WHERE r.paper_id = $1 ORDER BY r.number DESC LIMIT $2",
            )
            .bind(paper_id)
            .bind(MAX_REVISIONS_LISTED)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Revision `number` of the paper, with its text.
    pub async fn revision(&self, paper_id: i64, number: i64) -> Result<Option<Revision>, StoreError> {
        let row: Option<(i64, OffsetDateTime, Option<String>, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT r.number, r.saved_at, u.name, r.source FROM paper_revisions r \
                 LEFT JOIN users u ON u.id = r.user_id WHERE r.paper_id = $1 AND r.number = $2",
            )
            .bind(paper_id)
            .bind(number)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(number, saved_at, saved_by, source)| Revision {
            meta: RevisionMeta {
                number,
                saved_at,
                saved_by,
            },
            source,
        }))
    }

    /// Marks the draft `slug` as submitted for review at `at`, or takes
    /// the mark off (`None`). A paper that is not a draft is left alone:
    /// only drafts wait for review.
    pub async fn set_submitted(&self, slug: &str, at: Option<OffsetDateTime>) -> Result<(), StoreError> {
        let at = at.map(db_time);
        let done = with_pool!(self, pool => {
            sqlx::query("UPDATE papers SET submitted_at = $2 WHERE slug = $1 AND status = 'draft'")
                .bind(slug)
                .bind(at)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if done == 0 && self.edit_state(slug).await?.is_none() {
            return Err(StoreError::NotFound {
                what: "paper",
                slug: slug.to_owned(),
            });
        }
        Ok(())
    }

    /// Adds `media` to the paper with id `paper_id`, replacing its image
    /// of the same name; readers' pages are made again.
    pub async fn put_media(&self, paper_id: i64, media: &quire_core::domain::MediaInput) -> Result<(), StoreError> {
        let is_postgres = matches!(self.db, Db::Postgres(_));
        with_pool!(self, pool => {
            let mut tx = begin_write!(pool, is_postgres);
            let written: Result<(), StoreError> = async {
                sqlx::query(
                    "INSERT INTO paper_media (paper_id, name, kind, width, height, byte_size, sha256, data) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (paper_id, name) DO UPDATE SET kind = EXCLUDED.kind, width = EXCLUDED.width, \
                     height = EXCLUDED.height, byte_size = EXCLUDED.byte_size, sha256 = EXCLUDED.sha256, \
                     data = EXCLUDED.data",
                )
                .bind(paper_id)
                .bind(&media.name)
                .bind(media.kind.as_str())
                .bind(media.width.map(i64::from))
                .bind(media.height.map(i64::from))
                .bind(i64::try_from(media.data.len()).unwrap_or(i64::MAX))
                .bind(super::sha256_hex(&media.data))
                .bind(&media.data)
                .execute(&mut *tx)
                .await?;
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

    /// How many drafts wait for review (not in the trash).
    pub async fn submitted_count(&self) -> Result<u64, StoreError> {
        let n: i64 = with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM papers WHERE status = 'draft' AND submitted_at IS NOT NULL \
                 AND trashed_at IS NULL",
            )
            .fetch_one(pool)
            .await?
        });
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
