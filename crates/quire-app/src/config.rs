//! Settings: `quire.toml` in the data directory, in sections (`[http]`,
//! `[pages]`, `[feeds]`, `[comments]`, `[mail]`, `[newsletter]`) below the
//! site's own keys; every key overridable by a `QUIRE_<KEY>` environment
//! variable, whose `<KEY>` is the key's flat spelling (`comments.depth` is
//! `comment_depth`, so `QUIRE_COMMENT_DEPTH`). Files written in that flat
//! spelling, as `quire init` wrote them before the sections, still load.
//! Every problem is reported at once, each with where it was set, the key
//! as it was written, and what is allowed. Parsing is pure
//! (`Config::parse`); reading files and the environment is a thin layer
//! on top.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The config file's name inside the data directory.
pub const CONFIG_FILE: &str = "quire.toml";

pub use quire_core::secret::{Secret, redact_url};

/// Every setting of a Quire site.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The public address of the site, used for canonical links and
    /// anything read away from the page (feeds, emails, PDFs). Unset: the
    /// address `quire serve` listens on ([`Config::base`]).
    pub base_url: Option<String>,
    /// `sqlite://path` or `postgres://user:pass@host/db`. Empty: the SQLite
    /// file `quire.db` in the data directory.
    pub database_url: Option<Secret>,
    /// The site's name, shown in the header, titles and citations.
    pub site_name: String,
    /// One line about the site, for the home page and metadata.
    pub site_description: String,
    /// Default language (BCP 47) of the site and of papers that name none.
    pub language: String,
    /// The site's clock: an IANA time zone name such as `Europe/Paris`,
    /// for the times editors type (`--at 2026-12-03 09:00`) and read.
    pub time_zone: String,
    /// The kinds of paper the site publishes, in the order the home page
    /// shows them.
    pub kinds: Vec<String>,
    /// A folder whose `templates/` and `assets/` override the built-in
    /// theme file by file. Relative paths start at the data directory.
    pub theme_dir: Option<String>,
    pub http: HttpConfig,
    pub pages: PagesConfig,
    pub feeds: FeedsConfig,
    pub comments: CommentsConfig,
    pub mail: MailConfig,
    pub newsletter: NewsletterConfig,
}

/// `[http]`: how the server listens and whom it trusts.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Where `quire serve` listens, as IP:port.
    pub addr: String,
    /// Reverse proxies (addresses or CIDR ranges) whose forwarding header
    /// names the client. Empty: the connecting address is the client.
    pub trusted_proxies: Vec<String>,
    /// The header trusted proxies name the client in: `x-forwarded-for`
    /// or `forwarded` (RFC 7239).
    pub forwarded_header: String,
    /// Seconds a client may take to send a request's headers.
    pub header_timeout_seconds: u32,
    /// Seconds a client may take to send a request's body.
    pub body_timeout_seconds: u32,
    /// Seconds an idle keep-alive connection stays open.
    pub idle_timeout_seconds: u32,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: u32,
    /// Memory for the rendered-page cache, in MiB.
    pub page_cache_mb: u32,
}

/// `[pages]`: what lists and papers show.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PagesConfig {
    /// Papers per page on the archive, author and topic pages.
    pub papers_per_page: u32,
    /// Words a reader reads per minute, for reading times.
    pub words_per_minute: u32,
    /// Results per page of search.
    pub search_per_page: u32,
}

/// What feeds carry of each paper.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedContent {
    /// The whole paper.
    Full,
    /// Its summary, with a link.
    Summary,
}

/// `[feeds]`: feeds and sitemaps.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeedsConfig {
    pub content: FeedContent,
    /// Papers per feed, newest first.
    pub items: u32,
    /// URLs per sitemap file; past this, `/sitemap.xml` becomes an index.
    pub sitemap_urls_per_file: u32,
}

/// Which comments come first under a paper.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommentOrder {
    Oldest,
    Newest,
}

/// `[comments]`: threads, moderation (WordPress's rules) and limits.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommentsConfig {
    /// Deepest level of replies (1: no replies).
    pub depth: u32,
    /// Top-level comments per page under a paper.
    pub per_page: u32,
    pub order: CommentOrder,
    /// Close comments on papers published this many days ago (0: never).
    pub close_after_days: u32,
    /// Hold a comment with more links than this.
    pub max_links: u32,
    /// Approve at once only addresses with an approved comment before.
    pub previously_approved: bool,
    /// Hold every comment for an editor.
    pub hold_all: bool,
    /// Words that send a comment to moderation.
    pub moderation_words: Vec<String>,
    /// Words that send a comment to spam.
    pub disallowed_words: Vec<String>,
    /// A comment posted sooner than this after the form was shown is held.
    pub min_seconds: u32,
    /// Comments one IP address may post a minute (0: no limit).
    pub rate_per_minute: u32,
    /// Comments one IP address may post an hour (0: no limit).
    pub rate_per_hour: u32,
    /// Days a commenter's full IP address is kept before it is truncated.
    pub ip_retention_days: u32,
}

/// `[mail]`: the SMTP server, the sender, delivery and DKIM.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// The SMTP server mail goes through: `smtp://host:port` (plain, for a
    /// local relay), `smtp://user:pass@host:587?tls=starttls`, or
    /// `smtps://user:pass@host:465`. Empty: mail waits in the outbox.
    pub smtp_url: Option<Secret>,
    /// A private certificate authority (PEM) to trust for the SMTP
    /// server's certificate, besides the public ones.
    pub smtp_ca_file: String,
    /// The sender of every email, as `Name <address>` or an address.
    pub from: String,
    /// Where notices of comments awaiting moderation go (empty: none).
    pub notify: String,
    /// SMTP connections each sender keeps open and uses at once.
    pub concurrency: u32,
    /// Messages each sender hands over a second (0: as fast as it can).
    pub rate_per_second: u32,
    /// Attempts at a message before a temporary failure counts as final.
    pub max_attempts: u32,
    /// Wait before the first retry; each later retry waits twice as long.
    pub retry_seconds: u32,
    /// How long a sender holds the messages it claimed; after a crash they
    /// are sent again once this has passed.
    pub claim_seconds: u32,
    /// Permanent failures after which a subscriber counts as bounced.
    pub bounce_limit: u32,
    /// The DKIM selector: with `dkim_key_file`, every email is signed.
    pub dkim_selector: String,
    /// The DKIM private key: RSA in PEM (PKCS#1), or Ed25519 as base64.
    /// Relative paths start at the data directory.
    pub dkim_key_file: String,
    /// The signing domain (`d=`) [default: the domain of `from`].
    pub dkim_domain: String,
}

/// `[newsletter]`: sign-ups and subscribers' links.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NewsletterConfig {
    /// Hours a sign-up's confirmation link stays valid.
    pub confirm_hours: u32,
    /// Days a subscriber's preferences link works; a fresh one can be
    /// asked for by email. (Unsubscribe links never expire.)
    pub preferences_link_days: u32,
    /// Sign-ups one IP address may make an hour (0: no limit).
    pub rate_per_hour: u32,
    /// Confirmation emails one address may be sent a day (0: no limit).
    pub address_per_day: u32,
    /// Whether a paper going public (scheduled ones when their time
    /// comes) is emailed to its topics' subscribers on its own.
    pub on_publish: bool,
    /// How long such an email waits after the paper goes public, during
    /// which unpublishing or deleting the paper cancels it (`10m`, `1h`).
    pub publish_delay: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            base_url: None,
            database_url: None,
            site_name: "Quire".into(),
            site_description: "Research, analysis and policy papers".into(),
            language: "en".into(),
            time_zone: "UTC".into(),
            kinds: quire_core::domain::DEFAULT_KINDS
                .iter()
                .map(|k| k.to_string())
                .collect(),
            theme_dir: None,
            http: HttpConfig::default(),
            pages: PagesConfig::default(),
            feeds: FeedsConfig::default(),
            comments: CommentsConfig::default(),
            mail: MailConfig::default(),
            newsletter: NewsletterConfig::default(),
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            addr: "127.0.0.1:8080".into(),
            trusted_proxies: Vec::new(),
            forwarded_header: "x-forwarded-for".into(),
            header_timeout_seconds: 10,
            body_timeout_seconds: 30,
            idle_timeout_seconds: 60,
            max_connections: 10_000,
            page_cache_mb: 64,
        }
    }
}

impl Default for PagesConfig {
    fn default() -> Self {
        PagesConfig {
            papers_per_page: 30,
            words_per_minute: 230,
            search_per_page: 10,
        }
    }
}

impl Default for FeedsConfig {
    fn default() -> Self {
        FeedsConfig {
            content: FeedContent::Full,
            items: 20,
            sitemap_urls_per_file: quire_render::feeds::SITEMAP_MAX_URLS,
        }
    }
}

impl Default for CommentsConfig {
    fn default() -> Self {
        CommentsConfig {
            depth: 5,
            per_page: 50,
            order: CommentOrder::Oldest,
            close_after_days: 0,
            max_links: 2,
            previously_approved: true,
            hold_all: false,
            moderation_words: Vec::new(),
            disallowed_words: Vec::new(),
            min_seconds: 3,
            rate_per_minute: 5,
            rate_per_hour: 30,
            ip_retention_days: 30,
        }
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            smtp_url: None,
            smtp_ca_file: String::new(),
            from: String::new(),
            notify: String::new(),
            concurrency: 4,
            rate_per_second: 0,
            max_attempts: 8,
            retry_seconds: 60,
            claim_seconds: 120,
            bounce_limit: 3,
            dkim_selector: String::new(),
            dkim_key_file: String::new(),
            dkim_domain: String::new(),
        }
    }
}

impl Default for NewsletterConfig {
    fn default() -> Self {
        NewsletterConfig {
            confirm_hours: 48,
            preferences_link_days: 30,
            rate_per_hour: 10,
            address_per_day: 3,
            on_publish: false,
            publish_delay: "10m".into(),
        }
    }
}

/// The sections of `quire.toml`.
pub const SECTIONS: [&str; 6] = ["http", "pages", "feeds", "comments", "mail", "newsletter"];

/// Every key: its place (`section.key`, or `key` for the site's own) and
/// its flat spelling, which the environment uses (`QUIRE_` and the flat
/// key in capitals) and which files may use too.
pub const KEYS: [(&str, &str); 54] = [
    ("base_url", "base_url"),
    ("database_url", "database_url"),
    ("site_name", "site_name"),
    ("site_description", "site_description"),
    ("language", "language"),
    ("time_zone", "time_zone"),
    ("kinds", "kinds"),
    ("theme_dir", "theme_dir"),
    ("http.addr", "addr"),
    ("http.trusted_proxies", "trusted_proxies"),
    ("http.forwarded_header", "forwarded_header"),
    ("http.header_timeout_seconds", "http_header_timeout_seconds"),
    ("http.body_timeout_seconds", "http_body_timeout_seconds"),
    ("http.idle_timeout_seconds", "http_idle_timeout_seconds"),
    ("http.max_connections", "http_max_connections"),
    ("http.page_cache_mb", "page_cache_mb"),
    ("pages.papers_per_page", "papers_per_page"),
    ("pages.words_per_minute", "words_per_minute"),
    ("pages.search_per_page", "search_per_page"),
    ("feeds.content", "feed_content"),
    ("feeds.items", "feed_items"),
    ("feeds.sitemap_urls_per_file", "sitemap_urls_per_file"),
    ("comments.depth", "comment_depth"),
    ("comments.per_page", "comments_per_page"),
    ("comments.order", "comment_order"),
    ("comments.close_after_days", "comment_close_after_days"),
    ("comments.max_links", "comment_max_links"),
    ("comments.previously_approved", "comment_previously_approved"),
    ("comments.hold_all", "comment_hold_all"),
    ("comments.moderation_words", "comment_moderation_words"),
    ("comments.disallowed_words", "comment_disallowed_words"),
    ("comments.min_seconds", "comment_min_seconds"),
    ("comments.rate_per_minute", "comment_rate_per_minute"),
    ("comments.rate_per_hour", "comment_rate_per_hour"),
    ("comments.ip_retention_days", "comment_ip_retention_days"),
    ("mail.smtp_url", "smtp_url"),
    ("mail.smtp_ca_file", "smtp_ca_file"),
    ("mail.from", "mail_from"),
    ("mail.notify", "mail_notify"),
    ("mail.concurrency", "mail_concurrency"),
    ("mail.rate_per_second", "mail_rate_per_second"),
    ("mail.max_attempts", "mail_max_attempts"),
    ("mail.retry_seconds", "mail_retry_seconds"),
    ("mail.claim_seconds", "mail_claim_seconds"),
    ("mail.bounce_limit", "mail_bounce_limit"),
    ("mail.dkim_selector", "dkim_selector"),
    ("mail.dkim_key_file", "dkim_key_file"),
    ("mail.dkim_domain", "dkim_domain"),
    ("newsletter.confirm_hours", "subscribe_confirm_hours"),
    ("newsletter.preferences_link_days", "preferences_link_days"),
    ("newsletter.rate_per_hour", "subscribe_rate_per_hour"),
    ("newsletter.address_per_day", "subscribe_address_per_day"),
    ("newsletter.on_publish", "newsletter_on_publish"),
    ("newsletter.publish_delay", "newsletter_publish_delay"),
];

/// Keys whose values are connection URLs that may carry a password:
/// shown with it masked.
const SECRET_KEYS: [&str; 2] = ["database_url", "mail.smtp_url"];

/// Keys a running server reads only when it starts: changing them in
/// `quire.toml` takes a restart. Every other key is reloaded.
pub const RESTART_KEYS: [&str; 8] = [
    "database_url",
    "theme_dir",
    "http.addr",
    "http.max_connections",
    "http.page_cache_mb",
    "http.header_timeout_seconds",
    "http.body_timeout_seconds",
    "http.idle_timeout_seconds",
];

/// One setting as it is in force: `quire config show`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Setting {
    /// The key's place: `section.key`, or `key` for the site's own.
    pub key: &'static str,
    /// Its flat spelling, as the environment names it (`QUIRE_` + capitals).
    pub flat: &'static str,
    /// The value as TOML, passwords masked.
    pub value: String,
    /// The file (and spelling), the environment variable, or `default`.
    pub origin: String,
    /// Whether a running server needs a restart to take a change.
    pub needs_restart: bool,
}

/// The flat spelling of the key at `path`.
pub fn flat_name(path: &str) -> &str {
    KEYS.iter().find(|(p, _)| *p == path).map_or(path, |(_, flat)| flat)
}

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

/// Settings that cannot be used: every problem, each with where it was
/// set.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{}", .problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid { problems: Vec<ConfigProblem> },
    #[error("cannot read {path}: {message}")]
    Unreadable { path: String, message: String },
}

/// One problem with the settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The file, `environment variable QUIRE_…`, or `defaults`.
    pub source_name: String,
    /// What is wrong, the key first (`key `comments.depth`: …`).
    pub message: String,
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.source_name, self.message)
    }
}

/// A problem `validate` finds: the key's place and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `section.key`, or `key` for the site's own.
    pub path: &'static str,
    pub message: String,
}

/// Where a key's value came from, and how it was spelled there.
#[derive(Clone, Debug)]
struct Origin {
    source_name: String,
    spelled: String,
}

/// Every spelling a file may use: sections' keys dotted, and flat keys.
fn spellings() -> impl Iterator<Item = &'static str> {
    KEYS.iter().flat_map(|(path, flat)| [*path, *flat])
}

/// The settings as read: each key's value (by its place) and origin.
#[derive(Default)]
struct Read {
    values: BTreeMap<&'static str, (toml::Value, Origin)>,
    problems: Vec<ConfigProblem>,
}

impl Read {
    /// Reads `quire.toml` from `data_dir` if it exists, then the `QUIRE_*`
    /// variables of `env`; also says which source is named for problems
    /// that belong to no key.
    fn from_dir(data_dir: &Path, env: impl Fn(&str) -> Option<String>) -> Result<(Read, String), ConfigError> {
        let path = data_dir.join(CONFIG_FILE);
        let mut read = Read::default();
        let source_name = match std::fs::read_to_string(&path) {
            Ok(text) => {
                let name = path.display().to_string();
                read.text(&text, &name);
                name
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "defaults".to_owned(),
            Err(e) => {
                return Err(ConfigError::Unreadable {
                    path: path.display().to_string(),
                    message: e.to_string(),
                });
            }
        };
        read.environment(env);
        Ok((read, source_name))
    }

    fn problem(&mut self, source_name: &str, message: String) {
        self.problems.push(ConfigProblem {
            source_name: source_name.to_owned(),
            message,
        });
    }

    fn set(&mut self, path: &'static str, value: toml::Value, origin: Origin) {
        if let Some((_, earlier)) = self.values.get(path)
            && earlier.source_name == origin.source_name
        {
            let message = format!(
                "key `{}` is set twice, as `{}` and as `{}`: keep one",
                path, earlier.spelled, origin.spelled
            );
            self.problem(&origin.source_name, message);
            return;
        }
        self.values.insert(path, (value, origin));
    }

    /// Reads a file's text: every syntax problem (with its line and key),
    /// then every key that parsed.
    fn text(&mut self, text: &str, source_name: &str) {
        let (table, syntax) = quire_core::toml_text::parse_table(text);
        let mut named = Vec::new();
        for p in syntax {
            let line = quire_core::toml_text::line_of(text, p.offset);
            let message = match &p.key {
                Some(key) if !p.message.contains(key.as_str()) => format!("line {line}: key `{key}`: {}", p.message),
                _ => format!("line {line}: {}", p.message),
            };
            self.problem(source_name, message);
            named.extend(p.key);
        }
        self.file(table, source_name, &named);
    }

    /// Takes the keys of a parsed file, sections or flat; keys in `skip`
    /// have a syntax problem reported already.
    fn file(&mut self, table: toml::Table, source_name: &str, skip: &[String]) {
        let skipped = |key: &str| skip.iter().any(|s| s == key);
        let origin = |spelled: String| Origin {
            source_name: source_name.to_owned(),
            spelled,
        };
        for (key, value) in table {
            if skipped(&key) {
                continue;
            }
            if SECTIONS.contains(&key.as_str()) {
                let toml::Value::Table(section) = value else {
                    self.problem(
                        source_name,
                        format!("`{key}` is a section: write it as [{key}] followed by its keys"),
                    );
                    continue;
                };
                for (name, value) in section {
                    let dotted = format!("{key}.{name}");
                    if skipped(&name) || skipped(&dotted) {
                        continue;
                    }
                    match KEYS.iter().find(|(p, _)| *p == dotted) {
                        Some((path, _)) => self.set(path, value, origin(dotted)),
                        None if KEYS.iter().any(|(p, _)| *p == name) => self.problem(
                            source_name,
                            format!(
                                "key `{name}` is in the [{key}] section, where it does not belong: move it above the first [section] line"
                            ),
                        ),
                        None => {
                            let top_level = KEYS.iter().map(|(p, _)| *p).filter(|p| !p.contains('.'));
                            let message = match quire_core::toml_text::closest(&name, top_level) {
                                Some(k) if quire_core::toml_text::closest(&dotted, KEYS.iter().map(|(p, _)| *p)).is_none() => format!(
                                    "unknown key `{dotted}`: did you mean `{k}`? (it belongs above the first [section] line)"
                                ),
                                _ => unknown(&dotted, KEYS.iter().map(|(p, _)| *p)),
                            };
                            self.problem(source_name, message);
                        }
                    }
                }
                continue;
            }
            match KEYS.iter().find(|(_, flat)| *flat == key) {
                Some((path, _)) => self.set(path, value, origin(key)),
                None => {
                    let message = unknown(&key, spellings());
                    self.problem(source_name, message);
                }
            }
        }
    }

    /// Takes `QUIRE_<FLAT KEY>` variables, which win over the file.
    fn environment(&mut self, env: impl Fn(&str) -> Option<String>) {
        let defaults = toml::Table::try_from(Config::default()).unwrap_or_default();
        for (path, flat) in KEYS {
            let var = format!("QUIRE_{}", flat.to_ascii_uppercase());
            let Some(raw) = env(&var) else { continue };
            let source_name = format!("environment variable {var}");
            let value = match lookup(&defaults, path) {
                Some(toml::Value::Integer(_)) => match raw.trim().parse::<i64>() {
                    Ok(n) => toml::Value::Integer(n),
                    Err(_) => {
                        self.problem(&source_name, format!("key `{flat}`: {raw:?} is not a whole number"));
                        continue;
                    }
                },
                Some(toml::Value::Boolean(_)) => match raw.trim().to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" | "on" => toml::Value::Boolean(true),
                    "false" | "0" | "no" | "off" => toml::Value::Boolean(false),
                    _ => {
                        self.problem(&source_name, format!("key `{flat}`: {raw:?} is neither true nor false"));
                        continue;
                    }
                },
                Some(toml::Value::Array(_)) => toml::Value::Array(
                    raw.split(',')
                        .map(|s| toml::Value::String(s.trim().to_owned()))
                        .filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
                        .collect(),
                ),
                _ => toml::Value::String(raw),
            };
            self.values.insert(
                path,
                (
                    value,
                    Origin {
                        source_name,
                        spelled: flat.to_owned(),
                    },
                ),
            );
        }
    }

    /// The settings, or every problem found on the way: unknown keys,
    /// values of the wrong type or choice (each key tried alone, so that
    /// one bad value does not hide the next), and values that parse but
    /// cannot work.
    fn finish(self, fallback_source: &str) -> Result<Config, ConfigError> {
        self.finish_with_origins(fallback_source).map(|(config, _)| config)
    }

    /// As `finish`, with where each key that was set came from.
    fn finish_with_origins(
        mut self,
        fallback_source: &str,
    ) -> Result<(Config, BTreeMap<&'static str, Origin>), ConfigError> {
        let mut whole = toml::Table::new();
        let mut wrong = Vec::new();
        for (path, (value, origin)) in &self.values {
            let one = nested(&[(path, value.clone())]);
            match toml::Value::Table(one).try_into::<Config>() {
                Ok(_) => insert(&mut whole, path, value.clone()),
                Err(e) => wrong.push(ConfigProblem {
                    source_name: origin.source_name.clone(),
                    message: format!("key `{}`: {}", origin.spelled, e.message().trim()),
                }),
            }
        }
        self.problems.extend(wrong);
        // The values that parsed make a whole config (the others keep
        // their defaults), so that what cannot work is reported with them.
        let config: Config =
            toml::Value::Table(whole)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Invalid {
                    problems: vec![ConfigProblem {
                        source_name: fallback_source.to_owned(),
                        message: e.message().trim().to_owned(),
                    }],
                })?;
        let mut problems = std::mem::take(&mut self.problems);
        problems.extend(config.problems().into_iter().map(|p| {
            match self.values.get(p.path) {
                Some((_, origin)) => ConfigProblem {
                    source_name: origin.source_name.clone(),
                    message: p
                        .message
                        .replacen(&format!("`{}`", p.path), &format!("`{}`", origin.spelled), 1),
                },
                None => ConfigProblem {
                    source_name: fallback_source.to_owned(),
                    message: p.message,
                },
            }
        }));
        if problems.is_empty() {
            let origins = self
                .values
                .into_iter()
                .map(|(path, (_, origin))| (path, origin))
                .collect();
            Ok((config, origins))
        } else {
            Err(ConfigError::Invalid { problems })
        }
    }
}

fn unknown<'a>(given: &str, known: impl Iterator<Item = &'a str>) -> String {
    match quire_core::toml_text::closest(given, known) {
        Some(k) => format!("unknown key `{given}`: did you mean `{k}`? (docs/config.md lists every key)"),
        None => format!(
            "unknown key `{given}`: the site's keys are {}, and the sections [{}] (docs/config.md lists every key)",
            KEYS.iter()
                .filter(|(p, _)| !p.contains('.'))
                .map(|(p, _)| *p)
                .collect::<Vec<_>>()
                .join(", "),
            SECTIONS.join("], [")
        ),
    }
}

/// The value at `path` (`section.key` or `key`) of a nested table.
fn lookup<'a>(table: &'a toml::Table, path: &str) -> Option<&'a toml::Value> {
    match path.split_once('.') {
        Some((section, key)) => table.get(section)?.as_table()?.get(key),
        None => table.get(path),
    }
}

fn insert(table: &mut toml::Table, path: &str, value: toml::Value) {
    match path.split_once('.') {
        Some((section, key)) => {
            if let toml::Value::Table(t) = table
                .entry(section)
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            {
                t.insert(key.to_owned(), value);
            }
        }
        None => {
            table.insert(path.to_owned(), value);
        }
    }
}

fn nested(entries: &[(&str, toml::Value)]) -> toml::Table {
    let mut table = toml::Table::new();
    for (path, value) in entries {
        insert(&mut table, path, value.clone());
    }
    table
}

impl Config {
    /// Parses a `quire.toml` text; `source_name` says where it came from in
    /// error messages.
    pub fn parse(text: &str, source_name: &str) -> Result<Config, ConfigError> {
        let mut read = Read::default();
        read.text(text, source_name);
        read.finish(source_name)
    }

    /// Reads `quire.toml` from `data_dir` if it exists, then applies
    /// `QUIRE_*` variables from `env`.
    pub fn load(data_dir: &Path, env: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let (read, source_name) = Read::from_dir(data_dir, env)?;
        read.finish(&source_name)
    }

    /// Loads as [`Config::load`] does, and says for every key its value
    /// and where that came from: what `quire config show` prints.
    pub fn load_explained(
        data_dir: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(Config, Vec<Setting>), ConfigError> {
        let (read, source_name) = Read::from_dir(data_dir, env)?;
        let (config, origins) = read.finish_with_origins(&source_name)?;
        let table = toml::Table::try_from(&config).unwrap_or_default();
        let settings = KEYS
            .iter()
            .map(|(path, flat)| {
                let value = match lookup(&table, path) {
                    Some(toml::Value::String(s)) if SECRET_KEYS.contains(path) => {
                        toml::Value::String(redact_url(s)).to_string()
                    }
                    Some(v) => v.to_string(),
                    None => "(not set)".to_owned(),
                };
                let origin = match origins.get(path) {
                    Some(o) if o.spelled != *path && o.source_name.starts_with("environment") => o.source_name.clone(),
                    Some(o) if o.spelled != *path => format!("{} (as `{}`)", o.source_name, o.spelled),
                    Some(o) => o.source_name.clone(),
                    None => "default".to_owned(),
                };
                Setting {
                    key: path,
                    flat,
                    value,
                    origin,
                    needs_restart: RESTART_KEYS.contains(path),
                }
            })
            .collect();
        Ok((config, settings))
    }

    /// The keys whose values differ between `self` and `other`, in the
    /// order of [`KEYS`].
    pub fn changed_keys(&self, other: &Config) -> Vec<&'static str> {
        let before = toml::Table::try_from(self).unwrap_or_default();
        let after = toml::Table::try_from(other).unwrap_or_default();
        KEYS.iter()
            .map(|(path, _)| *path)
            .filter(|path| lookup(&before, path) != lookup(&after, path))
            .collect()
    }

    /// Takes from `running` the values of the keys a server reads only
    /// when it starts ([`RESTART_KEYS`]), so that the settings in force
    /// after a reload say what the server really does.
    pub fn keep_restart_keys(&mut self, running: &Config) {
        self.database_url = running.database_url.clone();
        self.theme_dir = running.theme_dir.clone();
        let (h, r) = (&mut self.http, &running.http);
        h.addr = r.addr.clone();
        h.max_connections = r.max_connections;
        h.page_cache_mb = r.page_cache_mb;
        h.header_timeout_seconds = r.header_timeout_seconds;
        h.body_timeout_seconds = r.body_timeout_seconds;
        h.idle_timeout_seconds = r.idle_timeout_seconds;
    }

    /// Checks values that parse but cannot work, every one; each message
    /// names its key (`key `comments.depth`: …`) and what is allowed.
    pub fn validate(&self) -> Result<(), String> {
        let problems = self.problems();
        if problems.is_empty() {
            return Ok(());
        }
        Err(problems.into_iter().map(|p| p.message).collect::<Vec<_>>().join("; "))
    }

    /// Every value that parses but cannot work.
    pub fn problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut bad = |path: &'static str, message: String| {
            problems.push(Problem {
                path,
                message: format!("key `{path}`: {message}"),
            })
        };
        if let Some(base_url) = &self.base_url
            && quire_core::domain::validate_http_url(base_url.trim_end_matches('/')).is_err()
        {
            bad(
                "base_url",
                format!(
                    "{base_url:?} is not an absolute http(s) URL; write the site's public address, such as \"https://papers.example.org\""
                ),
            );
        }
        if let Some(url) = &self.database_url {
            let u = url.expose();
            if !(u.starts_with("sqlite:") || u.starts_with("postgres://") || u.starts_with("postgresql://")) {
                bad(
                    "database_url",
                    format!("{:?} is neither sqlite:PATH nor postgres://…", redact_url(u)),
                );
            }
        }
        if self.site_name.trim().is_empty() {
            bad("site_name", "must not be empty".into());
        }
        if let Err(e) = crate::clock::SiteZone::new(&self.time_zone) {
            bad("time_zone", e);
        }
        if let Err(e) = quire_core::domain::validate_language(&self.language) {
            bad("language", e.to_string());
        }
        if self.kinds.is_empty() {
            bad("kinds", "name at least one kind of paper".into());
        }
        for (i, k) in self.kinds.iter().enumerate() {
            if k.trim().is_empty() || quire_core::domain::slugify(k).is_empty() {
                bad("kinds", format!("{k:?} cannot be a kind name"));
            } else if self.kinds[..i].contains(k) {
                bad("kinds", format!("{k:?} is listed twice"));
            }
        }
        if self.theme_dir.as_deref().is_some_and(|d| d.trim().is_empty()) {
            bad(
                "theme_dir",
                "give a folder, or leave the key out for the built-in theme".into(),
            );
        }
        let h = &self.http;
        if h.addr.parse::<SocketAddr>().is_err() {
            bad(
                "http.addr",
                format!(
                    "{:?} is not an IP address and port; write it as \"127.0.0.1:8080\"",
                    h.addr
                ),
            );
        }
        for entry in &h.trusted_proxies {
            if let Err(e) = parse_proxy(entry) {
                bad(
                    "http.trusted_proxies",
                    format!("{entry:?} {e}: write an address or a range such as 10.0.0.0/8 or 2001:db8::/32"),
                );
            }
        }
        if !["x-forwarded-for", "forwarded"].contains(&h.forwarded_header.trim().to_ascii_lowercase().as_str()) {
            bad(
                "http.forwarded_header",
                format!(
                    "{:?} is not known: use \"x-forwarded-for\" or \"forwarded\"",
                    h.forwarded_header
                ),
            );
        }
        let most = quire_render::feeds::SITEMAP_MAX_URLS;
        for (path, value, least, most, unit) in [
            ("http.header_timeout_seconds", h.header_timeout_seconds, 1, 3600, ""),
            ("http.body_timeout_seconds", h.body_timeout_seconds, 1, 3600, ""),
            ("http.idle_timeout_seconds", h.idle_timeout_seconds, 1, 3600, ""),
            ("http.max_connections", h.max_connections, 1, 1_000_000, ""),
            ("pages.papers_per_page", self.pages.papers_per_page, 1, 1000, ""),
            ("pages.words_per_minute", self.pages.words_per_minute, 1, u32::MAX, ""),
            ("pages.search_per_page", self.pages.search_per_page, 1, 100, ""),
            ("feeds.items", self.feeds.items, 1, 500, ""),
            (
                "feeds.sitemap_urls_per_file",
                self.feeds.sitemap_urls_per_file,
                1,
                most,
                " (the sitemap limit)",
            ),
            ("comments.depth", self.comments.depth, 1, 10, " (1: no replies)"),
            ("comments.per_page", self.comments.per_page, 1, 1000, ""),
            ("comments.min_seconds", self.comments.min_seconds, 0, 3600, " seconds"),
            ("mail.concurrency", self.mail.concurrency, 1, 256, " connections"),
            ("mail.max_attempts", self.mail.max_attempts, 1, 50, ""),
            ("mail.claim_seconds", self.mail.claim_seconds, 2, u32::MAX, " seconds"),
            ("mail.bounce_limit", self.mail.bounce_limit, 1, u32::MAX, ""),
            (
                "newsletter.confirm_hours",
                self.newsletter.confirm_hours,
                1,
                u32::MAX,
                " hours",
            ),
            (
                "newsletter.preferences_link_days",
                self.newsletter.preferences_link_days,
                1,
                u32::MAX,
                " days",
            ),
        ] {
            if !(least..=most).contains(&value) {
                let allowed = if most == u32::MAX {
                    format!("use at least {least}{unit}")
                } else {
                    format!("use a number from {least} to {most}{unit}")
                };
                bad(path, format!("{value} is out of range: {allowed}"));
            }
        }
        let m = &self.mail;
        if let Some(url) = &m.smtp_url
            && !url.expose().is_empty()
        {
            if let Err(e) = quire_mail::SmtpSettings::parse(url.expose()) {
                bad("mail.smtp_url", e);
            }
            if m.from.trim().is_empty() {
                bad(
                    "mail.from",
                    "set the sender of the site's emails, such as \"Policy Lab <news@example.org>\"".into(),
                );
            }
        }
        if !m.from.trim().is_empty()
            && let Err(e) = quire_mail::parse_mailbox(&m.from)
        {
            bad("mail.from", e);
        }
        if !m.notify.trim().is_empty()
            && let Err(e) = quire_mail::parse_mailbox(&m.notify)
        {
            bad("mail.notify", e);
        }
        if let Err(e) = crate::clock::parse_span(&self.newsletter.publish_delay) {
            bad("newsletter.publish_delay", e);
        }
        if m.dkim_selector.trim().is_empty() != m.dkim_key_file.trim().is_empty() {
            bad(
                "mail.dkim_selector",
                "set both it and `mail.dkim_key_file` to sign emails with DKIM, or neither".into(),
            );
        }
        problems
    }

    /// The theme folder to use, if any: `theme_dir` resolved against the
    /// data directory.
    pub fn theme_path(&self, data_dir: &Path) -> Option<PathBuf> {
        self.theme_dir.as_deref().map(|d| data_dir.join(d))
    }

    /// The moderation rules these settings make.
    pub fn moderation_rules(&self) -> quire_core::domain::ModerationRules {
        quire_core::domain::ModerationRules {
            max_links: self.comments.max_links as usize,
            previously_approved: self.comments.previously_approved,
            hold_all: self.comments.hold_all,
            moderation_words: self.comments.moderation_words.clone(),
            disallowed_words: self.comments.disallowed_words.clone(),
        }
    }

    /// Whether feeds carry whole papers rather than summaries.
    pub fn full_text_feeds(&self) -> bool {
        self.feeds.content == FeedContent::Full
    }

    /// The one address every absolute link starts with, without a
    /// trailing slash: `base_url` when set, else the address served
    /// (`http.addr`; `quire serve` puts the address it is bound to here).
    pub fn base(&self) -> std::borrow::Cow<'_, str> {
        match &self.base_url {
            Some(url) => std::borrow::Cow::Borrowed(url.trim_end_matches('/')),
            None => std::borrow::Cow::Owned(format!("http://{}", self.http.addr)),
        }
    }

    /// What to tell someone making links away from a server when
    /// `base_url` is unset: they point at the address served, which
    /// readers elsewhere may not reach.
    pub fn base_url_warning(&self) -> Option<String> {
        self.base_url.is_none().then(|| {
            format!(
                "base_url is not set, so links point to {} (the address `quire serve` listens on), which may not be the address readers use: set base_url in quire.toml to the site's public address",
                self.base()
            )
        })
    }

    /// The site as emails name it.
    pub fn mail_site(&self) -> quire_mail::compose::MailSite {
        quire_mail::compose::MailSite::new(&self.site_name, &self.base())
    }

    /// What a `Mailer` is made from.
    pub fn mailer_settings(&self) -> quire_mail::MailerSettings<'_> {
        quire_mail::MailerSettings {
            smtp_url: self.mail.smtp_url.as_ref().map(|u| u.expose()),
            mail_from: &self.mail.from,
            smtp_ca_file: &self.mail.smtp_ca_file,
            mail_concurrency: self.mail.concurrency,
            dkim_selector: &self.mail.dkim_selector,
            dkim_key_file: &self.mail.dkim_key_file,
            dkim_domain: &self.mail.dkim_domain,
        }
    }

    /// How the delivery worker sends, for mail from `from` (none while no
    /// mail server is set).
    pub fn sender_settings(&self, from: Option<&lettre::message::Mailbox>) -> quire_mail::SenderSettings {
        let from = from.map(|f| f.email.to_string()).unwrap_or_default();
        quire_mail::SenderSettings {
            concurrency: self.mail.concurrency,
            rate_per_second: self.mail.rate_per_second,
            policy: quire_store::RetryPolicy {
                max_attempts: self.mail.max_attempts,
                base: std::time::Duration::from_secs(u64::from(self.mail.retry_seconds)),
                bounce_limit: self.mail.bounce_limit,
            },
            lease: std::time::Duration::from_secs(u64::from(self.mail.claim_seconds)),
            language: self.language.clone(),
            unsubscribe_mailbox: if self.mail.notify.trim().is_empty() {
                from
            } else {
                quire_mail::parse_mailbox(&self.mail.notify)
                    .map(|m| m.email.to_string())
                    .unwrap_or(from)
            },
            preferences_link: self.preferences_link(),
            confirm_hours: self.newsletter.confirm_hours,
        }
    }

    /// How long a paper's own email waits after it goes public
    /// (`publish_delay`; checked when the settings were read).
    pub fn publish_delay(&self) -> time::Duration {
        crate::clock::parse_span(&self.newsletter.publish_delay).unwrap_or(time::Duration::minutes(10))
    }

    /// How long a preferences link works (`preferences_link_days`).
    pub fn preferences_link(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.newsletter.preferences_link_days) * 86_400)
    }

    /// The site as pages show it, with the theme's asset addresses.
    pub fn site_view(&self, assets: &quire_render::Assets) -> quire_render::SiteView {
        quire_render::SiteView::new(
            &self.site_name,
            &self.site_description,
            &self.base(),
            &self.language,
            assets,
        )
    }

    /// The site's clock, for times editors type and read. The setting is
    /// checked when loaded, so a bad name cannot reach here; UTC if it did.
    pub fn zone(&self) -> crate::clock::SiteZone {
        crate::clock::SiteZone::new(&self.time_zone).unwrap_or_else(|_| crate::clock::SiteZone::utc())
    }

    /// The database to open: the configured URL, or `quire.db` in `data_dir`.
    pub fn database_url_for(&self, data_dir: &Path) -> String {
        match &self.database_url {
            Some(url) if !url.expose().is_empty() => url.expose().to_owned(),
            _ => format!("sqlite://{}", data_dir.join("quire.db").display()),
        }
    }

    /// The text `quire init` writes: every key with its default and what
    /// it does, the optional ones commented out.
    pub fn starter_file() -> String {
        let d = Config::default();
        let list = |v: &[String]| v.iter().map(|k| format!("{k:?}")).collect::<Vec<_>>().join(", ");
        let word = |s: &str| format!("{s:?}");
        let (h, p, f, c, m, n) = (&d.http, &d.pages, &d.feeds, &d.comments, &d.mail, &d.newsletter);
        let order = match c.order {
            CommentOrder::Oldest => "oldest",
            CommentOrder::Newest => "newest",
        };
        let content = match f.content {
            FeedContent::Full => "full",
            FeedContent::Summary => "summary",
        };
        format!(
            "# Quire settings. Every key can also be set in the environment as QUIRE_ and its\n\
             # flat name in capitals: QUIRE_SITE_NAME, QUIRE_COMMENT_DEPTH (comments.depth),\n\
             # QUIRE_MAIL_FROM (mail.from)... docs/config.md lists them all.\n\n\
             site_name = {}  # shown in the header, titles and citations\n\
             site_description = {}  # one line for the home page and metadata\n\
             # base_url = \"https://papers.example.org\"  # the public address for links in feeds, emails, PDFs; unset: the address served\n\
             language = {}  # BCP 47; papers that name none are in it\n\
             time_zone = {}  # the site's clock (IANA name, such as \"Europe/Paris\"): times you type are on it\n\
             # database_url = \"postgres://quire:secret@127.0.0.1:5432/quire\"  # default: quire.db here\n\
             kinds = [{}]  # the kinds of paper, in the home page's order\n\
             # theme_dir = \"theme\"  # templates/ and assets/ that override the built-in theme\n\n\
             [http]\n\
             addr = {}  # where `quire serve` listens\n\
             # trusted_proxies = [\"127.0.0.1\"]  # behind a reverse proxy: its address, so that clients are told apart\n\
             forwarded_header = {}  # or \"forwarded\" (RFC 7239): where trusted proxies name the client\n\
             header_timeout_seconds = {}  # to send a request's headers\n\
             body_timeout_seconds = {}  # to send a request's body\n\
             idle_timeout_seconds = {}  # an idle keep-alive connection stays open\n\
             max_connections = {}  # served at once; more wait\n\
             page_cache_mb = {}  # memory for rendered pages\n\n\
             [pages]\n\
             papers_per_page = {}  # archive, author and topic pages\n\
             words_per_minute = {}  # for reading times\n\
             search_per_page = {}\n\n\
             [feeds]\n\
             content = {}  # \"full\" or \"summary\"\n\
             items = {}  # papers per feed\n\
             sitemap_urls_per_file = {}\n\n\
             [comments]  # WordPress's defaults\n\
             depth = {}  # deepest level of replies (1: no replies)\n\
             per_page = {}  # top-level comments per page\n\
             order = {}  # \"oldest\" or \"newest\" first\n\
             close_after_days = {}  # 0: never\n\
             max_links = {}  # more links than this: held for moderation\n\
             previously_approved = {}  # approve at once only authors approved before\n\
             hold_all = {}  # hold every comment for an editor\n\
             moderation_words = []  # words that hold a comment\n\
             disallowed_words = []  # words that send it to spam\n\
             min_seconds = {}  # posted sooner after the form was shown: held\n\
             rate_per_minute = {}  # per address; 0: no limit\n\
             rate_per_hour = {}  # per address; 0: no limit\n\
             ip_retention_days = {}  # then addresses are truncated\n\n\
             [mail]  # the newsletter and notices\n\
             # smtp_url = \"smtp://user:pass@mail.example.org:587?tls=starttls\"  # default: mail waits in the outbox\n\
             # from = \"Policy Lab <news@example.org>\"\n\
             # notify = \"editors@example.org\"  # comments awaiting moderation\n\
             concurrency = {}  # SMTP connections at once\n\
             rate_per_second = {}  # 0: no limit\n\
             max_attempts = {}  # before a temporary failure is final\n\
             retry_seconds = {}  # the first retry's wait, doubling after\n\
             claim_seconds = {}  # a crashed sender's messages go again after this\n\
             bounce_limit = {}  # permanent failures before a subscriber counts as bounced\n\
             # dkim_selector = \"quire\"  # with dkim_key_file, emails are signed with DKIM\n\
             # dkim_key_file = \"dkim.pem\"  # RSA (PEM, PKCS#1) or Ed25519 (base64)\n\n\
             [newsletter]\n\
             confirm_hours = {}  # a sign-up's confirmation link works this long\n\
             preferences_link_days = {}  # a subscriber's preferences link works this long\n\
             rate_per_hour = {}  # sign-ups per address; 0: no limit\n\
             address_per_day = {}  # confirmation emails per address; 0: no limit\n\
             on_publish = {}  # email each paper to its topics' subscribers when it goes public\n\
             publish_delay = {}  # after it goes public; unpublishing before then cancels the email\n",
            word(&d.site_name),
            word(&d.site_description),
            word(&d.language),
            word(&d.time_zone),
            list(&d.kinds),
            word(&h.addr),
            word(&h.forwarded_header),
            h.header_timeout_seconds,
            h.body_timeout_seconds,
            h.idle_timeout_seconds,
            h.max_connections,
            h.page_cache_mb,
            p.papers_per_page,
            p.words_per_minute,
            p.search_per_page,
            word(content),
            f.items,
            f.sitemap_urls_per_file,
            c.depth,
            c.per_page,
            word(order),
            c.close_after_days,
            c.max_links,
            c.previously_approved,
            c.hold_all,
            c.min_seconds,
            c.rate_per_minute,
            c.rate_per_hour,
            c.ip_retention_days,
            m.concurrency,
            m.rate_per_second,
            m.max_attempts,
            m.retry_seconds,
            m.claim_seconds,
            m.bounce_limit,
            n.confirm_hours,
            n.preferences_link_days,
            n.rate_per_hour,
            n.address_per_day,
            n.on_publish,
            word(&n.publish_delay),
        )
    }
}

/// The data directory as given, or the current directory.
pub fn data_dir_or_current(dir: Option<PathBuf>) -> PathBuf {
    dir.unwrap_or_else(|| PathBuf::from("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reload_keeps_exactly_the_keys_read_at_start() {
        let running = Config::default();
        let text = "database_url = \"postgres://q@db.example.org/q\"\ntheme_dir = \"theme\"\nsite_name = \"New\"\n\
                    [http]\naddr = \"127.0.0.1:9\"\nmax_connections = 5\npage_cache_mb = 9\n\
                    header_timeout_seconds = 9\nbody_timeout_seconds = 9\nidle_timeout_seconds = 9\n";
        let mut new = Config::parse(text, "quire.toml").expect("parse");
        let mut changed = running.changed_keys(&new);
        changed.sort_unstable();
        let mut expected = RESTART_KEYS.to_vec();
        expected.push("site_name");
        expected.sort_unstable();
        assert_eq!(changed, expected);
        new.keep_restart_keys(&running);
        assert_eq!(running.changed_keys(&new), ["site_name"]);
    }
    use std::collections::HashMap;

    #[test]
    fn empty_file_gives_defaults() {
        let c = Config::parse("", "quire.toml").expect("defaults");
        assert_eq!(c.http.addr, "127.0.0.1:8080");
        assert_eq!(c.kinds.len(), 4);
    }

    fn same_as_defaults(c: &Config) {
        let d = Config::default();
        assert_eq!(
            toml::Table::try_from(c).expect("table"),
            toml::Table::try_from(&d).expect("table")
        );
    }

    #[test]
    fn starter_file_parses_to_defaults() {
        same_as_defaults(&Config::parse(&Config::starter_file(), "quire.toml").expect("starter"));
    }

    /// What `quire init` wrote before the sections: every key flat.
    #[test]
    fn a_file_written_by_the_flat_quire_init_loads_unchanged() {
        let text = include_str!("quire-init-flat.toml");
        let mut read = Config::parse(text, "quire.toml").expect("flat starter");
        // Old starters wrote the served address out; it is the same links.
        assert_eq!(read.base_url.take().as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(read.base(), Config::default().base());
        same_as_defaults(&read);
        let edited = text
            .replace("comment_depth = 5", "comment_depth = 2")
            .replace("subscribe_confirm_hours = 48", "subscribe_confirm_hours = 12")
            .replace("feed_content = \"full\"", "feed_content = \"summary\"");
        let c = Config::parse(&edited, "quire.toml").expect("edited flat file");
        assert_eq!(c.comments.depth, 2);
        assert_eq!(c.newsletter.confirm_hours, 12);
        assert_eq!(c.feeds.content, FeedContent::Summary);
        assert!(!c.full_text_feeds());
    }

    #[test]
    fn sections_and_flat_keys_mean_the_same() {
        let nested = Config::parse(
            "[comments]\ndepth = 2\norder = \"newest\"\n[mail]\nfrom = \"news@example.org\"\n",
            "quire.toml",
        )
        .expect("nested");
        let flat = Config::parse(
            "comment_depth = 2\ncomment_order = \"newest\"\nmail_from = \"news@example.org\"\n",
            "quire.toml",
        )
        .expect("flat");
        assert_eq!(
            toml::Table::try_from(&nested).expect("t"),
            toml::Table::try_from(&flat).expect("t")
        );
        assert_eq!(nested.comments.order, CommentOrder::Newest);
        let msg = Config::parse("comment_depth = 2\n[comments]\ndepth = 3\n", "quire.toml")
            .expect_err("twice")
            .to_string();
        assert!(
            msg.contains("set twice") && msg.contains("`comment_depth`") && msg.contains("`comments.depth`"),
            "{msg}"
        );
    }

    #[test]
    fn keys_list_matches_the_struct() {
        let mut c = Config {
            base_url: Some("https://papers.example.org".into()),
            database_url: Some(Secret::new("sqlite://x")),
            theme_dir: Some("theme".into()),
            ..Config::default()
        };
        c.mail.smtp_url = Some(Secret::new("smtp://127.0.0.1:25"));
        c.mail.from = "news@example.org".into();
        let table = toml::Table::try_from(c).expect("serialise");
        let mut paths = Vec::new();
        for (k, v) in &table {
            match v.as_table() {
                Some(section) if SECTIONS.contains(&k.as_str()) => {
                    paths.extend(section.keys().map(|s| format!("{k}.{s}")))
                }
                _ => paths.push(k.clone()),
            }
        }
        paths.sort();
        let mut keys: Vec<_> = KEYS.iter().map(|(p, _)| p.to_string()).collect();
        keys.sort();
        assert_eq!(paths, keys);
        let mut flats: Vec<_> = KEYS.iter().map(|(_, f)| *f).collect();
        flats.sort();
        flats.dedup();
        assert_eq!(flats.len(), KEYS.len(), "flat names are unique");
    }

    #[test]
    fn unknown_keys_are_named_with_the_closest_known_one() {
        for (text, given, meant) in [
            ("site_nam = \"x\"", "site_nam", "site_name"),
            ("[comments]\ndepht = 2", "comments.depht", "comments.depth"),
            ("coment_depth = 2", "coment_depth", "comment_depth"),
            ("[mail]\nfrom_address = \"x\"", "mail.from_address", ""),
        ] {
            let msg = Config::parse(text, "data/quire.toml").expect_err(text).to_string();
            assert!(
                msg.contains("data/quire.toml") && msg.contains(&format!("`{given}`")),
                "{msg}"
            );
            if meant.is_empty() {
                assert!(!msg.contains("did you mean"), "{msg}");
            } else {
                assert!(msg.contains(&format!("did you mean `{meant}`?")), "{msg}");
            }
        }
        let msg = Config::parse("comments = 3", "quire.toml")
            .expect_err("not a section")
            .to_string();
        assert!(msg.contains("[comments]"), "{msg}");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = "addr = \"localhost\"\nkinds = []\nsite_nam = \"x\"\n[comments]\ndepth = 0\norder = \"random\"\n[pages]\npapers_per_page = \"ten\"\n";
        let Err(ConfigError::Invalid { problems }) = Config::parse(text, "quire.toml") else {
            panic!("invalid settings are refused");
        };
        let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
        // Unknown keys, values of the wrong type or choice, and values that
        // parse but cannot work, all in one go.
        assert_eq!(problems.len(), 6, "{messages:#?}");
        for wanted in [
            "`site_nam`",
            "`comments.order`",
            "`pages.papers_per_page`",
            "`addr`",
            "`kinds`",
            "`comments.depth`",
        ] {
            assert!(messages.iter().any(|m| m.contains(wanted)), "{wanted}: {messages:#?}");
        }
        assert!(
            messages
                .iter()
                .any(|m| m.contains("`oldest`") && m.contains("`newest`")),
            "a choice says what is allowed: {messages:#?}"
        );
        let text = "addr = \"localhost\"\nkinds = []\n[comments]\ndepth = 0\n";
        let Err(ConfigError::Invalid { problems }) = Config::parse(text, "quire.toml") else {
            panic!("invalid settings are refused");
        };
        let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 3, "{messages:#?}");
        for wanted in [
            "quire.toml: key `addr`",
            "quire.toml: key `kinds`",
            "quire.toml: key `comments.depth`: 0 is out of range: use a number from 1 to 10",
        ] {
            assert!(
                messages.iter().any(|m| m.starts_with(wanted)),
                "{wanted}: {messages:#?}"
            );
        }
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
    fn syntax_problems_name_their_key_and_come_with_the_others() {
        let text = "site_name = \"A\"\nsite_nmae = \"B\"\n[pages]\npapers_per_page = 10\npapers_per_page = 20\n[comments]\ndepth = 0\n";
        let msg = Config::parse(text, "quire.toml").expect_err("invalid").to_string();
        assert!(msg.contains("line 5: `papers_per_page` is set twice"), "{msg}");
        assert!(
            msg.contains("unknown key `site_nmae`: did you mean `site_name`?"),
            "{msg}"
        );
        assert!(msg.contains("`comments.depth`"), "{msg}");
        let msg = Config::parse("[mail]\nsite_nmae = \"B\"\n[pages]\n[pages]\n", "quire.toml")
            .expect_err("invalid")
            .to_string();
        assert!(msg.contains("did you mean `site_name`? (it belongs above"), "{msg}");
        assert!(msg.contains("line 4: the section [pages] appears twice"), "{msg}");
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "site_name = \"From file\"\n[http]\naddr = \"127.0.0.1:9000\"\n[pages]\npapers_per_page = 40\n",
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
        assert_eq!(c.http.addr, "127.0.0.1:9000");
        assert_eq!(c.pages.papers_per_page, 12, "the environment wins over a section's key");
        assert_eq!(c.kinds, ["brief", "report"]);
        assert_eq!(c.comments.rate_per_minute, 0);
        assert_eq!(c.comments.rate_per_hour, 30, "unset keys keep their default");
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
        let e = Config::load(dir.path(), |k| (k == "QUIRE_COMMENT_ORDER").then(|| "random".into())).expect_err("bad");
        assert!(
            e.to_string()
                .starts_with("environment variable QUIRE_COMMENT_ORDER: key `comment_order`"),
            "{e}"
        );
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
        // the file is named, with the key as the file spells it.
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join(CONFIG_FILE);
        for (text, key) in [
            ("addr = \"everywhere\"\n", "addr"),
            ("[http]\naddr = \"everywhere\"\n", "http.addr"),
        ] {
            std::fs::write(&file, text).expect("write");
            let e = Config::load(dir.path(), |k| (k == "QUIRE_SITE_NAME").then(|| "Papers".into())).expect_err("bad");
            assert!(
                e.to_string().starts_with(&format!("{}: key `{key}`", file.display())),
                "{e}"
            );
        }
    }

    #[test]
    fn secrets_stay_hidden() {
        let mut c = Config {
            database_url: Some(Secret::new("postgres://u:hunter2@h/db")),
            ..Config::default()
        };
        c.mail.smtp_url = Some(Secret::new("smtp://u:hunter3@h:587"));
        assert!(!format!("{c:?}").contains("hunter"));
    }
}

#[cfg(test)]
mod docs_tests {
    /// The operators' reference must describe every key, with the flat
    /// spelling the environment uses.
    #[test]
    fn config_reference_lists_every_key() {
        let doc = include_str!("../../../docs/config.md");
        for (path, flat) in super::KEYS {
            let (section, key) = path.split_once('.').unwrap_or(("", path));
            let row = format!("| `{key}` | `QUIRE_{}` |", flat.to_ascii_uppercase());
            assert!(
                doc.contains(&row),
                "docs/config.md does not describe `{path}` with the row {row:?}"
            );
            if !section.is_empty() {
                assert!(
                    doc.contains(&format!("## `[{section}]`")),
                    "docs/config.md has no [{section}] heading"
                );
            }
        }
        for (path, flat) in super::KEYS {
            let key = path.split_once('.').map_or(path, |(_, k)| k);
            let row = format!("| `{key}` | `QUIRE_{}` |", flat.to_ascii_uppercase());
            let line = doc.lines().find(|l| l.starts_with(&row)).unwrap_or_default();
            assert_eq!(
                line.contains("**Restart to change.**"),
                super::RESTART_KEYS.contains(&path),
                "docs/config.md must mark `{path}` as needing a restart exactly when a server reads it only at start"
            );
        }
        for line in super::Config::starter_file()
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            assert!(doc.contains(line), "docs/config.md lacks the starter line {line:?}");
        }
    }
}
