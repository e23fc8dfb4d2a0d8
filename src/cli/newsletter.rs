//! `quire newsletter send|digest|test|status|pause|resume`: campaigns to
//! subscribers. `send` and `digest` queue a campaign (its recipients are
//! written to the outbox when it is due); with `--wait` this process also
//! delivers it, alongside any running `quire serve`.

use super::{Failure, RunContext, bad_input, print_json};
use clap::{Args, Subcommand};
use quire_core::domain::{CampaignKind, CampaignStatus, Status};
use quire_core::signing::Signer;
use quire_mail::compose::{self, MailSite};
use quire_mail::{Mailer, Sender, links};
use quire_store::{NewCampaign, PaperQuery, Store};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// To whom, when, and whether to deliver from here: what `send` and
/// `digest` share.
#[derive(Args, Debug)]
pub(super) struct When {
    /// Send to this topic's subscribers (and those who take everything)
    #[arg(long, value_name = "TOPIC")]
    topic: Option<String>,
    /// Send at this time (RFC 3339) instead of now
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
        /// Start from this time (RFC 3339) [default: where the last digest ended, or 7 days ago]
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Subject line [default: "New from SITE"]
        #[arg(long)]
        subject: Option<String>,
    },
    /// Send one copy of a paper's campaign (or of the next digest) to an address now
    Test {
        #[arg(long, value_name = "ADDRESS")]
        to: String,
        /// The paper [default: the next digest]
        #[arg(long, value_name = "SLUG")]
        paper: Option<String>,
    },
    /// List campaigns, or show one campaign's progress (live on a terminal)
    Status {
        id: Option<i64>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Stop a campaign's delivery until it is resumed
    Pause { id: i64 },
    /// Resume a paused campaign; with --wait, deliver it from here until sent
    Resume {
        id: i64,
        #[arg(long)]
        wait: bool,
    },
}

pub(super) async fn run(ctx: &RunContext, store: &Store, cmd: &NewsletterCommand) -> Result<(), Failure> {
    match cmd {
        NewsletterCommand::Send {
            paper,
            when,
            subject,
            again,
        } => {
            let (topic, at) = (when.topic.as_deref(), when.at.as_deref());
            let id = send_paper(ctx, store, paper, topic, at, subject.as_deref(), *again).await?;
            if when.wait {
                deliver(ctx, store, id).await?;
            }
            Ok(())
        }
        NewsletterCommand::Digest { when, since, subject } => {
            let (topic, at) = (when.topic.as_deref(), when.at.as_deref());
            let Some(id) = send_digest(ctx, store, topic, at, since.as_deref(), subject.as_deref()).await? else {
                return Ok(());
            };
            if when.wait {
                deliver(ctx, store, id).await?;
            }
            Ok(())
        }
        NewsletterCommand::Test { to, paper } => test(ctx, store, to, paper.as_deref()).await,
        NewsletterCommand::Status { id: None, json } => {
            let campaigns = store.campaigns().await?;
            if *json {
                return print_json(&campaigns);
            }
            if campaigns.is_empty() {
                println!("No campaigns yet: queue one with `quire newsletter send --paper SLUG`.");
            }
            for c in campaigns {
                println!(
                    "{:>5}  {:<9}  {:<6}  {}  sent {}/{}, failed {}, skipped {}  {}",
                    c.id,
                    c.status.as_str(),
                    c.kind.as_str(),
                    c.send_at.format(&Rfc3339).unwrap_or_default(),
                    c.sent,
                    c.recipients,
                    c.failed,
                    c.skipped,
                    c.subject
                );
            }
            Ok(())
        }
        NewsletterCommand::Status { id: Some(id), json } => {
            let c = campaign(store, *id).await?;
            if *json {
                return print_json(&c);
            }
            if std::io::stderr().is_terminal() && c.status == CampaignStatus::Sending {
                watch(store, *id, None).await?;
            }
            print_summary(&campaign(store, *id).await?);
            Ok(())
        }
        NewsletterCommand::Pause { id } => {
            match store.pause_campaign(*id, true).await? {
                Some(CampaignStatus::Paused) => {
                    println!("Paused campaign {id}. Resume it with `quire newsletter resume {id}`.")
                }
                Some(other) => {
                    return Err(bad_input(format!(
                        "campaign {id} is {other}; only a sending campaign can be paused"
                    )));
                }
                None => return Err(no_campaign(*id)),
            }
            Ok(())
        }
        NewsletterCommand::Resume { id, wait } => {
            match store.pause_campaign(*id, false).await? {
                Some(CampaignStatus::Sending) => println!("Campaign {id} is sending."),
                Some(other) if !*wait => return Err(bad_input(format!("campaign {id} is {other}, not paused"))),
                Some(_) => {}
                None => return Err(no_campaign(*id)),
            }
            if *wait {
                deliver(ctx, store, *id).await?;
            }
            Ok(())
        }
    }
}

fn no_campaign(id: i64) -> Failure {
    bad_input(format!("no campaign has the id {id}: see `quire newsletter status`"))
}

async fn campaign(store: &Store, id: i64) -> Result<quire_store::CampaignSummary, Failure> {
    store.campaign(id).await?.ok_or_else(|| no_campaign(id))
}

fn print_summary(c: &quire_store::CampaignSummary) {
    println!(
        "Campaign {} ({}, {}): {}\n  {} recipients: {} sent, {} failed, {} skipped, {} to send",
        c.id,
        c.kind.as_str(),
        c.status.as_str(),
        c.subject,
        c.recipients,
        c.sent,
        c.failed,
        c.skipped,
        c.queued
    );
}

fn parse_time(flag: &str, t: &str) -> Result<OffsetDateTime, Failure> {
    OffsetDateTime::parse(t, &Rfc3339)
        .map_err(|_| bad_input(format!("{flag} {t:?} is not a time: write it as 2026-01-05T10:00:00Z")))
}

fn mail_site(ctx: &RunContext) -> MailSite {
    ctx.config.mail_site()
}

/// The topic `slug`'s id, or a clear refusal.
async fn topic_id(store: &Store, slug: &str) -> Result<i64, Failure> {
    store
        .topic_ids(&[slug.to_owned()])
        .await?
        .get(slug)
        .copied()
        .ok_or_else(|| {
            bad_input(format!(
                "--topic: no topic has the slug {slug:?}: see `quire topic list`"
            ))
        })
}

async fn send_paper(
    ctx: &RunContext,
    store: &Store,
    slug: &str,
    topic: Option<&str>,
    at: Option<&str>,
    subject: Option<&str>,
    again: bool,
) -> Result<i64, Failure> {
    let now = OffsetDateTime::now_utc();
    let send_at = at.map(|t| parse_time("--at", t)).transpose()?.unwrap_or(now);
    let paper = store.get_paper(slug).await?.ok_or_else(|| {
        bad_input(format!(
            "--paper: no paper has the slug {slug:?}: see `quire paper list`"
        ))
    })?;
    let published = matches!(paper.meta.status, Status::Published | Status::Scheduled)
        && paper.meta.published_at.is_some_and(|t| t <= send_at.max(now));
    if !published {
        return Err(bad_input(format!(
            "--paper: {slug:?} is not published by the time of sending; publish it first with `quire paper publish {slug}`"
        )));
    }
    let earlier = store.paper_campaigns(paper.meta.id).await?;
    if !earlier.is_empty() && !again {
        return Err(bad_input(format!(
            "campaign {} already sent {slug:?}; pass --again to send it once more",
            earlier.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
        )));
    }
    let (topic_id, topic_ids) = match topic {
        Some(t) => {
            let id = topic_id(store, t).await?;
            (Some(id), vec![id])
        }
        None => {
            let slugs: Vec<String> = paper.meta.topics.iter().map(|t| t.slug.clone()).collect();
            (None, store.topic_ids(&slugs).await?.into_values().collect())
        }
    };
    let mut composed = compose::paper_campaign(&paper, &mail_site(ctx));
    if let Some(s) = subject {
        composed.subject = checked_subject(s)?;
    }
    let id = store
        .queue_campaign(
            &NewCampaign {
                kind: CampaignKind::Paper,
                paper_id: Some(paper.meta.id),
                topic_ids,
                topic_id,
                subject: composed.subject,
                html: composed.html,
                text: composed.text,
                send_at,
                digest_until: None,
            },
            now,
        )
        .await?;
    report_queued(store, id).await?;
    Ok(id)
}

fn checked_subject(s: &str) -> Result<String, Failure> {
    let s = s.trim();
    if s.is_empty() || s.chars().any(char::is_control) || s.chars().count() > 200 {
        return Err(bad_input("--subject: write one line of 1 to 200 characters".to_owned()));
    }
    Ok(s.to_owned())
}

async fn report_queued(store: &Store, id: i64) -> Result<(), Failure> {
    let c = campaign(store, id).await?;
    match c.status {
        CampaignStatus::Scheduled => println!(
            "Campaign {id} scheduled for {}: {}",
            c.send_at.format(&Rfc3339).unwrap_or_default(),
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
    Ok(())
}

/// The papers and subject of the next digest, and where it ends.
async fn next_digest(
    ctx: &RunContext,
    store: &Store,
    topic: Option<&str>,
    since: Option<&str>,
    subject: Option<&str>,
    now: OffsetDateTime,
) -> Result<(Vec<quire_core::domain::PaperMeta>, String, OffsetDateTime), Failure> {
    let since = match since {
        Some(t) => parse_time("--since", t)?,
        None => store
            .last_digest_until()
            .await?
            .unwrap_or(now - time::Duration::days(7)),
    };
    let papers = store
        .list_papers(&PaperQuery {
            published_after: Some(since),
            topic: topic.map(str::to_owned),
            limit: Some(100),
            ..PaperQuery::listed_at(now)
        })
        .await?;
    let subject = match subject {
        Some(s) => checked_subject(s)?,
        None => format!("New from {}", ctx.config.site_name),
    };
    Ok((papers, subject, now))
}

async fn send_digest(
    ctx: &RunContext,
    store: &Store,
    topic: Option<&str>,
    at: Option<&str>,
    since: Option<&str>,
    subject: Option<&str>,
) -> Result<Option<i64>, Failure> {
    let now = OffsetDateTime::now_utc();
    let send_at = at.map(|t| parse_time("--at", t)).transpose()?.unwrap_or(now);
    let topic_id = match topic {
        Some(t) => Some(topic_id(store, t).await?),
        None => None,
    };
    let (papers, subject, until) = next_digest(ctx, store, topic, since, subject, now).await?;
    if papers.is_empty() {
        println!("No papers were published since the last digest: nothing to send.");
        return Ok(None);
    }
    let composed = compose::digest_campaign(&papers, &mail_site(ctx), &subject);
    let topic_ids = match topic_id {
        Some(id) => vec![id],
        None => {
            let mut slugs: Vec<String> = papers
                .iter()
                .flat_map(|p| p.topics.iter().map(|t| t.slug.clone()))
                .collect();
            slugs.sort();
            slugs.dedup();
            // Papers without topics concern everyone.
            if papers.iter().any(|p| p.topics.is_empty()) {
                Vec::new()
            } else {
                store.topic_ids(&slugs).await?.into_values().collect()
            }
        }
    };
    let id = store
        .queue_campaign(
            &NewCampaign {
                kind: CampaignKind::Digest,
                paper_id: None,
                topic_ids,
                topic_id,
                subject: composed.subject,
                html: composed.html,
                text: composed.text,
                send_at,
                digest_until: Some(until),
            },
            now,
        )
        .await?;
    println!(
        "The digest holds {} paper{}.",
        papers.len(),
        if papers.len() == 1 { "" } else { "s" }
    );
    report_queued(store, id).await?;
    Ok(Some(id))
}

/// A mail sender for this process.
async fn sender(ctx: &RunContext, store: &Store) -> Result<Sender, Failure> {
    let mailer =
        Mailer::from_settings(&ctx.config.mailer_settings(), &ctx.data_dir).map_err(|e| bad_input(e.to_string()))?;
    let key = store.site_key(links::SITE_KEY).await?;
    let settings = ctx.config.sender_settings(&mailer.from);
    Ok(Sender::new(
        store.clone(),
        mailer,
        mail_site(ctx),
        Signer::new(&key),
        settings,
    ))
}

/// Sends one copy now, outside the outbox, so the editor sees the SMTP
/// server's answer.
async fn test(ctx: &RunContext, store: &Store, to: &str, paper: Option<&str>) -> Result<(), Failure> {
    let address =
        quire_core::domain::validate_subscriber_email(to).map_err(|e| bad_input(format!("--to: the address {e}")))?;
    let site = mail_site(ctx);
    let body = match paper {
        Some(slug) => {
            let paper = store.get_paper(slug).await?.ok_or_else(|| {
                bad_input(format!(
                    "--paper: no paper has the slug {slug:?}: see `quire paper list`"
                ))
            })?;
            compose::paper_campaign(&paper, &site)
        }
        None => {
            let (papers, subject, _) = next_digest(ctx, store, None, None, None, OffsetDateTime::now_utc()).await?;
            compose::digest_campaign(&papers, &site, &subject)
        }
    };
    let mailer =
        Mailer::from_settings(&ctx.config.mailer_settings(), &ctx.data_dir).map_err(|e| bad_input(e.to_string()))?;
    let layouts = compose::Layouts::new();
    let personal = compose::Personal {
        name: "",
        preferences_url: &format!("{}/subscribe", site.base_url),
        unsubscribe_url: &format!("{}/subscribe", site.base_url),
    };
    let (html, text) = layouts
        .personalise(
            &site,
            &ctx.config.language,
            &body,
            &personal,
            "This is a test copy: subscribers get their own links here.",
        )
        .map_err(|e| Failure::Other(anyhow::anyhow!("the email layout failed: {e}")))?;
    let stamp = OffsetDateTime::now_utc().unix_timestamp_nanos();
    let letter = compose::Letter {
        to: &address,
        to_name: "",
        subject: &format!("[Test] {}", body.subject),
        parts: compose::Parts::Plain { html, text },
        message_id: &format!("<quire.test.{stamp}@{}>", site.host),
    };
    let message = compose::build_message(&mailer.from, letter, None).map_err(|e| bad_input(format!("--to: {e}")))?;
    match mailer.send(message).await {
        quire_core::domain::AttemptResult::Delivered => {
            println!("Sent a test copy of \"{}\" to {address}", body.subject);
            Ok(())
        }
        quire_core::domain::AttemptResult::Transient(e) | quire_core::domain::AttemptResult::Permanent(e) => Err(
            Failure::Other(anyhow::anyhow!("the SMTP server did not take the test copy: {e}")),
        ),
    }
}

/// Delivers campaign `id` from this process until it is sent (or paused),
/// with a progress bar on a terminal.
async fn deliver(ctx: &RunContext, store: &Store, id: i64) -> Result<(), Failure> {
    let sender = Arc::new(sender(ctx, store).await?);
    watch(store, id, Some(sender)).await?;
    print_summary(&campaign(store, id).await?);
    Ok(())
}

/// Follows campaign `id` until it is sent or paused; with a sender, this
/// process delivers meanwhile (any due mail, its own campaign first among
/// equals).
async fn watch(store: &Store, id: i64, sender: Option<Arc<Sender>>) -> Result<(), Failure> {
    let c = campaign(store, id).await?;
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
            let c = campaign(store, id).await?;
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
