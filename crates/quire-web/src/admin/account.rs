//! The signed-in account's own page: the second step of signing in
//! (turn it on with an authenticator app, see the recovery codes once,
//! turn it off with a code) and changing the password.

use super::session::{SignedIn, StaffForm, signed_in_to};
use super::{admin_page, chrome, failed};
use crate::AppState;
use crate::forms::{ClientIp, FormKind};
use crate::plumbing::see_other;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{Response, StatusCode};
use quire_app::AppError;
use quire_app::accounts::Actor;
use quire_core::domain::MIN_PASSWORD_CHARS;
use quire_render::admin::{AccountView, EnrolView, qr_data_url};
use serde::Deserialize;

/// The account page's forms: a code and a ticket, or three passwords.
pub(crate) struct AccountForm;
impl FormKind for AccountForm {
    const MAX_BYTES: usize = 8 * 1024;
    const WHAT: &'static str = "form";
}

#[derive(Deserialize)]
pub(crate) struct AccountQuery {
    done: Option<String>,
}

async fn account_page(
    state: &AppState,
    signed: &SignedIn,
    status: StatusCode,
    mut view: AccountView,
    notice: Option<String>,
) -> Response<Body> {
    let staff = signed.staff();
    let page = async {
        let user = state.app.user_self(staff).await?;
        view.two_step = user.two_step;
        view.recovery_left = state.app.recovery_codes_left(staff).await?;
        view.min_chars = MIN_PASSWORD_CHARS;
        let mut chrome = chrome(state, Some(signed), "/admin/account").await?;
        chrome.notice = notice;
        Ok::<_, AppError>(state.admin.account(&chrome, &view))
    };
    match page.await {
        Ok(Ok(html)) => admin_page(status, html),
        Ok(Err(e)) => state.error_page(&e.into()),
        Err(e) => failed(state, e),
    }
}

/// `GET /admin/account`.
pub(crate) async fn account(
    State(state): State<AppState>,
    signed: SignedIn,
    Query(q): Query<AccountQuery>,
) -> Response<Body> {
    let notice = match q.done.as_deref() {
        Some("password") => Some("Your password is changed; every other browser is signed out.".to_owned()),
        Some("two-step-off") => Some("Two-step verification is off.".to_owned()),
        _ => None,
    };
    account_page(&state, &signed, StatusCode::OK, AccountView::default(), notice).await
}

/// `GET /admin/account/two-step`: a new key to scan, and the form for its first code.
pub(crate) async fn start_two_step(State(state): State<AppState>, signed: SignedIn) -> Response<Body> {
    match state.app.start_two_step(signed.staff()).await {
        Ok(enrolment) => {
            let view = AccountView {
                enrol: Some(enrol_view(&enrolment)),
                ..AccountView::default()
            };
            account_page(&state, &signed, StatusCode::OK, view, None).await
        }
        Err(e) => failed(&state, e),
    }
}

fn enrol_view(enrolment: &quire_app::two_step::Enrolment) -> EnrolView {
    let grouped: Vec<String> = enrolment
        .secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    EnrolView {
        secret: grouped.join(" "),
        qr: qr_data_url(&enrolment.url).unwrap_or_default(),
        ticket: enrolment.ticket.clone(),
    }
}

/// `POST /admin/account/two-step`: turns it on with the first code.
pub(crate) async fn finish_two_step(State(state): State<AppState>, posted: StaffForm<AccountForm>) -> Response<Body> {
    let staff = posted.signed.staff();
    let ticket = posted.form.field("ticket");
    match state
        .app
        .finish_two_step(staff, ticket, posted.form.field("code"))
        .await
    {
        Ok(codes) => {
            let view = AccountView {
                recovery_codes: codes,
                ..AccountView::default()
            };
            account_page(&state, &posted.signed, StatusCode::OK, view, None).await
        }
        Err(AppError::CodeFailed) => match state.app.enrolment_again(staff, ticket).await {
            // The same key again, so the app set up already still fits.
            Ok(enrolment) => {
                let view = AccountView {
                    enrol: Some(enrol_view(&enrolment)),
                    problem: Some("That code is not the one the app shows now: try the next one.".into()),
                    ..AccountView::default()
                };
                account_page(&state, &posted.signed, StatusCode::UNPROCESSABLE_ENTITY, view, None).await
            }
            Err(e) => failed(&state, e),
        },
        Err(AppError::FormExpired | AppError::FormTokenInvalid) => {
            let view = AccountView {
                problem: Some("The key shown was too old, or not yours: start again.".into()),
                ..AccountView::default()
            };
            account_page(&state, &posted.signed, StatusCode::UNPROCESSABLE_ENTITY, view, None).await
        }
        Err(e) => failed(&state, e),
    }
}

/// `POST /admin/account/two-step/off`: turns it off with a code.
pub(crate) async fn two_step_off(State(state): State<AppState>, posted: StaffForm<AccountForm>) -> Response<Body> {
    let staff = posted.signed.staff();
    let actor = Actor::Staff(staff.clone());
    match state
        .app
        .turn_off_two_step(&actor, &staff.email, Some(posted.form.field("code")))
        .await
    {
        Ok(_) => see_other("/admin/account?done=two-step-off"),
        Err(AppError::CodeFailed) => {
            let view = AccountView {
                problem: Some("The code is wrong, or was used already: two-step verification stays on.".into()),
                ..AccountView::default()
            };
            account_page(&state, &posted.signed, StatusCode::UNPROCESSABLE_ENTITY, view, None).await
        }
        Err(e) => failed(&state, e),
    }
}

/// `POST /admin/account/password`.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    posted: StaffForm<AccountForm>,
) -> Response<Body> {
    let form = &posted.form;
    let problem = if form.field("password") != form.field("repeat") {
        Some("The two new passwords are not the same: type the new password twice.".to_owned())
    } else {
        match state
            .app
            .change_password(
                posted.signed.staff(),
                form.field("current"),
                form.field("password"),
                posted.signed.token(),
                client,
            )
            .await
        {
            Ok(token) => return signed_in_to(&state, "/admin/account?done=password", token),
            Err(AppError::Invalid { field, message }) => Some(match field {
                "current" => format!("The current password {message}."),
                _ => format!("The new password {message}."),
            }),
            Err(e) => return failed(&state, e),
        }
    };
    let view = AccountView {
        problem,
        ..AccountView::default()
    };
    account_page(&state, &posted.signed, StatusCode::UNPROCESSABLE_ENTITY, view, None).await
}
