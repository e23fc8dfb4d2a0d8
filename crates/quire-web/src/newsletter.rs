//! The newsletter over HTTP: the sign-up form (`/subscribe`, and the one
//! in every page's footer), the confirmation link, a subscriber's
//! preferences, and unsubscribing, one-click (RFC 8058) or by a button.
//!
//! A sign-up stores nothing: the confirmation email carries it in a
//! signed, expiring link, and only opening that link makes a subscriber.
//! The form's answer is the same whatever the address's standing, so it
//! cannot be used to learn who subscribes.

use super::client::{RateLimiter, limit_key};
use super::plumbing::{form_fields, plain, private_page, same_site, see_other};
use super::{AppState, PageError};
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, Response, StatusCode, header};
use quire_core::domain::{MessageKind, validate_subscriber_email, validate_subscriber_name};
use quire_core::signing::Signer;
use quire_mail::compose::{self, Composed};
use quire_mail::links::{self, LinkError, SignUp};
use quire_render::{NewsletterView, TopicChoice};
use quire_store::{StoreError, Subscriber, Visibility};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// Largest sign-up or preferences form body.
const MAX_BODY: usize = 64 * 1024;
/// The honeypot field, as on the comment form.
const HONEYPOT: &str = "website_confirm";

/// Per-address counts of confirmation emails, by a hash of the address.
pub type AddressLimiter = RateLimiter<[u8; 32]>;

impl AppState {
    /// The signer of newsletter links, with its own site key.
    pub(super) async fn newsletter_signer(&self) -> Result<&Signer, PageError> {
        self.newsletter_signer
            .get_or_try_init(|| async {
                let key = self.store.site_key(quire_mail::links::SITE_KEY).await?;
                Ok::<_, PageError>(Signer::new(&key))
            })
            .await
    }
}

fn page(state: &AppState, status: StatusCode, path: &str, view: &NewsletterView) -> Result<Response<Body>, PageError> {
    let html = quire_render::render_newsletter(&state.theme, &state.site, path, view)?;
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

fn respond(state: &AppState, result: Result<Response<Body>, PageError>) -> Response<Body> {
    result.unwrap_or_else(|e| state.error_page(&e))
}

/// `GET /subscribe`: the sign-up form; after a sign-up, what happens next.
pub async fn subscribe_form(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response<Body> {
    let result = async {
        if query.contains_key("sent") {
            let view = message_view(
                "Check your inbox",
                "If the address can receive our newsletter, an email is on its way to it. Open the link in it to \
                 confirm; until then nothing is kept. It may take a few minutes; look in the spam folder too.",
            );
            return page(&state, StatusCode::OK, "/subscribe", &view);
        }
        let view = NewsletterView {
            mode: "subscribe",
            heading: format!("Subscribe to {}", state.config.site_name),
            message: "New papers by email, as they are published.".into(),
            action: "/subscribe".into(),
            everything: true,
            topics: topic_choices(&state, &[]).await?,
            ..NewsletterView::default()
        };
        page(&state, StatusCode::OK, "/subscribe", &view)
    }
    .await;
    respond(&state, result)
}

/// The name, topics and scope a form sends; `topic` may repeat.
struct Choices {
    name: Result<String, String>,
    everything: bool,
    topics: Vec<String>,
}

fn read_choices(body: &[u8], fields: &HashMap<String, String>) -> Choices {
    let mut topics: Vec<String> = form_urlencoded::parse(body)
        .filter(|(k, _)| k == "topic")
        .map(|(_, v)| v.into_owned())
        .collect();
    topics.sort();
    topics.dedup();
    let everything = fields.get("scope").is_none_or(|s| s != "topics") || topics.is_empty();
    if everything {
        topics.clear();
    }
    Choices {
        name: validate_subscriber_name(fields.get("name").map_or("", String::as_str)),
        everything,
        topics,
    }
}

/// Topic slugs among `wanted` that are not topics of the site.
async fn unknown_topics(state: &AppState, wanted: &[String]) -> Result<Vec<String>, PageError> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let known = state
        .store
        .existing_slugs(quire_store::SlugTable::Topics, wanted)
        .await?;
    Ok(wanted.iter().filter(|t| !known.contains(t)).cloned().collect())
}

/// The body of a form posted from this site's own pages: or the answer
/// for one too large, too slow, or posted from another site.
async fn own_form(state: &AppState, request: Request) -> Result<bytes::Bytes, Response<Body>> {
    let headers = request.headers().clone();
    let body = super::server::read_form(request.into_body(), MAX_BODY, "form").await?;
    if !same_site(&headers, state.config.base()) {
        return Err(plain(
            StatusCode::FORBIDDEN,
            "This form can only be sent from this site's own pages.",
        ));
    }
    Ok(body)
}

/// `POST /subscribe`.
pub async fn subscribe(State(state): State<AppState>, request: Request) -> Response<Body> {
    let ip = state.client_ip(&request);
    let body = match own_form(&state, request).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let result = sign_up(&state, ip, &body).await;
    respond(&state, result)
}

async fn sign_up(state: &AppState, ip: std::net::IpAddr, body: &[u8]) -> Result<Response<Body>, PageError> {
    let fields = form_fields(body);
    if fields.get(HONEYPOT).is_some_and(|v| !v.is_empty()) {
        // Robots get the usual answer and nothing is sent.
        return Ok(see_other("/subscribe?sent=1"));
    }
    let per_hour = state.config.subscribe_rate_per_hour;
    if let Err(wait) =
        state
            .subscribe_limits
            .check_within(limit_key(ip), &[(Duration::from_secs(3600), per_hour)], Instant::now())
    {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        let view = message_view(
            "Too many sign-ups",
            &format!("This connection has signed up too often. Try again in {minutes} minutes."),
        );
        let mut response = page(state, StatusCode::TOO_MANY_REQUESTS, "/subscribe", &view)?;
        if let Ok(v) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Ok(response);
    }
    let raw_email = fields.get("email").map_or("", String::as_str);
    let email = validate_subscriber_email(raw_email);
    let choices = read_choices(body, &fields);
    let unknown = unknown_topics(state, &choices.topics).await?;
    if email.is_err() || choices.name.is_err() || !unknown.is_empty() {
        let view = NewsletterView {
            mode: "subscribe",
            heading: format!("Subscribe to {}", state.config.site_name),
            problem: "The form has a problem; nothing was stored. Correct the field marked below and send it again."
                .into(),
            action: "/subscribe".into(),
            email: raw_email.chars().take(300).collect(),
            email_error: email
                .as_ref()
                .err()
                .map(|e| format!("The address {e}."))
                .unwrap_or_default(),
            name: fields
                .get("name")
                .map(|n| n.chars().take(200).collect())
                .unwrap_or_default(),
            name_error: choices
                .name
                .as_ref()
                .err()
                .map(|e| format!("The name {e}."))
                .unwrap_or_default(),
            everything: choices.everything,
            topics: topic_choices(state, &choices.topics).await?,
            topics_error: if unknown.is_empty() {
                String::new()
            } else {
                "Some chosen topics do not exist any more; choose again.".into()
            },
            ..NewsletterView::default()
        };
        return page(state, StatusCode::UNPROCESSABLE_ENTITY, "/subscribe", &view);
    }
    let (Ok(email), Ok(name)) = (email, choices.name) else {
        return Err(PageError::NotFound);
    };
    // Past the per-address limit the answer is the same, and nothing is
    // sent: the form must not tell whether an address is known.
    let key: [u8; 32] = Sha256::digest(email.as_bytes()).into();
    let per_day = state.config.subscribe_address_per_day;
    if state
        .address_limits
        .check_within(key, &[(Duration::from_secs(86_400), per_day)], Instant::now())
        .is_ok()
    {
        let signup = SignUp {
            email,
            name,
            topics: choices.topics,
        };
        queue_sign_up_mail(state, &signup).await?;
    }
    Ok(see_other("/subscribe?sent=1"))
}

/// Queues the email a sign-up gets: the confirmation link, or, for an
/// address already subscribed, a link to its preferences.
async fn queue_sign_up_mail(state: &AppState, signup: &SignUp) -> Result<(), PageError> {
    let signer = state.newsletter_signer().await?;
    let now = OffsetDateTime::now_utc();
    let base = state.config.base();
    let existing = state.store.subscriber_by_email(&signup.email).await?;
    let body = match existing {
        Some(s) if s.status == quire_core::domain::SubscriberStatus::Confirmed => {
            compose::already_subscribed(&state.mail_site, &preferences_link(state, signer, &s, base, now))
        }
        _ => compose::confirmation_for(
            &state.mail_site,
            signer,
            signup,
            state.config.subscribe_confirm_hours,
            now,
        ),
    };
    let footer = format!(
        "You receive this because this address was entered on {}.",
        state.config.base()
    );
    // No greeting by the typed name, and no name beside the address: the
    // form is open to anyone, and what they type must not reach others'
    // inboxes.
    queue_plain(state, MessageKind::Confirm, &signup.email, "", &body, &footer).await
}

/// A fresh preferences link for `s`, valid for `preferences_link_days`.
fn preferences_link(state: &AppState, signer: &Signer, s: &Subscriber, base: &str, now: OffsetDateTime) -> String {
    let expires = now + time::Duration::days(i64::from(state.config.preferences_link_days));
    links::preferences_url(base, signer, s.into(), expires)
}

/// The unsubscribe address of `s` (it never expires).
fn unsubscribe_link(signer: &Signer, s: &Subscriber) -> String {
    format!(
        "{UNSUBSCRIBE}?id={}&sig={}",
        s.id,
        links::unsubscribe_sig(signer, s.into())
    )
}

/// Queues a message outside campaigns in the site's email layout, and
/// wakes this server's sender.
pub async fn queue_plain(
    state: &AppState,
    kind: MessageKind,
    to: &str,
    name: &str,
    body: &Composed,
    footer: &str,
) -> Result<(), PageError> {
    state
        .postbox()
        .queue(kind, to, name, body, footer)
        .await
        .map_err(|e| PageError::Mail(e.to_string()))?;
    state.mail_wake.notify_one();
    Ok(())
}

impl AppState {
    /// Where handlers queue mail.
    pub fn postbox(&self) -> quire_mail::notices::Postbox<'_> {
        quire_mail::notices::Postbox {
            store: &self.store,
            layouts: &self.mail_layouts,
            site: &self.mail_site,
            language: &self.config.language,
        }
    }
}

const CONFIRM: &str = "/subscribe/confirm";

/// The page for a confirmation link that cannot be used.
fn link_problem(state: &AppState, problem: LinkError) -> Result<Response<Body>, PageError> {
    let (status, view) = match problem {
        LinkError::Expired => (
            StatusCode::GONE,
            message_view(
                "This link has expired",
                "Confirmation links work for a limited time. Sign up again and open the new link.",
            ),
        ),
        LinkError::Invalid => (
            StatusCode::BAD_REQUEST,
            message_view(
                "This link does not work",
                "It may have been cut short when copied. Open it from the email again, or sign up again.",
            ),
        ),
    };
    page(state, status, CONFIRM, &view)
}

/// `GET /subscribe/confirm?t=…`: a page with one button. Opening the link
/// changes nothing: mail security scanners open every link in a message,
/// and must not subscribe the address.
pub async fn confirm_page(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response<Body> {
    let result = async {
        let signer = state.newsletter_signer().await?;
        let token = query.get("t").map_or("", String::as_str);
        match links::open_confirm_token(signer, token, OffsetDateTime::now_utc()) {
            Ok((signup, _)) => {
                let mut view = message_view(
                    "Confirm your subscription",
                    &format!(
                        "Send new papers from {} to {} by email?",
                        state.config.site_name, signup.email
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
    respond(&state, result)
}

/// `POST /subscribe/confirm` (the token in the form): makes the
/// subscription. Each link works once.
pub async fn confirm(State(state): State<AppState>, request: Request) -> Response<Body> {
    let body = match own_form(&state, request).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let result = async {
        let signer = state.newsletter_signer().await?;
        let fields = form_fields(&body);
        let token = fields.get("t").map_or("", String::as_str);
        let now = OffsetDateTime::now_utc();
        let (signup, expires) = match links::open_confirm_token(signer, token, now) {
            Ok(opened) => opened,
            Err(problem) => return link_problem(&state, problem),
        };
        let gone = || {
            let view = message_view(
                "This link no longer works",
                "A topic it names is gone. Sign up again from the form.",
            );
            page(&state, StatusCode::GONE, CONFIRM, &view)
        };
        if validate_subscriber_email(&signup.email).is_err()
            || !unknown_topics(&state, &signup.topics).await?.is_empty()
        {
            return gone();
        }
        let input = quire_core::domain::SubscriberInput {
            email: signup.email.clone(),
            name: signup.name.clone(),
            topics: signup.topics.clone(),
        };
        let digest = links::token_digest(token);
        let id = match state.store.confirm_subscriber_once(&input, &digest, expires, now).await {
            Ok(Some(id)) => id,
            Ok(None) => {
                let view = message_view(
                    "This link has been used",
                    "Each confirmation link works once. To subscribe again, sign up from the form.",
                );
                return page(&state, StatusCode::GONE, CONFIRM, &view);
            }
            Err(StoreError::UnknownReference { .. }) => return gone(),
            Err(e) => return Err(e.into()),
        };
        let mut view = message_view(
            "You are subscribed",
            &format!(
                "Thank you. New papers from {} will come to {} by email.",
                state.config.site_name, signup.email
            ),
        );
        if let Some(subscriber) = state.store.subscriber(id).await? {
            view.action = preferences_link(&state, signer, &subscriber, "", now);
        }
        view.message
            .push_str(" Every email has a link to change your topics or to leave.");
        page(&state, StatusCode::OK, CONFIRM, &view)
    }
    .await;
    respond(&state, result)
}

/// The subscriber a link names, with the link's own query, if its
/// signature is one for `purpose`.
async fn linked_subscriber(
    state: &AppState,
    query: &HashMap<String, String>,
    purpose: Purpose,
) -> Result<Result<(Subscriber, String), LinkError>, PageError> {
    let Some(id) = query.get("id").and_then(|v| v.parse::<i64>().ok()) else {
        return Ok(Err(LinkError::Invalid));
    };
    let sig = query.get("sig").map_or("", String::as_str);
    let Some(subscriber) = state.store.subscriber(id).await? else {
        return Ok(Err(LinkError::Invalid));
    };
    let signer = state.newsletter_signer().await?;
    let checked = match purpose {
        Purpose::Unsubscribe => {
            if links::check_unsubscribe(signer, (&subscriber).into(), sig) {
                Ok(format!("?id={id}&sig={sig}"))
            } else {
                Err(LinkError::Invalid)
            }
        }
        Purpose::Preferences => match query.get("exp").and_then(|v| v.parse::<i64>().ok()) {
            Some(exp) => links::check_preferences(signer, (&subscriber).into(), exp, sig, OffsetDateTime::now_utc())
                .map(|()| format!("?id={id}&exp={exp}&sig={sig}")),
            None => Err(LinkError::Invalid),
        },
    };
    Ok(checked.map(|q| (subscriber, q)))
}

/// What a subscriber's link is for: each has its own signature.
#[derive(Clone, Copy)]
enum Purpose {
    Preferences,
    Unsubscribe,
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
pub async fn fresh_preferences_link(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
) -> Response<Body> {
    if !same_site(&headers, state.config.base()) {
        return plain(
            StatusCode::FORBIDDEN,
            "This form can only be sent from this site's own pages.",
        );
    }
    let result = async {
        let subscriber = match linked_subscriber(&state, &query, Purpose::Preferences).await? {
            Ok((s, _)) => s,
            Err(LinkError::Expired) => {
                let Some(id) = query.get("id").and_then(|v| v.parse::<i64>().ok()) else {
                    return bad_link(&state, PREFERENCES);
                };
                match state.store.subscriber(id).await? {
                    Some(s) => s,
                    None => return bad_link(&state, PREFERENCES),
                }
            }
            Err(LinkError::Invalid) => return bad_link(&state, PREFERENCES),
        };
        let key: [u8; 32] = Sha256::digest(subscriber.email.as_bytes()).into();
        let per_day = state.config.subscribe_address_per_day;
        if state
            .address_limits
            .check_within(key, &[(Duration::from_secs(86_400), per_day)], Instant::now())
            .is_ok()
        {
            let signer = state.newsletter_signer().await?;
            let now = OffsetDateTime::now_utc();
            let url = preferences_link(&state, signer, &subscriber, state.config.base(), now);
            let body = compose::already_subscribed(&state.mail_site, &url);
            let footer = format!(
                "You receive this because a new link was asked for on {}.",
                state.config.base()
            );
            queue_plain(&state, MessageKind::Confirm, &subscriber.email, "", &body, &footer).await?;
        }
        let view = message_view(
            "Check your inbox",
            "A new link to your preferences is on its way to the address the old one was sent to.",
        );
        page(&state, StatusCode::OK, PREFERENCES, &view)
    }
    .await;
    respond(&state, result)
}

fn bad_link(state: &AppState, path: &str) -> Result<Response<Body>, PageError> {
    let view = message_view(
        "This link does not work",
        "It may have been cut short when copied: open it from the email again.",
    );
    page(state, StatusCode::NOT_FOUND, path, &view)
}

const PREFERENCES: &str = "/newsletter/preferences";
const UNSUBSCRIBE: &str = "/newsletter/unsubscribe";

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
            unsubscribe_link(state.newsletter_signer().await?, s)
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
pub async fn preferences(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response<Body> {
    let result = async {
        let (subscriber, q) = match linked_subscriber(&state, &query, Purpose::Preferences).await? {
            Ok(found) => found,
            Err(LinkError::Expired) => return expired_preferences(&state, &query),
            Err(LinkError::Invalid) => return bad_link(&state, PREFERENCES),
        };
        let view = preferences_view(&state, &subscriber, &q).await?;
        page(&state, StatusCode::OK, PREFERENCES, &view)
    }
    .await;
    respond(&state, result)
}

/// `POST /newsletter/preferences?id=…&sig=…`: new name and topics.
pub async fn save_preferences(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    request: Request,
) -> Response<Body> {
    let body = match own_form(&state, request).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let result = async {
        let (subscriber, q) = match linked_subscriber(&state, &query, Purpose::Preferences).await? {
            Ok(found) => found,
            Err(LinkError::Expired) => return expired_preferences(&state, &query),
            Err(LinkError::Invalid) => return bad_link(&state, PREFERENCES),
        };
        let fields = form_fields(&body);
        let choices = read_choices(&body, &fields);
        let unknown = unknown_topics(&state, &choices.topics).await?;
        let mut view = preferences_view(&state, &subscriber, &q).await?;
        match (&choices.name, unknown.is_empty()) {
            (Ok(name), true) => {
                state
                    .store
                    .set_subscriber_preferences(subscriber.id, name, &choices.topics)
                    .await?;
                let saved = state.store.subscriber(subscriber.id).await?.unwrap_or(subscriber);
                view = preferences_view(&state, &saved, &q).await?;
                view.message = "Saved.".into();
                page(&state, StatusCode::OK, PREFERENCES, &view)
            }
            (name, _) => {
                view.problem = "Nothing was changed; correct the field marked below.".into();
                view.name = fields
                    .get("name")
                    .map(|n| n.chars().take(200).collect())
                    .unwrap_or_default();
                view.name_error = name
                    .as_ref()
                    .err()
                    .map(|e| format!("The name {e}."))
                    .unwrap_or_default();
                if !unknown.is_empty() {
                    view.topics_error = "Some chosen topics do not exist any more; choose again.".into();
                }
                page(&state, StatusCode::UNPROCESSABLE_ENTITY, PREFERENCES, &view)
            }
        }
    }
    .await;
    respond(&state, result)
}

/// `GET /newsletter/unsubscribe?id=…&sig=…`: one button. (A GET never
/// unsubscribes: link checkers in mail systems open every link.)
pub async fn unsubscribe_page(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response<Body> {
    let result = async {
        let Ok((subscriber, q)) = linked_subscriber(&state, &query, Purpose::Unsubscribe).await? else {
            return bad_link(&state, UNSUBSCRIBE);
        };
        let mut view = message_view(
            "Unsubscribe",
            &format!(
                "Stop sending {} newsletters to {}?",
                state.config.site_name, subscriber.email
            ),
        );
        view.unsubscribe_action = format!("{UNSUBSCRIBE}{q}");
        page(&state, StatusCode::OK, UNSUBSCRIBE, &view)
    }
    .await;
    respond(&state, result)
}

/// `POST /newsletter/unsubscribe?id=…&sig=…`: unsubscribes at once. Mail
/// providers post `List-Unsubscribe=One-Click` here from their own
/// servers (RFC 8058), so no same-site check: the signed link is the
/// authority.
pub async fn unsubscribe(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response<Body> {
    let result = async {
        let Ok((subscriber, _)) = linked_subscriber(&state, &query, Purpose::Unsubscribe).await? else {
            return bad_link(&state, UNSUBSCRIBE);
        };
        let now = OffsetDateTime::now_utc();
        state.store.unsubscribe(subscriber.id, now).await?;
        let mut view = message_view(
            "You are unsubscribed",
            &format!(
                "{} will send no more newsletters to {}. Changed your mind? Sign up again at any time.",
                state.config.site_name, subscriber.email
            ),
        );
        view.action = preferences_link(&state, state.newsletter_signer().await?, &subscriber, "", now);
        page(&state, StatusCode::OK, UNSUBSCRIBE, &view)
    }
    .await;
    respond(&state, result)
}
