//! Quire's application layer: the site's settings (`config`), and one
//! function per thing a user does (add papers, publish, post and moderate
//! comments, sign up, send a campaign, erase personal data), on one
//! [`App`] built once. Every front door (the command line, the web pages,
//! the coming admin and API) parses its input, calls one operation, and
//! presents the result or the [`AppError`]. It sits above store, render,
//! mail and pdf, and below web and the binary.

pub mod accounts;
pub mod bylines;
pub mod clock;
pub mod comments;
pub mod config;
pub mod editing;
pub mod error;
pub mod limits;
pub mod newsletter;
pub mod paper_desk;
pub mod papers;
pub mod subscribers;
pub mod two_step;

pub use error::{AppError, PaperProblem, Remedy};

use arc_swap::ArcSwap;
use config::Config;
use limits::{Backoff, RateLimiter};
use quire_core::signing::Signer;
use quire_mail::compose::{Layouts, MailSite};
use quire_mail::notices::{NoticeWriter, Postbox};
use quire_mail::{Mailer, Sender, SenderSettings};
use quire_store::Store;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::{Notify, OnceCell, Semaphore};

/// The site key that signs comment forms and commenters' cookies.
pub const COMMENTS_KEY: &str = "comments";

/// The settings in force and what emails say about the site, made from
/// them: swapped whole when `quire.toml` changes.
struct Live {
    config: Arc<Config>,
    mail_site: Arc<MailSite>,
}

impl Live {
    fn new(config: Config) -> Live {
        Live {
            mail_site: Arc::new(config.mail_site()),
            config: Arc::new(config),
        }
    }
}

/// Everything an operation needs, built once per process and cheap to
/// clone: the store, the settings in force (reloadable), the signers
/// (their keys read from the database on first use), the email layouts,
/// the mail sender's wake-up, and the rate limiters strangers count
/// against.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    live: Arc<ArcSwap<Live>>,
    data_dir: Arc<PathBuf>,
    layouts: Arc<Layouts>,
    comment_signer: Arc<OnceCell<Signer>>,
    newsletter_signer: Arc<OnceCell<Signer>>,
    accounts_signer: Arc<OnceCell<Signer>>,
    /// Password hashing and checking, two at a time.
    hashing: Arc<Semaphore>,
    /// Failed sign-ins per client address.
    login_addresses: Arc<Backoff>,
    mail_wake: Arc<Notify>,
    /// Comment posts per client.
    comment_limits: Arc<RateLimiter>,
    /// Sign-ups per client.
    subscribe_limits: Arc<RateLimiter>,
    /// Confirmation and link emails per address (by a hash of it).
    address_limits: Arc<RateLimiter<[u8; 32]>>,
}

impl App {
    /// The application over `store` with `config`; `data_dir` is where
    /// relative paths in the settings (a CA file) are read from.
    pub fn new(store: Store, config: Config, data_dir: &Path) -> App {
        App {
            store,
            live: Arc::new(ArcSwap::from_pointee(Live::new(config))),
            data_dir: Arc::new(data_dir.to_path_buf()),
            comment_signer: Arc::new(OnceCell::new()),
            newsletter_signer: Arc::new(OnceCell::new()),
            accounts_signer: Arc::new(OnceCell::new()),
            hashing: Arc::new(Semaphore::new(2)),
            login_addresses: Arc::new(accounts::address_backoff()),
            layouts: Arc::new(Layouts::new()),
            mail_wake: Arc::new(Notify::new()),
            comment_limits: Arc::new(RateLimiter::new()),
            subscribe_limits: Arc::new(RateLimiter::new()),
            address_limits: Arc::new(RateLimiter::new()),
        }
    }

    /// The signer of comment forms and commenters' cookies.
    pub async fn comment_signer(&self) -> Result<&Signer, AppError> {
        self.comment_signer
            .get_or_try_init(|| async { Ok::<_, AppError>(Signer::new(&self.store.site_key(COMMENTS_KEY).await?)) })
            .await
    }

    /// The signer of newsletter links (confirm, preferences, unsubscribe).
    pub async fn newsletter_signer(&self) -> Result<&Signer, AppError> {
        self.newsletter_signer
            .get_or_try_init(|| async {
                Ok::<_, AppError>(Signer::new(&self.store.site_key(quire_mail::links::SITE_KEY).await?))
            })
            .await
    }

    /// The settings in force. An operation reads them once and keeps
    /// what it read: a reload mid-way does not mix two versions.
    pub fn config(&self) -> Arc<Config> {
        self.live.load().config.clone()
    }

    /// Puts `config` in force for every operation from now on (the
    /// server calls it when `quire.toml` changes); returns the keys whose
    /// values changed.
    pub fn reload(&self, config: Config) -> Vec<&'static str> {
        let changed = self.config().changed_keys(&config);
        self.live.store(Arc::new(Live::new(config)));
        changed
    }

    /// What emails say about the site (its name, address and host).
    pub fn mail_site(&self) -> Arc<MailSite> {
        self.live.load().mail_site.clone()
    }

    /// Where operations queue mail outside campaigns.
    pub async fn postbox(&self) -> Result<Postbox, AppError> {
        let config = self.config();
        Ok(Postbox {
            writer: NoticeWriter {
                store: self.store.clone(),
                site: self.mail_site(),
                signer: self.newsletter_signer().await?.clone(),
                confirm_hours: config.newsletter.confirm_hours,
                preferences_link: config.preferences_link(),
                accounts: Some(self.accounts_signer().await?.clone()),
            },
        })
    }

    /// What an operation that queued mail calls, so that this process's
    /// sender (if it runs one) sends it at once.
    fn wake_sender(&self) {
        self.mail_wake.notify_one();
    }

    /// The mail server client the settings describe.
    pub fn mailer(&self) -> Result<Mailer, AppError> {
        Ok(Mailer::from_settings(&self.config().mailer_settings(), &self.data_dir)?)
    }

    /// A sender that delivers the outbox through `mailer` (or, with none,
    /// waits for one to be set), woken whenever an operation of this
    /// process queues mail.
    pub async fn sender(&self, mailer: Option<Mailer>) -> Result<Sender, AppError> {
        let settings = self.sender_settings(mailer.as_ref());
        let signer = self.newsletter_signer().await?.clone();
        let mut sender = Sender::new(self.store.clone(), mailer, self.mail_site(), signer, settings);
        sender.wake = self.mail_wake.clone();
        sender.accounts = Some(self.accounts_signer().await?.clone());
        Ok(sender)
    }

    /// How a sender through `mailer` works under the settings in force.
    pub fn sender_settings(&self, mailer: Option<&Mailer>) -> SenderSettings {
        let config = self.config();
        let from = mailer
            .map(|m| m.from.clone())
            .or_else(|| quire_mail::parse_mailbox(&config.mail.from).ok());
        config.sender_settings(from.as_ref())
    }
}
