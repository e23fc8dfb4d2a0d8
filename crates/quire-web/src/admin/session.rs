//! Who is signed in: the session cookie, the layer that guards every
//! admin page behind it (and renews a rotated session's cookie), and the
//! form extractor that refuses a post without the session's anti-forgery
//! token.

use crate::AppState;
use crate::forms::{Form, FormKind};
use crate::plumbing::{cookie, same_site, see_other};
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, Response, StatusCode, header};
use axum::middleware::Next;
use cookie::{Cookie, SameSite};
use quire_app::accounts::{SESSION_MAX_DAYS, Session, Staff, same_secret};
use std::sync::Arc;
use time::OffsetDateTime;

/// The cookie that names a browser's session.
pub(crate) const SESSION_COOKIE: &str = "quire_session";
/// The cookie that lets a browser post the forms it is shown before
/// signing in.
pub(crate) const DOOR_COOKIE: &str = "quire_door";

/// The request's session, put there by [`require_session`].
#[derive(Clone)]
pub(crate) struct SignedIn(pub Arc<SignedInInner>);

pub(crate) struct SignedInInner {
    pub session: Session,
    /// The cookie's secret (the new one, if the session was rotated).
    pub token: String,
}

impl SignedIn {
    pub fn staff(&self) -> &Staff {
        &self.0.session.staff
    }

    pub fn csrf(&self) -> &str {
        &self.0.session.csrf
    }

    pub fn token(&self) -> &str {
        &self.0.token
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = Response<Body>;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<SignedIn>()
            .cloned()
            .ok_or_else(|| super::refusal(StatusCode::FORBIDDEN, "Sign in first."))
    }
}

/// A `Set-Cookie` for an admin cookie: only the admin's paths get it, no
/// script can read it, other sites' pages do not send it, and it goes
/// only over HTTPS when the site is served so.
pub(crate) fn admin_cookie(state: &AppState, name: &'static str, value: String, max_age_days: i64) -> HeaderValue {
    admin_cookie_for(state, name, value, time::Duration::days(max_age_days))
}

/// [`admin_cookie`] for `max_age` (zero: remove it).
pub(crate) fn admin_cookie_for(
    state: &AppState,
    name: &'static str,
    value: String,
    max_age: time::Duration,
) -> HeaderValue {
    let cookie = Cookie::build((name, value))
        .path("/admin")
        .max_age(max_age)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.site().base_url.starts_with("https://"))
        .build();
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The session cookie for `token`.
pub(crate) fn session_cookie(state: &AppState, token: String) -> HeaderValue {
    admin_cookie(state, SESSION_COOKIE, token, SESSION_MAX_DAYS)
}

/// A redirect to `target` that gives the browser the session `token`.
pub(crate) fn signed_in_to(state: &AppState, target: &str, token: String) -> Response<Body> {
    let mut response = see_other(target);
    response
        .headers_mut()
        .append(header::SET_COOKIE, session_cookie(state, token));
    response
}

/// A `Set-Cookie` that removes the session cookie.
pub(crate) fn cleared_session_cookie(state: &AppState) -> HeaderValue {
    admin_cookie(state, SESSION_COOKIE, String::new(), 0)
}

/// The session the request's cookie names, if it is good.
pub(crate) async fn current_session(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    client: std::net::IpAddr,
) -> Result<Option<SignedIn>, quire_app::AppError> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some(session) = state.app.session(&token, client, OffsetDateTime::now_utc()).await? else {
        return Ok(None);
    };
    let token = session.rotated.clone().unwrap_or(token);
    Ok(Some(SignedIn(Arc::new(SignedInInner { session, token }))))
}

/// Guards the admin: a request without a good session is sent to sign in
/// (a page) or refused (a post); one with a session has it in its
/// extensions, and a session that was rotated gets its new cookie.
pub(crate) async fn require_session(State(state): State<AppState>, mut request: Request, next: Next) -> Response<Body> {
    let client = state.client_ip(&request);
    let signed = match current_session(&state, request.headers(), client).await {
        Ok(signed) => signed,
        Err(e) => return super::failed(&state, e),
    };
    let Some(signed) = signed else {
        let method = request.method();
        if method == Method::GET || method == Method::HEAD {
            let path = request.uri().path_and_query().map_or("/admin/", |p| p.as_str());
            let next = form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>();
            return see_other(&format!("/admin/login?next={next}"));
        }
        return super::refusal(
            StatusCode::FORBIDDEN,
            "Your session has ended, so this was not done. Sign in again, then repeat it.",
        );
    };
    let rotated = signed.0.session.rotated.is_some().then(|| signed.token().to_owned());
    request.extensions_mut().insert(signed);
    let mut response = next.run(request).await;
    if let Some(token) = rotated {
        response
            .headers_mut()
            .append(header::SET_COOKIE, session_cookie(&state, token));
    }
    response
}

/// A form posted by a signed-in browser, with the session's anti-forgery
/// token and from a page of this site; anything else is refused before
/// the handler runs.
pub(crate) struct StaffForm<K: FormKind> {
    pub signed: SignedIn,
    pub form: Form<K>,
}

impl<K: FormKind> FromRequest<AppState> for StaffForm<K> {
    type Rejection = Response<Body>;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let signed = SignedIn::from_request_parts(&mut parts, state).await?;
        if !same_site(&parts.headers, &state.site().base_url) {
            return Err(super::forged());
        }
        let form = Form::<K>::from_request(Request::from_parts(parts, body), state).await?;
        if !same_secret(form.field("csrf"), signed.csrf()) {
            return Err(super::forged());
        }
        Ok(StaffForm { signed, form })
    }
}
