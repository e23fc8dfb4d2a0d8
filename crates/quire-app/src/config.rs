//! Settings: `quire.toml` in the data directory, each key overridable by a
//! `QUIRE_<KEY>` environment variable, defaults that work with no file.
//! Parsing is pure (`Config::parse`); reading files and the environment is
//! a thin layer on top.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The config file's name inside the data directory.
pub const CONFIG_FILE: &str = "quire.toml";

pub use quire_core::secret::{Secret, redact_url};

/// Every setting of a Quire site. Each key may be set in `quire.toml` or as
/// `QUIRE_<KEY>` in the environment (the environment wins).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The public address of the site, used for canonical links and
    /// anything read away from the page (feeds, emails). No trailing slash.
    pub base_url: String,
    /// Where `quire serve` listens, as IP:port.
    pub addr: String,
    /// Reverse proxies (addresses or CIDR ranges) whose forwarding header
    /// names the client. Empty: the connecting address is the client.
    pub trusted_proxies: Vec<String>,
    /// The header trusted proxies name the client in: `x-forwarded-for`
    /// or `forwarded` (RFC 7239).
    pub forwarded_header: String,
    /// Seconds a client may take to send a request's headers.
    pub http_header_timeout_seconds: u32,
    /// Seconds a client may take to send a request's body.
    pub http_body_timeout_seconds: u32,
    /// Seconds an idle keep-alive connection stays open.
    pub http_idle_timeout_seconds: u32,
    /// Connections served at once; more wait to be accepted.
    pub http_max_connections: u32,
    /// `sqlite://path` or `postgres://user:pass@host/db`. Empty: the SQLite
    /// file `quire.db` in the data directory.
    pub database_url: Option<Secret>,
    /// The site's name, shown in the header, titles and citations.
    pub site_name: String,
    /// One line about the site, for the home page and metadata.
    pub site_description: String,
    /// Default language (BCP 47) of the site and of papers that name none.
    pub language: String,
    /// The kinds of paper the site publishes, in the order the home page
    /// shows them.
    pub kinds: Vec<String>,
    /// Papers per page on the archive, author and topic pages.
    pub papers_per_page: u32,
    /// Words a reader reads per minute, for reading times.
    pub words_per_minute: u32,
    /// Memory for the rendered-page cache, in MiB.
    pub page_cache_mb: u32,
    /// A folder whose `templates/` and `assets/` override the built-in
    /// theme file by file. Relative paths start at the data directory.
    pub theme_dir: Option<String>,
    /// What feeds carry of each paper: "full" text or the "summary".
    pub feed_content: String,
    /// Results per page of search.
    pub search_per_page: u32,
    /// Papers per feed, newest first.
    pub feed_items: u32,
    /// URLs per sitemap file; past this, `/sitemap.xml` becomes an index.
    pub sitemap_urls_per_file: u32,
    /// Deepest level of replies (1: no replies).
    pub comment_depth: u32,
    /// Top-level comments per page under a paper.
    pub comments_per_page: u32,
    /// "oldest" or "newest" comments first.
    pub comment_order: String,
    /// Close comments on papers published this many days ago (0: never).
    pub comment_close_after_days: u32,
    /// Hold a comment with more links than this.
    pub comment_max_links: u32,
    /// Approve at once only addresses with an approved comment before.
    pub comment_previously_approved: bool,
    /// Hold every comment for an editor.
    pub comment_hold_all: bool,
    /// Words that send a comment to moderation.
    pub comment_moderation_words: Vec<String>,
    /// Words that send a comment to spam.
    pub comment_disallowed_words: Vec<String>,
    /// A comment posted sooner than this after the form was shown is held.
    pub comment_min_seconds: u32,
    /// Comments one IP address may post a minute (0: no limit).
    pub comment_rate_per_minute: u32,
    /// Comments one IP address may post an hour (0: no limit).
    pub comment_rate_per_hour: u32,
    /// Days a commenter's full IP address is kept before it is truncated.
    pub comment_ip_retention_days: u32,
    /// The SMTP server mail goes through: `smtp://host:port` (plain, for a
    /// local relay), `smtp://user:pass@host:587?tls=starttls`, or
    /// `smtps://user:pass@host:465`. Empty: mail waits in the outbox.
    pub smtp_url: Option<Secret>,
    /// A private certificate authority (PEM) to trust for the SMTP
    /// server's certificate, besides the public ones.
    pub smtp_ca_file: String,
    /// The sender of every email, as `Name <address>` or an address.
    pub mail_from: String,
    /// Where notices of comments awaiting moderation go (empty: none).
    pub mail_notify: String,
    /// SMTP connections each sender keeps open and uses at once.
    pub mail_concurrency: u32,
    /// Messages each sender hands over a second (0: as fast as it can).
    pub mail_rate_per_second: u32,
    /// Attempts at a message before a temporary failure counts as final.
    pub mail_max_attempts: u32,
    /// Wait before the first retry; each later retry waits twice as long.
    pub mail_retry_seconds: u32,
    /// How long a sender holds the messages it claimed; after a crash they
    /// are sent again once this has passed.
    pub mail_claim_seconds: u32,
    /// Permanent failures after which a subscriber counts as bounced.
    pub mail_bounce_limit: u32,
    /// Hours a sign-up's confirmation link stays valid.
    pub subscribe_confirm_hours: u32,
    /// Days a subscriber's preferences link works; a fresh one can be
    /// asked for by email. (Unsubscribe links never expire.)
    pub preferences_link_days: u32,
    /// Sign-ups one IP address may make an hour (0: no limit).
    pub subscribe_rate_per_hour: u32,
    /// Confirmation emails one address may be sent a day (0: no limit).
    pub subscribe_address_per_day: u32,
    /// The DKIM selector: with `dkim_key_file`, every email is signed.
    pub dkim_selector: String,
    /// The DKIM private key: RSA in PEM (PKCS#1), or Ed25519 as base64.
    /// Relative paths start at the data directory.
    pub dkim_key_file: String,
    /// The signing domain (`d=`) [default: the domain of `mail_from`].
    pub dkim_domain: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            base_url: "http://127.0.0.1:8080".into(),
            addr: "127.0.0.1:8080".into(),
            trusted_proxies: Vec::new(),
            forwarded_header: "x-forwarded-for".into(),
            http_header_timeout_seconds: 10,
            http_body_timeout_seconds: 30,
            http_idle_timeout_seconds: 60,
            http_max_connections: 10_000,
            database_url: None,
            site_name: "Quire".into(),
            site_description: "Research, analysis and policy papers".into(),
            language: "en".into(),
            kinds: quire_core::domain::DEFAULT_KINDS
                .iter()
                .map(|k| k.to_string())
                .collect(),
            papers_per_page: 30,
            words_per_minute: 230,
            page_cache_mb: 64,
            theme_dir: None,
            feed_content: "full".into(),
            feed_items: 20,
            search_per_page: 10,
            sitemap_urls_per_file: quire_render::feeds::SITEMAP_MAX_URLS,
            comment_depth: 5,
            comments_per_page: 50,
            comment_order: "oldest".into(),
            comment_close_after_days: 0,
            comment_max_links: 2,
            comment_previously_approved: true,
            comment_hold_all: false,
            comment_moderation_words: Vec::new(),
            comment_disallowed_words: Vec::new(),
            comment_min_seconds: 3,
            comment_rate_per_minute: 5,
            comment_rate_per_hour: 30,
            comment_ip_retention_days: 30,
            smtp_url: None,
            smtp_ca_file: String::new(),
            mail_from: String::new(),
            mail_notify: String::new(),
            mail_concurrency: 4,
            mail_rate_per_second: 0,
            mail_max_attempts: 8,
            mail_retry_seconds: 60,
            mail_claim_seconds: 120,
            mail_bounce_limit: 3,
            subscribe_confirm_hours: 48,
            preferences_link_days: 30,
            subscribe_rate_per_hour: 10,
            subscribe_address_per_day: 3,
            dkim_selector: String::new(),
            dkim_key_file: String::new(),
            dkim_domain: String::new(),
        }
    }
}

/// Every key, as written in `quire.toml`.
pub const KEYS: [&str; 51] = [
    "base_url",
    "addr",
    "trusted_proxies",
    "forwarded_header",
    "http_header_timeout_seconds",
    "http_body_timeout_seconds",
    "http_idle_timeout_seconds",
    "http_max_connections",
    "database_url",
    "site_name",
    "site_description",
    "language",
    "kinds",
    "papers_per_page",
    "words_per_minute",
    "page_cache_mb",
    "theme_dir",
    "feed_content",
    "feed_items",
    "search_per_page",
    "sitemap_urls_per_file",
    "comment_depth",
    "comments_per_page",
    "comment_order",
    "comment_close_after_days",
    "comment_max_links",
    "comment_previously_approved",
    "comment_hold_all",
    "comment_moderation_words",
    "comment_disallowed_words",
    "comment_min_seconds",
    "comment_rate_per_minute",
    "comment_rate_per_hour",
    "comment_ip_retention_days",
    "smtp_url",
    "smtp_ca_file",
    "mail_from",
    "mail_notify",
    "mail_concurrency",
    "mail_rate_per_second",
    "mail_max_attempts",
    "mail_retry_seconds",
    "mail_claim_seconds",
    "mail_bounce_limit",
    "subscribe_confirm_hours",
    "preferences_link_days",
    "subscribe_rate_per_hour",
    "subscribe_address_per_day",
    "dkim_selector",
    "dkim_key_file",
    "dkim_domain",
];

/// A trusted proxy as configured: one address, or a CIDR range.
pub fn parse_proxy(entry: &str) -> Result<ipnet::IpNet, String> {
    let entry = entry.trim();
    if let Ok(net) = entry.parse::<ipnet::IpNet>() {
        return Ok(net.trunc());
    }
    entry
        .parse::<std::net::IpAddr>()
        .map(ipnet::IpNet::from)
        .map_err(|_| "is neither an address nor a range".to_owned())
}

/// A setting that cannot be used, with where it came from.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{source_name}: {message}")]
    Invalid { source_name: String, message: String },
    #[error("cannot read {path}: {message}")]
    Unreadable { path: String, message: String },
}

impl Config {
    /// Parses a `quire.toml` text; `source_name` says where it came from in
    /// error messages.
    pub fn parse(text: &str, source_name: &str) -> Result<Config, ConfigError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| invalid(source_name, toml_message(text, &e)))?;
        Self::from_table(table, source_name)
    }

    fn from_table(table: toml::Table, source_name: &str) -> Result<Config, ConfigError> {
        if let Some(unknown) = table.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(invalid(
                source_name,
                format!("unknown key `{unknown}`: the keys are {}", KEYS.join(", ")),
            ));
        }
        let config: Config = match toml::Value::Table(table.clone()).try_into() {
            Ok(c) => c,
            Err(e) => {
                // Find the key at fault by trying each alone.
                let message = e.message().trim().to_owned();
                let key = table.iter().find_map(|(k, v)| {
                    let mut one = toml::Table::new();
                    one.insert(k.clone(), v.clone());
                    toml::Value::Table(one).try_into::<Config>().is_err().then(|| k.clone())
                });
                return Err(invalid(
                    source_name,
                    match key {
                        Some(k) => format!("key `{k}`: {message}"),
                        None => message,
                    },
                ));
            }
        };
        config.validate().map_err(|m| invalid(source_name, m))?;
        Ok(config)
    }

    /// Reads `quire.toml` from `data_dir` if it exists, then applies
    /// `QUIRE_*` variables from `env`.
    pub fn load(data_dir: &Path, env: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let path = data_dir.join(CONFIG_FILE);
        let (mut table, source_name) = match std::fs::read_to_string(&path) {
            Ok(text) => {
                let name = path.display().to_string();
                let table: toml::Table = toml::from_str(&text).map_err(|e| invalid(&name, toml_message(&text, &e)))?;
                (table, name)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (toml::Table::new(), "defaults".to_owned()),
            Err(e) => {
                return Err(ConfigError::Unreadable {
                    path: path.display().to_string(),
                    message: e.to_string(),
                });
            }
        };
        let defaults = toml::Table::try_from(Config::default()).unwrap_or_default();
        // The keys the environment set, so that a value it gave that does
        // not work is blamed on its variable, not on the file or defaults.
        let mut from_env = Vec::new();
        for key in KEYS {
            let var = format!("QUIRE_{}", key.to_ascii_uppercase());
            let Some(raw) = env(&var) else { continue };
            let value = match defaults.get(key) {
                Some(toml::Value::Integer(_)) => raw
                    .trim()
                    .parse::<i64>()
                    .map(toml::Value::Integer)
                    .map_err(|_| invalid(&var, format!("{raw:?} is not a whole number")))?,
                Some(toml::Value::Boolean(_)) => match raw.trim().to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" | "on" => toml::Value::Boolean(true),
                    "false" | "0" | "no" | "off" => toml::Value::Boolean(false),
                    _ => return Err(invalid(&var, format!("{raw:?} is neither true nor false"))),
                },
                Some(toml::Value::Array(_)) => toml::Value::Array(
                    raw.split(',')
                        .map(|s| toml::Value::String(s.trim().to_owned()))
                        .filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
                        .collect(),
                ),
                _ => toml::Value::String(raw),
            };
            table.insert(key.to_owned(), value);
            from_env.push((key, var));
        }
        Self::from_table(table, &source_name).map_err(|e| match e {
            ConfigError::Invalid { message, source_name } => {
                let var = from_env
                    .iter()
                    .find(|(key, _)| message.starts_with(&format!("key `{key}`:")))
                    .map(|(_, var)| format!("environment variable {var}"));
                invalid(&var.unwrap_or(source_name), message)
            }
            other => other,
        })
    }

    /// Checks values that parse but cannot work; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        let base = self.base_url.trim_end_matches('/');
        if quire_core::domain::validate_http_url(base).is_err() {
            return Err(format!(
                "key `base_url`: {:?} is not an absolute http(s) URL; write the site's public address, such as \"https://papers.example.org\"",
                self.base_url
            ));
        }
        if self.addr.parse::<SocketAddr>().is_err() {
            return Err(format!(
                "key `addr`: {:?} is not an IP address and port; write it as \"127.0.0.1:8080\"",
                self.addr
            ));
        }
        if let Some(url) = &self.database_url {
            let u = url.expose();
            if !(u.starts_with("sqlite:") || u.starts_with("postgres://") || u.starts_with("postgresql://")) {
                return Err(format!(
                    "key `database_url`: {:?} is neither sqlite:PATH nor postgres://…",
                    redact_url(u)
                ));
            }
        }
        if self.site_name.trim().is_empty() {
            return Err("key `site_name`: must not be empty".into());
        }
        quire_core::domain::validate_language(&self.language).map_err(|e| format!("key `language`: {e}"))?;
        for entry in &self.trusted_proxies {
            parse_proxy(entry)
                .map_err(|e| format!("key `trusted_proxies`: {entry:?} {e}: write an address or a range such as 10.0.0.0/8 or 2001:db8::/32"))?;
        }
        if !["x-forwarded-for", "forwarded"].contains(&self.forwarded_header.trim().to_ascii_lowercase().as_str()) {
            return Err(format!(
                "key `forwarded_header`: {:?} is not known: use \"x-forwarded-for\" or \"forwarded\"",
                self.forwarded_header
            ));
        }
        for (key, value, least, most) in [
            ("http_header_timeout_seconds", self.http_header_timeout_seconds, 1, 3600),
            ("http_body_timeout_seconds", self.http_body_timeout_seconds, 1, 3600),
            ("http_idle_timeout_seconds", self.http_idle_timeout_seconds, 1, 3600),
            ("http_max_connections", self.http_max_connections, 1, 1_000_000),
        ] {
            if !(least..=most).contains(&value) {
                return Err(format!("key `{key}`: {value} is out of range: use {least} to {most}"));
            }
        }
        if self.kinds.is_empty() {
            return Err("key `kinds`: name at least one kind of paper".into());
        }
        for (i, k) in self.kinds.iter().enumerate() {
            if k.trim().is_empty() || quire_core::domain::slugify(k).is_empty() {
                return Err(format!("key `kinds`: {k:?} cannot be a kind name"));
            }
            if self.kinds[..i].contains(k) {
                return Err(format!("key `kinds`: {k:?} is listed twice"));
            }
        }
        if self.papers_per_page == 0 || self.papers_per_page > 1000 {
            return Err("key `papers_per_page`: use a number from 1 to 1000".into());
        }
        if self.words_per_minute == 0 {
            return Err("key `words_per_minute`: must be at least 1".into());
        }
        if !matches!(self.feed_content.as_str(), "full" | "summary") {
            return Err(format!(
                "key `feed_content`: {:?} is neither \"full\" (whole papers in feeds) nor \"summary\"",
                self.feed_content
            ));
        }
        if self.search_per_page == 0 || self.search_per_page > 100 {
            return Err("key `search_per_page`: use a number from 1 to 100".into());
        }
        if self.feed_items == 0 || self.feed_items > 500 {
            return Err("key `feed_items`: use a number from 1 to 500".into());
        }
        let most = quire_render::feeds::SITEMAP_MAX_URLS;
        if self.sitemap_urls_per_file == 0 || self.sitemap_urls_per_file > most {
            return Err(format!(
                "key `sitemap_urls_per_file`: use a number from 1 to {most} (the sitemap limit)"
            ));
        }
        if self.comment_depth == 0 || self.comment_depth > 10 {
            return Err("key `comment_depth`: use a number from 1 (no replies) to 10".into());
        }
        if self.comments_per_page == 0 || self.comments_per_page > 1000 {
            return Err("key `comments_per_page`: use a number from 1 to 1000".into());
        }
        if !matches!(self.comment_order.as_str(), "oldest" | "newest") {
            return Err(format!(
                "key `comment_order`: {:?} is neither \"oldest\" nor \"newest\" (which comments come first)",
                self.comment_order
            ));
        }
        if self.comment_min_seconds > 3600 {
            return Err("key `comment_min_seconds`: use a number of seconds from 0 to 3600".into());
        }
        if let Some(url) = &self.smtp_url
            && !url.expose().is_empty()
        {
            quire_mail::SmtpSettings::parse(url.expose()).map_err(|e| format!("key `smtp_url`: {e}"))?;
            if self.mail_from.trim().is_empty() {
                return Err(
                    "key `mail_from`: set the sender of the site's emails, such as \"Policy Lab <news@example.org>\""
                        .into(),
                );
            }
        }
        if !self.mail_from.trim().is_empty() {
            quire_mail::parse_mailbox(&self.mail_from).map_err(|e| format!("key `mail_from`: {e}"))?;
        }
        if !self.mail_notify.trim().is_empty() {
            quire_mail::parse_mailbox(&self.mail_notify).map_err(|e| format!("key `mail_notify`: {e}"))?;
        }
        if self.dkim_selector.trim().is_empty() != self.dkim_key_file.trim().is_empty() {
            return Err(
                "keys `dkim_selector` and `dkim_key_file`: set both to sign emails with DKIM, or neither".into(),
            );
        }
        if self.mail_concurrency == 0 || self.mail_concurrency > 256 {
            return Err("key `mail_concurrency`: use a number of connections from 1 to 256".into());
        }
        if self.mail_max_attempts == 0 || self.mail_max_attempts > 50 {
            return Err("key `mail_max_attempts`: use a number from 1 to 50".into());
        }
        if self.mail_claim_seconds < 2 {
            return Err("key `mail_claim_seconds`: use at least 2 seconds".into());
        }
        if self.mail_bounce_limit == 0 {
            return Err("key `mail_bounce_limit`: use at least 1".into());
        }
        if self.subscribe_confirm_hours == 0 {
            return Err("key `subscribe_confirm_hours`: use at least 1 hour".into());
        }
        if self.preferences_link_days == 0 {
            return Err("key `preferences_link_days`: use at least 1 day".into());
        }
        if self.theme_dir.as_deref().is_some_and(|d| d.trim().is_empty()) {
            return Err("key `theme_dir`: give a folder, or leave the key out for the built-in theme".into());
        }
        Ok(())
    }

    /// The theme folder to use, if any: `theme_dir` resolved against the
    /// data directory.
    pub fn theme_path(&self, data_dir: &Path) -> Option<PathBuf> {
        self.theme_dir.as_deref().map(|d| data_dir.join(d))
    }

    /// The moderation rules these settings make.
    pub fn moderation_rules(&self) -> quire_core::domain::ModerationRules {
        quire_core::domain::ModerationRules {
            max_links: self.comment_max_links as usize,
            previously_approved: self.comment_previously_approved,
            hold_all: self.comment_hold_all,
            moderation_words: self.comment_moderation_words.clone(),
            disallowed_words: self.comment_disallowed_words.clone(),
        }
    }

    /// Whether feeds carry whole papers rather than summaries.
    pub fn full_text_feeds(&self) -> bool {
        self.feed_content == "full"
    }

    /// The base URL without a trailing slash, ready to prefix a path.
    pub fn base(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }

    /// The site as emails name it.
    pub fn mail_site(&self) -> quire_mail::compose::MailSite {
        quire_mail::compose::MailSite::new(&self.site_name, self.base())
    }

    /// What a `Mailer` is made from.
    pub fn mailer_settings(&self) -> quire_mail::MailerSettings<'_> {
        quire_mail::MailerSettings {
            smtp_url: self.smtp_url.as_ref().map(|u| u.expose()),
            mail_from: &self.mail_from,
            smtp_ca_file: &self.smtp_ca_file,
            mail_concurrency: self.mail_concurrency,
            dkim_selector: &self.dkim_selector,
            dkim_key_file: &self.dkim_key_file,
            dkim_domain: &self.dkim_domain,
        }
    }

    /// How the delivery worker sends, for mail from `from`.
    pub fn sender_settings(&self, from: &lettre::message::Mailbox) -> quire_mail::SenderSettings {
        quire_mail::SenderSettings {
            concurrency: self.mail_concurrency,
            rate_per_second: self.mail_rate_per_second,
            policy: quire_store::RetryPolicy {
                max_attempts: self.mail_max_attempts,
                base: std::time::Duration::from_secs(u64::from(self.mail_retry_seconds)),
                bounce_limit: self.mail_bounce_limit,
            },
            lease: std::time::Duration::from_secs(u64::from(self.mail_claim_seconds)),
            language: self.language.clone(),
            unsubscribe_mailbox: if self.mail_notify.trim().is_empty() {
                from.email.to_string()
            } else {
                quire_mail::parse_mailbox(&self.mail_notify)
                    .map(|m| m.email.to_string())
                    .unwrap_or_else(|_| from.email.to_string())
            },
            preferences_link: std::time::Duration::from_secs(u64::from(self.preferences_link_days) * 86_400),
        }
    }

    /// The site as pages show it, with the theme's asset addresses.
    pub fn site_view(&self, assets: &quire_render::Assets) -> quire_render::SiteView {
        quire_render::SiteView::new(
            &self.site_name,
            &self.site_description,
            self.base(),
            &self.language,
            assets,
        )
    }

    /// The database to open: the configured URL, or `quire.db` in `data_dir`.
    pub fn database_url_for(&self, data_dir: &Path) -> String {
        match &self.database_url {
            Some(url) if !url.expose().is_empty() => url.expose().to_owned(),
            _ => format!("sqlite://{}", data_dir.join("quire.db").display()),
        }
    }

    /// The text `quire init` writes: every key with its default, commented.
    pub fn starter_file() -> String {
        let d = Config::default();
        format!(
            "# Quire settings. Every key can also be set as QUIRE_<KEY> in the environment.\n\
             # See docs/config.md for what each one does.\n\n\
             site_name = {:?}\n\
             site_description = {:?}\n\
             base_url = {:?}\n\
             addr = {:?}\n\
             # trusted_proxies = [\"127.0.0.1\"]  # behind a reverse proxy: its address, so that clients are told apart\n\
             language = {:?}\n\
             # database_url = \"postgres://quire:secret@127.0.0.1:5432/quire\"  # default: quire.db here\n\
             kinds = [{}]\n\
             papers_per_page = {}\n\
             words_per_minute = {}\n\
             page_cache_mb = {}\n\
             # theme_dir = \"theme\"  # templates/ and assets/ that override the built-in theme\n\
             feed_content = {:?}  # \"full\" or \"summary\"\n\
             feed_items = {}\n\
             search_per_page = {}\n\
             sitemap_urls_per_file = {}\n\n\
             # Comments (WordPress's defaults)\n\
             comment_depth = {}\n\
             comments_per_page = {}\n\
             comment_order = {:?}  # \"oldest\" or \"newest\"\n\
             comment_close_after_days = {}  # 0: never\n\
             comment_max_links = {}\n\
             comment_previously_approved = {}\n\
             comment_hold_all = {}\n\
             comment_moderation_words = []\n\
             comment_disallowed_words = []\n\
             comment_min_seconds = {}\n\
             comment_rate_per_minute = {}  # 0: no limit\n\
             comment_rate_per_hour = {}  # 0: no limit\n\
             comment_ip_retention_days = {}\n\n\
             # Newsletter and other mail\n\
             # smtp_url = \"smtp://user:pass@mail.example.org:587?tls=starttls\"  # default: mail waits in the outbox\n\
             # mail_from = \"Policy Lab <news@example.org>\"\n\
             # mail_notify = \"editors@example.org\"  # comments awaiting moderation\n\
             mail_concurrency = {}\n\
             mail_rate_per_second = {}  # 0: no limit\n\
             mail_max_attempts = {}\n\
             mail_retry_seconds = {}\n\
             mail_claim_seconds = {}\n\
             mail_bounce_limit = {}\n\
             subscribe_confirm_hours = {}\n\
             preferences_link_days = {}\n\
             subscribe_rate_per_hour = {}  # 0: no limit\n\
             subscribe_address_per_day = {}  # 0: no limit\n\
             # dkim_selector = \"quire\"  # with dkim_key_file, emails are signed with DKIM\n\
             # dkim_key_file = \"dkim.pem\"  # RSA (PEM, PKCS#1) or Ed25519 (base64)\n",
            d.site_name,
            d.site_description,
            d.base_url,
            d.addr,
            d.language,
            d.kinds.iter().map(|k| format!("{k:?}")).collect::<Vec<_>>().join(", "),
            d.papers_per_page,
            d.words_per_minute,
            d.page_cache_mb,
            d.feed_content,
            d.feed_items,
            d.search_per_page,
            d.sitemap_urls_per_file,
            d.comment_depth,
            d.comments_per_page,
            d.comment_order,
            d.comment_close_after_days,
            d.comment_max_links,
            d.comment_previously_approved,
            d.comment_hold_all,
            d.comment_min_seconds,
            d.comment_rate_per_minute,
            d.comment_rate_per_hour,
            d.comment_ip_retention_days,
            d.mail_concurrency,
            d.mail_rate_per_second,
            d.mail_max_attempts,
            d.mail_retry_seconds,
            d.mail_claim_seconds,
            d.mail_bounce_limit,
            d.subscribe_confirm_hours,
            d.preferences_link_days,
            d.subscribe_rate_per_hour,
            d.subscribe_address_per_day,
        )
    }
}

fn invalid(source_name: &str, message: String) -> ConfigError {
    ConfigError::Invalid {
        source_name: source_name.to_owned(),
        message,
    }
}

fn toml_message(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {}", e.message().trim())
        }
        None => e.message().trim().to_owned(),
    }
}

/// The data directory as given, or the current directory.
pub fn data_dir_or_current(dir: Option<PathBuf>) -> PathBuf {
    dir.unwrap_or_else(|| PathBuf::from("."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn empty_file_gives_defaults() {
        let c = Config::parse("", "quire.toml").expect("defaults");
        assert_eq!(c.addr, "127.0.0.1:8080");
        assert_eq!(c.kinds.len(), 4);
    }

    #[test]
    fn starter_file_parses_to_defaults() {
        let c = Config::parse(&Config::starter_file(), "quire.toml").expect("starter");
        assert_eq!(c.site_name, Config::default().site_name);
        assert_eq!(c.kinds, Config::default().kinds);
    }

    #[test]
    fn keys_list_matches_the_struct() {
        let c = Config {
            database_url: Some(Secret::new("sqlite://x")),
            theme_dir: Some("theme".into()),
            smtp_url: Some(Secret::new("smtp://127.0.0.1:25")),
            mail_from: "news@example.org".into(),
            ..Config::default()
        };
        let table = toml::Table::try_from(c).expect("serialise");
        let mut names: Vec<_> = table.keys().cloned().collect();
        names.sort();
        let mut keys: Vec<_> = KEYS.iter().map(|k| k.to_string()).collect();
        keys.sort();
        assert_eq!(names, keys);
    }

    #[test]
    fn unknown_key_is_named() {
        let e = Config::parse("site_nam = \"x\"", "data/quire.toml").expect_err("unknown");
        let msg = e.to_string();
        assert!(msg.contains("data/quire.toml") && msg.contains("`site_nam`"), "{msg}");
    }

    #[test]
    fn bad_values_name_their_key() {
        for (text, key) in [
            ("addr = \"localhost\"", "addr"),
            ("base_url = \"example.org\"", "base_url"),
            ("language = \"english\"", "language"),
            ("kinds = []", "kinds"),
            ("papers_per_page = 0", "papers_per_page"),
            ("database_url = \"mysql://x\"", "database_url"),
            ("comment_depth = 0", "comment_depth"),
            ("comment_order = \"random\"", "comment_order"),
            ("comments_per_page = 0", "comments_per_page"),
            ("comment_min_seconds = 99999", "comment_min_seconds"),
            ("comment_hold_all = \"yes\"", "comment_hold_all"),
        ] {
            let msg = Config::parse(text, "quire.toml").expect_err(text).to_string();
            assert!(msg.contains(&format!("`{key}`")), "{text}: {msg}");
        }
        let msg = Config::parse("papers_per_page = \"ten\"", "quire.toml")
            .expect_err("type")
            .to_string();
        assert!(msg.contains("key `papers_per_page`"), "{msg}");
        let msg = Config::parse("site_name = ", "quire.toml")
            .expect_err("syntax")
            .to_string();
        assert!(msg.contains("line 1"), "{msg}");
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "site_name = \"From file\"\naddr = \"127.0.0.1:9000\"\n",
        )
        .expect("write");
        let vars: HashMap<&str, &str> = [
            ("QUIRE_SITE_NAME", "From env"),
            ("QUIRE_PAPERS_PER_PAGE", "12"),
            ("QUIRE_KINDS", "brief, report"),
            ("QUIRE_TEST_POSTGRES_URL", "ignored"),
            ("QUIRE_COMMENT_RATE_PER_MINUTE", "0"),
            ("QUIRE_COMMENT_PREVIOUSLY_APPROVED", "off"),
            ("QUIRE_COMMENT_DISALLOWED_WORDS", "casino, viagra"),
        ]
        .into_iter()
        .collect();
        let c = Config::load(dir.path(), |k| vars.get(k).map(|v| v.to_string())).expect("load");
        assert_eq!(c.site_name, "From env");
        assert_eq!(c.addr, "127.0.0.1:9000");
        assert_eq!(c.papers_per_page, 12);
        assert_eq!(c.kinds, ["brief", "report"]);
        assert_eq!(c.comment_rate_per_minute, 0);
        assert_eq!(c.comment_rate_per_hour, 30, "unset keys keep their default");
        let rules = c.moderation_rules();
        assert!(!rules.previously_approved);
        assert_eq!(rules.disallowed_words, ["casino", "viagra"]);
        let e = Config::load(dir.path(), |k| (k == "QUIRE_COMMENT_HOLD_ALL").then(|| "maybe".into())).expect_err("bad");
        assert!(
            e.to_string().contains("QUIRE_COMMENT_HOLD_ALL") && e.to_string().contains("neither true nor false"),
            "{e}"
        );
        let e = Config::load(dir.path(), |k| (k == "QUIRE_PAPERS_PER_PAGE").then(|| "many".into())).expect_err("bad");
        assert!(e.to_string().contains("QUIRE_PAPERS_PER_PAGE"), "{e}");
    }

    #[test]
    fn a_value_that_does_not_work_is_blamed_on_where_it_was_set() {
        // Set by the environment, with no file: the variable is named,
        // not "defaults".
        let empty = tempfile::tempdir().expect("tempdir");
        let e = Config::load(empty.path(), |k| (k == "QUIRE_BASE_URL").then(|| "ftp://x".into())).expect_err("bad");
        assert!(
            e.to_string()
                .starts_with("environment variable QUIRE_BASE_URL: key `base_url`: \"ftp://x\" is not an absolute"),
            "{e}"
        );
        let e = Config::load(empty.path(), |k| (k == "QUIRE_ADDR").then(|| "everywhere".into())).expect_err("bad");
        assert!(
            e.to_string().starts_with("environment variable QUIRE_ADDR: key `addr`"),
            "{e}"
        );
        // Set by the file, with the environment setting something else:
        // the file is named.
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join(CONFIG_FILE);
        std::fs::write(&file, "addr = \"everywhere\"\n").expect("write");
        let e = Config::load(dir.path(), |k| (k == "QUIRE_SITE_NAME").then(|| "Papers".into())).expect_err("bad");
        assert!(
            e.to_string().starts_with(&format!("{}: key `addr`", file.display())),
            "{e}"
        );
    }

    #[test]
    fn secrets_stay_hidden() {
        let c = Config {
            database_url: Some(Secret::new("postgres://u:hunter2@h/db")),
            ..Config::default()
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}

#[cfg(test)]
mod docs_tests {
    /// The operators' reference must describe every key the struct has.
    #[test]
    fn config_reference_lists_every_key() {
        let doc = include_str!("../../../docs/config.md");
        for key in super::KEYS {
            assert!(
                doc.contains(&format!("| `{key}` |")),
                "docs/config.md does not describe `{key}`"
            );
        }
        let mut starter = super::Config::starter_file();
        starter = starter
            .lines()
            .filter(|l| !l.starts_with("# Quire") && !l.starts_with("# See"))
            .collect::<Vec<_>>()
            .join("\n");
        for line in starter.lines().filter(|l| !l.trim().is_empty()) {
            assert!(doc.contains(line), "docs/config.md lacks the starter line {line:?}");
        }
    }
}
