//! The site over HTTP without a socket: `app(state)` answering requests
//! against a real SQLite file, with the standard set of papers.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use quire_app::config::Config;
use quire_core::domain::{PaperInput, Status};
use quire_render::Theme;
use quire_store::{AddOptions, Store};
use quire_web::{AppState, app};
use time::OffsetDateTime;
use tower::ServiceExt;

pub struct Site {
    pub state: AppState,
    pub store: Store,
    pub _keep: Keep,
}

/// What a test site's database lives in, kept until the test ends.
pub enum Keep {
    Dir(tempfile::TempDir),
    Pg(super::PgGuard),
}

pub fn days_ago(n: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc() - time::Duration::days(n)
}

pub async fn site_with(papers: Vec<PaperInput>, config: Config) -> Site {
    let (store, dir) = super::sqlite_store().await;
    site_on(store, Keep::Dir(dir), papers, config).await
}

/// A site on PostgreSQL when QUIRE_TEST_POSTGRES_URL is set (in a schema
/// of its own, named after `test`), on SQLite otherwise: HTTP tests written
/// once run on both back ends.
pub async fn site_on_either(test: &str, papers: Vec<PaperInput>, config: Config) -> Site {
    if std::env::var_os("QUIRE_TEST_POSTGRES_URL").is_some()
        && let Some(db) = super::PgTestDb::create(test).await
    {
        let store = db.store().await;
        return site_on(store, Keep::Pg(super::PgGuard::new(db)), papers, config).await;
    }
    site_with(papers, config).await
}

async fn site_on(store: Store, keep: Keep, papers: Vec<PaperInput>, config: Config) -> Site {
    store
        .upsert_author(&super::author("ada", "Ada Lovelace"))
        .await
        .expect("author");
    store
        .upsert_author(&super::author("alan", "Alan Turing"))
        .await
        .expect("author");
    store
        .upsert_topic(&super::topic("trade", "Trade"))
        .await
        .expect("topic");
    store
        .add_papers(
            &papers,
            AddOptions {
                create_missing: true,
                replace: false,
                ..AddOptions::default()
            },
        )
        .await
        .expect("papers");
    let state = AppState::new(store.clone(), config, Theme::embedded().expect("theme"));
    Site {
        state,
        store,
        _keep: keep,
    }
}

pub fn standard_papers() -> Vec<PaperInput> {
    let mut ports = super::paper("ports", days_ago(2), &["ada", "alan"], &["trade"]);
    ports.title = "Ports and Harbours".into();
    ports.kind = "policy brief".into();
    ports.body = "Intro.[^1]\n\n## One\n\nText.\n\n## Two\n\nMore.\n\n## Three\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<script>alert(1)</script>\n\n[^1]: The note.\n".into();
    let mut hebrew = super::paper("namal", days_ago(3), &["ada"], &["trade"]);
    hebrew.title = "מדיניות נמלים".into();
    hebrew.language = "he".into();
    let mut draft = super::paper("secret-draft", days_ago(1), &["ada"], &["trade"]);
    draft.status = Status::Draft;
    draft.title = "Secret Draft".into();
    let mut future = super::paper("future", days_ago(-3), &["ada"], &["trade"]);
    future.status = Status::Scheduled;
    future.title = "Future Paper".into();
    let old = super::paper("old", days_ago(800), &["alan"], &[]);
    vec![ports, hebrew, draft, future, old]
}

pub async fn standard_site() -> Site {
    site_with(standard_papers(), Config::default()).await
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub async fn request(state: &AppState, method: &str, uri: &str, headers: &[(&str, &str)]) -> Reply {
    send(
        state,
        Request::builder().method(method).uri(uri),
        headers,
        Body::empty(),
    )
    .await
}

/// A form POST with a urlencoded `body`.
pub async fn post_form(state: &AppState, uri: &str, body: &str, headers: &[(&str, &str)]) -> Reply {
    let req = Request::builder()
        .method("POST")
        .uri(uri)
        .header("content-type", "application/x-www-form-urlencoded");
    send(state, req, headers, Body::from(body.to_owned())).await
}

/// A `multipart/form-data` POST: `fields` as text parts, then `file` as
/// (field name, file name, bytes).
pub async fn post_multipart(
    state: &AppState,
    uri: &str,
    fields: &[(&str, &str)],
    file: (&str, &str, &[u8]),
    headers: &[(&str, &str)],
) -> Reply {
    const BOUNDARY: &str = "quire-test-boundary-7MA4YWxkTrZu0gW";
    let mut body: Vec<u8> = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n",
            file.0, file.1
        )
        .as_bytes(),
    );
    body.extend_from_slice(file.2);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let req = Request::builder()
        .method("POST")
        .uri(uri)
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"));
    send(state, req, headers, Body::from(body)).await
}

async fn send(state: &AppState, mut req: axum::http::request::Builder, headers: &[(&str, &str)], body: Body) -> Reply {
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = app(state.clone())
        .oneshot(req.body(body).expect("request"))
        .await
        .expect("infallible");
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.expect("body").to_bytes().to_vec();
    Reply { status, headers, body }
}

pub async fn get(state: &AppState, uri: &str) -> Reply {
    request(state, "GET", uri, &[]).await
}
