//! Mail: building messages (HTML and plain text), the links in them that
//! let a subscriber confirm, change preferences and leave, and delivery
//! over SMTP from the durable outbox in the store.

pub mod account_links;
pub mod compose;
pub mod links;
pub mod notices;
#[cfg(test)]
mod properties;
mod sender;

pub use sender::{Sender, SenderSettings};

use lettre::message::Mailbox;
use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm, DkimSigningKey,
};
use lettre::message::header::HeaderName;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use quire_core::domain::AttemptResult;
use quire_core::secret::redact_url;
use std::time::{Duration, Instant};

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
        let may_be_plain = matches!(security, SmtpSecurity::None | SmtpSecurity::Opportunistic);
        if (user.is_some() || password.is_some()) && may_be_plain && !is_loopback(&host) {
            let how = if security == SmtpSecurity::Opportunistic {
                "tls=opportunistic goes on without encryption when STARTTLS is not offered (or is stripped by \
                 someone on the way)"
            } else {
                "this URL asks for no encryption"
            };
            return Err(format!(
                "{shown:?}: the login would travel unencrypted to {host}: {how}; use ?tls=starttls (port 587) or \
                 smtps:// (port 465), or a relay on this machine"
            ));
        }
        Ok(SmtpSettings {
            host,
            port: url.port().unwrap_or(default_port),
            security,
            user,
            password,
        })
    }
}

/// Whether `host` is this machine, where nothing travels on a network.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
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
    Store(#[from] quire_store::StoreError),
}

/// What the site's settings say about sending mail: the keys of
/// `quire.toml` that a `Mailer` is made from, by those names.
#[derive(Clone, Copy, Debug)]
pub struct MailerSettings<'a> {
    /// `smtp_url`; `None` or blank when no server is set.
    pub smtp_url: Option<&'a str>,
    pub mail_from: &'a str,
    /// A private certificate authority's PEM file, relative to the data
    /// directory; blank for none.
    pub smtp_ca_file: &'a str,
    pub mail_concurrency: u32,
    pub dkim_selector: &'a str,
    pub dkim_key_file: &'a str,
    pub dkim_domain: &'a str,
}

/// The DKIM signing `config` asks for, with its key read from the file.
fn dkim_config(
    config: &MailerSettings<'_>,
    from: &Mailbox,
    data_dir: &std::path::Path,
) -> Result<Option<DkimConfig>, MailError> {
    let (selector, file) = (config.dkim_selector.trim(), config.dkim_key_file.trim());
    if selector.is_empty() || file.is_empty() {
        return Ok(None);
    }
    let path = data_dir.join(file);
    let key = std::fs::read_to_string(&path)
        .map_err(|e| MailError::BadSettings(format!("dkim_key_file: cannot read {}: {e}", path.display())))?;
    let key = key.trim();
    let (algorithm, what) = if key.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
        (DkimSigningAlgorithm::Rsa, "an RSA key")
    } else if key.starts_with("-----BEGIN") {
        return Err(MailError::BadSettings(format!(
            "dkim_key_file: {} is not an RSA key in PKCS#1 PEM (-----BEGIN RSA PRIVATE KEY-----); convert it with \
             `openssl rsa -in KEY -traditional -out {}`",
            path.display(),
            path.display()
        )));
    } else {
        (DkimSigningAlgorithm::Ed25519, "an Ed25519 key (base64 of 32 bytes)")
    };
    let signing = DkimSigningKey::new(key, algorithm)
        .map_err(|e| MailError::BadSettings(format!("dkim_key_file: {} is not {what}: {e}", path.display())))?;
    let domain = match config.dkim_domain.trim() {
        "" => from.email.domain().to_owned(),
        d => d.to_owned(),
    };
    // RFC 8058 asks that the signature cover both List-Unsubscribe headers.
    let headers = [
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "List-Id",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
    ]
    .into_iter()
    .map(HeaderName::new_from_ascii_str)
    .collect();
    Ok(Some(DkimConfig::new(
        selector.to_owned(),
        domain,
        signing,
        headers,
        DkimCanonicalization {
            header: DkimCanonicalizationType::Relaxed,
            body: DkimCanonicalizationType::Relaxed,
        },
    )))
}

/// A connection to the SMTP server, and when it last finished a message.
struct Idle {
    connection: AsyncSmtpConnection,
    since: Instant,
}

/// Idle connections older than this are closed rather than reused: servers
/// drop quiet clients (Postfix after 300 s).
const IDLE_LIMIT: Duration = Duration::from_secs(30);

/// SMTP connections to one server, reused across messages, and the sender
/// address.
///
/// Quire opens its own sockets with `TCP_NODELAY`: the message's last line
/// goes out in a write of its own, which Nagle's algorithm would hold until
/// the server's delayed acknowledgement, some 40 ms per message.
pub struct Mailer {
    settings: SmtpSettings,
    tls: Option<TlsParameters>,
    credentials: Option<Credentials>,
    hello: ClientId,
    idle: std::sync::Mutex<Vec<Idle>>,
    keep: usize,
    /// Certificates of a private authority, for `smtps://`.
    extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
    dkim: Option<DkimConfig>,
    pub from: Mailbox,
}

impl Mailer {
    /// The mailer `config` describes, or `NotConfigured` without
    /// `smtp_url`.
    pub fn from_settings(config: &MailerSettings<'_>, data_dir: &std::path::Path) -> Result<Mailer, MailError> {
        let url = config
            .smtp_url
            .filter(|u| !u.trim().is_empty())
            .ok_or(MailError::NotConfigured)?;
        let settings = SmtpSettings::parse(url).map_err(MailError::BadSettings)?;
        let from = parse_mailbox(config.mail_from).map_err(|e| MailError::BadSettings(format!("mail_from: {e}")))?;
        let ca = match config.smtp_ca_file.trim() {
            "" => None,
            file => {
                let path = data_dir.join(file);
                Some(std::fs::read(&path).map_err(|e| {
                    MailError::BadSettings(format!("smtp_ca_file: cannot read {}: {e}", path.display()))
                })?)
            }
        };
        let mut mailer = Mailer::new(&settings, from, config.mail_concurrency, ca)?;
        mailer.dkim = dkim_config(config, &mailer.from, data_dir)?;
        Ok(mailer)
    }

    /// A mailer keeping up to `connections` idle connections to the server;
    /// `ca` (PEM) is a private certificate authority to trust besides the
    /// public ones.
    pub fn new(
        settings: &SmtpSettings,
        from: Mailbox,
        connections: u32,
        ca: Option<Vec<u8>>,
    ) -> Result<Mailer, MailError> {
        let bad_ca = |e: String| MailError::BadSettings(format!("smtp_ca_file: no PEM certificate in it ({e})"));
        let tls = match settings.security {
            SmtpSecurity::None | SmtpSecurity::Wrapper => None,
            _ => {
                let mut builder = TlsParameters::builder(settings.host.clone());
                if let Some(pem) = &ca {
                    builder =
                        builder.add_root_certificate(Certificate::from_pem(pem).map_err(|e| bad_ca(e.to_string()))?);
                }
                Some(
                    builder
                        .build_rustls()
                        .map_err(|e| MailError::BadSettings(format!("TLS for {}: {e}", settings.host)))?,
                )
            }
        };
        let extra_roots = match &ca {
            Some(pem) => wrapper::certificates(pem).map_err(bad_ca)?,
            None => Vec::new(),
        };
        Ok(Mailer {
            credentials: settings
                .user
                .as_ref()
                .map(|u| Credentials::new(u.clone(), settings.password.clone().unwrap_or_default())),
            settings: settings.clone(),
            tls,
            hello: ClientId::default(),
            idle: std::sync::Mutex::new(Vec::new()),
            keep: connections.max(1) as usize,
            extra_roots,
            dkim: None,
            from,
        })
    }

    /// A new connection: TCP (without Nagle's delay), TLS as configured,
    /// EHLO, and login when there are credentials.
    async fn connect(&self) -> Result<AsyncSmtpConnection, String> {
        let s = &self.settings;
        let tcp = tokio::time::timeout(SMTP_TIMEOUT, tokio::net::TcpStream::connect((s.host.as_str(), s.port)))
            .await
            .map_err(|_| format!("connecting to {}:{} timed out", s.host, s.port))?
            .map_err(|e| format!("cannot connect to {}:{}: {e}", s.host, s.port))?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        let stream: Box<dyn AsyncTokioStream> = match (&s.security, &self.tls) {
            (SmtpSecurity::Wrapper, _) => Box::new(wrapper::connect(tcp, &s.host, &self.extra_roots).await?),
            _ => Box::new(tcp),
        };
        let mut connection = tokio::time::timeout(
            SMTP_TIMEOUT,
            AsyncSmtpConnection::connect_with_transport(stream, &self.hello),
        )
        .await
        .map_err(|_| "the server did not greet in time".to_owned())?
        .map_err(|e| e.to_string())?;
        // A server that stops answering during STARTTLS or the login must
        // not hold the sender (or `quire newsletter test`) for ever.
        let secured = async {
            match (&s.security, &self.tls) {
                (SmtpSecurity::StartTls, Some(tls)) => connection
                    .starttls(tls.clone(), &self.hello)
                    .await
                    .map_err(|e| e.to_string())?,
                (SmtpSecurity::Opportunistic, Some(tls)) if connection.can_starttls() => connection
                    .starttls(tls.clone(), &self.hello)
                    .await
                    .map_err(|e| e.to_string())?,
                _ => {}
            }
            if let Some(credentials) = &self.credentials {
                connection
                    .auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                    .await
                    .map_err(|e| format!("the server refused the login: {e}"))?;
            }
            Ok::<_, String>(())
        };
        tokio::time::timeout(SMTP_TIMEOUT, secured)
            .await
            .map_err(|_| "the server stopped answering during STARTTLS or the login".to_owned())??;
        Ok(connection)
    }

    /// An idle connection still fresh, if any.
    fn take_idle(&self) -> Option<AsyncSmtpConnection> {
        let mut idle = self.idle.lock().ok()?;
        while let Some(i) = idle.pop() {
            if i.since.elapsed() < IDLE_LIMIT {
                return Some(i.connection);
            }
        }
        None
    }

    fn put_idle(&self, connection: AsyncSmtpConnection) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < self.keep
        {
            idle.push(Idle {
                connection,
                since: Instant::now(),
            });
        }
    }

    /// Hands one message to the server and says how that went.
    pub async fn send(&self, message: lettre::Message) -> AttemptResult {
        self.send_with_reply(message).await.0
    }

    /// As [`Mailer::send`], with the server's own words when it took the
    /// message (`250 2.0.0 Ok: queued as 4F1A`): what a test send shows, so
    /// the message can be traced in the server's logs.
    pub async fn send_with_reply(&self, mut message: lettre::Message) -> (AttemptResult, Option<String>) {
        if let Some(dkim) = &self.dkim {
            message.sign(dkim);
        }
        let envelope = message.envelope().clone();
        let bytes = message.formatted();
        // A reused connection the server has dropped fails at once: that
        // one attempt is made again on a new connection.
        let mut reused = true;
        loop {
            let connection = match self.take_idle() {
                Some(c) => c,
                None => {
                    reused = false;
                    match self.connect().await {
                        Ok(c) => c,
                        Err(e) => return (AttemptResult::Transient(e), None),
                    }
                }
            };
            let mut connection = connection;
            match tokio::time::timeout(SMTP_TIMEOUT, connection.send(&envelope, &bytes)).await {
                Ok(Ok(response)) => {
                    self.put_idle(connection);
                    let words: Vec<&str> = response.message().collect();
                    let reply = format!("{} {}", response.code(), words.join(" "));
                    return (AttemptResult::Delivered, Some(reply.trim().to_owned()));
                }
                Ok(Err(e)) if e.is_permanent() => return (AttemptResult::Permanent(e.to_string()), None),
                Ok(Err(e)) if reused && !e.is_response() => {
                    tracing::debug!(error = %e, "a kept SMTP connection had closed; opening another");
                }
                Ok(Err(e)) => return (AttemptResult::Transient(e.to_string()), None),
                Err(_) => {
                    return (
                        AttemptResult::Transient("the SMTP server did not answer in time".into()),
                        None,
                    );
                }
            }
        }
    }
}

/// TLS from the first byte (`smtps://`) on a socket Quire opened, with
/// rustls and the Mozilla roots, as lettre uses for STARTTLS.
mod wrapper {
    use lettre::transport::smtp::client::AsyncTokioStream;
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll};
    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
    use tokio::net::TcpStream;
    use tokio_rustls::client::TlsStream;

    #[derive(Debug)]
    pub struct Tls(TlsStream<TcpStream>);

    /// The certificates in a PEM file.
    pub fn certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        if certs.is_empty() {
            return Err("no -----BEGIN CERTIFICATE----- block".into());
        }
        Ok(certs)
    }

    /// `tcp` after a TLS handshake with `host`, whose certificate must hold
    /// under the public roots or `extra` ones.
    pub async fn connect(tcp: TcpStream, host: &str, extra: &[CertificateDer<'static>]) -> Result<Tls, String> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for cert in extra {
            roots.add(cert.clone()).map_err(|e| format!("smtp_ca_file: {e}"))?;
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from(host.to_owned())
            .map_err(|e| format!("{host:?} cannot be checked against a certificate: {e}"))?;
        let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS with {host} failed: {e}"))?;
        Ok(Tls(stream))
    }

    impl AsyncRead for Tls {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.0).poll_read(cx, buf)
        }
    }

    impl AsyncWrite for Tls {
        fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
            Pin::new(&mut self.0).poll_write(cx, buf)
        }
        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.0).poll_flush(cx)
        }
        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.0).poll_shutdown(cx)
        }
    }

    impl AsyncTokioStream for Tls {
        fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
            self.0.get_ref().0.peer_addr()
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
        for local in [
            "smtp://u:p@127.0.0.1:2525",
            "smtp://u:p@localhost:25",
            "smtp://u:p@[::1]:25?tls=opportunistic",
            "smtp://u:p@127.8.9.1",
        ] {
            assert!(SmtpSettings::parse(local).is_ok(), "a relay on this machine: {local}");
        }
        let wrapper = SmtpSettings::parse("smtps://u:p@mail.example.org").expect("smtps");
        assert_eq!((wrapper.port, wrapper.security), (465, SmtpSecurity::Wrapper));
        for (bad, says) in [
            ("mail.example.org", "not a URL"),
            ("http://mail.example.org", "not smtp"),
            ("smtp://mail.example.org?tls=maybe", "tls=\"maybe\""),
            ("smtp://user:secret@?tls=starttls", "not a URL"),
            ("smtp:/mail.example.org", "names no server"),
            // A login that may travel in the clear is refused.
            ("smtp://user:secret@mail.example.org", "unencrypted"),
            ("smtp://user:secret@mail.example.org:587?tls=opportunistic", "stripped"),
            ("smtp://user:secret@mail.example.org?tls=none", "unencrypted"),
            ("smtp://user@192.0.2.7:25", "unencrypted"),
            ("smtp://:secret@[2001:db8::1]:25", "unencrypted"),
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
