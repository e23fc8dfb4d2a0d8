//! Accounts and the audit log, for administrators: invite someone, change
//! a role, send a password link, disable and enable; read who did what.

use super::session::{SignedIn, StaffForm};
use super::{admin_page, chrome, failed, message_page};
use crate::AppState;
use crate::forms::FormKind;
use crate::plumbing::see_other;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{Response, StatusCode};
use quire_app::AppError;
use quire_app::accounts::{AccountInput, Actor};
use quire_core::domain::Role;
use quire_render::admin::{
    AuditRow, AuditView, AuthorChoice, Choice, InviteErrors, InviteForm, MessageView, UserRow, UsersView,
};
use serde::Deserialize;

/// Forms of the accounts screen: an address, a name, a role, an author.
pub(crate) struct AccountForm;
impl FormKind for AccountForm {
    const MAX_BYTES: usize = 4 * 1024;
    const WHAT: &'static str = "form";
}

#[derive(Deserialize)]
pub(crate) struct UsersQuery {
    done: Option<String>,
    who: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct AuditQuery {
    before: Option<i64>,
}

/// Lines of the audit log per page.
const AUDIT_PAGE: i64 = 100;

fn actor(signed: &SignedIn) -> Actor {
    Actor::Staff(signed.staff().clone())
}

fn role_choices() -> Vec<Choice> {
    Role::ALL
        .iter()
        .map(|r| Choice {
            value: r.as_str().to_owned(),
            label: r.label().to_owned(),
        })
        .collect()
}

/// What a refused or failed action shows.
pub(crate) async fn refused(state: &AppState, signed: &SignedIn, error: AppError) -> Response<Body> {
    let (status, heading) = match &error {
        AppError::Forbidden { .. } => (StatusCode::FORBIDDEN, "Not allowed"),
        AppError::NotFound { .. } | AppError::Store(quire_store::StoreError::NotFound { .. }) => {
            (StatusCode::NOT_FOUND, "Not found")
        }
        AppError::WrongState(_)
        | AppError::Invalid { .. }
        | AppError::Fields(_)
        | AppError::EditConflict { .. }
        | AppError::WouldGoOffline { .. } => (StatusCode::CONFLICT, "This cannot be done"),
        AppError::Papers(_) => (StatusCode::UNPROCESSABLE_ENTITY, "This cannot be done"),
        AppError::Store(quire_store::StoreError::UnknownReference { .. }) => {
            (StatusCode::UNPROCESSABLE_ENTITY, "This cannot be done")
        }
        _ => return failed(state, error),
    };
    let mut message = error.to_string();
    if let Some(first) = message.get(..1) {
        message = first.to_uppercase() + &message[1..];
    }
    let view = MessageView {
        heading: heading.into(),
        message: format!("{message}."),
        link: None,
    };
    message_page(state, Some(signed), status, &view).await
}

fn notice(done: Option<&str>, who: &str) -> Option<String> {
    Some(match done? {
        "invited" => format!("Invitation queued for {who}."),
        "role" => format!("The role of {who} is changed; their sessions continue under it."),
        "reset" => format!("A link to choose a new password is queued for {who}."),
        "disabled" => format!("{who} is disabled and signed out everywhere."),
        "enabled" => format!("{who} is enabled again."),
        _ => return None,
    })
}

async fn users_page(
    state: &AppState,
    signed: &SignedIn,
    status: StatusCode,
    mut view: UsersView,
    notice: Option<String>,
) -> Response<Body> {
    let actor = actor(signed);
    let page = async {
        let users = state.app.users(&actor).await?;
        let authors = state.app.authors().await?;
        view.users = users
            .into_iter()
            .map(|u| UserRow {
                is_you: u.id == signed.staff().id,
                standing: if u.disabled_at.is_some() {
                    "Disabled"
                } else if u.has_password {
                    "Active"
                } else {
                    "Invited (no password yet)"
                },
                id: u.id,
                disabled: u.disabled_at.is_some(),
                has_password: u.has_password,
                role: u.role.as_str(),
                name: u.name,
                email: u.email,
                author: u.author,
            })
            .collect();
        view.authors = authors
            .into_iter()
            .map(|a| AuthorChoice {
                slug: a.slug,
                name: a.name,
            })
            .collect();
        view.roles = role_choices();
        if view.form.role.is_empty() {
            view.form.role = Role::Author.as_str().to_owned();
        }
        view.mail_ready = state.config().mail.smtp_url.is_some();
        let mut chrome = chrome(state, Some(signed), "/admin/users").await?;
        chrome.notice = notice;
        Ok::<_, AppError>(state.admin.users(&chrome, &view))
    };
    match page.await {
        Ok(Ok(html)) => admin_page(status, html),
        Ok(Err(e)) => state.error_page(&e.into()),
        Err(e) => refused(state, signed, e).await,
    }
}

/// `GET /admin/users`.
pub(crate) async fn users(
    State(state): State<AppState>,
    signed: SignedIn,
    Query(q): Query<UsersQuery>,
) -> Response<Body> {
    let who: String = q.who.unwrap_or_default().chars().take(254).collect();
    let notice = notice(q.done.as_deref(), &who);
    users_page(&state, &signed, StatusCode::OK, UsersView::default(), notice).await
}

fn done(what: &str, email: &str) -> Response<Body> {
    let who = form_urlencoded::byte_serialize(email.as_bytes()).collect::<String>();
    see_other(&format!("/admin/users?done={what}&who={who}"))
}

/// `POST /admin/users/invite`.
pub(crate) async fn invite(State(state): State<AppState>, posted: StaffForm<AccountForm>) -> Response<Body> {
    let form = &posted.form;
    let role = form.field("role").parse::<Role>().ok();
    let input = AccountInput {
        email: form.field("email").to_owned(),
        name: form.field("name").to_owned(),
        role,
        author: Some(form.field("author").to_owned()).filter(|a| !a.is_empty()),
    };
    let again = InviteForm {
        email: input.email.chars().take(254).collect(),
        name: input.name.chars().take(100).collect(),
        role: form.field("role").chars().take(20).collect(),
        author: form.field("author").chars().take(100).collect(),
    };
    match state.app.invite_user(&actor(&posted.signed), &input).await {
        Ok(user) => done("invited", &user.email),
        Err(AppError::Fields(fields)) => {
            let mut errors = InviteErrors::default();
            let mut problem = None;
            for f in fields {
                match f.field {
                    "email" => errors.email = Some(f.message),
                    "name" => errors.name = Some(f.message),
                    _ => problem = Some(format!("The {} {}", f.field, f.message)),
                }
            }
            let view = UsersView {
                form: again,
                errors,
                problem: problem.or_else(|| Some("Correct the fields marked below.".into())),
                ..UsersView::default()
            };
            users_page(&state, &posted.signed, StatusCode::UNPROCESSABLE_ENTITY, view, None).await
        }
        Err(e @ AppError::Store(quire_store::StoreError::DuplicateUser(_)))
        | Err(e @ AppError::Store(quire_store::StoreError::UnknownReference { .. })) => {
            let view = UsersView {
                form: again,
                problem: Some(format!("{}.", capitalise(&e.to_string()))),
                ..UsersView::default()
            };
            users_page(&state, &posted.signed, StatusCode::CONFLICT, view, None).await
        }
        Err(e) => refused(&state, &posted.signed, e).await,
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

/// `POST /admin/users/role`.
pub(crate) async fn set_role(State(state): State<AppState>, posted: StaffForm<AccountForm>) -> Response<Body> {
    let email = posted.form.field("email");
    let role = match posted.form.field("role").parse::<Role>() {
        Ok(role) => role,
        Err(message) => {
            return refused(&state, &posted.signed, AppError::invalid("role", message)).await;
        }
    };
    match state.app.set_role(&actor(&posted.signed), email, role).await {
        Ok(user) => done("role", &user.email),
        Err(e) => refused(&state, &posted.signed, e).await,
    }
}

/// `POST /admin/users/reset`.
pub(crate) async fn reset(State(state): State<AppState>, posted: StaffForm<AccountForm>) -> Response<Body> {
    let email = posted.form.field("email");
    match state.app.send_password_reset(&actor(&posted.signed), email).await {
        Ok(user) => done("reset", &user.email),
        Err(e) => refused(&state, &posted.signed, e).await,
    }
}

/// `POST /admin/users/disable`.
pub(crate) async fn disable(State(state): State<AppState>, posted: StaffForm<AccountForm>) -> Response<Body> {
    switch(&state, &posted, true).await
}

/// `POST /admin/users/enable`.
pub(crate) async fn enable(State(state): State<AppState>, posted: StaffForm<AccountForm>) -> Response<Body> {
    switch(&state, &posted, false).await
}

async fn switch(state: &AppState, posted: &StaffForm<AccountForm>, disabled: bool) -> Response<Body> {
    let email = posted.form.field("email");
    if disabled && email.trim().eq_ignore_ascii_case(&posted.signed.staff().email) {
        let e = AppError::WrongState("you cannot disable your own account; another administrator can".into());
        return refused(state, &posted.signed, e).await;
    }
    match state.app.set_disabled(&actor(&posted.signed), email, disabled).await {
        Ok(user) => done(if disabled { "disabled" } else { "enabled" }, &user.email),
        Err(e) => refused(state, &posted.signed, e).await,
    }
}

/// `GET /admin/audit`.
pub(crate) async fn audit(
    State(state): State<AppState>,
    signed: SignedIn,
    Query(q): Query<AuditQuery>,
) -> Response<Body> {
    let page = async {
        let records = state.app.audit_log(&actor(&signed), q.before, AUDIT_PAGE).await?;
        let config = state.config();
        let zone = config.zone();
        let older = (records.len() as i64 == AUDIT_PAGE)
            .then(|| records.last().map(|r| format!("/admin/audit?before={}", r.id)))
            .flatten();
        let view = AuditView {
            records: records
                .into_iter()
                .map(|r| AuditRow {
                    at: zone.describe(r.at),
                    at_iso: r
                        .at
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default(),
                    actor: r.actor,
                    action: r.action,
                    subject: r.subject,
                    detail: r.detail,
                })
                .collect(),
            older,
            zone: zone.name().to_owned(),
        };
        let chrome = chrome(&state, Some(&signed), "/admin/audit").await?;
        Ok::<_, AppError>(state.admin.audit(&chrome, &view))
    };
    match page.await {
        Ok(Ok(html)) => admin_page(StatusCode::OK, html),
        Ok(Err(e)) => state.error_page(&e.into()),
        Err(e) => refused(&state, &signed, e).await,
    }
}
