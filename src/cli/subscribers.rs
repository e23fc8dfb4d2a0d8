//! `quire subscribers import|export|erase`: subscriber lists in and out
//! as CSV, and erasing one person on request.

use super::{Failure, SubscribersCommand, bad_input};
use anyhow::Context;
use quire_app::subscribers::{BadRow, SubscriberRow};
use quire_app::{App, AppError, Remedy};
use quire_store::Store;
use std::io::IsTerminal;
use std::path::Path;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub(super) async fn run(app: &App, cmd: &SubscribersCommand) -> Result<(), Failure> {
    let store = &app.store;
    let shown = |email: &str| email.trim().to_ascii_lowercase();
    match cmd {
        SubscribersCommand::SendConfirmations => {
            let queued = app.send_confirmations().await?;
            if queued == 0 {
                println!("No subscriber is waiting to confirm.");
            } else {
                println!(
                    "Queued {queued} confirmation email{}; a running `quire serve` writes and sends them, and each link works for {} hours from when it is sent.",
                    if queued == 1 { "" } else { "s" },
                    app.config().newsletter.confirm_hours
                );
                super::say_if_nothing_delivers(&app.config());
            }
            Ok(())
        }
        SubscribersCommand::Import {
            file,
            skip_bad,
            with_consent,
        } => import(app, file, *skip_bad, *with_consent).await,
        SubscribersCommand::Export => export(store).await,
        SubscribersCommand::Unsubscribe { email } => {
            app.unsubscribe_email(email).await?;
            println!("Unsubscribed {}", shown(email));
            Ok(())
        }
        SubscribersCommand::RevokeLinks { email } => {
            app.revoke_subscriber_links(email).await?;
            println!("Revoked the links sent to {}; new emails carry new ones", shown(email));
            Ok(())
        }
        SubscribersCommand::Erase { email } => {
            app.erase_subscriber(email).await?;
            println!("Erased the subscriber {}", shown(email));
            Ok(())
        }
    }
}

/// A progress bar on a terminal, nothing elsewhere.
fn progress(len: u64, what: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} ({eta})") {
        bar.set_style(style);
    }
    bar.set_message(what.to_owned());
    bar
}

async fn import(app: &App, path: &Path, skip_bad: bool, with_consent: bool) -> Result<(), Failure> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| bad_input(format!("{name}: cannot be read: {e}")))?;
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes.as_slice());
    let headers = reader
        .byte_headers()
        .map_err(|e| bad_input(format!("{name}:1: the header row cannot be read: {e}")))?
        .clone();
    let column = |wanted: &str| {
        headers.iter().position(|h| {
            String::from_utf8_lossy(h)
                .trim()
                .trim_start_matches('\u{feff}')
                .eq_ignore_ascii_case(wanted)
        })
    };
    let Some(email_col) = column("email") else {
        return Err(bad_input(format!(
            "{name}:1: no `email` column: the first row names the columns, such as email,name,topics"
        )));
    };
    let (name_col, topics_col) = (column("name"), column("topics"));

    // Lines counted from byte offsets, past any blank lines before the
    // record: the CSV reader counts a record from where the last one ended.
    let lines = quire_core::domain::LineIndex::new(&bytes);
    let line_at = |byte: u64| {
        let mut end = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
        while end < bytes.len() && matches!(bytes[end], b'\n' | b'\r') {
            end += 1;
        }
        lines.line_at(end) as u64
    };
    let mut rows: Vec<Result<SubscriberRow, BadRow>> = Vec::new();
    let bar = progress(bytes.len() as u64, "Checking");
    for record in reader.byte_records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| line_at(p.byte()));
                rows.push(Err(BadRow {
                    line,
                    field: "row",
                    message: format!("cannot be read as CSV: {e}"),
                    remedy: None,
                }));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| line_at(p.byte()));
        bar.set_position(record.position().map_or(0, |p| p.byte()));
        let field = |col: Option<usize>| -> Result<String, ()> {
            match col.and_then(|c| record.get(c)) {
                Some(b) => String::from_utf8(b.to_vec()).map_err(|_| ()),
                None => Ok(String::new()),
            }
        };
        let (Ok(email), Ok(person), Ok(topics)) = (field(Some(email_col)), field(name_col), field(topics_col)) else {
            rows.push(Err(BadRow {
                line,
                field: "row",
                message: "is not UTF-8 text: save the file as UTF-8".into(),
                remedy: None,
            }));
            continue;
        };
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        rows.push(Ok(SubscriberRow {
            line,
            email,
            name: person,
            topics,
        }));
    }
    bar.finish_and_clear();
    let bar = progress(rows.len() as u64, "Importing");
    let imported = app
        .import_subscribers(rows, skip_bad, with_consent, &|n| bar.set_position(n as u64))
        .await;
    bar.finish_and_clear();
    let print_bad = |bad: &[BadRow]| {
        for b in bad {
            let hint = match &b.remedy {
                Some(Remedy::CreateTopic(t)) => format!(": add it with `quire topic add --slug {t} --name …`"),
                _ => String::new(),
            };
            eprintln!("{name}:{}: field `{}`: {}{hint}", b.line, b.field, b.message);
        }
    };
    let report = match imported {
        Ok(report) => report,
        Err(AppError::Rows { bad, good }) => {
            print_bad(&bad);
            return Err(bad_input(format!(
                "{} bad row{}; nothing was imported: correct them, or pass --skip-bad to import the other {good}",
                bad.len(),
                if bad.len() == 1 { "" } else { "s" },
            )));
        }
        Err(e) => return Err(e.into()),
    };
    print_bad(&report.bad);
    println!(
        "Imported {} subscriber{} ({} already on the list{}).",
        report.added,
        if report.added == 1 { "" } else { "s" },
        report.existing,
        if report.bad.is_empty() {
            String::new()
        } else {
            format!(
                ", {} bad row{} skipped",
                report.bad.len(),
                if report.bad.len() == 1 { "" } else { "s" }
            )
        }
    );
    if with_consent {
        println!("They are confirmed: you declared that they agreed to receive the newsletter.");
    } else {
        println!(
            "They must each confirm before they are sent a newsletter: `quire subscribers send-confirmations` emails them the link."
        );
    }
    Ok(())
}

/// A cell that a spreadsheet would read as a formula is kept as text.
fn inert_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

async fn export(store: &Store) -> Result<(), Failure> {
    let subscribers = store.list_subscribers().await?;
    let mut out = csv::Writer::from_writer(std::io::stdout().lock());
    let time = |t: Option<OffsetDateTime>| t.and_then(|t| t.format(&Rfc3339).ok()).unwrap_or_default();
    out.write_record([
        "email",
        "name",
        "status",
        "consent",
        "topics",
        "created_at",
        "confirmed_at",
    ])
    .context("cannot write CSV")?;
    for s in &subscribers {
        out.write_record([
            s.email.as_str(),
            &inert_cell(&s.name),
            s.status.as_str(),
            s.consent.as_str(),
            &s.topics.join(";"),
            &time(Some(s.created_at)),
            &time(s.confirmed_at),
        ])
        .context("cannot write CSV")?;
    }
    out.flush().context("cannot write CSV")?;
    Ok(())
}
