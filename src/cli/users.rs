//! `quire user`: the accounts of the admin, from the server's shell.
//! Whoever runs it may do anything, as in WordPress's `wp user`; the
//! audit log names them "command line".

use super::{Failure, bad_input, print_json};
use clap::Subcommand;
use quire_app::App;
use quire_app::accounts::{AccountInput, Actor, PasswordLink};
use quire_core::domain::Role;
use quire_store::User;

#[derive(Subcommand, Debug)]
pub(super) enum UserCommand {
    /// Add an account and print a one-time link to set its password
    Add {
        /// The address the person signs in with
        email: String,
        /// The name others see in the admin, such as "Ada Lovelace"
        #[arg(long)]
        name: String,
        /// administrator (everything), editor (all papers, comments, subscribers, campaigns),
        /// author (own papers), contributor (own drafts, submitted for review)
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The author profile (by slug) the account writes as: its papers are the account's own
        #[arg(long, value_name = "SLUG")]
        author: Option<String>,
    },
    /// List accounts
    List {
        /// Print one JSON array
        #[arg(long)]
        json: bool,
    },
    /// Change an account's role (its sessions are renewed under the new one)
    Role {
        /// The account's address
        email: String,
        /// administrator, editor, author or contributor
        #[arg(value_parser = parse_role)]
        role: Role,
    },
    /// Link an account to an author profile, or with --none unlink it
    Author {
        /// The account's address
        email: String,
        /// The author's slug
        #[arg(required_unless_present = "none")]
        slug: Option<String>,
        /// Link the account to no author
        #[arg(long, conflicts_with = "slug")]
        none: bool,
    },
    /// Disable an account: it is signed out everywhere and cannot sign in
    Disable {
        /// The account's address
        email: String,
    },
    /// Enable a disabled account again
    Enable {
        /// The account's address
        email: String,
    },
    /// Turn off an account's two-step verification (a lost phone): its password alone signs in
    TwoStepOff {
        /// The account's address
        email: String,
    },
    /// Print a one-time link to set a new password (the old one works until then)
    ResetPassword {
        /// The account's address
        email: String,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse()
}

fn say_link(user: &User, link: &PasswordLink, what: &str) {
    println!("{what} {} <{}> ({}).", user.name, user.email, user.role);
    println!(
        "Open this link to set the password (it works once, until {}):",
        when(link)
    );
    println!();
    println!("  {}", link.url);
}

fn when(link: &PasswordLink) -> String {
    let t = link.expires_at;
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

pub(super) async fn run(app: &App, cmd: &UserCommand) -> Result<(), Failure> {
    let actor = Actor::CommandLine;
    match cmd {
        UserCommand::Add {
            email,
            name,
            role,
            author,
        } => {
            if let Some(warning) = app.config().base_url_warning() {
                eprintln!("warning: {warning}");
            }
            let input = AccountInput {
                email: email.clone(),
                name: name.clone(),
                role: Some(*role),
                author: author.clone(),
            };
            let (user, link) = app.add_user(&actor, &input).await?;
            say_link(&user, &link, "Added");
            Ok(())
        }
        UserCommand::List { json } => {
            let users = app.users(&actor).await?;
            if *json {
                return print_json(&users);
            }
            for u in &users {
                let state = if u.disabled_at.is_some() {
                    "disabled"
                } else if !u.has_password {
                    "invited"
                } else {
                    "active"
                };
                println!(
                    "{:<32} {:<24} {:<14} {:<9} {}",
                    u.email,
                    u.name,
                    u.role,
                    state,
                    u.author.as_deref().unwrap_or("-")
                );
            }
            if users.is_empty() {
                println!(
                    "No accounts yet. Add the first with `quire user add you@example.org --name \"Your Name\" --role administrator`."
                );
            }
            Ok(())
        }
        UserCommand::Role { email, role } => {
            let user = app.set_role(&actor, email, *role).await?;
            println!("{} is now {}.", user.email, user.role);
            Ok(())
        }
        UserCommand::Author { email, slug, none } => {
            let slug = if *none { None } else { slug.as_deref() };
            let user = app.set_user_author(&actor, email, slug).await?;
            match &user.author {
                Some(a) => println!("{} writes as author {a}.", user.email),
                None => println!("{} is linked to no author.", user.email),
            }
            Ok(())
        }
        UserCommand::Disable { email } => {
            let user = app.set_disabled(&actor, email, true).await?;
            println!("Disabled {}: signed out everywhere; it cannot sign in.", user.email);
            Ok(())
        }
        UserCommand::Enable { email } => {
            let user = app.set_disabled(&actor, email, false).await?;
            if user.has_password {
                println!("Enabled {}.", user.email);
            } else {
                println!(
                    "Enabled {}. It has no password yet: run `quire user reset-password {}`.",
                    user.email, user.email
                );
            }
            Ok(())
        }
        UserCommand::TwoStepOff { email } => {
            let user = app.turn_off_two_step(&actor, email, None).await?;
            println!(
                "Two-step verification is off for {}; they can turn it on again under Your account.",
                user.email
            );
            Ok(())
        }
        UserCommand::ResetPassword { email } => {
            if email.trim().is_empty() {
                return Err(bad_input("give the account's address"));
            }
            let (user, link) = app.reset_password(&actor, email).await?;
            say_link(&user, &link, "New password link for");
            Ok(())
        }
    }
}
