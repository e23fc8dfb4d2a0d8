//! The papers list: status tabs with counts, filters, search with the
//! site's engine, order, paging, and bulk actions (publish, unpublish,
//! trash, restore), all as plain links and forms.

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
use quire_app::paper_desk::{BulkAction, PaperList, PaperListQuery};
use quire_core::domain::{Status, direction_of};
use quire_render::admin::{Choice, PagerLink, PaperRowView, PapersView, TabView};
use quire_store::PaperSort;

/// The bulk form: up to 500 slugs and an action.
pub(crate) struct BulkForm;
impl FormKind for BulkForm {
    const MAX_BYTES: usize = 64 * 1024;
    const WHAT: &'static str = "form";
}

/// The list's query string; anything unknown is ignored, anything out of
/// range falls back to the default, and of a repeated field the first counts.
#[derive(Default)]
pub(crate) struct PapersQuery {
    status: Option<String>,
    kind: Option<String>,
    author: Option<String>,
    topic: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    page: Option<String>,
    done: Option<String>,
    refused: Option<String>,
}

impl PapersQuery {
    fn from_raw(raw: Option<&str>) -> PapersQuery {
        let mut q = PapersQuery::default();
        for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            let slot = match key.as_ref() {
                "status" => &mut q.status,
                "kind" => &mut q.kind,
                "author" => &mut q.author,
                "topic" => &mut q.topic,
                "q" => &mut q.q,
                "sort" => &mut q.sort,
                "page" => &mut q.page,
                "done" => &mut q.done,
                "refused" => &mut q.refused,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value.into_owned());
            }
        }
        q
    }
}

pub(crate) fn status_label(status: Status) -> &'static str {
    match status {
        Status::Draft => "Draft",
        Status::Scheduled => "Scheduled",
        Status::Published => "Published",
        Status::Archived => "Archived",
    }
}

fn sort_label(sort: PaperSort) -> &'static str {
    match sort {
        PaperSort::Newest => "Newest first",
        PaperSort::Oldest => "Oldest first",
        PaperSort::Updated => "Last changed first",
        PaperSort::Title => "Title, A to Z",
    }
}

fn clean(value: Option<&String>) -> Option<String> {
    value
        .map(|v| v.trim().chars().take(256).collect::<String>())
        .filter(|v| !v.is_empty())
}

/// The list's address for `query` with `page`.
fn address(q: &PaperListQuery, page: u32) -> String {
    let mut url = form_urlencoded::Serializer::new(String::new());
    if q.trashed {
        url.append_pair("status", "trash");
    } else if q.submitted {
        url.append_pair("status", "review");
    } else if let Some(s) = q.status {
        url.append_pair("status", s.as_str());
    }
    for (key, value) in [("kind", &q.kind), ("author", &q.author), ("topic", &q.topic)] {
        if let Some(v) = value {
            url.append_pair(key, v);
        }
    }
    if !q.search.is_empty() {
        url.append_pair("q", &q.search);
    }
    if q.sort != PaperSort::Newest {
        url.append_pair("sort", q.sort.as_str());
    }
    if page > 1 {
        url.append_pair("page", &page.to_string());
    }
    let query = url.finish();
    if query.is_empty() {
        "/admin/papers".to_owned()
    } else {
        format!("/admin/papers?{query}")
    }
}

fn parse_query(q: &PapersQuery) -> PaperListQuery {
    let status = q.status.as_deref().unwrap_or("");
    PaperListQuery {
        trashed: status == "trash",
        submitted: status == "review",
        status: Status::ALL.into_iter().find(|s| s.as_str() == status),
        kind: clean(q.kind.as_ref()),
        author: clean(q.author.as_ref()),
        topic: clean(q.topic.as_ref()),
        search: clean(q.q.as_ref()).unwrap_or_default(),
        sort: q.sort.as_deref().and_then(PaperSort::parse).unwrap_or_default(),
        page: q.page.as_deref().and_then(|p| p.trim().parse().ok()).unwrap_or(1),
    }
}

fn pager(query: &PaperListQuery, list: &PaperList) -> Vec<PagerLink> {
    if list.pages <= 1 {
        return Vec::new();
    }
    let mut links = Vec::new();
    if list.page > 1 {
        links.push(PagerLink {
            label: "Previous".into(),
            href: Some(address(query, list.page - 1)),
            rel: Some("prev"),
        });
    }
    let first = list.page.saturating_sub(3).max(1);
    let last = (list.page + 3).min(list.pages);
    for n in first..=last {
        links.push(PagerLink {
            label: n.to_string(),
            href: (n != list.page).then(|| address(query, n)),
            rel: None,
        });
    }
    if list.page < list.pages {
        links.push(PagerLink {
            label: "Next".into(),
            href: Some(address(query, list.page + 1)),
            rel: Some("next"),
        });
    }
    links
}

/// `GET /admin/papers`.
pub(crate) async fn papers(State(state): State<AppState>, signed: SignedIn, RawQuery(raw): RawQuery) -> Response<Body> {
    let raw = PapersQuery::from_raw(raw.as_deref());
    let query = parse_query(&raw);
    let actor = Actor::Staff(signed.staff().clone());
    let page = async {
        let list = state.app.paper_list(&actor, &query).await?;
        let config = state.config();
        let authors = state.store.author_names().await?;
        let topics = state.store.topic_names().await?;
        let mut tabs = vec![TabView {
            href: "/admin/papers".into(),
            label: "All".into(),
            count: list.counts.iter().map(|c| c.1).sum(),
            current: !query.trashed && !query.submitted && query.status.is_none(),
        }];
        for &(status, count) in &list.counts {
            tabs.push(TabView {
                href: format!("/admin/papers?status={}", status.as_str()),
                label: status_label(status).into(),
                count,
                current: query.status == Some(status) && !query.trashed && !query.submitted,
            });
            if status == Status::Draft {
                tabs.push(TabView {
                    href: "/admin/papers?status=review".into(),
                    label: "Waiting for review".into(),
                    count: list.submitted,
                    current: query.submitted && !query.trashed,
                });
            }
        }
        tabs.push(TabView {
            href: "/admin/papers?status=trash".into(),
            label: "Trash".into(),
            count: list.trashed,
            current: query.trashed,
        });
        let zone = config.zone();
        let now = time::OffsetDateTime::now_utc();
        let papers = list
            .papers
            .iter()
            .map(|p| {
                let m = &p.meta;
                let lang = (m.language != config.language).then(|| m.language.clone());
                PaperRowView {
                    slug: m.slug.clone(),
                    title: m.title.clone(),
                    href: if p.may_edit {
                        format!("/admin/papers/{}/edit", m.slug)
                    } else {
                        quire_render::paths::paper(&m.slug)
                    },
                    public_href: (p.may_edit && m.is_public_at(now)).then(|| quire_render::paths::paper(&m.slug)),
                    dir: direction_of(&m.language).as_str(),
                    lang,
                    authors: m.authors.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", "),
                    kind: m.kind.clone(),
                    topics: m.topics.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", "),
                    status: m.status.as_str(),
                    status_label: status_label(m.status).into(),
                    date: m.published_at.map(|t| zone.describe(t)).unwrap_or_default(),
                    date_iso: m
                        .published_at
                        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
                        .unwrap_or_default(),
                    own: p.own,
                    may_edit: p.may_edit,
                }
            })
            .collect();
        let choice = |value: &str, label: &str| Choice {
            value: value.to_owned(),
            label: label.to_owned(),
        };
        let view = PapersView {
            tabs,
            statuses: Status::ALL
                .iter()
                .map(|s| choice(s.as_str(), status_label(*s)))
                .collect(),
            kinds: config.kinds.iter().map(|k| choice(k, k)).collect(),
            authors: authors.iter().map(|a| choice(&a.0, &a.1)).collect(),
            topics: topics.iter().map(|t| choice(&t.0, &t.1)).collect(),
            sorts: PaperSort::ALL
                .iter()
                .map(|s| choice(s.as_str(), sort_label(*s)))
                .collect(),
            status: query.status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
            kind: query.kind.clone().unwrap_or_default(),
            author: query.author.clone().unwrap_or_default(),
            topic: query.topic.clone().unwrap_or_default(),
            sort: query.sort.as_str().to_owned(),
            search: query.search.clone(),
            trashed: query.trashed,
            filtered: query.status.is_some()
                || query.trashed
                || query.submitted
                || query.kind.is_some()
                || query.author.is_some()
                || query.topic.is_some()
                || !query.search.is_empty(),
            summary: format!(
                "{} paper{}, page {} of {}",
                list.total,
                if list.total == 1 { "" } else { "s" },
                list.page,
                list.pages
            ),
            pager: pager(&query, &list),
            here: address(&query, list.page),
            papers,
        };
        let mut chrome = chrome(&state, Some(&signed), "/admin/papers").await?;
        chrome.notice = notice(raw.done.as_deref(), raw.refused.as_deref());
        Ok::<_, AppError>(state.admin.papers(&chrome, &view))
    };
    match page.await {
        Ok(Ok(html)) => admin_page(StatusCode::OK, html),
        Ok(Err(e)) => state.error_page(&e.into()),
        Err(e) => failed(&state, e),
    }
}

fn notice(done: Option<&str>, refused: Option<&str>) -> Option<String> {
    let done: u32 = done?.parse().ok()?;
    let refused: u32 = refused.and_then(|r| r.parse().ok()).unwrap_or(0);
    let papers = |n: u32| format!("{n} paper{}", if n == 1 { "" } else { "s" });
    Some(if refused == 0 {
        format!("Done: {}.", papers(done))
    } else {
        format!(
            "Done: {}; {} left as they were (your role may not change them, or they were not in a state for it).",
            papers(done),
            papers(refused)
        )
    })
}

/// `POST /admin/papers/bulk`.
pub(crate) async fn bulk(State(state): State<AppState>, posted: StaffForm<BulkForm>) -> Response<Body> {
    let Some(action) = BulkAction::parse(posted.form.field("action")) else {
        return refused(
            &state,
            &posted.signed,
            AppError::invalid("action", "is not one of publish, unpublish, trash and restore"),
        )
        .await;
    };
    let slugs = posted.form.all("slug");
    let actor = Actor::Staff(posted.signed.staff().clone());
    match state.app.bulk_papers(&actor, &slugs, action).await {
        Ok(report) => {
            let back = super::door::safe_next(Some(posted.form.field("back")));
            let back = if back.starts_with("/admin/papers") {
                back
            } else {
                "/admin/papers".to_owned()
            };
            let glue = if back.contains('?') { '&' } else { '?' };
            see_other(&format!(
                "{back}{glue}done={}&refused={}",
                report.done.len(),
                report.refused.len()
            ))
        }
        Err(e) => refused(&state, &posted.signed, e).await,
    }
}
