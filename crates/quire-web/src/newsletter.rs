//! The newsletter over HTTP: the sign-up form (`/subscribe`, and the one
//! in every page's footer), the confirmation link, a subscriber's
//! preferences, and unsubscribing, one-click (RFC 8058) or by a button.
//!
//! A sign-up stores nothing: the confirmation email carries it in a
//! signed, expiring link, and only opening that link makes a subscriber.
//! The form's answer is the same whatever the address's standing, so it
//! cannot be used to learn who subscribes.

use super::forms::{ClientIp, Form, FormKind};
use super::plumbing::{plain, private_page, same_site, see_other};
use super::{AppState, PageError};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::http::{HeaderValue, Response, StatusCode, header};
use axum::response::IntoResponse;
use quire_app::AppError;
use quire_app::newsletter::{LinkPurpose, SignUpForm, SubscriberLink, UNSUBSCRIBE_PATH as UNSUBSCRIBE};
use quire_render::{NewsletterView, TopicChoice};
use quire_store::{Subscriber, Visibility};
use std::collections::HashMap;

/// The honeypot field, as on the comment form.
const HONEYPOT: &str = "website_confirm";

fn page(state: &AppState, status: StatusCode, path: &str, view: &NewsletterView) -> Result<Response<Body>, PageError> {
    let html = quire_render::render_newsletter(&state.theme, &state.site(), path, view)?;
    Ok(private_page(status, html))
}

fn message_view(heading: &str, message: &str) -> NewsletterView {
    NewsletterView {
        mode: "message",
        heading: heading.to_owned(),
        message: message.to_owned(),
        ..NewsletterView::default()
    }
}

/// Every topic as a choice, `chosen` checked.
async fn topic_choices(state: &AppState, chosen: &[String]) -> Result<Vec<TopicChoice>, PageError> {
    let topics = state.store.list_topics(Visibility::All).await?;
    Ok(topics
        .into_iter()
        .map(|t| TopicChoice {
            checked: chosen.contains(&t.slug),
            slug: t.slug,
            name: t.name,
        })
        .collect())
}

fn respond(result: Result<Response<Body>, PageError>) -> Response<Body> {
    result.unwrap_or_else(|e| e.into_response())
}

/// `GET /subscribe`: the sign-up form; after a sign-up, what happens next.
pub(crate) async fn subscribe_form(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response<Body> {
    let result = async {
        if query.contains_key("sent") {
            // With no mail server set, nothing can leave yet: promise no
            // email "on its way", only that the confirmation will follow.
            let view = if state.config().mail.smtp_url.is_some() {
                message_view(
                    "Check your inbox",
                    "If the address can receive our newsletter, an email is on its way to it. Open the link in it to \
                     confirm; until then nothing is kept. It may take a few minutes; look in the spam folder too.",
                )
            } else {
                message_view(
                    "Thank you",
                    "A confirmation email will follow at this address. Open the link in it to confirm; until then \
                     nothing is kept.",
                )
            };
            return page(&state, StatusCode::OK, "/subscribe", &view);
        }
        let view = NewsletterView {
            mode: "subscribe",
            heading: format!("Subscribe to {}", state.config().site_name),
            // What the settings make true: papers go out on their own as
            // they are published, or when the editors send them.
            message: if state.config().newsletter.on_publish {
                "New papers by email, as they are published."
            } else {
                "New papers by email, when the editors send them."
            }
            .into(),
            action: "/subscribe".into(),
            everything: true,
            topics: topic_choices(&state, &[]).await?,
            ..NewsletterView::default()
        };
        page(&state, StatusCode::OK, "/subscribe", &view)
    }
    .await;
    respond(result)
}

/// The topics and scope a form sends; `topic` may repeat.
struct Choices {
    everything: bool,
    topics: Vec<String>,
}

fn read_choices(form: &Form<NewsletterBody>) -> Choices {
    let mut topics = form.all("topic");
    topics.sort();
    topics.dedup();
    let everything = form.field("scope") != "topics" || topics.is_empty();
    if everything {
        topics.clear();
    }
    Choices { everything, topics }
}

/// A sign-up, confirmation or preferences form.
pub(crate) struct NewsletterBody;

impl FormKind for NewsletterBody {
    const MAX_BYTES: usize = 64 * 1024;
    const WHAT: &'static str = "form";
}

/// The refusal of a form posted from another site's page.
fn from_elsewhere(state: &AppState, headers: &HeaderMap) -> Option<Response<Body>> {
    (!same_site(headers, &state.config().base())).then(|| {
        plain(
            StatusCode::FORBIDDEN,
            "This form can only be sent from this site's own pages.",
        )
    })
}

/// `POST /subscribe`.
pub(crate) async fn subscribe(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    form: Form<NewsletterBody>,
) -> Response<Body> {
    if let Some(refused) = from_elsewhere(&state, &headers) {
        return refused;
    }
    respond(sign_up(&state, ip, &form).await)
}

async fn sign_up(
    state: &AppState,
    ip: std::net::IpAddr,
    fields: &Form<NewsletterBody>,
) -> Result<Response<Body>, PageError> {
    let raw_email = fields.field("email");
    let raw_name = fields.field("name");
    let choices = read_choices(fields);
    let form = SignUpForm {
        email: raw_email,
        name: raw_name,
        topics: choices.topics.clone(),
        honeypot_filled: !fields.field(HONEYPOT).is_empty(),
        ip,
    };
    match state.app.sign_up(form).await {
        Ok(()) => Ok(see_other("/subscribe?sent=1")),
        Err(AppError::RateLimited { retry_after }) => {
            let minutes = retry_after.as_secs().div_ceil(60).max(1);
            let view = message_view(
                "Too many sign-ups",
                &format!("This connection has signed up too often. Try again in {minutes} minutes."),
            );
            let mut response = page(state, StatusCode::TOO_MANY_REQUESTS, "/subscribe", &view)?;
            if let Ok(v) = HeaderValue::from_str(&retry_after.as_secs().max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(response)
        }
        Err(AppError::Fields(errors)) => {
            let error = |field: &str, say: &str| {
                errors
                    .iter()
                    .find(|e| e.field == field)
                    .map(|e| format!("{say} {}.", e.message))
                    .unwrap_or_default()
            };
            let view = NewsletterView {
                mode: "subscribe",
                heading: format!("Subscribe to {}", state.config().site_name),
                problem:
                    "The form has a problem; nothing was stored. Correct the field marked below and send it again."
                        .into(),
                action: "/subscribe".into(),
                email: raw_email.chars().take(300).collect(),
                email_error: error("email", "The address"),
                name: raw_name.chars().take(200).collect(),
                name_error: error("name", "The name"),
                everything: choices.everything,
                topics: topic_choices(state, &choices.topics).await?,
                topics_error: if errors.iter().any(|e| e.field == "topics") {
                    "Some chosen topics do not exist any more; choose again.".into()
                } else {
                    String::new()
                },
                ..NewsletterView::default()
            };
            page(state, StatusCode::UNPROCESSABLE_ENTITY, "/subscribe", &view)
        }
        Err(e) => Err(e.into()),
    }
}

const CONFIRM: &str = "/subscribe/confirm";

/// The page for a confirmation link that cannot be used; other errors
/// pass through.
fn link_problem(state: &AppState, problem: AppError) -> Result<Response<Body>, PageError> {
    let (status, view) = match problem {
        AppError::LinkExpired => (
            StatusCode::GONE,
            message_view(
                "This link has expired",
                "Confirmation links work for a limited time. Sign up again and open the new link.",
            ),
        ),
        AppError::LinkInvalid => (
            StatusCode::BAD_REQUEST,
            message_view(
                "This link does not work",
                "It may have been cut short when copied. Open it from the email again, or sign up again.",
            ),
        ),
        AppError::LinkUsed => (
            StatusCode::GONE,
            message_view(
                "This link has been used",
                "Each confirmation link works once. To subscribe again, sign up from the form.",
            ),
        ),
        AppError::LinkGone => (
            StatusCode::GONE,
            message_view(
                "This link no longer works",
                "A topic it names is gone. Sign up again from the form.",
            ),
        ),
        other => return Err(other.into()),
    };
    page(state, status, CONFIRM, &view)
}

/// `GET /subscribe/confirm?t=…`: a page with one button. Opening the link
/// changes nothing: mail security scanners open every link in a message,
/// and must not subscribe the address.
pub(crate) async fn confirm_page(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response<Body> {
    let result = async {
        let token = query.get("t").map_or("", String::as_str);
        match state.app.open_confirmation(token).await {
            Ok(signup) => {
                let mut view = message_view(
                    "Confirm your subscription",
                    &format!(
                        "Send new papers from {} to {} by email?",
                        state.config().site_name,
                        signup.email
                    ),
                );
                view.mode = "button";
                view.action = CONFIRM.into();
                view.token = token.to_owned();
                view.button = "Confirm my subscription".into();
                page(&state, StatusCode::OK, CONFIRM, &view)
            }
            Err(problem) => link_problem(&state, problem),
        }
    }
    .await;
    respond(result)
}

/// `POST /subscribe/confirm` (the token in the form): makes the
/// subscription. Each link works once.
pub(crate) async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Form<NewsletterBody>,
) -> Response<Body> {
    if let Some(refused) = from_elsewhere(&state, &headers) {
        return refused;
    }
    let result = async {
        let token = form.field("t");
        let (subscriber, preferences) = match state.app.confirm_subscription(token).await {
            Ok(done) => done,
            Err(problem) => return link_problem(&state, problem),
        };
        let mut view = message_view(
            "You are subscribed",
            &format!(
                "Thank you. New papers from {} will come to {} by email.",
                state.config().site_name,
                subscriber.email
            ),
        );
        view.action = preferences;
        view.message
            .push_str(" Every email has a link to change your topics or to leave.");
        page(&state, StatusCode::OK, CONFIRM, &view)
    }
    .await;
    respond(result)
}

/// The subscriber a link names, with the link's own query, if its
/// signature is one for `purpose`.
async fn linked_subscriber(
    state: &AppState,
    query: &HashMap<String, String>,
    purpose: LinkPurpose,
) -> Result<Result<(Subscriber, String), AppError>, PageError> {
    let link = subscriber_link(query);
    match state.app.linked_subscriber(link, purpose).await {
        Ok(s) => {
            let id = s.id;
            let sig = link.sig;
            let q = match (purpose, link.exp) {
                (LinkPurpose::Preferences, Some(exp)) => format!("?id={id}&exp={exp}&sig={sig}"),
                _ => format!("?id={id}&sig={sig}"),
            };
            Ok(Ok((s, q)))
        }
        Err(e @ (AppError::LinkExpired | AppError::LinkInvalid)) => Ok(Err(e)),
        Err(e) => Err(e.into()),
    }
}

/// The link a query names.
fn subscriber_link(query: &HashMap<String, String>) -> SubscriberLink<'_> {
    SubscriberLink {
        id: query.get("id").and_then(|v| v.parse::<i64>().ok()),
        sig: query.get("sig").map_or("", String::as_str),
        exp: query.get("exp").and_then(|v| v.parse::<i64>().ok()),
    }
}

/// The page for a preferences link that has expired: it offers to email
/// a fresh one to the subscriber's own address.
fn expired_preferences(state: &AppState, query: &HashMap<String, String>) -> Result<Response<Body>, PageError> {
    let mut view = message_view(
        "This link has expired",
        "Links to your preferences work for a limited time. We can email a new one to the address this link was \
         sent to.",
    );
    view.mode = "button";
    view.action = format!(
        "{PREFERENCES}/link?id={}&exp={}&sig={}",
        enc(query.get("id")),
        enc(query.get("exp")),
        enc(query.get("sig"))
    );
    view.button = "Email me a new link".into();
    page(state, StatusCode::GONE, PREFERENCES, &view)
}

fn enc(value: Option<&String>) -> String {
    form_urlencoded::byte_serialize(value.map_or("", String::as_str).as_bytes()).collect()
}

/// `POST /newsletter/preferences/link?id=…&exp=…&sig=…` (an expired
/// preferences link): emails a fresh link to the subscriber's address, at
/// most `subscribe_address_per_day` times a day.
pub(crate) async fn fresh_preferences_link(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response<Body> {
    if let Some(refused) = from_elsewhere(&state, &headers) {
        return refused;
    }
    let result = async {
        match state.app.send_preferences_link(subscriber_link(&query)).await {
            Ok(()) => {}
            Err(AppError::LinkInvalid) => return bad_link(&state, PREFERENCES),
            Err(e) => return Err(e.into()),
        }
        let view = if state.config().mail.smtp_url.is_some() {
            message_view(
                "Check your inbox",
                "A new link to your preferences is on its way to the address the old one was sent to.",
            )
        } else {
            message_view(
                "Thank you",
                "A new link to your preferences will follow at the address the old one was sent to.",
            )
        };
        page(&state, StatusCode::OK, PREFERENCES, &view)
    }
    .await;
    respond(result)
}

fn bad_link(state: &AppState, path: &str) -> Result<Response<Body>, PageError> {
    let view = message_view(
        "This link does not work",
        "It may have been cut short when copied: open it from the email again.",
    );
    page(state, StatusCode::NOT_FOUND, path, &view)
}

const PREFERENCES: &str = "/newsletter/preferences";

async fn preferences_view(state: &AppState, s: &Subscriber, query: &str) -> Result<NewsletterView, PageError> {
    let subscribed = s.status == quire_core::domain::SubscriberStatus::Confirmed;
    Ok(NewsletterView {
        mode: "preferences",
        heading: "Your newsletter preferences".into(),
        message: if subscribed {
            String::new()
        } else {
            "This address is not subscribed now. Sign up again from the form to receive papers.".into()
        },
        action: format!("{PREFERENCES}{query}"),
        unsubscribe_action: if subscribed {
            state.app.unsubscribe_path(s).await?
        } else {
            String::new()
        },
        email: s.email.clone(),
        name: s.name.clone(),
        everything: s.topics.is_empty(),
        topics: topic_choices(state, &s.topics).await?,
        ..NewsletterView::default()
    })
}

/// `GET /newsletter/preferences?id=…&sig=…`.
pub(crate) async fn preferences(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response<Body> {
    let result = async {
        let (subscriber, q) = match linked_subscriber(&state, &query, LinkPurpose::Preferences).await? {
            Ok(found) => found,
            Err(AppError::LinkExpired) => return expired_preferences(&state, &query),
            Err(_) => return bad_link(&state, PREFERENCES),
        };
        let view = preferences_view(&state, &subscriber, &q).await?;
        page(&state, StatusCode::OK, PREFERENCES, &view)
    }
    .await;
    respond(result)
}

/// `POST /newsletter/preferences?id=…&sig=…`: new name and topics.
pub(crate) async fn save_preferences(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    form: Form<NewsletterBody>,
) -> Response<Body> {
    if let Some(refused) = from_elsewhere(&state, &headers) {
        return refused;
    }
    let result = async {
        let (subscriber, q) = match linked_subscriber(&state, &query, LinkPurpose::Preferences).await? {
            Ok(found) => found,
            Err(AppError::LinkExpired) => return expired_preferences(&state, &query),
            Err(_) => return bad_link(&state, PREFERENCES),
        };
        let choices = read_choices(&form);
        let raw_name = form.field("name");
        match state.app.save_preferences(&subscriber, raw_name, &choices.topics).await {
            Ok(saved) => {
                let mut view = preferences_view(&state, &saved, &q).await?;
                view.message = "Saved.".into();
                page(&state, StatusCode::OK, PREFERENCES, &view)
            }
            Err(AppError::Fields(errors)) => {
                let mut view = preferences_view(&state, &subscriber, &q).await?;
                view.problem = "Nothing was changed; correct the field marked below.".into();
                view.name = raw_name.chars().take(200).collect();
                view.name_error = errors
                    .iter()
                    .find(|e| e.field == "name")
                    .map(|e| format!("The name {}.", e.message))
                    .unwrap_or_default();
                if errors.iter().any(|e| e.field == "topics") {
                    view.topics_error = "Some chosen topics do not exist any more; choose again.".into();
                }
                page(&state, StatusCode::UNPROCESSABLE_ENTITY, PREFERENCES, &view)
            }
            Err(e) => Err(e.into()),
        }
    }
    .await;
    respond(result)
}

/// `GET /newsletter/unsubscribe?id=…&sig=…`: one button. (A GET never
/// unsubscribes: link checkers in mail systems open every link.)
pub(crate) async fn unsubscribe_page(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response<Body> {
    let result = async {
        let Ok((subscriber, q)) = linked_subscriber(&state, &query, LinkPurpose::Unsubscribe).await? else {
            return bad_link(&state, UNSUBSCRIBE);
        };
        let mut view = message_view(
            "Unsubscribe",
            &format!(
                "Stop sending {} newsletters to {}?",
                state.config().site_name,
                subscriber.email
            ),
        );
        view.unsubscribe_action = format!("{UNSUBSCRIBE}{q}");
        page(&state, StatusCode::OK, UNSUBSCRIBE, &view)
    }
    .await;
    respond(result)
}

/// `POST /newsletter/unsubscribe?id=…&sig=…`: unsubscribes at once. Mail
/// providers post `List-Unsubscribe=One-Click` here from their own
/// servers (RFC 8058), so no same-site check: the signed link is the
/// authority.
pub(crate) async fn unsubscribe(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response<Body> {
    let result = async {
        let Ok((subscriber, _)) = linked_subscriber(&state, &query, LinkPurpose::Unsubscribe).await? else {
            return bad_link(&state, UNSUBSCRIBE);
        };
        state.app.unsubscribe(&subscriber).await?;
        let mut view = message_view(
            "You are unsubscribed",
            &format!(
                "{} will send no more newsletters to {}. Changed your mind? Sign up again at any time.",
                state.config().site_name,
                subscriber.email
            ),
        );
        let signer = state.app.newsletter_signer().await?;
        view.action = state
            .app
            .preferences_url(signer, &subscriber, "", time::OffsetDateTime::now_utc());
        page(&state, StatusCode::OK, UNSUBSCRIBE, &view)
    }
    .await;
    respond(result)
}
