//! The way in and out: the sign-in form, the page a set-password link
//! opens, and signing out (of this browser, or of every one). The forms
//! shown before signing in carry a token tied to a cookie of their own,
//! so another site cannot post them for a visitor (no signing a visitor
//! in to an account of the attacker's).

use super::session::{DOOR_COOKIE, SESSION_COOKIE, StaffForm, cleared_session_cookie, signed_in_to};
use super::{admin_page, chrome, failed, forged, message_page};
use crate::AppState;
use crate::forms::{ClientIp, Form, FormKind};
use crate::plumbing::{cookie, same_site, see_other};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use quire_app::AppError;
use quire_app::accounts::{LoginAttempt, SignIn};
use quire_app::two_step::CodeAttempt;
use quire_core::domain::MIN_PASSWORD_CHARS;
use quire_render::admin::{CodeView, ForgotView, LinkView, LoginView, MessageView, PasswordView};
use serde::Deserialize;
use time::OffsetDateTime;

/// The cookie that carries a sign-in waiting for its second step.
pub(crate) const STEP_COOKIE: &str = "quire_step";

/// The sign-in and set-password forms: an address, two passwords of at
/// most 1 KiB each and a token, with room to spare.
pub(crate) struct DoorForm;
impl FormKind for DoorForm {
    const MAX_BYTES: usize = 8 * 1024;
    const WHAT: &'static str = "form";
}

/// A form with nothing but its token (signing out).
pub(crate) struct ButtonForm;
impl FormKind for ButtonForm {
    const MAX_BYTES: usize = 1024;
    const WHAT: &'static str = "form";
}

#[derive(Deserialize)]
pub(crate) struct LoginQuery {
    next: Option<String>,
    out: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct TokenQuery {
    token: Option<String>,
}

/// Where to go after signing in: an admin path of this site, nothing
/// else (no other site, no `//host`, no `\` that some browsers read as `/`).
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if (n == "/admin" || n.starts_with("/admin/"))
                && n.len() <= 512
                && !n.contains("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.to_owned()
        }
        _ => "/admin/".to_owned(),
    }
}

/// The browser's door cookie, or a new one (then `Some` Set-Cookie).
fn door_cookie(state: &AppState, headers: &HeaderMap) -> Result<(String, Option<HeaderValue>), AppError> {
    if let Some(value) = cookie(headers, DOOR_COOKIE).filter(|v| v.len() == 43) {
        return Ok((value, None));
    }
    let value = state.app.new_door_cookie()?;
    let set = super::session::admin_cookie(state, DOOR_COOKIE, value.clone(), 1);
    Ok((value, Some(set)))
}

/// Whether a form posted before signing in came from our page in this browser.
async fn door_checked(state: &AppState, headers: &HeaderMap, token: &str) -> Result<bool, AppError> {
    if !same_site(headers, &state.site().base_url) {
        return Ok(false);
    }
    let Some(value) = cookie(headers, DOOR_COOKIE) else {
        return Ok(false);
    };
    state.app.door_token_valid(&value, token).await
}

/// The answer to a form posted before signing in that did not come from
/// our page in this browser; `None` when it did.
async fn door_refusal(state: &AppState, headers: &HeaderMap, token: &str) -> Option<Response<Body>> {
    match door_checked(state, headers, token).await {
        Ok(true) => None,
        Ok(false) => Some(forged()),
        Err(e) => Some(failed(state, e)),
    }
}

fn with_cookie(mut response: Response<Body>, set: Option<HeaderValue>) -> Response<Body> {
    if let Some(set) = set {
        response.headers_mut().append(header::SET_COOKIE, set);
    }
    response
}

/// A page before signing in: its form's token for the browser's door
/// cookie (set now if it had none), `render` given the frame and token.
async fn door_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    notice: Option<String>,
    render: impl FnOnce(&quire_render::admin::Chrome, String) -> Result<String, quire_render::RenderError>,
) -> Response<Body> {
    let prepared = async {
        let (value, set) = door_cookie(state, headers)?;
        let csrf = state.app.door_token(&value).await?;
        let mut chrome = chrome(state, None, "").await?;
        chrome.notice = notice;
        Ok::<_, AppError>((chrome, csrf, set))
    };
    match prepared.await {
        Ok((chrome, csrf, set)) => match render(&chrome, csrf) {
            Ok(html) => with_cookie(admin_page(status, html), set),
            Err(e) => state.error_page(&e.into()),
        },
        Err(e) => failed(state, e),
    }
}

async fn login_form(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    mut view: LoginView,
    notice: Option<String>,
) -> Response<Body> {
    door_page(state, headers, status, notice, |chrome, csrf| {
        view.csrf = csrf;
        state.admin.login(chrome, &view)
    })
    .await
}

/// `GET /admin/login`: the sign-in form (or, signed in already, the admin).
pub(crate) async fn login_page(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response<Body> {
    let next = safe_next(query.next.as_deref());
    match super::session::current_session(&state, &headers, client).await {
        Ok(Some(_)) => return see_other(&next),
        Ok(None) => {}
        Err(e) => return failed(&state, e),
    }
    let notice = query.out.is_some().then(|| "You are signed out.".to_owned());
    let view = LoginView {
        next,
        ..LoginView::default()
    };
    login_form(&state, &headers, StatusCode::OK, view, notice).await
}

/// `POST /admin/login`: signs in and goes on to the page asked for.
pub(crate) async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    form: Form<DoorForm>,
) -> Response<Body> {
    if let Some(refusal) = door_refusal(&state, &headers, form.field("csrf")).await {
        return refusal;
    }
    let next = safe_next(Some(form.field("next")));
    let previous = cookie(&headers, SESSION_COOKIE);
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let attempt = LoginAttempt {
        email: form.field("email"),
        password: form.field("password"),
        client,
        agent,
        previous: previous.as_deref(),
    };
    let (status, problem, retry) = match state.app.login(&attempt, OffsetDateTime::now_utc()).await {
        Ok(SignIn::Session(login)) => return signed_in_to(&state, &next, login.token),
        Ok(SignIn::SecondStep { pending }) => {
            let target = format!(
                "/admin/login/code?next={}",
                form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            let mut response = see_other(&target);
            response.headers_mut().append(
                header::SET_COOKIE,
                super::session::admin_cookie_for(&state, STEP_COOKIE, pending, time::Duration::minutes(5)),
            );
            return response;
        }
        Err(AppError::LoginFailed) => (
            StatusCode::UNAUTHORIZED,
            "The address or the password is wrong.".to_owned(),
            None,
        ),
        Err(AppError::RateLimited { retry_after }) => (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed attempts: wait {}, then try again.",
                describe_wait(retry_after)
            ),
            Some(retry_after.as_secs().max(1)),
        ),
        Err(e) => return failed(&state, e),
    };
    let view = LoginView {
        email: form.field("email").chars().take(254).collect(),
        next,
        problem: Some(problem),
        ..LoginView::default()
    };
    let mut response = login_form(&state, &headers, status, view, None).await;
    if let Some(seconds) = retry
        && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// A wait as people say it: "5 seconds", "2 minutes".
fn describe_wait(wait: std::time::Duration) -> String {
    let seconds = wait.as_secs().max(1);
    let (n, unit) = if seconds < 60 {
        (seconds, "second")
    } else {
        (seconds.div_ceil(60), "minute")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// What a set-password link that does not work says, and its status.
fn link_trouble(e: &AppError) -> Option<(StatusCode, MessageView)> {
    let sign_in = Some(LinkView {
        href: "/admin/login".into(),
        label: "Sign in".into(),
    });
    let (status, heading, message, link) = match e {
        AppError::LinkExpired => (
            StatusCode::GONE,
            "This link has expired",
            "Links to set a password work for a limited time. Ask an administrator for a new one, \
             or run quire user reset-password YOUR-ADDRESS on the server.",
            None,
        ),
        AppError::LinkUsed => (
            StatusCode::GONE,
            "This link has been used",
            "Each link sets a password once. Sign in with the password you chose, or ask for a new link.",
            sign_in,
        ),
        AppError::LinkGone => (
            StatusCode::GONE,
            "This account cannot sign in",
            "The account this link is for has been disabled or removed. Ask an administrator.",
            None,
        ),
        AppError::LinkInvalid => (
            StatusCode::NOT_FOUND,
            "This link does not work",
            "Check that the whole link was copied: it is long, and mail programs sometimes break it in two.",
            None,
        ),
        _ => return None,
    };
    Some((
        status,
        MessageView {
            heading: heading.into(),
            message: message.into(),
            link,
        },
    ))
}

async fn password_form(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    status: StatusCode,
    problem: Option<String>,
) -> Response<Body> {
    let user = match state.app.password_link_account(token).await {
        Ok(user) => user,
        Err(e) => {
            return match link_trouble(&e) {
                Some((status, view)) => message_page(state, None, status, &view).await,
                None => failed(state, e),
            };
        }
    };
    let mut view = PasswordView {
        heading: if user.has_password {
            "Choose a new password"
        } else {
            "Set your password"
        },
        token: token.to_owned(),
        name: user.name.clone(),
        email: user.email.clone(),
        min_chars: MIN_PASSWORD_CHARS,
        problem,
        ..PasswordView::default()
    };
    door_page(state, headers, status, None, |chrome, csrf| {
        view.csrf = csrf;
        state.admin.password(chrome, &view)
    })
    .await
}

/// `GET /admin/password?token=…`: the form a set-password link opens.
pub(crate) async fn password_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
) -> Response<Body> {
    let token = query.token.unwrap_or_default();
    password_form(&state, &headers, &token, StatusCode::OK, None).await
}

/// `POST /admin/password`: sets the password, uses the link up, and signs in.
pub(crate) async fn set_password(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    form: Form<DoorForm>,
) -> Response<Body> {
    if let Some(refusal) = door_refusal(&state, &headers, form.field("csrf")).await {
        return refusal;
    }
    let token = form.field("token");
    let password = form.field("password");
    if password != form.field("repeat") {
        let problem = "The two passwords are not the same: type the new password twice.".to_owned();
        return password_form(&state, &headers, token, StatusCode::UNPROCESSABLE_ENTITY, Some(problem)).await;
    }
    let user = match state.app.set_password(token, password).await {
        Ok(user) => user,
        Err(AppError::Invalid { message, .. }) => {
            let problem = format!("The password {message}.");
            return password_form(&state, &headers, token, StatusCode::UNPROCESSABLE_ENTITY, Some(problem)).await;
        }
        Err(e) => {
            return match link_trouble(&e) {
                Some((status, view)) => message_page(&state, None, status, &view).await,
                None => failed(&state, e),
            };
        }
    };
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let previous = cookie(&headers, SESSION_COOKIE);
    let attempt = LoginAttempt {
        email: &user.email,
        password,
        client,
        agent,
        previous: previous.as_deref(),
    };
    match state.app.login(&attempt, OffsetDateTime::now_utc()).await {
        Ok(SignIn::Session(login)) => signed_in_to(&state, "/admin/?welcome=1", login.token),
        // The password is set; signing in (and a second step) can wait
        // for the form.
        Ok(SignIn::SecondStep { .. }) | Err(_) => see_other("/admin/login"),
    }
}

async fn code_form(state: &AppState, headers: &HeaderMap, status: StatusCode, mut view: CodeView) -> Response<Body> {
    door_page(state, headers, status, None, |chrome, csrf| {
        view.csrf = csrf;
        state.admin.code(chrome, &view)
    })
    .await
}

/// `GET /admin/login/code`: the second step, after a right password.
pub(crate) async fn code_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response<Body> {
    if cookie(&headers, STEP_COOKIE).is_none() {
        return see_other("/admin/login");
    }
    let view = CodeView {
        next: safe_next(query.next.as_deref()),
        ..CodeView::default()
    };
    code_form(&state, &headers, StatusCode::OK, view).await
}

/// `POST /admin/login/code`: checks the code and starts the session.
pub(crate) async fn login_code(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    form: Form<DoorForm>,
) -> Response<Body> {
    if let Some(refusal) = door_refusal(&state, &headers, form.field("csrf")).await {
        return refusal;
    }
    let next = safe_next(Some(form.field("next")));
    let Some(pending) = cookie(&headers, STEP_COOKIE) else {
        return see_other("/admin/login");
    };
    let previous = cookie(&headers, SESSION_COOKIE);
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let attempt = CodeAttempt {
        pending: &pending,
        code: form.field("code"),
        client,
        agent,
        previous: previous.as_deref(),
    };
    let (status, problem) = match state.app.login_code(&attempt, OffsetDateTime::now_utc()).await {
        Ok(login) => {
            let mut response = signed_in_to(&state, &next, login.token);
            response.headers_mut().append(
                header::SET_COOKIE,
                super::session::admin_cookie_for(&state, STEP_COOKIE, String::new(), time::Duration::ZERO),
            );
            return response;
        }
        Err(AppError::CodeFailed) => (
            StatusCode::UNAUTHORIZED,
            "The code is wrong, or was used already.".to_owned(),
        ),
        Err(AppError::RateLimited { retry_after }) => (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed attempts: wait {}, then try again.",
                describe_wait(retry_after)
            ),
        ),
        Err(AppError::FormExpired | AppError::FormTokenInvalid | AppError::LoginFailed) => {
            let view = LoginView {
                next,
                problem: Some("Signing in took too long: give your password again.".into()),
                ..LoginView::default()
            };
            return login_form(&state, &headers, StatusCode::UNAUTHORIZED, view, None).await;
        }
        Err(e) => return failed(&state, e),
    };
    let view = CodeView {
        next,
        problem: Some(problem),
        ..CodeView::default()
    };
    code_form(&state, &headers, status, view).await
}

async fn forgot_form(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    mut view: ForgotView,
) -> Response<Body> {
    door_page(state, headers, status, None, |chrome, csrf| {
        view.csrf = csrf;
        state.admin.forgot(chrome, &view)
    })
    .await
}

/// `GET /admin/forgot`: asks for the address to send a reset link to.
pub(crate) async fn forgot_page(State(state): State<AppState>, headers: HeaderMap) -> Response<Body> {
    forgot_form(&state, &headers, StatusCode::OK, ForgotView::default()).await
}

/// `POST /admin/forgot`: sends a reset link if the address is an
/// account's; says the same either way.
pub(crate) async fn forgot(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    form: Form<DoorForm>,
) -> Response<Body> {
    if let Some(refusal) = door_refusal(&state, &headers, form.field("csrf")).await {
        return refusal;
    }
    let email: String = form.field("email").trim().chars().take(254).collect();
    let mut view = ForgotView {
        email: email.clone(),
        ..ForgotView::default()
    };
    match state.app.forgot_password(&email, client).await {
        Ok(()) => {
            view.sent = true;
            forgot_form(&state, &headers, StatusCode::OK, view).await
        }
        Err(AppError::RateLimited { retry_after }) => {
            view.problem = Some(format!(
                "Too many requests from this connection: wait {}, then try again.",
                describe_wait(retry_after)
            ));
            forgot_form(&state, &headers, StatusCode::TOO_MANY_REQUESTS, view).await
        }
        Err(e) => failed(&state, e),
    }
}

/// `POST /admin/logout`: ends this browser's session.
pub(crate) async fn logout(State(state): State<AppState>, posted: StaffForm<ButtonForm>) -> Response<Body> {
    if let Err(e) = state.app.logout(posted.signed.token()).await {
        return failed(&state, e);
    }
    signed_out(&state)
}

/// `POST /admin/logout-everywhere`: ends every session of the account.
pub(crate) async fn logout_everywhere(State(state): State<AppState>, posted: StaffForm<ButtonForm>) -> Response<Body> {
    if let Err(e) = state.app.logout_everywhere(posted.signed.staff()).await {
        return failed(&state, e);
    }
    signed_out(&state)
}

fn signed_out(state: &AppState) -> Response<Body> {
    let mut response = see_other("/admin/login?out=1");
    response
        .headers_mut()
        .append(header::SET_COOKIE, cleared_session_cookie(state));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admin_paths_of_this_site_are_gone_on_to() {
        assert_eq!(
            safe_next(Some("/admin/papers?status=draft")),
            "/admin/papers?status=draft"
        );
        assert_eq!(safe_next(Some("/admin")), "/admin");
        for hostile in [
            "https://evil.example/admin/",
            "//evil.example/admin/",
            "/admin//evil.example",
            "/admin/\\evil.example",
            "/\\evil.example",
            "/administrator",
            "/",
            "/admin/\r\nSet-Cookie: x=1",
            "javascript:alert(1)",
            "",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/admin/", "{hostile:?}");
        }
        assert_eq!(safe_next(Some(&format!("/admin/{}", "a".repeat(600)))), "/admin/");
        assert_eq!(safe_next(None), "/admin/");
    }
}
