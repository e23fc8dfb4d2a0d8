//! An SMTP server for tests, on 127.0.0.1, speaking RFC 5321 over real
//! TCP: it keeps every message it accepts, and can be told to misbehave
//! per recipient and attempt (4xx, 5xx, a connection dropped in the
//! middle of DATA), as real servers do.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// What the server does with one recipient's message on one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    Accept,
    /// `421` to RCPT TO, then closes the connection.
    Close421,
    /// `451` to RCPT TO.
    Temp451,
    /// `550` to RCPT TO.
    Reject550,
    /// Closes the connection halfway through the message's data, with no
    /// reply.
    DropInData,
}

/// A message the server accepted.
#[derive(Clone, Debug)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

type Plan = Arc<dyn Fn(&str, u32) -> Fault + Send + Sync>;

/// The running server.
pub struct SmtpServer {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
    /// Attempts seen per recipient (every MAIL transaction counts).
    pub attempts: Arc<Mutex<HashMap<String, u32>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpServer {
    /// A server that accepts everything.
    pub async fn start() -> SmtpServer {
        SmtpServer::with_plan(|_, _| Fault::Accept).await
    }

    /// A server that treats recipient `r` on their `n`th attempt (from 1)
    /// as `plan(r, n)` says.
    pub async fn with_plan(plan: impl Fn(&str, u32) -> Fault + Send + Sync + 'static) -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let port = listener.local_addr().expect("addr").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let attempts = Arc::new(Mutex::new(HashMap::new()));
        let plan: Plan = Arc::new(plan);
        let (r, a) = (received.clone(), attempts.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let (r, a, plan) = (r.clone(), a.clone(), plan.clone());
                tokio::spawn(async move {
                    let _ = session(socket, r, a, plan).await;
                });
            }
        });
        SmtpServer {
            port,
            received,
            attempts,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    /// Messages received per recipient.
    pub fn counts(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for m in self.messages() {
            for to in m.to {
                *counts.entry(to).or_insert(0) += 1;
            }
        }
        counts
    }
}

fn address(arg: &str) -> String {
    let start = arg.find('<').map_or(0, |i| i + 1);
    let end = arg[start..].find('>').map_or(arg.len(), |i| start + i);
    arg[start..end].trim().to_ascii_lowercase()
}

async fn session(
    socket: tokio::net::TcpStream,
    received: Arc<Mutex<Vec<Received>>>,
    attempts: Arc<Mutex<HashMap<String, u32>>>,
    plan: Plan,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 localhost test ESMTP\r\n").await?;
    let mut from = String::new();
    let mut to: Vec<String> = Vec::new();
    let mut pending: Vec<Fault> = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let verb = command.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => {
                write
                    .write_all(b"250-localhost\r\n250-8BITMIME\r\n250 SIZE 52428800\r\n")
                    .await?
            }
            "HELO" => write.write_all(b"250 localhost\r\n").await?,
            "MAIL" => {
                from = address(&command[4..]);
                to.clear();
                pending.clear();
                write.write_all(b"250 2.1.0 OK\r\n").await?;
            }
            "RCPT" => {
                let rcpt = address(&command[4..]);
                let n = {
                    let mut a = attempts.lock().expect("lock");
                    let n = a.entry(rcpt.clone()).or_insert(0);
                    *n += 1;
                    *n
                };
                match plan(&rcpt, n) {
                    Fault::Close421 => {
                        write.write_all(b"421 4.3.2 Service shutting down\r\n").await?;
                        return Ok(());
                    }
                    Fault::Temp451 => write.write_all(b"451 4.3.0 Try again later\r\n").await?,
                    Fault::Reject550 => write.write_all(b"550 5.1.1 No such user here\r\n").await?,
                    fault => {
                        pending.push(fault);
                        to.push(rcpt);
                        write.write_all(b"250 2.1.5 OK\r\n").await?;
                    }
                }
            }
            "DATA" => {
                if to.is_empty() {
                    write.write_all(b"554 5.5.1 No valid recipients\r\n").await?;
                    continue;
                }
                write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                let drop_halfway = pending.contains(&Fault::DropInData);
                let mut data = String::new();
                let mut count = 0;
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    count += 1;
                    if drop_halfway && count == 10 {
                        // Gone mid-message, without a word.
                        return Ok(());
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                received.lock().expect("lock").push(Received {
                    from: from.clone(),
                    to: std::mem::take(&mut to),
                    data,
                });
                write.write_all(b"250 2.0.0 Queued\r\n").await?;
            }
            "RSET" => {
                to.clear();
                pending.clear();
                write.write_all(b"250 2.0.0 OK\r\n").await?;
            }
            "NOOP" => write.write_all(b"250 2.0.0 OK\r\n").await?,
            "QUIT" => {
                write.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => write.write_all(b"502 5.5.2 Command not recognized\r\n").await?,
        }
    }
}

/// A header's value from a received message (unfolded), if present.
pub fn header(data: &str, name: &str) -> Option<String> {
    let head = data.split("\r\n\r\n").next().unwrap_or(data);
    let mut value: Option<String> = None;
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some(v) = value.as_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
            continue;
        }
        if value.is_some() {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case(name)
        {
            value = Some(v.trim().to_owned());
        }
    }
    value
}

/// The decoded body of the part with `content_type` (quoted-printable or
/// base64 or plain), from a multipart message.
pub fn part(data: &str, content_type: &str) -> Option<String> {
    let at = data.find(&format!("Content-Type: {content_type}"))?;
    let rest = &data[at..];
    let head_end = rest.find("\r\n\r\n")?;
    let head = &rest[..head_end];
    let body = &rest[head_end + 4..];
    let boundary = header(data, "Content-Type")
        .and_then(|t| t.split("boundary=").nth(1).map(|b| b.trim_matches('"').to_owned()))
        .unwrap_or_default();
    let end = body.find(&format!("\r\n--{boundary}")).unwrap_or(body.len());
    let body = &body[..end];
    if head.contains("quoted-printable") {
        Some(decode_qp(body))
    } else if head.contains("base64") {
        let clean: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        Some(String::from_utf8_lossy(&decode_base64(&clean)).into_owned())
    } else {
        Some(body.to_owned())
    }
}

fn decode_qp(s: &str) -> String {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'=' if bytes.get(i + 1) == Some(&b'\r') && bytes.get(i + 2) == Some(&b'\n') => i += 3,
            b'=' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => out.push(b),
                    Err(_) => out.extend_from_slice(&bytes[i..i + 3]),
                }
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn decode_base64(s: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let Some(v) = value(c) else { continue };
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

/// A mail sender for `site`, as `quire serve` starts one.
pub async fn sender(site: &super::http::Site) -> quire_mail::Sender {
    use quire_mail::{Mailer, Sender, links};
    let config = site.state.config();
    let mailer = Mailer::from_settings(&config.mailer_settings(), std::path::Path::new(".")).expect("mailer");
    let key = site.store.site_key(links::SITE_KEY).await.expect("key");
    let settings = config.sender_settings(Some(&mailer.from));
    Sender::new(
        site.store.clone(),
        mailer,
        config.mail_site(),
        quire_core::signing::Signer::new(&key),
        settings,
    )
}

/// Runs the sender until nothing is due (retries included).
pub async fn deliver_all(sender: &quire_mail::Sender, store: &quire_store::Store) {
    for _ in 0..400 {
        let n = sender.round().await.expect("round");
        if n == 0 {
            let counts = store.outbox_counts(None).await.expect("counts");
            if counts.queued == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    panic!("mail still queued after many rounds");
}
