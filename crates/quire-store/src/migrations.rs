//! The schema, one folder of SQL files per back end, embedded in the binary
//! and applied in order on start (sqlx records what ran).

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, SqlSafeStr};
use std::borrow::Cow;

/// (version, description, SQLite text, PostgreSQL text), oldest first. An
/// empty text: that back end has nothing to do at that version.
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "content",
        include_str!("../migrations/sqlite/0001_content.sql"),
        include_str!("../migrations/postgres/0001_content.sql"),
    ),
    (
        2,
        "search and translations",
        include_str!("../migrations/sqlite/0002_search_translations.sql"),
        include_str!("../migrations/postgres/0002_search_translations.sql"),
    ),
    (
        3,
        "search by recency",
        // SQLite's FTS5 reads matches newest first by itself.
        "",
        include_str!("../migrations/postgres/0003_search_recency.sql"),
    ),
    (
        4,
        "search by word pairs and recency levels",
        // FTS5 checks phrases from its own positions, cheaply.
        "",
        include_str!("../migrations/postgres/0004_search_pairs_levels.sql"),
    ),
    (
        5,
        "paper images",
        include_str!("../migrations/sqlite/0005_media.sql"),
        include_str!("../migrations/postgres/0005_media.sql"),
    ),
    (
        6,
        "comments",
        include_str!("../migrations/sqlite/0006_comments.sql"),
        include_str!("../migrations/postgres/0006_comments.sql"),
    ),
    (
        7,
        "site keys",
        include_str!("../migrations/sqlite/0007_site_keys.sql"),
        include_str!("../migrations/postgres/0007_site_keys.sql"),
    ),
    (
        8,
        "subscribers",
        include_str!("../migrations/sqlite/0008_subscribers.sql"),
        include_str!("../migrations/postgres/0008_subscribers.sql"),
    ),
    (
        9,
        "campaigns and the mail outbox",
        include_str!("../migrations/sqlite/0009_outbox.sql"),
        include_str!("../migrations/postgres/0009_outbox.sql"),
    ),
    (
        10,
        "subscriber link versions and used confirmation links",
        include_str!("../migrations/sqlite/0010_link_keys.sql"),
        include_str!("../migrations/postgres/0010_link_keys.sql"),
    ),
    (
        11,
        "the papers' trash",
        include_str!("../migrations/sqlite/0011_trash.sql"),
        include_str!("../migrations/postgres/0011_trash.sql"),
    ),
    (
        12,
        "notices written when they are sent",
        include_str!("../migrations/sqlite/0012_outbox_notices.sql"),
        include_str!("../migrations/postgres/0012_outbox_notices.sql"),
    ),
    (
        13,
        "campaigns queued when their paper goes public",
        include_str!("../migrations/sqlite/0013_publish_campaigns.sql"),
        include_str!("../migrations/postgres/0013_publish_campaigns.sql"),
    ),
    (
        14,
        "authors' ORCID iDs",
        include_str!("../migrations/sqlite/0014_orcid.sql"),
        include_str!("../migrations/postgres/0014_orcid.sql"),
    ),
    (
        15,
        "accounts, sessions, set-password links and the audit log",
        include_str!("../migrations/sqlite/0015_accounts.sql"),
        include_str!("../migrations/postgres/0015_accounts.sql"),
    ),
    (
        16,
        "papers in title order",
        include_str!("../migrations/sqlite/0016_title_order.sql"),
        include_str!("../migrations/postgres/0016_title_order.sql"),
    ),
    (
        17,
        "paper revisions and review",
        include_str!("../migrations/sqlite/0017_revisions.sql"),
        include_str!("../migrations/postgres/0017_revisions.sql"),
    ),
];

fn migrator(pick: fn(&(i64, &'static str, &'static str, &'static str)) -> &'static str) -> Migrator {
    migrator_up_to(i64::MAX, pick)
}

/// The migrations up to `version` only: tests start from old schemas.
pub(super) fn migrator_up_to(
    version: i64,
    pick: fn(&(i64, &'static str, &'static str, &'static str)) -> &'static str,
) -> Migrator {
    let migrations = MIGRATIONS
        .iter()
        .filter(|m| m.0 <= version && !pick(m).is_empty())
        .map(|m| {
            Migration::new(
                m.0,
                Cow::Borrowed(m.1),
                MigrationType::Simple,
                AssertSqlSafe(pick(m)).into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

/// Migrations for the SQLite back end.
pub fn sqlite() -> Migrator {
    migrator(|m| m.2)
}

/// Migrations for the PostgreSQL back end.
pub fn postgres() -> Migrator {
    migrator(|m| m.3)
}

#[cfg(test)]
mod docs_tests {
    /// Operators back up what docs/backups.md says the database holds:
    /// every table either back end creates must be named there.
    #[test]
    fn the_backup_guide_names_every_table() {
        let guide = include_str!("../../../docs/backups.md");
        for (_, _, sqlite, postgres) in super::MIGRATIONS {
            for sql in [sqlite, postgres] {
                for rest in sql
                    .split("CREATE TABLE ")
                    .skip(1)
                    .chain(sql.split("CREATE VIRTUAL TABLE ").skip(1))
                {
                    let name = rest
                        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .next()
                        .unwrap_or("");
                    if name.is_empty() || name == "IF" {
                        continue;
                    }
                    assert!(
                        guide.contains(&format!("`{name}`")),
                        "docs/backups.md does not name the table {name}"
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Db, Store};
    use sqlx::sqlite::SqliteConnectOptions;
    use std::str::FromStr;

    #[tokio::test]
    async fn papers_stored_before_search_are_moved_and_indexed() {
        let dir = tempfile::tempdir().expect("dir");
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", dir.path().join("q.db").display()))
            .expect("url")
            .create_if_missing(true);
        let pool = super::super::sqlite_pool(options).await.expect("open");
        super::migrator_up_to(1, |m| m.2).run(&pool).await.expect("schema 1");
        sqlx::query(
            "INSERT INTO papers (slug, title, kind, summary, body, language, status, published_at, word_count, \
             created_at, updated_at) VALUES ('old', 'Old harbours', 'report', 'Sum.', '## Kept\n\nThe *lighthouse* text.', \
             'en', 'published', '2020-01-01T00:00:00Z', 4, '2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z')",
        )
        .execute(&pool)
        .await
        .expect("old paper");
        let store = Store { db: Db::Sqlite(pool) };
        store.migrate().await.expect("migrate to now");
        let paper = store.get_paper("old").await.expect("read").expect("kept");
        assert_eq!(paper.body, "## Kept\n\nThe *lighthouse* text.");
        assert_eq!(paper.meta.translation_of, None);
        let found = store
            .search(&super::super::SearchQuery {
                terms: super::super::SearchTerms::parse("lighthouse"),
                filter: super::super::PaperQuery::all(),
            })
            .await
            .expect("search");
        assert_eq!(found.total, 1, "the old paper was indexed on start");
        store.migrate().await.expect("running again changes nothing");
    }
}
