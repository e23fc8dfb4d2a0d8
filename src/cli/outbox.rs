//! `quire outbox`: the emails waiting to leave, why each waits, and
//! retrying or giving up on them.

use super::{Failure, bad_input, plural, print_json};
use clap::Subcommand;
use quire_app::App;
use quire_app::newsletter::waiting_reason;
use quire_core::domain::DeliveryStatus;
use time::OffsetDateTime;

#[derive(Subcommand, Debug)]
pub(super) enum OutboxCommand {
    /// List messages, newest first, with why each one waits
    List {
        /// Only messages with this status (queued, sent, failed, skipped) [default: all]
        #[arg(long)]
        status: Option<String>,
        /// At most this many (up to 1000)
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Print one JSON array
        #[arg(long)]
        json: bool,
    },
    /// Show one message: to whom, what, its attempts and last error
    Show {
        /// The message's id, as `quire outbox list` shows it
        id: i64,
    },
    /// Send waiting or failed messages again as soon as a sender runs (attempts counted afresh)
    Retry {
        /// Message ids, as `quire outbox list` shows them
        #[arg(required = true, value_name = "ID")]
        ids: Vec<i64>,
    },
    /// Give up on waiting or failed messages (they are kept, marked skipped)
    Discard {
        /// Message ids, as `quire outbox list` shows them
        #[arg(required = true, value_name = "ID")]
        ids: Vec<i64>,
    },
}

pub(super) async fn run(app: &App, cmd: &OutboxCommand) -> Result<(), Failure> {
    let zone = app.config().zone();
    let mail_server_set = app.config().mail.smtp_url.is_some();
    let now = OffsetDateTime::now_utc();
    match cmd {
        OutboxCommand::List { status, limit, json } => {
            let status = match status {
                Some(s) => Some(DeliveryStatus::parse(s.trim()).ok_or_else(|| {
                    bad_input(format!(
                        "--status: {s:?} is not a status: use queued, sent, failed or skipped"
                    ))
                })?),
                None => None,
            };
            let entries = app.outbox(status, *limit).await?;
            if *json {
                return print_json(&entries);
            }
            if entries.is_empty() {
                println!("The outbox is empty.");
            }
            for e in &entries {
                let why = waiting_reason(e, mail_server_set, &zone, now)
                    .map(|w| format!("waiting: {w}"))
                    .or_else(|| e.last_error.clone())
                    .unwrap_or_default();
                println!(
                    "{:>6}  {:<8}  {:<8}  {:<32}  {}  {}",
                    e.id,
                    e.status.as_str(),
                    e.kind.as_str(),
                    e.recipient,
                    e.subject.as_deref().unwrap_or(""),
                    if why.is_empty() {
                        String::new()
                    } else {
                        format!("[{why}]")
                    }
                );
            }
            if !mail_server_set && entries.iter().any(|e| e.status == DeliveryStatus::Queued) {
                super::say_if_nothing_delivers(&app.config());
            }
            Ok(())
        }
        OutboxCommand::Show { id } => {
            let e = app.outbox_message(*id).await?;
            println!("Message {} ({}), {}", e.id, e.kind.as_str(), e.status.as_str());
            println!("  to:       {}", e.recipient);
            if let Some(subject) = &e.subject {
                println!("  subject:  {subject}");
            }
            if let Some(c) = e.campaign {
                println!("  campaign: {c} (`quire newsletter status {c}`)");
            }
            if e.written_when_sent && e.status == DeliveryStatus::Queued {
                println!("  written:  when it is sent, with the site's settings of that moment");
            }
            println!("  queued:   {}", zone.describe(e.created_at));
            println!("  attempts: {}", e.attempts);
            if let Some(sent) = e.sent_at {
                println!("  sent:     {}", zone.describe(sent));
            }
            if let Some(error) = &e.last_error {
                println!("  last error: {error}");
            }
            if let Some(why) = waiting_reason(&e, mail_server_set, &zone, now) {
                println!("  waiting:  {why}");
            }
            Ok(())
        }
        OutboxCommand::Retry { ids } => {
            let n = app.retry_messages(ids).await?;
            println!(
                "{} will be sent again as soon as the server runs",
                plural(usize::try_from(n).unwrap_or(0), "message")
            );
            super::say_if_nothing_delivers(&app.config());
            Ok(())
        }
        OutboxCommand::Discard { ids } => {
            let n = app.discard_messages(ids).await?;
            println!(
                "Discarded {}; they are kept in the outbox, marked skipped",
                plural(usize::try_from(n).unwrap_or(0), "message")
            );
            Ok(())
        }
    }
}
