//! The editors' admin at `/admin/`: server-rendered pages over the
//! application layer's operations. Each handler reads its input, calls
//! one operation, and shows the result; who may do what is decided by the
//! operations, never here. Nothing of the admin is cached, by Quire or by
//! browsers.

pub(crate) mod account;
pub(crate) mod bylines;
pub(crate) mod comments;
pub(crate) mod dashboard;
pub(crate) mod door;
pub(crate) mod editor;
pub(crate) mod papers;
pub(crate) mod session;
pub(crate) mod users;

use crate::AppState;
use crate::plumbing::private_page;
use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};
use quire_app::AppError;
use quire_app::accounts::Staff;
use quire_core::domain::Action;
use quire_render::admin::{Chrome, MessageView, NavItem, StaffView};
use session::SignedIn;

/// The frame of an admin page for `signed` (or, with none, for the pages
/// before signing in), with `current` the navigation entry shown.
pub(crate) async fn chrome(state: &AppState, signed: Option<&SignedIn>, current: &str) -> Result<Chrome, AppError> {
    let site = state.site();
    let mut chrome = Chrome {
        site_name: site.name.clone(),
        language: site.language.clone(),
        dir: site.dir,
        css_url: state.admin.css_url().to_owned(),
        ..Chrome::default()
    };
    if let Some(signed) = signed {
        let staff = signed.staff();
        chrome.staff = Some(staff_view(staff));
        chrome.csrf = signed.csrf().to_owned();
        chrome.nav = navigation(staff, current);
        if staff.role.may(Action::Moderate) {
            let pending = state.app.pending_comments().await?;
            if let Some(item) = chrome.nav.iter_mut().find(|i| i.href == "/admin/comments") {
                item.count = pending;
                item.count_label = "waiting for moderation";
            }
        }
    }
    Ok(chrome)
}

fn staff_view(staff: &Staff) -> StaffView {
    StaffView {
        name: staff.name.clone(),
        email: staff.email.clone(),
        role_label: staff.role.label(),
        author: staff.author.clone(),
    }
}

/// The admin's screens `staff` may open.
fn navigation(staff: &Staff, current: &str) -> Vec<NavItem> {
    let mut screens = vec![("/admin/", "Dashboard"), ("/admin/papers", "Papers")];
    if staff.role.may(Action::ManageBylines) {
        screens.push(("/admin/authors", "Authors"));
        screens.push(("/admin/topics", "Topics"));
    }
    if staff.role.may(Action::Moderate) {
        screens.push(("/admin/comments", "Comments"));
    }
    if staff.role.may(Action::ManageUsers) {
        screens.push(("/admin/users", "Accounts"));
    }
    if staff.role.may(Action::ReadAuditLog) {
        screens.push(("/admin/audit", "Audit log"));
    }
    screens.push(("/admin/account", "Your account"));
    screens
        .into_iter()
        .map(|(href, label)| NavItem {
            href,
            label,
            current: href == current,
            count: 0,
            count_label: "",
        })
        .collect()
}

/// An admin page: never stored by a cache, never framed, and its address
/// (which may hold a link's token) not passed on to other sites.
pub(crate) fn admin_page(status: StatusCode, html: String) -> Response<Body> {
    let mut response = private_page(status, html);
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // same-origin, not no-referrer: with no-referrer browsers send
    // `Origin: null` on the page's own form posts, which look forged.
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

/// A page that only says something, in the admin's frame.
pub(crate) async fn message_page(
    state: &AppState,
    signed: Option<&SignedIn>,
    status: StatusCode,
    view: &MessageView,
) -> Response<Body> {
    let html = match chrome(state, signed, "").await {
        Ok(chrome) => state.admin.message(&chrome, view),
        Err(e) => return failed(state, e),
    };
    match html {
        Ok(html) => admin_page(status, html),
        Err(e) => state.error_page(&e.into()),
    }
}

/// A short refusal in plain text (what a post without a session gets).
pub(crate) fn refusal(status: StatusCode, text: &str) -> Response<Body> {
    let mut response = crate::plumbing::plain(status, text);
    response
        .headers_mut()
        .insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// What a post without the right anti-forgery token, or from another
/// site, gets.
pub(crate) fn forged() -> Response<Body> {
    refusal(
        StatusCode::FORBIDDEN,
        "This form did not come from this site's admin, or it is older than your session, so nothing was done. \
         Go back, reload the page and send it again.",
    )
}

/// An operation that failed for the site's reasons (the database), as
/// the error page with a reference to the log.
pub(crate) fn failed(state: &AppState, error: AppError) -> Response<Body> {
    state.error_page(&crate::PageError::from(error))
}
