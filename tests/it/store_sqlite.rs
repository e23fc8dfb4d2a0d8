//! The Store API suite on SQLite (a real database file).

use crate::common;

use quire_store::Store;

/// Keeps the SQLite file alive and opens more stores on it.
struct Guard {
    dir: tempfile::TempDir,
}

impl Guard {
    async fn second_store(&self) -> Store {
        let url = format!("sqlite://{}", self.dir.path().join("quire.db").display());
        Store::connect(&url).await.expect("second store")
    }
}

async fn open(_name: &str) -> Option<(Store, Guard)> {
    let (store, dir) = common::sqlite_store().await;
    Some((store, Guard { dir }))
}

crate::store_suite!(open);

#[tokio::test]
async fn sqlite_file_uses_wal() {
    let (store, dir) = common::sqlite_store().await;
    store.close().await;
    assert!(dir.path().join("quire.db").exists());
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
        "sqlite://{}",
        dir.path().join("quire.db").display()
    ))
    .await
    .expect("open");
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .expect("pragma");
    assert_eq!(mode, "wal");
}
