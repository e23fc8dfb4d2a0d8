//! Accounts in the store: the people who run the site, the browsers they
//! are signed in on, their set-password links, and the audit log of what
//! they did. Secrets are kept only as digests (sessions, links) or
//! password hashes; this module never sees a password.

use super::{Db, Store, StoreError, db_time};
use quire_core::domain::Role;
use serde::Serialize;
use time::OffsetDateTime;

/// The id of the author with `$slug`, or `UnknownReference` from the
/// enclosing function.
macro_rules! author_id {
    ($pool:expr, $slug:expr) => {{
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM authors WHERE slug = $1")
            .bind($slug)
            .fetch_optional($pool)
            .await?;
        id.ok_or_else(|| StoreError::UnknownReference {
            what: "author",
            slug: $slug.to_owned(),
        })?
    }};
}

/// Most sessions one account keeps; signing in once more ends the oldest.
pub const MAX_SESSIONS_PER_USER: i64 = 32;

/// A stored account, without its password hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The slug of the author profile the account writes as: "own
    /// papers" are the papers that name it.
    pub author: Option<String>,
    /// Whether a password has been set (an invited account has none yet).
    pub has_password: bool,
    /// Whether signing in takes a code from an authenticator app too.
    pub two_step: bool,
    /// Failed sign-ins since the last good one.
    #[serde(skip)]
    pub failed_logins: i64,
    #[serde(skip)]
    pub last_failed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub disabled_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// An account to add.
#[derive(Clone, Debug)]
pub struct NewUser {
    /// In lower case, checked.
    pub email: String,
    pub name: String,
    pub role: Role,
    /// An author profile's slug.
    pub author: Option<String>,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    name: String,
    role: String,
    author: Option<String>,
    has_password: bool,
    two_step: bool,
    failed_logins: i64,
    last_failed_at: Option<OffsetDateTime>,
    disabled_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
}

impl UserRow {
    fn into_user(self) -> Result<User, StoreError> {
        let role = self
            .role
            .parse::<Role>()
            .map_err(|e| StoreError::Corrupt(format!("user {}: {e}", self.id)))?;
        Ok(User {
            id: self.id,
            email: self.email,
            name: self.name,
            role,
            author: self.author,
            has_password: self.has_password,
            two_step: self.two_step,
            failed_logins: self.failed_logins,
            last_failed_at: self.last_failed_at,
            disabled_at: self.disabled_at,
            created_at: self.created_at,
        })
    }
}

const USER_COLUMNS: &str = "u.id, u.email, u.name, u.role, a.slug AS author, \
     (u.password_hash IS NOT NULL) AS has_password, (u.totp_secret IS NOT NULL) AS two_step, u.failed_logins, u.last_failed_at, u.disabled_at, u.created_at \
     FROM users u LEFT JOIN authors a ON a.id = u.author_id";

/// What a set-password link is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkPurpose {
    /// The first account's link, printed by the command line.
    Welcome,
    /// An invitation sent by an administrator.
    Invite,
    /// A reset asked for by the account or an administrator.
    Reset,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Welcome => "welcome",
            LinkPurpose::Invite => "invite",
            LinkPurpose::Reset => "reset",
        }
    }

    fn parse(s: &str) -> Option<LinkPurpose> {
        [LinkPurpose::Welcome, LinkPurpose::Invite, LinkPurpose::Reset]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// Where a set-password link stands when it is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkUse {
    /// Good: now marked used. The account it is for, and why it was made.
    Taken {
        user_id: i64,
        purpose: LinkPurpose,
    },
    Used,
    Expired,
    /// Not one the store holds (revoked, or never made).
    Unknown,
}

/// A signed-in browser, as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSession {
    pub user_id: i64,
    /// The account's role when the session was issued.
    pub role: String,
    pub csrf: String,
    pub created_at: OffsetDateTime,
    pub seen_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// A session to store.
#[derive(Clone, Debug)]
pub struct NewSession<'a> {
    /// A digest of the cookie's secret.
    pub digest: &'a str,
    pub user_id: i64,
    pub role: Role,
    pub csrf: &'a str,
    pub address: &'a str,
    pub agent: &'a str,
    pub now: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// One line of the audit log to write.
#[derive(Clone, Debug)]
pub struct AuditEntry<'a> {
    pub user_id: Option<i64>,
    /// Who, as people read it: "Ada Lovelace <ada@example.org>".
    pub actor: &'a str,
    /// What, as a stable word: `paper.publish`, `user.role`.
    pub action: &'a str,
    /// To what: a slug, an address, a campaign number.
    pub subject: &'a str,
    pub detail: &'a str,
    pub at: OffsetDateTime,
}

/// One line of the audit log, read back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AuditRecord {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

impl Store {
    /// Adds an account; an address already taken is refused.
    pub async fn add_user(&self, new: &NewUser, now: OffsetDateTime) -> Result<User, StoreError> {
        let now = db_time(now);
        let id: Option<i64> = with_pool!(self, pool => {
            let author_id = match &new.author {
                Some(slug) => Some(author_id!(pool, slug)),
                None => None,
            };
            sqlx::query_scalar(
                "INSERT INTO users (email, name, role, author_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (email) DO NOTHING RETURNING id",
            )
            .bind(&new.email)
            .bind(&new.name)
            .bind(new.role.as_str())
            .bind(author_id)
            .bind(now)
            .fetch_optional(pool)
            .await?
        });
        let id = id.ok_or_else(|| StoreError::DuplicateUser(new.email.clone()))?;
        self.user(id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("user {id} vanished as it was added")))
    }

    /// Every account, administrators first, then by name.
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} ORDER BY CASE u.role WHEN 'administrator' THEN 0 WHEN 'editor' THEN 1 \
             WHEN 'author' THEN 2 ELSE 3 END, u.name, u.id"
        );
        let rows: Vec<UserRow> =
            with_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?);
        rows.into_iter().map(UserRow::into_user).collect()
    }

    /// How many accounts there are.
    pub async fn count_users(&self) -> Result<i64, StoreError> {
        Ok(with_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await?))
    }

    /// The account `id`.
    pub async fn user(&self, id: i64) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} WHERE u.id = $1");
        let row: Option<UserRow> =
            with_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?);
        row.map(UserRow::into_user).transpose()
    }

    /// The account with the address `email` (in lower case).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} WHERE u.email = $1");
        let row: Option<UserRow> =
            with_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(email).fetch_optional(pool).await?);
        row.map(UserRow::into_user).transpose()
    }

    /// The password hash of account `id`, if one is set.
    pub async fn password_hash(&self, id: i64) -> Result<Option<String>, StoreError> {
        let hash: Option<Option<String>> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1").bind(id).fetch_optional(pool).await?
        });
        Ok(hash.flatten())
    }

    /// Sets account `id`'s password hash, and ends its sessions and its
    /// other set-password links: whoever knew the old password or held an
    /// old link is out.
    pub async fn set_password_hash(&self, id: i64, hash: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let is_postgres = matches!(self.db, Db::Postgres(_));
        with_pool!(self, pool => {
            let mut tx = begin_write!(pool, is_postgres);
            sqlx::query(
                "UPDATE users SET password_hash = $1, failed_logins = 0, last_failed_at = NULL, updated_at = $2 \
                 WHERE id = $3",
            )
            .bind(hash)
            .bind(db_time(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
            // Used links stay until they expire, so that they say so.
            sqlx::query("DELETE FROM account_links WHERE user_id = $1 AND used_at IS NULL")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Gives account `id` the role `role`.
    pub async fn set_role(&self, id: i64, role: Role, now: OffsetDateTime) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE users SET role = $1, updated_at = $2 WHERE id = $3")
                .bind(role.as_str())
                .bind(db_time(now))
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Links account `id` to the author profile `author` (a slug), or to none.
    pub async fn set_user_author(&self, id: i64, author: Option<&str>, now: OffsetDateTime) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            let author_id = match author {
                Some(slug) => Some(author_id!(pool, slug)),
                None => None,
            };
            sqlx::query("UPDATE users SET author_id = $1, updated_at = $2 WHERE id = $3")
                .bind(author_id)
                .bind(db_time(now))
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Disables account `id` from `at` (ending its sessions and links), or
    /// enables it again with `None`.
    pub async fn set_disabled(&self, id: i64, at: Option<OffsetDateTime>) -> Result<(), StoreError> {
        let is_postgres = matches!(self.db, Db::Postgres(_));
        let at = at.map(db_time);
        with_pool!(self, pool => {
            let mut tx = begin_write!(pool, is_postgres);
            sqlx::query("UPDATE users SET disabled_at = $1, updated_at = COALESCE($1, updated_at) WHERE id = $2")
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            if at.is_some() {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
                sqlx::query("DELETE FROM account_links WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Counts a failed sign-in of account `id`, counting from one again
    /// when the last failure was before `forget_before`; returns how many
    /// there have been since the last good one.
    pub async fn record_failed_login(
        &self,
        id: i64,
        now: OffsetDateTime,
        forget_before: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        let count: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar(
                "UPDATE users SET failed_logins = CASE WHEN last_failed_at IS NULL OR last_failed_at < $3 THEN 1 \
                 ELSE failed_logins + 1 END, last_failed_at = $1 WHERE id = $2 RETURNING failed_logins",
            )
            .bind(db_time(now))
            .bind(id)
            .bind(db_time(forget_before))
            .fetch_optional(pool)
            .await?
        });
        Ok(count.unwrap_or(0))
    }

    /// Forgets account `id`'s failed sign-ins (after a good one).
    pub async fn clear_failed_logins(&self, id: i64) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE users SET failed_logins = 0, last_failed_at = NULL WHERE id = $1 AND failed_logins <> 0")
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Stores a set-password link for account `user_id` by its digest.
    pub async fn add_account_link(
        &self,
        digest: &str,
        user_id: i64,
        purpose: LinkPurpose,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM account_links WHERE expires_at < $1").bind(db_time(now)).execute(pool).await?;
            sqlx::query(
                "INSERT INTO account_links (digest, user_id, purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(digest)
            .bind(user_id)
            .bind(purpose.as_str())
            .bind(db_time(now))
            .bind(db_time(expires_at))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Uses the set-password link with this digest: marks it used, once,
    /// if it is still good.
    pub async fn use_account_link(&self, digest: &str, now: OffsetDateTime) -> Result<LinkUse, StoreError> {
        let now = db_time(now);
        let taken: Option<(i64, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "UPDATE account_links SET used_at = $1 WHERE digest = $2 AND used_at IS NULL AND expires_at > $1 \
                 RETURNING user_id, purpose",
            )
            .bind(now)
            .bind(digest)
            .fetch_optional(pool)
            .await?
        });
        if let Some((user_id, purpose)) = taken {
            let purpose = LinkPurpose::parse(&purpose)
                .ok_or_else(|| StoreError::Corrupt(format!("account link purpose {purpose:?}")))?;
            return Ok(LinkUse::Taken { user_id, purpose });
        }
        let state: Option<(Option<OffsetDateTime>, OffsetDateTime)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT used_at, expires_at FROM account_links WHERE digest = $1")
                .bind(digest)
                .fetch_optional(pool)
                .await?
        });
        Ok(match state {
            Some((Some(_), _)) => LinkUse::Used,
            Some((None, _)) => LinkUse::Expired,
            None => LinkUse::Unknown,
        })
    }

    /// Whether the set-password link with this digest is still good,
    /// without using it (the page that asks for the new password).
    pub async fn account_link_open(&self, digest: &str, now: OffsetDateTime) -> Result<LinkUse, StoreError> {
        let state: Option<(i64, String, Option<OffsetDateTime>, OffsetDateTime)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT user_id, purpose, used_at, expires_at FROM account_links WHERE digest = $1")
                .bind(digest)
                .fetch_optional(pool)
                .await?
        });
        Ok(match state {
            None => LinkUse::Unknown,
            Some((_, _, Some(_), _)) => LinkUse::Used,
            Some((_, _, None, expires)) if expires <= db_time(now) => LinkUse::Expired,
            Some((user_id, purpose, None, _)) => LinkUse::Taken {
                user_id,
                purpose: LinkPurpose::parse(&purpose)
                    .ok_or_else(|| StoreError::Corrupt(format!("account link purpose {purpose:?}")))?,
            },
        })
    }

    /// Stores a new session, ending `replacing` (the session it rotates)
    /// in the same transaction, and the account's oldest sessions beyond
    /// [`MAX_SESSIONS_PER_USER`]; expired sessions of every account go too.
    pub async fn add_session(&self, new: &NewSession<'_>, replacing: Option<&str>) -> Result<(), StoreError> {
        let is_postgres = matches!(self.db, Db::Postgres(_));
        let now = db_time(new.now);
        with_pool!(self, pool => {
            let mut tx = begin_write!(pool, is_postgres);
            if let Some(old) = replacing {
                sqlx::query("DELETE FROM sessions WHERE digest = $1").bind(old).execute(&mut *tx).await?;
            }
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&mut *tx).await?;
            // SQLite has OFFSET only after a LIMIT (-1: none).
            sqlx::query(if is_postgres {
                "DELETE FROM sessions WHERE digest IN (SELECT digest FROM sessions WHERE user_id = $1 \
                 ORDER BY seen_at DESC, created_at DESC OFFSET $2)"
            } else {
                "DELETE FROM sessions WHERE digest IN (SELECT digest FROM sessions WHERE user_id = $1 \
                 ORDER BY seen_at DESC, created_at DESC LIMIT -1 OFFSET $2)"
            })
            .bind(new.user_id)
            .bind(MAX_SESSIONS_PER_USER - 1)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO sessions (digest, user_id, role, csrf, address, agent, created_at, seen_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)",
            )
            .bind(new.digest)
            .bind(new.user_id)
            .bind(new.role.as_str())
            .bind(new.csrf)
            .bind(new.address)
            .bind(new.agent)
            .bind(now)
            .bind(db_time(new.expires_at))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The unexpired session with this digest.
    pub async fn session(&self, digest: &str, now: OffsetDateTime) -> Result<Option<StoredSession>, StoreError> {
        let row: Option<(i64, String, String, OffsetDateTime, OffsetDateTime, OffsetDateTime)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT user_id, role, csrf, created_at, seen_at, expires_at FROM sessions \
                 WHERE digest = $1 AND expires_at > $2",
            )
            .bind(digest)
            .bind(db_time(now))
            .fetch_optional(pool)
            .await?
        });
        Ok(
            row.map(|(user_id, role, csrf, created_at, seen_at, expires_at)| StoredSession {
                user_id,
                role,
                csrf,
                created_at,
                seen_at,
                expires_at,
            }),
        )
    }

    /// Records that the session was used at `now`, keeping it until `expires_at`.
    pub async fn touch_session(
        &self,
        digest: &str,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE sessions SET seen_at = $1, expires_at = $2 WHERE digest = $3")
                .bind(db_time(now))
                .bind(db_time(expires_at))
                .bind(digest)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Ends the session with this digest.
    pub async fn end_session(&self, digest: &str) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE digest = $1").bind(digest).execute(pool).await?;
        });
        Ok(())
    }

    /// Ends every session of account `user_id`; returns how many.
    pub async fn end_sessions(&self, user_id: i64) -> Result<u64, StoreError> {
        let done = with_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(pool).await?.rows_affected()
        });
        Ok(done)
    }

    /// How many unexpired sessions account `user_id` has.
    pub async fn count_sessions(&self, user_id: i64, now: OffsetDateTime) -> Result<i64, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND expires_at > $2")
                .bind(user_id)
                .bind(db_time(now))
                .fetch_one(pool)
                .await?
        }))
    }

    /// Turns account `id`'s second step on with `secret` (base32), the
    /// code of `step` already used, and `recovery` (digests of codes) as
    /// its only recovery codes; or, with `None`, off, its codes gone.
    pub async fn set_two_step(
        &self,
        id: i64,
        secret: Option<(&str, i64)>,
        recovery: &[String],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let is_postgres = matches!(self.db, Db::Postgres(_));
        with_pool!(self, pool => {
            let mut tx = begin_write!(pool, is_postgres);
            sqlx::query("UPDATE users SET totp_secret = $1, totp_last_step = $2, updated_at = $3 WHERE id = $4")
                .bind(secret.map(|s| s.0))
                .bind(secret.map_or(0, |s| s.1))
                .bind(db_time(now))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
            for digest in recovery {
                sqlx::query("INSERT INTO recovery_codes (digest, user_id) VALUES ($1, $2)")
                    .bind(digest)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Account `id`'s second-step secret, if it has one.
    pub async fn two_step_secret(&self, id: i64) -> Result<Option<String>, StoreError> {
        let secret: Option<Option<String>> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT totp_secret FROM users WHERE id = $1").bind(id).fetch_optional(pool).await?
        });
        Ok(secret.flatten())
    }

    /// Takes the code of time step `step` for account `id`: true once,
    /// false for that step or any earlier one again (RFC 6238 §5.2).
    pub async fn take_two_step(&self, id: i64, step: i64) -> Result<bool, StoreError> {
        let done = with_pool!(self, pool => {
            sqlx::query("UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1")
                .bind(step)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done == 1)
    }

    /// Uses account `id`'s recovery code with this digest: true once.
    pub async fn use_recovery_code(&self, id: i64, digest: &str, now: OffsetDateTime) -> Result<bool, StoreError> {
        let done = with_pool!(self, pool => {
            sqlx::query("UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND digest = $3 AND used_at IS NULL")
                .bind(db_time(now))
                .bind(id)
                .bind(digest)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done == 1)
    }

    /// How many unused recovery codes account `id` has.
    pub async fn recovery_codes_left(&self, id: i64) -> Result<i64, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
                .bind(id)
                .fetch_one(pool)
                .await?
        }))
    }

    /// Writes one line of the audit log.
    pub async fn audit(&self, entry: &AuditEntry<'_>) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO audit_log (at, user_id, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(db_time(entry.at))
            .bind(entry.user_id)
            .bind(entry.actor)
            .bind(entry.action)
            .bind(entry.subject)
            .bind(entry.detail)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The audit log, newest first: `limit` lines older than line `before`
    /// (from the newest without it).
    pub async fn audit_log(&self, before: Option<i64>, limit: i64) -> Result<Vec<AuditRecord>, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, at, actor, action, subject, detail FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT $2",
            )
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }
}
