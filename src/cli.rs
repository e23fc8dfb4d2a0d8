//! The `quire` command line: init, serve, demo, and the paper, author and
//! topic commands. Exit codes: 0 success, 2 bad input (a file, its front
//! matter, arguments, settings), 1 anything else.

mod newsletter;
mod outbox;
mod subscribers;
mod users;

use anyhow::{Context, anyhow};
use clap::{Args, Parser, Subcommand};
use quire_app::config::{CONFIG_FILE, Config};
use quire_app::papers::{PaperFiles, Publication};
use quire_app::{App, AppError, Remedy};
use quire_core::domain::{AuthorInput, AuthorLink, PaperInput, Status, TopicInput, slugify};
use quire_render::Theme;
use quire_store::{AddOptions, PaperQuery, Store, StoreError};
use quire_web::{self as web, AppState};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use time::OffsetDateTime;

#[derive(Parser, Debug)]
#[command(
    name = "quire",
    version,
    about = "Publish research papers, briefs and reports on the web"
)]
pub struct Cli {
    /// Folder holding quire.toml and the SQLite database [default: current folder]
    #[arg(long, global = true, env = "QUIRE_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Database to use instead of the configured one: sqlite://PATH or postgres://…
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Write quire.toml and an empty database into DIR (default: the data folder)
    Init {
        /// The folder to set up [default: --data-dir, or the current folder]
        dir: Option<PathBuf>,
    },
    /// Serve the site
    Serve(ServeArgs),
    /// Create a demo site (if the database is empty) and serve it
    Demo {
        /// How many papers to generate
        #[arg(long, default_value_t = 40)]
        papers: usize,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Add, list, publish and unpublish papers
    #[command(subcommand)]
    Paper(PaperCommand),
    /// List and add authors
    #[command(subcommand)]
    Author(AuthorCommand),
    /// List and add topics
    #[command(subcommand)]
    Topic(TopicCommand),
    /// List, moderate, purge, export and erase readers' comments
    #[command(subcommand)]
    Comments(CommentsCommand),
    /// Import, export and erase newsletter subscribers
    #[command(subcommand)]
    Subscribers(SubscribersCommand),
    /// Send papers and digests to subscribers, and follow campaigns
    #[command(subcommand)]
    Newsletter(newsletter::NewsletterCommand),
    /// The emails waiting to leave: list them with why each waits, show, retry or discard them
    #[command(subcommand)]
    Outbox(outbox::OutboxCommand),
    /// Accounts of the admin: add one (with a link to set its password), list, change roles, disable
    #[command(subcommand)]
    User(users::UserCommand),
    /// Check the settings, or show every one with where its value came from
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Typeset a paper as PDF (drafts too), with the theme's pdf/paper.typ if it has one
    Pdf {
        /// The paper's slug
        slug: String,
        /// Where to write the PDF [default: SLUG.pdf in this folder]
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// Read quire.toml and the QUIRE_* variables and report every problem (exit 2 if any)
    Check,
    /// Print every setting: its value and where it came from (file, environment, default)
    Show {
        /// Print one JSON array
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// Address to listen on, IP:port [default: addr from quire.toml, 127.0.0.1:8080]
    #[arg(long, value_name = "IP:PORT")]
    addr: Option<String>,
    /// Theme folder whose templates/ and assets/ override the built-in theme [default: theme_dir from quire.toml]
    #[arg(long, value_name = "DIR")]
    theme: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum PaperCommand {
    /// Add papers from Markdown files with TOML front matter (all or nothing)
    Add {
        /// Create authors and topics that do not exist yet
        #[arg(long)]
        create_missing: bool,
        /// Overwrite papers whose slug already exists
        #[arg(long)]
        replace: bool,
        /// Paper files; images they name are read from beside them
        #[arg(required = true, value_name = "FILE.md")]
        files: Vec<PathBuf>,
    },
    /// List papers, newest first
    List {
        /// Print one JSON array
        #[arg(long)]
        json: bool,
        /// Only papers with this status (draft, scheduled, published, archived)
        #[arg(long)]
        status: Option<String>,
        /// List the papers in the trash instead
        #[arg(long)]
        trashed: bool,
    },
    /// Publish a paper now, or schedule it for a later time
    Publish {
        /// The paper's slug
        slug: String,
        /// When readers see it: "2026-12-03 09:00" on the site's clock (time_zone), or RFC 3339 with an offset [default: now, or the date it was first published]
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        /// Allow taking a paper readers can see offline until --at (refused otherwise)
        #[arg(long, requires = "at")]
        unpublish_until: bool,
    },
    /// Take a paper back to draft: readers no longer see it
    Unpublish {
        /// The paper's slug
        slug: String,
    },
    /// Move papers to the trash: readers get "not found"; comments and images are kept until restored or purged
    Delete {
        /// The papers' slugs
        #[arg(required = true, value_name = "SLUG")]
        slugs: Vec<String>,
    },
    /// Bring papers back from the trash as they were
    Restore {
        /// The papers' slugs, as `quire paper list --trashed` shows them
        #[arg(required = true, value_name = "SLUG")]
        slugs: Vec<String>,
    },
    /// Delete for good the papers in the trash for longer than an age, with their comments and images
    Purge {
        /// Age, such as 30d, 12h, 2w or 90m
        #[arg(long, value_name = "AGE")]
        older_than: String,
    },
    /// Write papers back out as paper files (all, or the slugs named)
    Export {
        /// Folder to write SLUG.md files into (created if missing)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The papers to export [default: every paper]
        #[arg(value_name = "SLUG")]
        slugs: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
enum CommentsCommand {
    /// List comments, newest first
    List {
        /// Only comments with this status (pending, approved, spam, trash)
        #[arg(long)]
        status: Option<String>,
        /// Only comments on this paper (its slug)
        #[arg(long, value_name = "SLUG")]
        paper: Option<String>,
        /// Print one JSON array
        #[arg(long)]
        json: bool,
    },
    /// Approve comments: readers see them
    Approve {
        /// Comment ids, as `quire comments list` shows them
        #[arg(required = true, value_name = "ID")]
        ids: Vec<i64>,
    },
    /// Mark comments as spam
    Spam {
        /// Comment ids, as `quire comments list` shows them
        #[arg(required = true, value_name = "ID")]
        ids: Vec<i64>,
    },
    /// Move comments to the trash
    Trash {
        /// Comment ids, as `quire comments list` shows them
        #[arg(required = true, value_name = "ID")]
        ids: Vec<i64>,
    },
    /// Bring comments back from spam or trash to where they were
    Restore {
        /// Comment ids, as `quire comments list` shows them
        #[arg(required = true, value_name = "ID")]
        ids: Vec<i64>,
    },
    /// Delete old comments for good, by status
    Purge {
        /// Age, such as 30d, 12h, 2w or 90m
        #[arg(long, value_name = "AGE")]
        older_than: String,
        /// Statuses to purge, comma-separated
        #[arg(long, value_name = "S,S", default_value = "spam,trash")]
        status: String,
    },
    /// Print every comment made with an email address, as JSON (a data request)
    Export {
        /// The commenter's email address
        #[arg(long)]
        email: String,
    },
    /// Remove the name, address, website and IP address from every comment made with an email address
    Erase {
        /// The commenter's email address
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand, Debug)]
enum SubscribersCommand {
    /// Add subscribers from a CSV file with an `email` column (and
    /// optionally `name` and `topics`, topic slugs separated by `;`); all or
    /// nothing unless --skip-bad
    Import {
        /// The CSV file, UTF-8, with a header row
        #[arg(value_name = "FILE.csv")]
        file: PathBuf,
        /// Import the good rows and report the bad ones instead of stopping
        #[arg(long)]
        skip_bad: bool,
        /// Declare that everyone on the list agreed to receive the newsletter:
        /// they are confirmed at once (otherwise each must confirm first)
        #[arg(long)]
        with_consent: bool,
    },
    /// Print every subscriber as CSV
    Export,
    /// Email every subscriber still waiting to confirm (imported without
    /// --with-consent) a confirmation link; `quire serve` sends them
    SendConfirmations,
    /// Stop sending to an address (as its unsubscribe link does), keeping the record
    Unsubscribe {
        /// The subscriber's email address
        #[arg(value_name = "EMAIL")]
        email: String,
    },
    /// Delete a subscriber and everything kept about them
    Erase {
        /// The subscriber's email address
        #[arg(value_name = "EMAIL")]
        email: String,
    },
    /// Make every preferences and unsubscribe link sent to an address stop
    /// working (a forwarded email, say); new emails carry new links
    RevokeLinks {
        /// The subscriber's email address
        #[arg(value_name = "EMAIL")]
        email: String,
    },
}

#[derive(Subcommand, Debug)]
enum AuthorCommand {
    /// List authors
    List {
        /// Print one JSON array
        #[arg(long)]
        json: bool,
    },
    /// Add an author, or update the one with the same slug
    Add {
        /// The name as bylines show it, such as "Ada Lovelace"
        #[arg(long)]
        name: String,
        /// The name in paper files' `authors` and in URLs [default: derived from the name]
        #[arg(long)]
        slug: Option<String>,
        /// Where the author works, shown beside the name
        #[arg(long)]
        affiliation: Option<String>,
        /// Short biography, Markdown
        #[arg(long, default_value = "")]
        bio: String,
        /// A link as LABEL=URL; repeat for more
        #[arg(long = "link", value_name = "LABEL=URL")]
        links: Vec<String>,
        /// The author's ORCID iD, such as 0000-0002-1825-0097 (or its https://orcid.org/ address)
        #[arg(long)]
        orcid: Option<String>,
    },
    /// Make two authors one: papers naming FROM name INTO instead, and FROM is deleted
    Merge {
        /// The author to fold in and delete, by slug
        from: String,
        /// The author who stays, by slug
        into: String,
    },
}

#[derive(Subcommand, Debug)]
enum TopicCommand {
    /// List topics
    List {
        /// Print one JSON array
        #[arg(long)]
        json: bool,
    },
    /// Add a topic, or update the one with the same slug
    Add {
        /// The topic's name as pages show it, such as "Trade policy"
        #[arg(long)]
        name: String,
        /// The name in paper files' `topics` and in URLs [default: derived from the name]
        #[arg(long)]
        slug: Option<String>,
        /// A paragraph shown on the topic's page, Markdown
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Make two topics one: FROM's papers, subscribers and campaigns move to INTO, and FROM is deleted
    Merge {
        /// The topic to fold in and delete, by slug
        from: String,
        /// The topic that stays, by slug
        into: String,
    },
}

/// A failure and the exit code it deserves.
enum Failure {
    /// The user's input is wrong: exit 2.
    BadInput(anyhow::Error),
    /// Anything else: exit 1.
    Other(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Other(e)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        AppError::Store(e).into()
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        failure(e, None)
    }
}

/// What the command line says of an operation's failure: the error, with
/// the flag it concerns (`flag`, when the caller knows it) and a hint at
/// the command that helps.
fn failure(e: AppError, flag: Option<&str>) -> Failure {
    let prefix = |m: String| match flag {
        Some(f) => format!("{f}: {m}"),
        None => m,
    };
    let message = match &e {
        AppError::NotFound { what, .. } => {
            let see = match *what {
                "paper" => " see `quire paper list`",
                "topic" => " see `quire topic list`",
                "campaign" => " see `quire newsletter status`",
                "account" => " see `quire user list`",
                "subscriber" | "subscribed address" => " see `quire subscribers export`",
                _ => "",
            };
            let text = match &e {
                AppError::NotFound {
                    what: "subscriber",
                    value,
                    ..
                } => format!("no subscriber has the address {value:?}"),
                AppError::NotFound {
                    what: "subscribed address",
                    value,
                    ..
                } => format!("no subscribed address is {value:?}"),
                AppError::NotFound {
                    what: "campaign",
                    value,
                    ..
                } => format!("no campaign has the id {value}"),
                other => other.to_string(),
            };
            prefix(if see.is_empty() { text } else { format!("{text}:{see}") })
        }
        AppError::Invalid { field, message } => {
            format!("{}: {message}", flag.map_or(format!("--{field}"), str::to_owned))
        }
        AppError::NotPublished { slug } => prefix(format!(
            "{slug:?} is not published by the time of sending; publish it first with `quire paper publish {slug}`"
        )),
        AppError::AlreadySent { .. } => format!("{e}; pass --again to send it once more"),
        AppError::Store(StoreError::CommentNotFound(_)) => format!("{e}: see `quire comments list`"),
        AppError::Store(StoreError::DuplicatePaper(_)) => format!("{e} (pass --replace)"),
        AppError::Store(StoreError::DuplicateUser(email)) => {
            format!(
                "{e}: change its role with `quire user role {email} ROLE`, or give a new link with `quire user reset-password {email}`"
            )
        }
        AppError::Fields(fields) => fields
            .iter()
            .map(|f| match f.field {
                "email" => format!("the address {}", f.message),
                field => format!("--{field}: {}", f.message),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        AppError::Store(StoreError::UnknownReference { .. }) => format!("{e} (pass --create-missing)"),
        _ => prefix(e.to_string()),
    };
    if e.is_bad_input() {
        Failure::BadInput(anyhow!(message))
    } else {
        Failure::Other(anyhow::Error::new(e).context(message))
    }
}

/// The failure of an operation on what `flag` names.
fn on(flag: &'static str) -> impl Fn(AppError) -> Failure {
    move |e| failure(e, Some(flag))
}

fn bad_input(message: impl Into<String>) -> Failure {
    Failure::BadInput(anyhow!(message.into()))
}

/// Parses the arguments, runs the command and turns the outcome into an
/// exit code, printing the whole cause chain of any error.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    init_logging();
    // Serving takes every core; other commands do one thing at a time,
    // and a single thread spares them the hand-offs between threads (it
    // delivers a campaign some 30% faster).
    let runtime = match cli.command {
        Command::Serve(_) | Command::Demo { .. } => tokio::runtime::Runtime::new(),
        _ => tokio::runtime::Builder::new_current_thread().enable_all().build(),
    };
    let runtime = match runtime {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BadInput(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
        Err(Failure::Other(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("QUIRE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

struct RunContext {
    data_dir: PathBuf,
    config: Config,
    /// `--database-url`, which stands over the settings.
    database_url_flag: Option<String>,
}

fn load_context(cli: &Cli, data_dir: PathBuf) -> Result<RunContext, Failure> {
    let mut config = Config::load(&data_dir, |k| std::env::var(k).ok()).map_err(|e| Failure::BadInput(e.into()))?;
    if let Some(url) = &cli.database_url {
        config.database_url = Some(quire_app::config::Secret::new(url.clone()));
        config
            .validate()
            .map_err(|m| bad_input(format!("--database-url: {m}")))?;
    }
    Ok(RunContext {
        data_dir,
        config,
        database_url_flag: cli.database_url.clone(),
    })
}

async fn open_store(ctx: &RunContext) -> Result<Store, Failure> {
    let url = ctx.config.database_url_for(&ctx.data_dir);
    Store::connect(&url).await.map_err(|e| Failure::Other(e.into()))
}

/// The application over the configured database.
async fn open_app(ctx: &RunContext) -> Result<App, Failure> {
    Ok(App::new(open_store(ctx).await?, ctx.config.clone(), &ctx.data_dir))
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let data_dir = quire_app::config::data_dir_or_current(cli.data_dir.clone());
    match &cli.command {
        Command::Init { dir } => init(&cli, dir.clone().unwrap_or(data_dir)).await,
        Command::Serve(args) => {
            let ctx = load_context(&cli, data_dir)?;
            let store = open_store(&ctx).await?;
            serve(ctx, store, args).await
        }
        Command::Demo { papers, serve: args } => {
            let ctx = load_context(&cli, data_dir)?;
            let store = open_store(&ctx).await?;
            fill_demo(&ctx, &store, *papers).await?;
            serve(ctx, store, args).await
        }
        Command::Paper(cmd) => {
            let ctx = load_context(&cli, data_dir)?;
            paper_command(&ctx, cmd).await
        }
        Command::Author(cmd) => {
            let ctx = load_context(&cli, data_dir)?;
            author_command(&open_app(&ctx).await?, cmd).await
        }
        Command::Topic(cmd) => {
            let ctx = load_context(&cli, data_dir)?;
            topic_command(&open_app(&ctx).await?, cmd).await
        }
        Command::Comments(cmd) => {
            let ctx = load_context(&cli, data_dir)?;
            comments_command(&open_app(&ctx).await?, cmd).await
        }
        Command::Subscribers(cmd) => {
            let ctx = load_context(&cli, data_dir)?;
            // Confirmations are written by the server that sends them,
            // with its address: nothing here makes links.
            subscribers::run(&open_app(&ctx).await?, cmd).await
        }
        Command::Newsletter(cmd) => {
            let ctx = load_context(&cli, data_dir)?;
            if cmd.makes_links()
                && let Some(warning) = ctx.config.base_url_warning()
            {
                eprintln!("warning: {warning}");
            }
            newsletter::run(&open_app(&ctx).await?, cmd).await
        }
        Command::Outbox(cmd) => {
            let ctx = load_context(&cli, data_dir)?;
            outbox::run(&open_app(&ctx).await?, cmd).await
        }
        Command::User(cmd) => {
            let ctx = load_context(&cli, data_dir)?;
            users::run(&open_app(&ctx).await?, cmd).await
        }
        Command::Config(cmd) => config_command(&data_dir, cmd),
        Command::Pdf { slug, output } => {
            let ctx = load_context(&cli, data_dir)?;
            let app = open_app(&ctx).await?;
            let store = &app.store;
            let paper = app.paper(slug).await?;
            let template = match ctx.config.theme_path(&ctx.data_dir) {
                Some(dir) => Theme::load(&dir).map_err(|e| bad_input(e.to_string()))?.pdf_template,
                None => None,
            };
            let typesetter = quire_pdf::Typesetter::new(template);
            if let Some(warning) = ctx.config.base_url_warning() {
                eprintln!("warning: {warning}");
            }
            let base = ctx.config.base();
            let site = quire_render::pdf::PdfSite {
                name: &ctx.config.site_name,
                base_url: &base,
                language: &ctx.config.language,
            };
            let media = store.media_files(paper.meta.id).await?;
            let pdf =
                quire_render::pdf::typeset(&typesetter, &paper, &media, &site).map_err(|e| bad_input(e.to_string()))?;
            let misused = quire_pdf::misused_fonts(&pdf);
            if !misused.is_empty() {
                eprintln!(
                    "warning: some text has no font made for its script and may print as empty boxes ({})",
                    misused.join(", ")
                );
            }
            let path = output.clone().unwrap_or_else(|| PathBuf::from(format!("{slug}.pdf")));
            std::fs::write(&path, &pdf.bytes).with_context(|| format!("cannot write {}", path.display()))?;
            println!(
                "Wrote {} ({} page{}, {} KB)",
                path.display(),
                pdf.pages,
                if pdf.pages == 1 { "" } else { "s" },
                pdf.bytes.len().div_ceil(1024)
            );
            Ok(())
        }
    }
}

fn config_command(data_dir: &Path, cmd: &ConfigCommand) -> Result<(), Failure> {
    let (config, settings) =
        Config::load_explained(data_dir, |k| std::env::var(k).ok()).map_err(|e| Failure::BadInput(e.into()))?;
    match cmd {
        ConfigCommand::Check => {
            if let Some(dir) = config.theme_path(data_dir) {
                Theme::load(&dir).map_err(|e| bad_input(e.to_string()))?;
            }
            let set = settings.iter().filter(|s| s.origin != "default").count();
            let file = data_dir.join(CONFIG_FILE);
            let read = if file.exists() {
                file.display().to_string()
            } else {
                format!("no {} (defaults)", file.display())
            };
            println!(
                "Settings are valid: {read}; {set} key{} set, the other {} at their defaults.",
                if set == 1 { "" } else { "s" },
                settings.len() - set
            );
            Ok(())
        }
        ConfigCommand::Show { json: true } => print_json(&settings),
        ConfigCommand::Show { json: false } => {
            let width = settings.iter().map(|s| s.key.len()).max().unwrap_or(0);
            let value_width = settings
                .iter()
                .map(|s| s.value.chars().count().min(40))
                .max()
                .unwrap_or(0);
            for s in &settings {
                let restart = if s.needs_restart { "  [restart to change]" } else { "" };
                println!("{:width$}  {:value_width$}  {}{restart}", s.key, s.value, s.origin);
            }
            Ok(())
        }
    }
}

async fn init(cli: &Cli, dir: PathBuf) -> Result<(), Failure> {
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let config_path = dir.join(CONFIG_FILE);
    if config_path.exists() {
        println!("{} exists; leaving it as it is.", config_path.display());
    } else {
        std::fs::write(&config_path, Config::starter_file())
            .with_context(|| format!("cannot write {}", config_path.display()))?;
        println!("Wrote {}", config_path.display());
    }
    let ctx = load_context(cli, dir)?;
    let store = open_store(&ctx).await?;
    println!(
        "Database ready ({}): {}",
        store.backend(),
        quire_app::config::redact_url(&ctx.config.database_url_for(&ctx.data_dir))
    );
    store.close().await;
    println!("Next: add papers with `quire paper add --create-missing FILE.md`, then `quire serve`.");
    Ok(())
}

async fn serve(ctx: RunContext, store: Store, args: &ServeArgs) -> Result<(), Failure> {
    let mut config = ctx.config;
    // With no public address configured, links follow the address served.
    let follow_addr = config.base_url.is_none();
    if let Some(addr) = &args.addr {
        config.http.addr = addr.clone();
        config.validate().map_err(|m| bad_input(format!("--addr: {m}")))?;
    }
    let addr = config.http.addr.clone();
    let theme_dir = args.theme.clone().or_else(|| config.theme_path(&ctx.data_dir));
    let theme = match &theme_dir {
        Some(dir) => Theme::load(dir).map_err(|e| bad_input(e.to_string()))?,
        None => Theme::embedded().map_err(|e| Failure::Other(e.into()))?,
    };
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("cannot listen on {addr}: is another program using it? Choose another with --addr"))?;
    let local = listener.local_addr().context("listening address")?;
    if follow_addr {
        // The bound address, so that port 0 gives working links.
        config.base_url = Some(format!("http://{local}"));
    }
    tracing::debug!(database = store.backend(), "serving on http://{local}/");
    println!(
        "Serving \"{}\" from {} at http://{local}/ (Ctrl-C stops it)",
        config.site_name,
        store.backend()
    );
    let _ = std::io::stdout().flush();
    let app = App::new(store.clone(), config, &ctx.data_dir);
    let mailer = match app.mailer() {
        Ok(m) => Some(m),
        Err(AppError::Mail(quire_mail::MailError::NotConfigured)) => {
            tracing::warn!("no smtp_url is set: emails wait in the outbox until one is");
            None
        }
        Err(e) => return Err(e.into()),
    };
    let state = AppState::with_app(app, theme);
    // The server follows quire.toml, under the command line's flags
    // (--database-url, --addr) as at start.
    let data_dir = ctx.data_dir.clone();
    let (database_url, addr_flag) = (ctx.database_url_flag.clone(), args.addr.clone());
    let settings = web::SettingsFile {
        path: data_dir.join(CONFIG_FILE),
        load: Box::new(move || {
            let mut config = Config::load(&data_dir, |k| std::env::var(k).ok()).map_err(|e| e.to_string())?;
            if let Some(url) = &database_url {
                config.database_url = Some(quire_app::config::Secret::new(url.clone()));
            }
            if let Some(addr) = &addr_flag {
                config.http.addr = addr.clone();
            }
            if config.base_url.is_none() {
                config.base_url = Some(format!("http://{local}"));
            }
            Ok(config)
        }),
    };
    web::serve(state, listener, mailer, Some(settings))
        .await
        .context("server failed")?;
    store.close().await;
    Ok(())
}

/// Fills an empty database with the demo site; leaves a used one alone.
async fn fill_demo(ctx: &RunContext, store: &Store, papers: usize) -> Result<(), Failure> {
    if store.count_papers(&PaperQuery::all()).await? > 0 {
        println!("The database already has papers; serving it as it is.");
        return Ok(());
    }
    println!("Creating a demo site with {papers} papers…");
    let (authors, topics, mut generated) =
        crate::demo::generate_lazily(papers, OffsetDateTime::now_utc(), &ctx.config.kinds);
    for a in &authors {
        store.upsert_author(a).await?;
    }
    for t in &topics {
        store.upsert_topic(t).await?;
    }
    loop {
        let batch: Vec<PaperInput> = generated.by_ref().take(500).collect();
        if batch.is_empty() {
            break;
        }
        store.add_papers(&batch, AddOptions::default()).await?;
    }
    Ok(())
}

/// A paper as `paper list --json` prints it.
#[derive(Serialize)]
struct PaperJson<'a> {
    #[serde(flatten)]
    meta: &'a quire_core::domain::PaperMeta,
    direction: &'static str,
    url: String,
}

async fn paper_command(ctx: &RunContext, cmd: &PaperCommand) -> Result<(), Failure> {
    match cmd {
        PaperCommand::Add {
            create_missing,
            replace,
            files,
        } => {
            add_papers(
                ctx,
                files,
                AddOptions {
                    create_missing: *create_missing,
                    replace: *replace,
                    ..AddOptions::default()
                },
            )
            .await
        }
        PaperCommand::List { json, status, trashed } => {
            let status = match status {
                Some(s) => Some(s.parse::<Status>().map_err(|e| bad_input(format!("--status: {e}")))?),
                None => None,
            };
            let app = open_app(ctx).await?;
            let papers = app
                .papers(&PaperQuery {
                    status: status.map(|s| (s, OffsetDateTime::now_utc())),
                    trashed: *trashed,
                    ..PaperQuery::all()
                })
                .await?;
            if *json {
                let items: Vec<PaperJson<'_>> = papers
                    .iter()
                    .map(|p| PaperJson {
                        meta: p,
                        direction: p.direction().as_str(),
                        url: format!("{}{}", ctx.config.base(), quire_render::paths::paper(&p.slug)),
                    })
                    .collect();
                print_json(&items)
            } else {
                let mut out = String::new();
                for p in &papers {
                    let date = p
                        .published_at
                        .map(|t| t.date().to_string())
                        .unwrap_or_else(|| "-".into());
                    out.push_str(&format!(
                        "{:<10} {:<10} {:<40} {}\n",
                        if p.trashed_at.is_some() {
                            "trashed"
                        } else {
                            p.status.as_str()
                        },
                        date,
                        p.slug,
                        p.title
                    ));
                }
                if papers.is_empty() {
                    out.push_str("No papers yet. Add some with `quire paper add --create-missing FILE.md`.\n");
                }
                print!("{out}");
                Ok(())
            }
        }
        PaperCommand::Publish {
            slug,
            at,
            unpublish_until,
        } => {
            let zone = ctx.config.zone();
            let at = match at {
                Some(t) => Some(zone.parse(t).map_err(|m| bad_input(format!("--at: {m}")))?),
                None => None,
            };
            let app = open_app(ctx).await?;
            let (done, announcement) = app.publish(slug, at, *unpublish_until).await.map_err(|e| match e {
                AppError::WouldGoOffline { slug, live_since, at } => bad_input(format!(
                    "{slug} is live (since {}); publishing it at {} would take it offline until then. \
                     Nothing was changed. To take it offline until then, add --unpublish-until; \
                     to withdraw it, use `quire paper unpublish {slug}`",
                    zone.describe(live_since),
                    zone.describe(at)
                )),
                e => e.into(),
            })?;
            match done {
                Publication::Published { at } => {
                    println!("Published {slug}: readers see it, dated {}", zone.describe(at))
                }
                Publication::AlreadyLive { since } => {
                    println!(
                        "{slug} was already published (since {}); nothing changed",
                        zone.describe(since)
                    )
                }
                Publication::Scheduled { at } => {
                    println!("Scheduled {slug}: readers see it from {}", zone.describe(at))
                }
                Publication::OfflineUntil { at, live_since } => println!(
                    "Took {slug} offline (it was live since {}); readers see it again from {}",
                    zone.describe(live_since),
                    zone.describe(at)
                ),
            }
            say_announcements(&app, &[(slug.clone(), announcement)]);
            Ok(())
        }
        PaperCommand::Export { out, slugs } => {
            let app = open_app(ctx).await?;
            let store = &app.store;
            let wanted: Vec<String> = if slugs.is_empty() {
                store
                    .list_papers(&PaperQuery::all())
                    .await?
                    .into_iter()
                    .map(|p| p.slug)
                    .collect()
            } else {
                slugs.clone()
            };
            let mut papers = Vec::with_capacity(wanted.len());
            for slug in &wanted {
                papers.push(app.paper(slug).await?);
            }
            std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
            for paper in &papers {
                let media = store.media_files(paper.meta.id).await?;
                write_paper_bundle(out, paper, &media)?;
            }
            println!(
                "Exported {} paper{} to {}",
                papers.len(),
                if papers.len() == 1 { "" } else { "s" },
                out.display()
            );
            Ok(())
        }
        PaperCommand::Delete { slugs } => {
            let app = open_app(ctx).await?;
            let cancelled = app.delete_papers(slugs).await?;
            println!(
                "Moved {} to the trash: readers no longer see {}. `quire paper restore` brings {} back; `quire paper purge --older-than 30d` deletes for good.",
                plural(slugs.len(), "paper"),
                if slugs.len() == 1 { "it" } else { "them" },
                if slugs.len() == 1 { "it" } else { "them" },
            );
            say_announcements(&app, &cancelled);
            Ok(())
        }
        PaperCommand::Restore { slugs } => {
            let app = open_app(ctx).await?;
            let announced = app.restore_papers(slugs).await?;
            println!("Restored {} from the trash, as before", plural(slugs.len(), "paper"));
            say_announcements(&app, &announced);
            Ok(())
        }
        PaperCommand::Purge { older_than } => {
            let age = quire_app::clock::parse_span(older_than).map_err(|e| bad_input(format!("--older-than: {e}")))?;
            let gone = open_app(ctx).await?.purge_papers(age).await?;
            for slug in &gone {
                println!("Deleted {slug}");
            }
            println!("Deleted {} from the trash for good", plural(gone.len(), "paper"));
            Ok(())
        }
        PaperCommand::Unpublish { slug } => {
            let app = open_app(ctx).await?;
            let cancelled = app.unpublish(slug).await?;
            println!("Unpublished {slug}; it is a draft again");
            say_announcements(&app, &[(slug.clone(), cancelled)]);
            Ok(())
        }
    }
}

/// Says what `newsletter_on_publish` did about papers a command changed:
/// the email each will get and when, or why it gets none, or that a
/// waiting one was cancelled.
fn say_announcements(app: &App, done: &[(String, quire_app::newsletter::Announcement)]) {
    use quire_app::newsletter::Announcement;
    let config = app.config();
    let zone = config.zone();
    let mut queued = false;
    // A back catalogue moving in would say the same thing for every paper.
    let not_new = done
        .iter()
        .filter(|(_, a)| matches!(a, Announcement::NotNew(_)))
        .count();
    let mut said_not_new = 0;
    for (slug, a) in done {
        match a {
            Announcement::Nothing => {}
            Announcement::Queued { id, at } => {
                queued = true;
                println!(
                    "Emailing {slug} to its topics' subscribers at {} (campaign {id}, newsletter_on_publish); \
                     unpublishing or deleting it before then cancels the email",
                    zone.describe(*at)
                );
            }
            Announcement::NotNew(why) if not_new <= 5 || said_not_new < 3 => {
                said_not_new += 1;
                println!("Not emailing {slug}: {why}");
            }
            Announcement::NotNew(_) => {}
            Announcement::Cancelled { ids } => println!(
                "Cancelled the email announcing {slug} (campaign{} {})",
                if ids.len() == 1 { "" } else { "s" },
                ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
            ),
        }
    }
    if not_new > said_not_new {
        let more = not_new - said_not_new;
        println!(
            "…and {more} more paper{} not emailed on their own (dated long before they were put up, or emailed before)",
            if more == 1 { "" } else { "s" }
        );
    }
    if queued {
        say_if_nothing_delivers(&config);
    }
}

/// Writes `paper` as OUT/SLUG.md or, when it has images, as a folder
/// OUT/SLUG/ holding SLUG.md and its images under the names its body
/// uses, so that `quire paper add` reads it back whole and papers whose
/// images share a name cannot overwrite each other's.
fn write_paper_bundle(
    out: &Path,
    paper: &quire_core::domain::Paper,
    media: &[quire_core::domain::MediaFile],
) -> Result<(), Failure> {
    let slug = &paper.meta.slug;
    let folder = if media.is_empty() {
        out.to_path_buf()
    } else {
        out.join(slug)
    };
    for file in media {
        // Names were checked when stored; check again before writing.
        if quire_core::domain::media_name(&quire_core::domain::media_path(&file.meta.name))
            != Ok(Some(file.meta.name.clone()))
        {
            return Err(Failure::Other(anyhow!(
                "paper {slug:?} has an image with the unusable name {:?}: add the paper again from its file",
                file.meta.name
            )));
        }
        let path = folder.join(&file.meta.name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, &file.data).with_context(|| format!("cannot write {}", path.display()))?;
    }
    std::fs::create_dir_all(&folder).with_context(|| format!("cannot create {}", folder.display()))?;
    let path = folder.join(format!("{slug}.md"));
    std::fs::write(&path, quire_core::domain::write_paper_file(paper))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

async fn add_papers(ctx: &RunContext, files: &[PathBuf], options: AddOptions) -> Result<(), Failure> {
    let app = open_app(ctx).await?;
    let mut notes = Vec::new();
    let added = app.add_papers(&PaperFiles(files), options, &mut notes).await;
    for note in &notes {
        eprintln!("note: {note}");
    }
    match added {
        Ok(report) => {
            for (name, slug, status) in &report.added {
                println!("Added {slug} ({status}) from {name}");
            }
            for (what, created) in [("author", &report.created_authors), ("topic", &report.created_topics)] {
                for (slug, name) in created {
                    println!(
                        "Created {what} {slug}, named {name:?} until you name it: quire {what} add --slug {slug} --name \"…\""
                    );
                }
            }
            println!(
                "{} paper{} added.",
                report.added.len(),
                if report.added.len() == 1 { "" } else { "s" }
            );
            say_announcements(&app, &report.announcements);
            app.store.close().await;
            Ok(())
        }
        Err(AppError::Papers(problems)) => {
            for p in &problems {
                let hint = match &p.remedy {
                    None => String::new(),
                    Some(Remedy::Replace) => ", or pass --replace to overwrite it".into(),
                    Some(Remedy::CreateAuthor(a)) => {
                        format!(": add it with `quire author add --slug {a} --name …`, or pass --create-missing")
                    }
                    Some(Remedy::CreateTopic(t)) => {
                        format!(": add it with `quire topic add --slug {t} --name …`, or pass --create-missing")
                    }
                };
                eprintln!("{}{hint}", p.problem);
            }
            Err(bad_input(format!(
                "{} problem{} found; nothing was added",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            )))
        }
        Err(e) => Err(e.into()),
    }
}

fn print_json<T: Serialize>(value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).context("cannot write JSON")?;
    println!("{text}");
    Ok(())
}

async fn author_command(app: &App, cmd: &AuthorCommand) -> Result<(), Failure> {
    match cmd {
        AuthorCommand::List { json } => {
            let authors = app.authors().await?;
            if *json {
                return print_json(&authors);
            }
            for a in &authors {
                println!(
                    "{:<30} {:<30} {} paper{}",
                    a.slug,
                    a.name,
                    a.paper_count,
                    if a.paper_count == 1 { "" } else { "s" }
                );
            }
            if authors.is_empty() {
                println!("No authors yet. Add one with `quire author add --name \"Ada Lovelace\"`.");
            }
            Ok(())
        }
        AuthorCommand::Add {
            name,
            slug,
            affiliation,
            bio,
            links,
            orcid,
        } => {
            let mut parsed_links = Vec::new();
            for l in links {
                let (label, url) = l.split_once('=').ok_or_else(|| {
                    bad_input(format!(
                        "--link {l:?}: write it as LABEL=URL, such as Website=https://example.org"
                    ))
                })?;
                parsed_links.push(AuthorLink {
                    label: label.trim().to_owned(),
                    url: url.trim().to_owned(),
                });
            }
            let orcid = match orcid.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
                Some(o) => Some(quire_core::domain::parse_orcid(o).map_err(|m| bad_input(format!("--orcid: {m}")))?),
                None => None,
            };
            let input = AuthorInput {
                orcid,
                slug: slug.clone().unwrap_or_else(|| slugify(name)),
                name: name.trim().to_owned(),
                affiliation: affiliation.clone().filter(|a| !a.trim().is_empty()),
                bio: bio.clone(),
                links: parsed_links,
            };
            let created = app.save_author(&input).await?;
            println!("{} author {}", if created { "Added" } else { "Updated" }, input.slug);
            Ok(())
        }
        AuthorCommand::Merge { from, into } => {
            let papers = app.merge_authors(from, into).await?;
            println!(
                "Merged author {from} into {into}: {} now name{} {into}; {from} is deleted",
                plural(usize::try_from(papers).unwrap_or(usize::MAX), "paper"),
                if papers == 1 { "s" } else { "" }
            );
            Ok(())
        }
    }
}

async fn topic_command(app: &App, cmd: &TopicCommand) -> Result<(), Failure> {
    match cmd {
        TopicCommand::List { json } => {
            let topics = app.topics().await?;
            if *json {
                return print_json(&topics);
            }
            for t in &topics {
                println!(
                    "{:<30} {:<30} {} paper{}",
                    t.slug,
                    t.name,
                    t.paper_count,
                    if t.paper_count == 1 { "" } else { "s" }
                );
            }
            if topics.is_empty() {
                println!("No topics yet. Add one with `quire topic add --name Trade`.");
            }
            Ok(())
        }
        TopicCommand::Add {
            name,
            slug,
            description,
        } => {
            let input = TopicInput {
                slug: slug.clone().unwrap_or_else(|| slugify(name)),
                name: name.trim().to_owned(),
                description: description.clone(),
            };
            let created = app.save_topic(&input).await?;
            println!("{} topic {}", if created { "Added" } else { "Updated" }, input.slug);
            Ok(())
        }
        TopicCommand::Merge { from, into } => {
            let papers = app.merge_topics(from, into).await?;
            println!(
                "Merged topic {from} into {into}: {} moved, with {from}'s subscribers and campaigns; {from} is deleted",
                plural(usize::try_from(papers).unwrap_or(usize::MAX), "paper")
            );
            Ok(())
        }
    }
}

/// Says plainly, after a command queues mail, that none of it leaves
/// while no mail server is set.
fn say_if_nothing_delivers(config: &Config) {
    if config.mail.smtp_url.is_none() {
        eprintln!(
            "note: no mail server is set, so nothing will be delivered until smtp_url is set in quire.toml ([mail] section, see docs/newsletter.md); the emails wait in the outbox until then"
        );
    }
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

async fn comments_command(app: &App, cmd: &CommentsCommand) -> Result<(), Failure> {
    use quire_app::comments::Moderation;
    use quire_core::domain::CommentStatus;
    use quire_store::CommentQuery;
    let store = &app.store;
    async fn moderate(app: &App, ids: &[i64], action: Moderation, done: &str) -> Result<(), Failure> {
        let moderated = app.moderate_comments(ids, action).await?;
        println!("{} {done}", plural(moderated.comments, "comment"));
        if moderated.notices > 0 {
            println!(
                "Queued {} to commenters answered",
                plural(moderated.notices, "reply notice")
            );
            say_if_nothing_delivers(&app.config());
        }
        Ok(())
    }
    match cmd {
        CommentsCommand::List { status, paper, json } => {
            let status = match status {
                Some(s) => Some(
                    s.parse::<CommentStatus>()
                        .map_err(|e| bad_input(format!("--status: {e}")))?,
                ),
                None => None,
            };
            if let Some(slug) = paper {
                app.paper(slug).await.map_err(on("--paper"))?;
            }
            let comments = store
                .list_comments(&CommentQuery {
                    status,
                    paper: paper.clone(),
                    ..CommentQuery::default()
                })
                .await?;
            if *json {
                return print_json(&comments);
            }
            let mut out = String::new();
            for c in &comments {
                let excerpt: String = c
                    .text
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .chars()
                    .take(60)
                    .collect();
                out.push_str(&format!(
                    "{:<7} {:<9} {} {:<30} {:<24} {excerpt}\n",
                    c.id,
                    c.status.as_str(),
                    c.created_at.date(),
                    c.paper,
                    c.name.chars().take(24).collect::<String>(),
                ));
            }
            if comments.is_empty() {
                out.push_str("No comments.\n");
            }
            print!("{out}");
            Ok(())
        }
        CommentsCommand::Approve { ids } => moderate(app, ids, Moderation::Approve, "approved").await,
        CommentsCommand::Spam { ids } => moderate(app, ids, Moderation::Spam, "marked as spam").await,
        CommentsCommand::Trash { ids } => moderate(app, ids, Moderation::Trash, "moved to the trash").await,
        CommentsCommand::Restore { ids } => moderate(app, ids, Moderation::Restore, "restored").await,
        CommentsCommand::Purge { older_than, status } => {
            let age = quire_app::clock::parse_span(older_than).map_err(|e| bad_input(format!("--older-than: {e}")))?;
            let mut statuses = Vec::new();
            for s in status.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                statuses.push(
                    s.parse::<CommentStatus>()
                        .map_err(|e| bad_input(format!("--status: {e}")))?,
                );
            }
            let gone = app.purge_comments(&statuses, age).await?;
            println!(
                "Deleted {}",
                plural(usize::try_from(gone).unwrap_or(usize::MAX), "comment")
            );
            Ok(())
        }
        CommentsCommand::Export { email } => print_json(&app.export_comments(email).await?),
        CommentsCommand::Erase { email } => {
            let n = app.erase_comments(email).await?;
            println!(
                "Erased the name, address, website and IP address from {}",
                plural(usize::try_from(n).unwrap_or(usize::MAX), "comment")
            );
            Ok(())
        }
    }
}

#[cfg(test)]
mod help {
    use super::Cli;
    use clap::CommandFactory;

    /// Every argument and flag of every command, with no help text.
    fn undocumented(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        let path = format!("{path} {}", cmd.get_name());
        if cmd.get_about().is_none() {
            out.push(path.clone());
        }
        for arg in cmd.get_arguments() {
            let builtin = matches!(arg.get_id().as_str(), "help" | "version");
            if !builtin && arg.get_help().is_none() && arg.get_long_help().is_none() {
                out.push(format!("{path} {}", arg.get_id()));
            }
        }
        for sub in cmd.get_subcommands() {
            undocumented(sub, &path, out);
        }
    }

    #[test]
    fn every_command_and_flag_says_what_it_does() {
        let mut missing = Vec::new();
        undocumented(&Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:#?}");
    }
}
