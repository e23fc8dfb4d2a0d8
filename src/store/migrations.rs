//! The schema, one folder of SQL files per back end, embedded in the binary
//! and applied in order on start (sqlx records what ran).

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, SqlSafeStr};
use std::borrow::Cow;

/// (version, description, SQLite text, PostgreSQL text), oldest first.
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "content",
        include_str!("../../migrations/sqlite/0001_content.sql"),
        include_str!("../../migrations/postgres/0001_content.sql"),
    ),
    (
        2,
        "search and translations",
        include_str!("../../migrations/sqlite/0002_search_translations.sql"),
        include_str!("../../migrations/postgres/0002_search_translations.sql"),
    ),
];

fn migrator(pick: fn(&(i64, &'static str, &'static str, &'static str)) -> &'static str) -> Migrator {
    let migrations = MIGRATIONS
        .iter()
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
