//! Authors and topics, for editors: the list, adding and editing one (an
//! author's affiliation, ORCID iD, Markdown biography and links; a
//! topic's description), and merging two into one.

use super::session::{SignedIn, StaffForm};
use super::users::refused;
use super::{admin_page, chrome, failed};
use crate::AppState;
use crate::forms::FormKind;
use crate::plumbing::see_other;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{Response, StatusCode};
use quire_app::AppError;
use quire_app::accounts::Actor;
use quire_core::domain::{Action, AuthorInput, AuthorLink, TopicInput, parse_orcid, slugify};
use quire_render::admin::{BylineForm, BylineRow, BylinesView};

/// The add and edit forms: a biography of some length.
pub(crate) struct BylineFormKind;
impl FormKind for BylineFormKind {
    const MAX_BYTES: usize = 64 * 1024;
    const WHAT: &'static str = "form";
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Authors,
    Topics,
}

impl Kind {
    fn view(self) -> BylinesView {
        match self {
            Kind::Authors => BylinesView {
                kind: "authors",
                one: "an author",
                heading: "Authors",
                action: "/admin/authors/save",
                merge_action: "/admin/authors/merge",
                list_href: "/admin/authors",
                ..BylinesView::default()
            },
            Kind::Topics => BylinesView {
                kind: "topics",
                one: "a topic",
                heading: "Topics",
                action: "/admin/topics/save",
                merge_action: "/admin/topics/merge",
                list_href: "/admin/topics",
                ..BylinesView::default()
            },
        }
    }
}

fn query_value(raw: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.chars().take(200).collect())
}

async fn page(
    state: &AppState,
    signed: &SignedIn,
    kind: Kind,
    status: StatusCode,
    mut view: BylinesView,
    edit: Option<String>,
    notice: Option<String>,
) -> Response<Body> {
    let actor = Actor::Staff(signed.staff().clone());
    let built = async {
        actor.require(Action::ManageBylines, "manage authors and topics")?;
        match kind {
            Kind::Authors => {
                let authors = state.app.authors().await?;
                if let Some(slug) = &edit
                    && let Some(a) = authors.iter().find(|a| &a.slug == slug)
                {
                    view.editing = true;
                    view.form = BylineForm {
                        slug: a.slug.clone(),
                        name: a.name.clone(),
                        affiliation: a.affiliation.clone().unwrap_or_default(),
                        orcid: a.orcid.clone().unwrap_or_default(),
                        text: a.bio.clone(),
                        links: a
                            .links
                            .iter()
                            .map(|l| format!("{}={}", l.label, l.url))
                            .collect::<Vec<_>>()
                            .join("\n"),
                    };
                }
                view.rows = authors
                    .into_iter()
                    .map(|a| BylineRow {
                        public_href: format!("/authors/{}/", a.slug),
                        edit_href: format!("/admin/authors?edit={}", a.slug),
                        detail: a.affiliation.unwrap_or_default(),
                        papers: a.paper_count,
                        slug: a.slug,
                        name: a.name,
                    })
                    .collect();
            }
            Kind::Topics => {
                let topics = state.app.topics().await?;
                if let Some(slug) = &edit
                    && let Some(t) = topics.iter().find(|t| &t.slug == slug)
                {
                    view.editing = true;
                    view.form = BylineForm {
                        slug: t.slug.clone(),
                        name: t.name.clone(),
                        text: t.description.clone(),
                        ..BylineForm::default()
                    };
                }
                view.rows = topics
                    .into_iter()
                    .map(|t| BylineRow {
                        public_href: format!("/topics/{}/", t.slug),
                        edit_href: format!("/admin/topics?edit={}", t.slug),
                        detail: t.description.chars().take(120).collect(),
                        papers: t.paper_count,
                        slug: t.slug,
                        name: t.name,
                    })
                    .collect();
            }
        }
        let current = if kind == Kind::Authors {
            "/admin/authors"
        } else {
            "/admin/topics"
        };
        let mut chrome = chrome(state, Some(signed), current).await?;
        chrome.notice = notice;
        Ok::<_, AppError>(state.admin.bylines(&chrome, &view))
    };
    match built.await {
        Ok(Ok(html)) => admin_page(status, html),
        Ok(Err(e)) => state.error_page(&e.into()),
        Err(e) => refused(state, signed, e).await,
    }
}

fn notice(raw: Option<&str>) -> Option<String> {
    let done = query_value(raw, "done")?;
    let who = query_value(raw, "who").unwrap_or_default();
    Some(match done.as_str() {
        "added" => format!("Added {who}."),
        "updated" => format!("Saved {who}."),
        "merged" => format!("Merged into {who}."),
        _ => return None,
    })
}

/// `GET /admin/authors`.
pub(crate) async fn authors(
    State(state): State<AppState>,
    signed: SignedIn,
    RawQuery(raw): RawQuery,
) -> Response<Body> {
    let edit = query_value(raw.as_deref(), "edit");
    let notice = notice(raw.as_deref());
    page(
        &state,
        &signed,
        Kind::Authors,
        StatusCode::OK,
        Kind::Authors.view(),
        edit,
        notice,
    )
    .await
}

/// `GET /admin/topics`.
pub(crate) async fn topics(State(state): State<AppState>, signed: SignedIn, RawQuery(raw): RawQuery) -> Response<Body> {
    let edit = query_value(raw.as_deref(), "edit");
    let notice = notice(raw.as_deref());
    page(
        &state,
        &signed,
        Kind::Topics,
        StatusCode::OK,
        Kind::Topics.view(),
        edit,
        notice,
    )
    .await
}

/// The form again, with what was typed and what is wrong.
async fn again(state: &AppState, posted: &StaffForm<BylineFormKind>, kind: Kind, problem: String) -> Response<Body> {
    let f = &posted.form;
    let mut view = kind.view();
    view.problem = Some(problem);
    view.form = BylineForm {
        slug: f.field("slug").chars().take(100).collect(),
        name: f.field("name").chars().take(200).collect(),
        affiliation: f.field("affiliation").chars().take(200).collect(),
        orcid: f.field("orcid").chars().take(60).collect(),
        text: f
            .field(if kind == Kind::Authors { "bio" } else { "description" })
            .to_owned(),
        links: f.field("links").to_owned(),
    };
    page(
        state,
        &posted.signed,
        kind,
        StatusCode::UNPROCESSABLE_ENTITY,
        view,
        None,
        None,
    )
    .await
}

fn done(list: &str, what: &str, who: &str) -> Response<Body> {
    let who: String = form_urlencoded::byte_serialize(who.as_bytes()).collect();
    see_other(&format!("{list}?done={what}&who={who}"))
}

/// `POST /admin/authors/save`: adds an author, or saves the one with the slug.
pub(crate) async fn save_author(State(state): State<AppState>, posted: StaffForm<BylineFormKind>) -> Response<Body> {
    let f = &posted.form;
    let name = f.field("name").trim().to_owned();
    let slug = Some(f.field("slug").trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| slugify(&name));
    let mut links = Vec::new();
    for line in f.field("links").lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((label, url)) = line.split_once('=') else {
            let problem = format!("The link {line:?} is not Label=URL, such as Website=https://example.org.");
            return again(&state, &posted, Kind::Authors, problem).await;
        };
        links.push(AuthorLink {
            label: label.trim().to_owned(),
            url: url.trim().to_owned(),
        });
    }
    let orcid = match Some(f.field("orcid").trim()).filter(|o| !o.is_empty()) {
        Some(o) => match parse_orcid(o) {
            Ok(o) => Some(o),
            Err(m) => return again(&state, &posted, Kind::Authors, format!("ORCID iD: {m}.")).await,
        },
        None => None,
    };
    let input = AuthorInput {
        slug,
        name,
        affiliation: Some(f.field("affiliation").trim().to_owned()).filter(|a| !a.is_empty()),
        orcid,
        bio: f.field("bio").to_owned(),
        links,
    };
    let actor = Actor::Staff(posted.signed.staff().clone());
    match state.app.save_author_as(&actor, &input).await {
        Ok(created) => done("/admin/authors", if created { "added" } else { "updated" }, &input.name),
        Err(AppError::Invalid { message, .. }) => again(&state, &posted, Kind::Authors, format!("{message}.")).await,
        Err(e @ AppError::Forbidden { .. }) => refused(&state, &posted.signed, e).await,
        Err(e) => failed(&state, e),
    }
}

/// `POST /admin/topics/save`.
pub(crate) async fn save_topic(State(state): State<AppState>, posted: StaffForm<BylineFormKind>) -> Response<Body> {
    let f = &posted.form;
    let name = f.field("name").trim().to_owned();
    let input = TopicInput {
        slug: Some(f.field("slug").trim().to_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| slugify(&name)),
        name,
        description: f.field("description").to_owned(),
    };
    let actor = Actor::Staff(posted.signed.staff().clone());
    match state.app.save_topic_as(&actor, &input).await {
        Ok(created) => done("/admin/topics", if created { "added" } else { "updated" }, &input.name),
        Err(AppError::Invalid { message, .. }) => again(&state, &posted, Kind::Topics, format!("{message}.")).await,
        Err(e @ AppError::Forbidden { .. }) => refused(&state, &posted.signed, e).await,
        Err(e) => failed(&state, e),
    }
}

/// `POST /admin/authors/merge`.
pub(crate) async fn merge_authors(State(state): State<AppState>, posted: StaffForm<BylineFormKind>) -> Response<Body> {
    let (from, into) = (posted.form.field("from"), posted.form.field("into"));
    let actor = Actor::Staff(posted.signed.staff().clone());
    match state.app.merge_authors_as(&actor, from, into).await {
        Ok(_) => done("/admin/authors", "merged", into),
        Err(e) => refused(&state, &posted.signed, e).await,
    }
}

/// `POST /admin/topics/merge`.
pub(crate) async fn merge_topics(State(state): State<AppState>, posted: StaffForm<BylineFormKind>) -> Response<Body> {
    let (from, into) = (posted.form.field("from"), posted.form.field("into"));
    let actor = Actor::Staff(posted.signed.staff().clone());
    match state.app.merge_topics_as(&actor, from, into).await {
        Ok(_) => done("/admin/topics", "merged", into),
        Err(e) => refused(&state, &posted.signed, e).await,
    }
}
