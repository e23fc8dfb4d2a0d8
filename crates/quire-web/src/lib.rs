//! The HTTP side: `app(state) -> Router` with every route in one place,
//! the shared `AppState`, the page cache and its upkeep, and the mapping of
//! errors to pages. Handlers fetch data from the store and hand it to
//! `render`; they hold no business rules.

mod admin;
pub mod cache;
pub mod client;
mod comment_form;
pub mod comments;
mod discovery;
mod forms;
pub mod headers;
mod newsletter;
mod pages;
mod pdf;
mod plumbing;
mod search;
pub mod server;

#[cfg(test)]
mod properties;

use quire_core::signing;

use arc_swap::ArcSwap;
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Response, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use axum::routing::get;
use cache::{CachedPage, PageCache, RenderedPage};
use quire_app::App;
use quire_app::config::Config;
use quire_render::{self as render, SiteView, Theme};
use quire_store::{Store, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::Notify;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Longest request target (path and query) served; longer gets 414.
pub const MAX_URI_BYTES: usize = 2048;
/// The search page reads long queries (and says it shortened them) rather
/// than refusing them.
pub const MAX_SEARCH_URI_BYTES: usize = 32 * 1024;

/// What pages are made with that the settings decide, swapped whole
/// when they are reloaded.
struct WebLive {
    site: Arc<SiteView>,
    /// The headers every response carries.
    security: Arc<headers::SecurityHeaders>,
    /// The proxies whose forwarding header names the client.
    proxies: Arc<client::TrustedProxies>,
}

impl WebLive {
    fn new(config: &Config, theme: &Theme) -> WebLive {
        WebLive {
            site: Arc::new(config.site_view(&theme.assets)),
            security: Arc::new(headers::SecurityHeaders::new(&config.base())),
            proxies: Arc::new(client::TrustedProxies::new(
                &config.http.trusted_proxies,
                &config.http.forwarded_header,
            )),
        }
    }
}

/// Everything a handler needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub theme: Arc<Theme>,
    pub cache: Arc<PageCache>,
    /// The search form's filter choices and the cache generation they
    /// were built at.
    facets: Arc<std::sync::Mutex<Option<search::FacetsAt>>>,
    /// Theme files by served (hashed) name, compressed once at start.
    assets: Arc<std::collections::HashMap<String, Arc<CachedPage>>>,
    /// Typesets papers' PDFs.
    pdf: Arc<pdf::PdfMaker>,
    /// The operations handlers call, and what they share (signers, mail,
    /// limiters).
    pub app: App,
    live: Arc<ArcSwap<WebLive>>,
    /// The admin's templates.
    admin: Arc<render::admin::AdminPages>,
}

impl AppState {
    /// The state for serving `store` with `config` (relative paths in it
    /// read from the current folder).
    pub fn new(store: Store, config: Config, theme: Theme) -> AppState {
        AppState::with_app(App::new(store, config, std::path::Path::new(".")), theme)
    }

    /// The state for serving `app`'s site with `theme`.
    pub fn with_app(app: App, theme: Theme) -> AppState {
        let config = app.config();
        let live = WebLive::new(&config, &theme);
        let pdf = Arc::new(pdf::PdfMaker::new(theme.pdf_template.clone()));
        let budget = usize::try_from(config.http.page_cache_mb).unwrap_or(64) * 1024 * 1024;
        let assets = theme
            .assets
            .served()
            .map(|(served, a)| {
                let page = CachedPage::asset(a.bytes.clone(), a.content_type, render::compressible(a.content_type));
                (served.to_owned(), Arc::new(page))
            })
            .collect();
        let admin = render::admin::AdminPages::new(&theme.assets)
            .expect("the admin's embedded templates compile (checked by their tests)");
        AppState {
            admin: Arc::new(admin),
            store: app.store.clone(),
            theme: Arc::new(theme),
            cache: Arc::new(PageCache::new(budget)),
            facets: Arc::new(std::sync::Mutex::new(None)),
            pdf,
            assets: Arc::new(assets),
            app,
            live: Arc::new(ArcSwap::from_pointee(live)),
        }
    }

    /// The settings in force (see [`App::config`]).
    pub fn config(&self) -> Arc<Config> {
        self.app.config()
    }

    /// The site as pages show it, under the settings in force.
    pub fn site(&self) -> Arc<SiteView> {
        self.live.load().site.clone()
    }

    /// Puts `config` in force for pages, operations and (through the
    /// caller) the mail sender, and empties the page cache so that every
    /// page is made again with it; returns the keys whose values changed.
    pub fn reload(&self, config: Config) -> Vec<&'static str> {
        let live = WebLive::new(&config, &self.theme);
        let changed = self.app.reload(config);
        self.live.store(Arc::new(live));
        self.cache.invalidate();
        changed
    }

    /// The address of the client that sent `request` (through trusted
    /// proxies, the one they name).
    pub fn client_ip(&self, request: &Request) -> std::net::IpAddr {
        self.live
            .load()
            .proxies
            .client(client::peer(request.extensions()), request.headers())
    }

    /// `client_ip` for a request taken apart by extractors.
    fn client_addr(&self, parts: &axum::http::request::Parts) -> std::net::IpAddr {
        self.live
            .load()
            .proxies
            .client(client::peer(&parts.extensions), &parts.headers)
    }

    /// The answer to a plain GET that a cached page or a theme file gives
    /// whole, with no routing: the request names exactly a cache key (a
    /// path without a query; keys are canonical paths), and carries no
    /// held-comments cookie (that reader's paper pages are their own).
    /// Anything else, or a page not cached yet, goes to the router, which
    /// gives the same answer the slow way.
    pub fn ready_answer(
        &self,
        method: &axum::http::Method,
        uri: &axum::http::Uri,
        headers: &axum::http::HeaderMap,
    ) -> Option<cache::Answer> {
        if method != axum::http::Method::GET || uri.query().is_some() {
            return None;
        }
        let path = uri.path();
        let page = match path.strip_prefix("/assets/") {
            Some(file) => self.assets.get(file).cloned()?,
            None if comments::cookie_present(headers) => return None,
            None => self.cache.get(path)?,
        };
        Some(page.answer_with(headers, self.live.load().security.beyond_cached_pages()))
    }

    /// The signer for comment forms and cookies.
    async fn signer(&self) -> Result<&signing::Signer, PageError> {
        Ok(self.app.comment_signer().await?)
    }
}

/// The whole site as a router; tests call it without a socket.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/papers/{slug}/", get(pages::paper))
        .route(
            "/papers/{slug}/comments",
            axum::routing::post(comment_form::post_comment),
        )
        .route("/papers/{slug}/comments/token", get(comment_form::fresh_token))
        .route("/papers/{slug}/comments/page", get(comment_form::comment_page))
        .route("/papers/{slug}/{*file}", get(discovery::paper_file))
        .route("/papers/{slug}", get(pages::paper_or_pdf))
        .route("/papers/", get(pages::to_archive))
        .route("/papers", get(pages::to_archive))
        .route("/authors/", get(pages::authors))
        .route("/authors", get(pages::add_slash))
        .route("/authors/{slug}/", get(pages::author))
        .route("/authors/{slug}/{file}", get(discovery::author_feed))
        .route("/authors/{slug}", get(pages::add_slash))
        .route("/topics/", get(pages::topics))
        .route("/topics", get(pages::add_slash))
        .route("/topics/{slug}/", get(pages::topic))
        .route("/topics/{slug}/{file}", get(discovery::topic_feed))
        .route("/topics/{slug}", get(pages::add_slash))
        .route("/archive/", get(pages::archive))
        .route("/archive", get(pages::add_slash))
        .route("/assets/{*file}", get(pages::asset))
        .route("/feed.atom", get(discovery::site_feed_atom))
        .route("/feed.rss", get(discovery::site_feed_rss))
        .route("/feed.json", get(discovery::site_feed_json))
        .route("/comments.atom", get(discovery::site_comments_feed))
        .route("/feed/", get(discovery::wordpress_feed))
        .route("/feed", get(discovery::wordpress_feed))
        .route("/sitemap.xml", get(discovery::sitemap))
        .route("/sitemaps/{file}", get(discovery::sitemap_file))
        .route("/robots.txt", get(discovery::robots))
        .route("/search", get(search::search))
        .route("/search/", get(pages::to_search))
        .route("/healthz", get(pages::health))
        .route("/readyz", get(pages::ready))
        .route(
            "/subscribe",
            get(newsletter::subscribe_form).post(newsletter::subscribe),
        )
        .route("/subscribe/", get(pages::to_subscribe))
        .route(
            "/subscribe/confirm",
            get(newsletter::confirm_page).post(newsletter::confirm),
        )
        .route(
            "/newsletter/preferences",
            get(newsletter::preferences).post(newsletter::save_preferences),
        )
        .route(
            "/newsletter/preferences/link",
            axum::routing::post(newsletter::fresh_preferences_link),
        )
        .route(
            "/newsletter/unsubscribe",
            get(newsletter::unsubscribe_page).post(newsletter::unsubscribe),
        )
        .route("/admin/login", get(admin::door::login_page).post(admin::door::login))
        .route(
            "/admin/password",
            get(admin::door::password_page).post(admin::door::set_password),
        )
        .route(
            "/admin/login/code",
            get(admin::door::code_page).post(admin::door::login_code),
        )
        .route("/admin/forgot", get(admin::door::forgot_page).post(admin::door::forgot))
        .route("/admin", get(admin_home))
        .merge(
            Router::new()
                .route("/admin/", get(admin::dashboard::dashboard))
                .route("/admin/logout", axum::routing::post(admin::door::logout))
                .route("/admin/papers", get(admin::papers::papers))
                .route("/admin/papers/bulk", axum::routing::post(admin::papers::bulk))
                .route("/admin/papers/new", get(admin::editor::new_paper))
                .route("/admin/papers/save", axum::routing::post(admin::editor::save))
                .route("/admin/papers/preview", axum::routing::post(admin::editor::preview))
                .route("/admin/papers/{slug}/edit", get(admin::editor::edit_paper))
                .route("/admin/papers/{slug}/revisions", get(admin::editor::revisions))
                .route(
                    "/admin/papers/{slug}/images",
                    axum::routing::post(admin::editor::upload_image)
                        .layer(axum::extract::DefaultBodyLimit::max(admin::editor::MAX_UPLOAD_BYTES)),
                )
                .route("/admin/papers/{slug}/pdf", get(admin::editor::draft_pdf))
                .route(
                    "/admin/papers/{slug}/revisions/restore",
                    axum::routing::post(admin::editor::restore),
                )
                .route("/admin/authors", get(admin::bylines::authors))
                .route("/admin/authors/save", axum::routing::post(admin::bylines::save_author))
                .route(
                    "/admin/authors/merge",
                    axum::routing::post(admin::bylines::merge_authors),
                )
                .route("/admin/topics", get(admin::bylines::topics))
                .route("/admin/topics/save", axum::routing::post(admin::bylines::save_topic))
                .route("/admin/topics/merge", axum::routing::post(admin::bylines::merge_topics))
                .route("/admin/comments", get(admin::comments::queue))
                .route(
                    "/admin/comments/moderate",
                    axum::routing::post(admin::comments::moderate),
                )
                .route("/admin/users", get(admin::users::users))
                .route("/admin/users/invite", axum::routing::post(admin::users::invite))
                .route("/admin/users/role", axum::routing::post(admin::users::set_role))
                .route("/admin/users/reset", axum::routing::post(admin::users::reset))
                .route("/admin/users/disable", axum::routing::post(admin::users::disable))
                .route("/admin/users/enable", axum::routing::post(admin::users::enable))
                .route("/admin/audit", get(admin::users::audit))
                .route("/admin/account", get(admin::account::account))
                .route(
                    "/admin/account/two-step",
                    get(admin::account::start_two_step).post(admin::account::finish_two_step),
                )
                .route(
                    "/admin/account/two-step/off",
                    axum::routing::post(admin::account::two_step_off),
                )
                .route(
                    "/admin/account/password",
                    axum::routing::post(admin::account::change_password),
                )
                .route(
                    "/admin/logout-everywhere",
                    axum::routing::post(admin::door::logout_everywhere),
                )
                .route_layer(middleware::from_fn_with_state(
                    state.clone(),
                    admin::session::require_session,
                )),
        )
        .fallback(pages::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), themed_failures))
        .with_state(state.clone())
        .layer(middleware::from_fn(limit_uri))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(RequestBodyLimitLayer::new(1024 * 1024))
        .layer(middleware::map_response_with_state(
            state.live.clone(),
            add_security_headers,
        ))
        .layer(TraceLayer::new_for_http())
}

/// Puts the security headers on every response, errors and redirects too.
async fn admin_home() -> Response<Body> {
    plumbing::see_other("/admin/")
}

async fn add_security_headers(
    axum::extract::State(live): axum::extract::State<Arc<ArcSwap<WebLive>>>,
    mut response: Response<Body>,
) -> Response<Body> {
    live.load().security.apply(response.headers_mut());
    response
}

/// Refuses overlong request targets before any routing or lookup.
async fn limit_uri(request: Request, next: Next) -> Response<Body> {
    let uri = request.uri();
    let len = uri.path().len() + uri.query().map_or(0, |q| q.len() + 1);
    let limit = if uri.path() == "/search" {
        MAX_SEARCH_URI_BYTES
    } else {
        MAX_URI_BYTES
    };
    if len > limit {
        return Response::builder()
            .status(StatusCode::URI_TOO_LONG)
            .header(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )
            .body(Body::from("The address is too long.\n"))
            .unwrap_or_default();
    }
    next.run(request).await
}

/// Why a page could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("not found")]
    NotFound,
    /// There is such a paper, but readers may not see it (a draft, or
    /// scheduled for later): answered as not found, and remembered by the
    /// cache until content changes, so that its address does not reach
    /// the database on every request.
    #[error("not public")]
    NotPublic,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    App(quire_app::AppError),
    #[error(transparent)]
    Render(#[from] render::RenderError),
    #[error("the PDF could not be made: {0}")]
    Pdf(#[from] pdf::PdfFailure),
    /// A blocking task (rendering) panicked or was cancelled.
    #[error("a rendering task stopped: {0}")]
    Worker(String),
}

impl From<quire_app::AppError> for PageError {
    fn from(e: quire_app::AppError) -> Self {
        match e {
            quire_app::AppError::NotFound { .. } => PageError::NotFound,
            quire_app::AppError::Store(e) => PageError::Store(e),
            e => PageError::App(e),
        }
    }
}

/// A failed handler's error, carried by its bare answer until
/// `themed_failures` turns it into the site's page.
#[derive(Clone)]
struct Failed(Arc<PageError>);

/// Every handler's errors become pages in one place: a bare 404 or 500
/// that carries the error, which `themed_failures` (a layer with the
/// state) replaces with the themed, cached 404 page or a 500 page with a
/// request id.
impl IntoResponse for PageError {
    fn into_response(self) -> Response<Body> {
        let status = match self {
            PageError::NotFound | PageError::NotPublic => StatusCode::NOT_FOUND,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut response = status.into_response();
        response.extensions_mut().insert(Failed(Arc::new(self)));
        response
    }
}

/// Replaces the answer of a handler that failed with the site's page for
/// it (see `IntoResponse for PageError`).
async fn themed_failures(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: Request,
    next: Next,
) -> Response<Body> {
    let headers = request.headers().clone();
    let response = next.run(request).await;
    let Some(Failed(error)) = response.extensions().get::<Failed>() else {
        return response;
    };
    match **error {
        PageError::NotFound | PageError::NotPublic => state.not_found_page(&headers).await,
        ref e => state.error_page(e),
    }
}

/// Runs `work` on a blocking thread and waits for its result. Rendering
/// and compressing take time in proportion to what they make (a long
/// paper, a feed of full texts, a sitemap of 50,000 addresses, a paper's
/// thousands of comments): on an async worker, that time would hold up
/// every request waiting for the same worker, `/healthz` included.
pub(crate) async fn off_async<T, F>(work: F) -> Result<T, PageError>
where
    F: FnOnce() -> Result<T, PageError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| PageError::Worker(e.to_string()))?
}

static REQUEST_IDS: AtomicU64 = AtomicU64::new(0);

/// A short id that ties a reader's error page to the log line.
fn next_request_id() -> String {
    let n = REQUEST_IDS.fetch_add(1, Ordering::Relaxed);
    let t = OffsetDateTime::now_utc().unix_timestamp();
    format!("{t:x}-{n:x}")
}

impl AppState {
    /// Serves the HTML page `key` from the cache, or builds, caches and
    /// serves it.
    async fn cached<F, Fut>(&self, request: &axum::http::HeaderMap, key: String, build: F) -> Response<Body>
    where
        F: FnOnce(AppState) -> Fut,
        Fut: std::future::Future<Output = Result<String, PageError>>,
    {
        self.cached_file(request, key, |state| async move {
            build(state).await.map(|html| RenderedPage::html(StatusCode::OK, html))
        })
        .await
    }

    /// Serves `key` (a page, feed, sitemap or download) from the cache, or
    /// builds, caches and serves it.
    async fn cached_file<F, Fut>(&self, request: &axum::http::HeaderMap, key: String, build: F) -> Response<Body>
    where
        F: FnOnce(AppState) -> Fut,
        Fut: std::future::Future<Output = Result<RenderedPage, PageError>>,
    {
        self.cached_page(request, key, |state| async move {
            let rendered = build(state).await?;
            // Compressing (brotli and gzip) costs in proportion to the page.
            off_async(move || Ok(CachedPage::new(rendered, OffsetDateTime::now_utc()))).await
        })
        .await
    }

    /// Serves `key` from the cache, or builds it as a ready `CachedPage`
    /// (binary files such as PDFs too), caches and serves it.
    async fn cached_page<F, Fut>(&self, request: &axum::http::HeaderMap, key: String, build: F) -> Response<Body>
    where
        F: FnOnce(AppState) -> Fut,
        Fut: std::future::Future<Output = Result<CachedPage, PageError>>,
    {
        if let Some(page) = self.cache.get(&key) {
            return page.respond(request);
        }
        let _turn = self.cache.build_turn(&key).await;
        if let Some(page) = self.cache.get(&key) {
            return page.respond(request);
        }
        let generation = self.cache.generation();
        match build(self.clone()).await {
            Ok(page) => {
                let page = Arc::new(page);
                self.cache.insert(generation, key, page.clone());
                page.respond(request)
            }
            Err(PageError::NotFound) => self.not_found_page(request).await,
            Err(PageError::NotPublic) => match self.not_found_cached().await {
                // Kept under the address too: such addresses are as many
                // as the papers waiting, not as many as strangers can make.
                Ok(page) => {
                    self.cache.insert(generation, key, page.clone());
                    page.respond(request)
                }
                Err(e) => self.error_page(&e),
            },
            Err(e) => self.error_page(&e),
        }
    }

    /// The paper `slug` if a reader may see it at `now`; drafts and papers
    /// not yet due are not found.
    async fn public_paper(&self, slug: &str, now: OffsetDateTime) -> Result<quire_core::domain::Paper, PageError> {
        match self.store.get_paper(slug).await? {
            Some(paper) if paper.meta.is_public_at(now) => Ok(paper),
            Some(_) => Err(PageError::NotPublic),
            None => Err(PageError::NotFound),
        }
    }

    /// The 404 page, itself cached: one page serves every unknown address.
    async fn not_found_page(&self, request: &axum::http::HeaderMap) -> Response<Body> {
        match self.not_found_cached().await {
            Ok(page) => page.respond(request),
            Err(e) => self.error_page(&e),
        }
    }

    async fn not_found_cached(&self) -> Result<Arc<CachedPage>, PageError> {
        const KEY: &str = "\u{0}not-found";
        if let Some(page) = self.cache.get(KEY) {
            return Ok(page);
        }
        let generation = self.cache.generation();
        let html = pages::build_not_found(self).await?;
        let page = Arc::new(CachedPage::new(
            RenderedPage::html(StatusCode::NOT_FOUND, html),
            OffsetDateTime::now_utc(),
        ));
        self.cache.insert(generation, KEY.to_owned(), page.clone());
        Ok(page)
    }

    /// A 500 page with a request id; the detail goes to the log only.
    fn error_page(&self, error: &PageError) -> Response<Body> {
        let id = next_request_id();
        tracing::error!(request_id = %id, error = %error, "page failed");
        let html = render::render_error(&self.theme, &self.site(), &id).unwrap_or_else(|_| {
            format!("<!DOCTYPE html><title>Error</title><p>Something went wrong. Reference: {id}</p>")
        });
        Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .header(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )
            .header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
            .body(Body::from(html))
            .unwrap_or_default()
    }
}

/// Keeps the cache true: clears it when any process writes content, and
/// when a scheduled paper's time comes.
pub fn spawn_cache_upkeep(state: &AppState) -> Vec<tokio::task::JoinHandle<()>> {
    let changed = Arc::new(Notify::new());
    let cache = state.cache.clone();
    let notify = changed.clone();
    let watcher = state.store.watch_changes(Duration::from_millis(200), move || {
        cache.invalidate();
        notify.notify_one();
    });
    let store = state.store.clone();
    let cache = state.cache.clone();
    let scheduler = tokio::spawn(async move {
        // Cached pages may be stale for any paper due after `checked`,
        // the last time this task cleared the cache (or started). Asking
        // for papers due after it, not after now, finds a paper written
        // while no change was seen even once its time has passed.
        let mut checked = OffsetDateTime::now_utc();
        let next_due = |after: OffsetDateTime| {
            let store = store.clone();
            async move {
                store.next_publication_after(after).await.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "cannot read the publication schedule");
                    None
                })
            }
        };
        let mut due = next_due(checked).await;
        // The schedule is also read again now and then: a write that lands
        // between this read and the watcher's first look sends no change.
        let mut ticks: u32 = 0;
        loop {
            tokio::select! {
                () = changed.notified() => due = next_due(checked).await,
                () = tokio::time::sleep(Duration::from_millis(500)) => {
                    ticks = ticks.wrapping_add(1);
                    let now = OffsetDateTime::now_utc();
                    if due.is_some_and(|t| t <= now) {
                        tracing::info!("a scheduled paper is due; refreshing pages");
                        cache.invalidate();
                        checked = now;
                        due = next_due(checked).await;
                    } else if ticks.is_multiple_of(10) {
                        due = next_due(checked).await;
                    }
                }
            }
        }
    });
    vec![watcher, scheduler]
}

/// Truncates commenters' IP addresses once the retention period
/// (`comment_ip_retention_days`) is over: at start, then every hour.
pub fn spawn_comment_upkeep(state: &AppState) -> tokio::task::JoinHandle<()> {
    let store = state.store.clone();
    let app = state.app.clone();
    tokio::spawn(async move {
        loop {
            let days = i64::from(app.config().comments.ip_retention_days);
            let before = OffsetDateTime::now_utc() - time::Duration::days(days);
            match store.truncate_comment_ips(before).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(comments = n, "truncated commenters' IP addresses past their retention"),
                Err(e) => tracing::warn!(error = %e, "cannot truncate commenters' IP addresses"),
            }
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    })
}

/// Deletes old confirmations and notices (they hold addresses of people
/// who may never have subscribed) 30 days after they went: at start, then
/// every hour.
pub fn spawn_mail_upkeep(state: &AppState) -> tokio::task::JoinHandle<()> {
    let store = state.store.clone();
    tokio::spawn(async move {
        loop {
            let before = OffsetDateTime::now_utc() - time::Duration::days(30);
            match store.purge_old_mail(before).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(messages = n, "deleted confirmations and notices older than 30 days"),
                Err(e) => tracing::warn!(error = %e, "cannot delete old confirmations and notices"),
            }
            if let Err(e) = store.purge_used_links(OffsetDateTime::now_utc()).await {
                tracing::warn!(error = %e, "cannot forget expired confirmation links");
            }
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    })
}

/// Starts this server's mail sender, which delivers what the outbox holds
/// (sign-up confirmations, notices, campaigns) alongside any other
/// server's; with no mailer, it waits for a mail server to be set.
pub async fn spawn_mail_sender(
    state: &AppState,
    mailer: Option<quire_mail::Mailer>,
) -> Option<(tokio::task::JoinHandle<()>, Arc<quire_mail::Sender>)> {
    match state.app.sender(mailer).await {
        Ok(sender) => {
            let sender = Arc::new(sender);
            Some((tokio::spawn(sender.clone().run()), sender))
        }
        Err(e) => {
            tracing::error!(error = %e, "mail cannot be sent: no signing key");
            None
        }
    }
}

/// Where a server's settings come from, so that it follows changes to
/// them as it follows the database.
pub struct SettingsFile {
    /// `quire.toml`, read again whenever its content changes.
    pub path: std::path::PathBuf,
    /// Reads the settings as the server was started with them: the file,
    /// the environment, and what the command line said.
    pub load: Box<dyn Fn() -> Result<Config, String> + Send + Sync>,
}

/// Watches `file` (its content, each second) and puts its settings in
/// force when they change: pages, operations and `sender` take them at
/// once, the log says which keys were reloaded and which need a restart
/// ([`quire_app::config::RESTART_KEYS`]), and a file with mistakes is
/// reported and changes nothing.
pub fn spawn_settings_watch(
    state: &AppState,
    sender: Option<Arc<quire_mail::Sender>>,
    file: SettingsFile,
) -> tokio::task::JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        let mut seen = tokio::fs::read(&file.path).await.ok();
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let now = tokio::fs::read(&file.path).await.ok();
            if now == seen {
                continue;
            }
            seen = now;
            let shown = file.path.display();
            let mut config = match (file.load)() {
                Ok(c) => c,
                Err(problems) => {
                    tracing::error!(
                        "{shown} changed but was not reloaded, the settings in force stay as they were: {problems}"
                    );
                    continue;
                }
            };
            let running = state.config();
            let restart: Vec<&str> = running
                .changed_keys(&config)
                .into_iter()
                .filter(|k| quire_app::config::RESTART_KEYS.contains(k))
                .collect();
            config.keep_restart_keys(&running);
            let reloaded = state.reload(config);
            if !reloaded.is_empty() {
                tracing::info!("reloaded settings from {shown}: {}", reloaded.join(", "));
            }
            if !restart.is_empty() {
                tracing::warn!(
                    "{shown}: {} changed, but a running server reads {} only at start: restart `quire serve` to apply",
                    restart.join(", "),
                    if restart.len() == 1 { "it" } else { "them" }
                );
            }
            let Some(sender) = &sender else { continue };
            if reloaded.iter().any(|k| k.starts_with("mail.")) {
                match state.app.mailer() {
                    Ok(mailer) => sender.set_mailer(Some(mailer)),
                    Err(quire_app::AppError::Mail(quire_mail::MailError::NotConfigured)) => sender.set_mailer(None),
                    Err(e) => tracing::error!("mail keeps going through the mail server set before: {e}"),
                }
            }
            if !reloaded.is_empty() {
                sender
                    .set_settings(state.app.mail_site(), state.app.sender_settings(None))
                    .await;
            }
        }
    })
}

/// Serves the site on `listener` until Ctrl-C or SIGTERM, then finishes
/// the requests under way; delivers mail meanwhile (through `mailer`, or
/// once a mail server is set), and follows changes to `settings`.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    mailer: Option<quire_mail::Mailer>,
    settings: Option<SettingsFile>,
) -> std::io::Result<()> {
    let mut upkeep = spawn_cache_upkeep(&state);
    upkeep.push(spawn_comment_upkeep(&state));
    upkeep.push(spawn_mail_upkeep(&state));
    let sender = match spawn_mail_sender(&state, mailer).await {
        Some((task, sender)) => {
            upkeep.push(task);
            Some(sender)
        }
        None => None,
    };
    if let Some(file) = settings {
        upkeep.push(spawn_settings_watch(&state, sender, file));
    }
    let limits = server::ServerLimits::from_config(&state.config());
    let fast_state = state.clone();
    let fast: server::FastPath = Arc::new(move |method, uri, headers| fast_state.ready_answer(method, uri, headers));
    let result = server::serve(listener, app(state), Some(fast), limits, shutdown_signal()).await;
    for task in upkeep {
        task.abort();
    }
    result
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
