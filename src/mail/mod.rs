//! Mail: building messages (HTML and plain text), the links in them that
//! let a subscriber confirm, change preferences and leave, and delivery
//! over SMTP from the durable outbox in the store.

pub mod compose;
pub mod links;
mod sender;

pub use sender::{Sender, SenderSettings};

use crate::config::{Config, redact_url};
use crate::domain::AttemptResult;
use lettre::message::Mailbox;
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;

/// How long one SMTP exchange may take before the attempt counts as a
/// temporary failure.
const SMTP_TIMEOUT: Duration = Duration::from_secs(60);

/// How the connection to the SMTP server is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain text, for a relay on this machine or a private network.
    None,
    /// STARTTLS, required (`?tls=starttls` or `?tls=required`).
    StartTls,
    /// STARTTLS when the server offers it (`?tls=opportunistic`).
    Opportunistic,
    /// TLS from the first byte (`smtps://`).
    Wrapper,
}

/// The parts of `smtp_url`.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub user: Option<String>,
    password: Option<String>,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl SmtpSettings {
    /// Reads `smtp://[user:pass@]host[:port][?tls=starttls|opportunistic]`
    /// or `smtps://[user:pass@]host[:port]`.
    pub fn parse(raw: &str) -> Result<SmtpSettings, String> {
        let shown = redact_url(raw);
        let url = url::Url::parse(raw.trim()).map_err(|e| {
            format!(
                "{shown:?} is not a URL ({e}); write it as smtp://host:port or smtp://user:pass@host:587?tls=starttls"
            )
        })?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| format!("{shown:?} names no server; write it as smtp://host:port"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let tls = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.to_ascii_lowercase());
        let (security, default_port) = match (url.scheme(), tls.as_deref()) {
            ("smtp", None | Some("none" | "off")) => (SmtpSecurity::None, 25),
            ("smtp", Some("starttls" | "required")) => (SmtpSecurity::StartTls, 587),
            ("smtp", Some("opportunistic")) => (SmtpSecurity::Opportunistic, 587),
            ("smtps", None | Some("wrapper" | "tls")) => (SmtpSecurity::Wrapper, 465),
            ("smtp" | "smtps", Some(other)) => {
                return Err(format!(
                    "{shown:?}: tls={other:?} is not known; use tls=starttls, tls=opportunistic, or smtps:// for TLS from the start"
                ));
            }
            (scheme, _) => {
                return Err(format!(
                    "{shown:?}: the scheme {scheme:?} is not smtp or smtps; write it as smtp://host:port"
                ));
            }
        };
        let decode = |s: &str| {
            percent_decode(s)
                .ok_or_else(|| format!("{shown:?}: the user or password is not valid percent-encoded UTF-8"))
        };
        let user = if url.username().is_empty() {
            None
        } else {
            Some(decode(url.username())?)
        };
        let password = url.password().map(decode).transpose()?;
        Ok(SmtpSettings {
            host,
            port: url.port().unwrap_or(default_port),
            security,
            user,
            password,
        })
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Reads `Name <address>` or a bare address, as `mail_from` holds.
pub fn parse_mailbox(raw: &str) -> Result<Mailbox, String> {
    raw.trim().parse::<Mailbox>().map_err(|e| {
        format!("{raw:?} is not an email address ({e}); write it as \"Policy Lab <news@example.org>\" or \"news@example.org\"")
    })
}

/// Why mail cannot go out at all.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error(
        "no SMTP server is set: set smtp_url in quire.toml or QUIRE_SMTP_URL (such as smtp://user:pass@mail.example.org:587?tls=starttls)"
    )]
    NotConfigured,
    #[error("smtp_url: {0}")]
    BadSettings(String),
    #[error("the message cannot be built: {0}")]
    Build(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// An SMTP connection pool and the sender address.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    pub from: Mailbox,
}

impl Mailer {
    /// The mailer `config` describes, or `NotConfigured` without
    /// `smtp_url`.
    pub fn from_config(config: &Config) -> Result<Mailer, MailError> {
        let url = config
            .smtp_url
            .as_ref()
            .map(|u| u.expose())
            .filter(|u| !u.trim().is_empty())
            .ok_or(MailError::NotConfigured)?;
        let settings = SmtpSettings::parse(url).map_err(MailError::BadSettings)?;
        let from = parse_mailbox(&config.mail_from).map_err(|e| MailError::BadSettings(format!("mail_from: {e}")))?;
        Mailer::new(&settings, from, config.mail_concurrency)
    }

    /// A mailer keeping up to `connections` connections to the server.
    pub fn new(settings: &SmtpSettings, from: Mailbox, connections: u32) -> Result<Mailer, MailError> {
        let tls = |s: &SmtpSettings| {
            TlsParameters::new(s.host.clone()).map_err(|e| MailError::BadSettings(format!("TLS for {}: {e}", s.host)))
        };
        let security = match settings.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::StartTls => Tls::Required(tls(settings)?),
            SmtpSecurity::Opportunistic => Tls::Opportunistic(tls(settings)?),
            SmtpSecurity::Wrapper => Tls::Wrapper(tls(settings)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.clone())
            .port(settings.port)
            .tls(security)
            .timeout(Some(SMTP_TIMEOUT))
            .pool_config(PoolConfig::new().max_size(connections.max(1)));
        if let Some(user) = &settings.user {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                settings.password.clone().unwrap_or_default(),
            ));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
        })
    }

    /// Hands one message to the server and says how that went.
    pub async fn send(&self, message: lettre::Message) -> AttemptResult {
        match self.transport.send(message).await {
            Ok(_) => AttemptResult::Delivered,
            Err(e) if e.is_permanent() => AttemptResult::Permanent(e.to_string()),
            Err(e) => AttemptResult::Transient(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_name_server_security_and_login() {
        let plain = SmtpSettings::parse("smtp://127.0.0.1:2525").expect("plain");
        assert_eq!(
            (plain.host.as_str(), plain.port, plain.security, plain.user),
            ("127.0.0.1", 2525, SmtpSecurity::None, None)
        );
        let submission =
            SmtpSettings::parse("smtp://news%40example.org:p%40ss%3Aw@mail.example.org?tls=starttls").expect("tls");
        assert_eq!(submission.port, 587);
        assert_eq!(submission.security, SmtpSecurity::StartTls);
        assert_eq!(submission.user.as_deref(), Some("news@example.org"));
        assert_eq!(submission.password.as_deref(), Some("p@ss:w"));
        assert!(!format!("{submission:?}").contains("p@ss"));
        let wrapper = SmtpSettings::parse("smtps://u:p@mail.example.org").expect("smtps");
        assert_eq!((wrapper.port, wrapper.security), (465, SmtpSecurity::Wrapper));
        for (bad, says) in [
            ("mail.example.org", "not a URL"),
            ("http://mail.example.org", "not smtp"),
            ("smtp://mail.example.org?tls=maybe", "tls=\"maybe\""),
            ("smtp://user:secret@?tls=starttls", "not a URL"),
            ("smtp:/mail.example.org", "names no server"),
        ] {
            let err = SmtpSettings::parse(bad).expect_err(bad);
            assert!(err.contains(says), "{bad}: {err}");
            assert!(!err.contains("secret"), "{err}");
        }
    }

    #[test]
    fn senders_are_addresses_with_an_optional_name() {
        assert_eq!(
            parse_mailbox("Policy Lab <news@example.org>").map(|m| m.email.to_string()),
            Ok("news@example.org".to_owned())
        );
        assert!(parse_mailbox("Policy Lab").is_err());
    }
}
