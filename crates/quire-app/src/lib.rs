//! Quire's application layer: the site's settings (`config`), and one
//! function per thing a user does (add papers, publish, post and moderate
//! comments, sign up, send a campaign, erase personal data), on one
//! [`App`] built once. Every front door (the command line, the web pages,
//! the coming admin and API) parses its input, calls one operation, and
//! presents the result or the [`AppError`]. It sits above store, render,
//! mail and pdf, and below web and the binary.

pub mod clock;
pub mod comments;
pub mod config;
pub mod error;
pub mod limits;
pub mod newsletter;
pub mod papers;
pub mod subscribers;

pub use error::{AppError, PaperProblem, Remedy};

use config::Config;
use limits::RateLimiter;
use quire_core::signing::Signer;
use quire_mail::compose::{Layouts, MailSite};
use quire_mail::notices::{NoticeWriter, Postbox};
use quire_mail::{Mailer, Sender};
use quire_store::Store;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::{Notify, OnceCell};

/// The site key that signs comment forms and commenters' cookies.
pub const COMMENTS_KEY: &str = "comments";

/// Everything an operation needs, built once per process and cheap to
/// clone: the store, the settings, the signers (their keys read from the
/// database on first use), the email layouts and what emails say about
/// the site, the mail sender's wake-up, and the rate limiters strangers
/// count against.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub config: Arc<Config>,
    data_dir: Arc<PathBuf>,
    comment_signer: Arc<OnceCell<Signer>>,
    newsletter_signer: Arc<OnceCell<Signer>>,
    layouts: Arc<Layouts>,
    mail_site: Arc<MailSite>,
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
            mail_site: Arc::new(config.mail_site()),
            config: Arc::new(config),
            data_dir: Arc::new(data_dir.to_path_buf()),
            comment_signer: Arc::new(OnceCell::new()),
            newsletter_signer: Arc::new(OnceCell::new()),
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

    /// What emails say about the site (its name, address and host).
    pub fn mail_site(&self) -> &MailSite {
        &self.mail_site
    }

    /// Where operations queue mail outside campaigns.
    pub async fn postbox(&self) -> Result<Postbox<'_>, AppError> {
        Ok(Postbox {
            writer: NoticeWriter {
                store: &self.store,
                site: &self.mail_site,
                signer: self.newsletter_signer().await?,
                confirm_hours: self.config.newsletter.confirm_hours,
                preferences_link: self.config.preferences_link(),
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
        Ok(Mailer::from_settings(&self.config.mailer_settings(), &self.data_dir)?)
    }

    /// A sender that delivers the outbox through `mailer`, woken whenever
    /// an operation of this process queues mail.
    pub async fn sender(&self, mailer: Mailer) -> Result<Sender, AppError> {
        let settings = self.config.sender_settings(&mailer.from);
        let signer = self.newsletter_signer().await?.clone();
        let mut sender = Sender::new(self.store.clone(), mailer, (*self.mail_site).clone(), signer, settings);
        sender.wake = self.mail_wake.clone();
        Ok(sender)
    }
}
