//! `quire newsletter send|digest|test|status|pause|resume`: campaigns to
//! subscribers. `send` and `digest` queue a campaign (its recipients are
//! written to the outbox when it is due); with `--wait` this process also
//! delivers it, alongside any running `quire serve`.

use super::{Failure, bad_input, on, print_json};
use clap::{Args, Subcommand};
use quire_app::newsletter::{DigestCampaign, PaperCampaign};
use quire_app::{App, AppError};
use quire_core::domain::CampaignStatus;
use quire_mail::Sender;
use quire_store::Store;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// To whom, when, and whether to deliver from here: what `send` and
/// `digest` share.
#[derive(Args, Debug)]
pub(super) struct When {
    /// Send to this topic's subscribers (and those who take everything)
    #[arg(long, value_name = "TOPIC")]
    topic: Option<String>,
    /// Send at this time instead of now: "2026-12-03 09:00" on the site's clock (time_zone), or RFC 3339
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Deliver it from here too, showing progress, until it is sent
    #[arg(long)]
    wait: bool,
}

#[derive(Subcommand, Debug)]
pub(super) enum NewsletterCommand {
    /// Queue a published paper as a campaign to subscribers (those who take
    /// everything and those of its topics, or of --topic)
    Send {
        /// The paper's slug
        #[arg(long, value_name = "SLUG")]
        paper: String,
        #[command(flatten)]
        when: When,
        /// Subject line [default: the paper's title]
        #[arg(long)]
        subject: Option<String>,
        /// Send a paper that a campaign has sent before
        #[arg(long)]
        again: bool,
    },
    /// Queue a digest of the papers published since the last digest
    Digest {
        #[command(flatten)]
        when: When,
        /// Start from this time, on the site's clock or RFC 3339 [default: where the last digest ended, or 7 days ago]
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Subject line [default: "New from SITE"]
        #[arg(long)]
        subject: Option<String>,
    },
    /// Send one copy of a paper's campaign (or of the next digest) to an address now
    Test {
        /// The address to send the copy to (yours)
        #[arg(long, value_name = "ADDRESS")]
        to: String,
        /// The paper [default: the next digest]
        #[arg(long, value_name = "SLUG")]
        paper: Option<String>,
    },
    /// List campaigns, or show one campaign's progress (live on a terminal)
    Status {
        /// A campaign's id, as the list shows it [default: list every campaign]
        id: Option<i64>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Stop a campaign's delivery until it is resumed
    Pause {
        /// The campaign's id, as `quire newsletter status` shows it
        id: i64,
    },
    /// Resume a paused campaign; with --wait, deliver it from here until sent
    Resume {
        /// The campaign's id, as `quire newsletter status` shows it
        id: i64,
        /// Deliver it from here too, showing progress, until it is sent
        #[arg(long)]
        wait: bool,
    },
}

impl NewsletterCommand {
    /// Whether the command builds emails, whose links need the public address.
    pub(super) fn makes_links(&self) -> bool {
        !matches!(self, NewsletterCommand::Status { .. } | NewsletterCommand::Pause { .. })
    }
}

pub(super) async fn run(app: &App, cmd: &NewsletterCommand) -> Result<(), Failure> {
    let store = &app.store;
    match cmd {
        NewsletterCommand::Send {
            paper,
            when,
            subject,
            again,
        } => {
            let campaign = PaperCampaign {
                slug: paper,
                topic: when.topic.as_deref(),
                at: parse_time(app, "--at", when.at.as_deref())?,
                subject: subject.as_deref(),
                again: *again,
            };
            let id = app.queue_paper_campaign(campaign).await.map_err(|e| match e {
                AppError::NotFound { what: "topic", .. } => on("--topic")(e),
                AppError::NotFound { .. } | AppError::NotPublished { .. } => on("--paper")(e),
                e => e.into(),
            })?;
            report_queued(app, id).await?;
            if when.wait {
                deliver(app, id).await?;
            }
            Ok(())
        }
        NewsletterCommand::Digest { when, since, subject } => {
            let campaign = DigestCampaign {
                topic: when.topic.as_deref(),
                at: parse_time(app, "--at", when.at.as_deref())?,
                since: parse_time(app, "--since", since.as_deref())?,
                subject: subject.as_deref(),
            };
            let queued = app.queue_digest(campaign).await.map_err(|e| match e {
                AppError::NotFound { .. } => on("--topic")(e),
                e => e.into(),
            })?;
            let Some((id, papers)) = queued else {
                println!("No papers were published since the last digest: nothing to send.");
                return Ok(());
            };
            println!("The digest holds {papers} paper{}.", if papers == 1 { "" } else { "s" });
            report_queued(app, id).await?;
            if when.wait {
                deliver(app, id).await?;
            }
            Ok(())
        }
        NewsletterCommand::Test { to, paper } => {
            let sent = app.send_test(to, paper.as_deref()).await.map_err(|e| match e {
                AppError::NotFound { .. } => on("--paper")(e),
                AppError::Delivery(e) => {
                    Failure::Other(anyhow::anyhow!("the SMTP server did not take the test copy: {e}"))
                }
                e => e.into(),
            })?;
            println!("Sent a test copy of \"{}\" to {}", sent.subject, sent.address);
            println!("The mail server answered: {}", sent.reply);
            Ok(())
        }
        NewsletterCommand::Status { id: None, json } => {
            let campaigns = store.campaigns().await?;
            if *json {
                return print_json(&campaigns);
            }
            if campaigns.is_empty() {
                println!("No campaigns yet: queue one with `quire newsletter send --paper SLUG`.");
            }
            let zone = app.config().zone();
            for c in campaigns {
                println!(
                    "{:>5}  {:<9}  {:<10}  {}  {}  {}",
                    c.id,
                    state_of(app, &c),
                    if c.on_publish { "on publish" } else { c.kind.as_str() },
                    zone.describe(c.send_at),
                    progress(&c),
                    c.subject
                );
            }
            Ok(())
        }
        NewsletterCommand::Status { id: Some(id), json } => {
            let c = app.campaign(*id).await?;
            if *json {
                return print_json(&c);
            }
            if std::io::stderr().is_terminal() && c.status == CampaignStatus::Sending {
                watch(app, *id, None).await?;
            }
            print_summary(app, &app.campaign(*id).await?);
            super::say_if_nothing_delivers(&app.config());
            Ok(())
        }
        NewsletterCommand::Pause { id } => {
            app.pause_campaign(*id).await?;
            println!("Paused campaign {id}. Resume it with `quire newsletter resume {id}`.");
            Ok(())
        }
        NewsletterCommand::Resume { id, wait } => {
            match app.resume_campaign(*id).await {
                Ok(()) => {
                    println!("Campaign {id} is sending.");
                    super::say_if_nothing_delivers(&app.config());
                }
                // With --wait, whatever its state, follow it from here.
                Err(AppError::WrongState(_)) if *wait => {}
                Err(e) => return Err(e.into()),
            }
            if *wait {
                deliver(app, *id).await?;
            }
            Ok(())
        }
    }
}

/// A campaign's state in words: "sending" only when something can send.
fn state_of(app: &App, c: &quire_store::CampaignSummary) -> &'static str {
    match c.status {
        CampaignStatus::Sending if app.config().mail.smtp_url.is_none() => "waiting: no mail server set",
        other => other.as_str(),
    }
}

/// How far a campaign has gone, in a few words: a scheduled one has no
/// recipients yet (they are chosen when it starts).
fn progress(c: &quire_store::CampaignSummary) -> String {
    if c.status == CampaignStatus::Scheduled {
        "recipients chosen when it starts".to_owned()
    } else {
        format!(
            "sent {}/{}, failed {}, skipped {}",
            c.sent, c.recipients, c.failed, c.skipped
        )
    }
}

fn print_summary(app: &App, c: &quire_store::CampaignSummary) {
    let zone = app.config().zone();
    let counts = if c.status == CampaignStatus::Scheduled {
        format!("starts {}; its recipients are chosen then", zone.describe(c.send_at))
    } else {
        format!(
            "{} recipients: {} sent, {} failed, {} skipped, {} to send",
            c.recipients, c.sent, c.failed, c.skipped, c.queued
        )
    };
    println!(
        "Campaign {} ({}, {}): {}\n  copy frozen {} (later edits to the paper are not in it)\n  {counts}",
        c.id,
        c.kind.as_str(),
        state_of(app, c),
        c.subject,
        zone.describe(c.frozen_at),
    );
    if c.on_publish && c.status == CampaignStatus::Scheduled {
        println!(
            "  queued because {} went public (newsletter_on_publish); it starts {}, unless the paper is unpublished \
             or deleted before then",
            c.paper.as_deref().unwrap_or("its paper"),
            app.config().zone().describe(c.send_at)
        );
    }
}

/// A time typed on the command line, on the site's clock unless it says
/// its offset.
fn parse_time(app: &App, flag: &str, t: Option<&str>) -> Result<Option<OffsetDateTime>, Failure> {
    let zone = app.config().zone();
    t.map(|t| zone.parse(t).map_err(|m| bad_input(format!("{flag}: {m}"))))
        .transpose()
}

async fn report_queued(app: &App, id: i64) -> Result<(), Failure> {
    let c = app.campaign(id).await?;
    match c.status {
        CampaignStatus::Scheduled => println!(
            "Campaign {id} scheduled for {}: {}",
            app.config().zone().describe(c.send_at),
            c.subject
        ),
        CampaignStatus::Sent => println!("Campaign {id} has no recipients: no confirmed subscriber takes it."),
        _ => println!(
            "Campaign {id} queued for {} recipient{}: {}",
            c.recipients,
            if c.recipients == 1 { "" } else { "s" },
            c.subject
        ),
    }
    super::say_if_nothing_delivers(&app.config());
    Ok(())
}

/// Delivers campaign `id` from this process until it is sent (or paused),
/// with a progress bar on a terminal.
async fn deliver(app: &App, id: i64) -> Result<(), Failure> {
    let sender = Arc::new(app.sender(Some(app.mailer()?)).await?);
    watch(app, id, Some(sender)).await?;
    print_summary(app, &app.campaign(id).await?);
    Ok(())
}

/// Follows campaign `id` until it is sent or paused; with a sender, this
/// process delivers meanwhile (any due mail, its own campaign first among
/// equals).
async fn watch(app: &App, id: i64, sender: Option<Arc<Sender>>) -> Result<(), Failure> {
    let store: &Store = &app.store;
    let c = app.campaign(id).await?;
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(u64::try_from(c.recipients).unwrap_or(0));
        if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} ({per_sec}, {eta})") {
            bar.set_style(style);
        }
        bar.set_message(format!("Campaign {id}"));
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut last_start = std::time::Instant::now() - Duration::from_secs(60);
    let mut last_look = last_start;
    loop {
        // Counting a large campaign's messages costs a little: look at it
        // a few times a second, not after every batch.
        if last_look.elapsed() >= Duration::from_millis(300) {
            last_look = std::time::Instant::now();
            let c = app.campaign(id).await?;
            bar.set_length(u64::try_from(c.recipients).unwrap_or(0));
            bar.set_position(u64::try_from(c.sent + c.failed + c.skipped).unwrap_or(0));
            match c.status {
                CampaignStatus::Sent => break,
                CampaignStatus::Paused => {
                    bar.abandon_with_message(format!("Campaign {id} is paused"));
                    return Ok(());
                }
                CampaignStatus::Scheduled | CampaignStatus::Sending => {}
            }
        }
        let worked = match &sender {
            Some(s) => {
                if last_start.elapsed() >= Duration::from_secs(2) {
                    last_start = std::time::Instant::now();
                    store.start_due_campaigns(OffsetDateTime::now_utc()).await?;
                }
                s.round().await.map_err(|e| Failure::Other(e.into()))?
            }
            None => 0,
        };
        if worked == 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    bar.finish_and_clear();
    Ok(())
}
