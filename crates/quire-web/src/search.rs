//! `/search`: reads the query string however it is written, keeps what the
//! reader typed, explains what it could not use, and never fails on input.
//! Results are not cached (their addresses are endless); the filter lists
//! are, until content changes.

use super::cache::{CachedPage, RenderedPage};
use super::pages::{MAX_PAGE, cards};
use super::{AppState, PageError};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Response, StatusCode, Uri};
use axum::response::IntoResponse;
use quire_core::domain::SnippetPart;
use quire_core::domain::validate_slug;
use quire_render::{self as render, LinkView, Pagination, PaperCard, SearchForm, SearchView, kind_from_slug};
use quire_render::{FilterOption, SearchResultView};
use quire_store::{MAX_QUERY_CHARS, PaperQuery, SearchQuery, SearchTerms, Visibility};
use std::sync::Arc;
use time::OffsetDateTime;

/// The choices in the search form's filters, rebuilt after content changes.
pub struct Facets {
    kinds: Vec<FilterOption>,
    topics: Vec<FilterOption>,
    authors: Vec<FilterOption>,
    years: Vec<FilterOption>,
}

/// Facets and the cache generation they were built at.
pub type FacetsAt = (u64, Arc<Facets>);

/// Keeps only what a form field may show: no control characters, at most
/// `max` characters.
fn clean(value: &str, max: usize) -> String {
    value.chars().filter(|c| !c.is_control()).take(max).collect()
}

/// Reads the search form from the query string. Malformed escapes and
/// invalid UTF-8 are decoded leniently, never refused.
fn read_form(uri: &Uri) -> (SearchForm, u32, bool) {
    let mut form = SearchForm::default();
    let mut page = 1;
    let mut q_long = false;
    let query = uri.query().unwrap_or("");
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        match name.as_ref() {
            "q" if form.q.is_empty() => {
                q_long = value.chars().count() > MAX_QUERY_CHARS;
                form.q = clean(&value, MAX_QUERY_CHARS);
            }
            "kind" if form.kind.is_empty() => form.kind = clean(&value, 100),
            "topic" if form.topic.is_empty() => form.topic = clean(&value, 100),
            "author" if form.author.is_empty() => form.author = clean(&value, 100),
            "year" if form.year.is_empty() => form.year = clean(&value, 10),
            "page" => {
                page = value
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=MAX_PAGE).contains(n))
                    .unwrap_or(1);
            }
            _ => {}
        }
    }
    (form, page, q_long)
}

/// The query string for a search with these fields, empty ones left out.
fn search_url(form: &SearchForm) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("q", &form.q),
        ("kind", &form.kind),
        ("topic", &form.topic),
        ("author", &form.author),
        ("year", &form.year),
    ] {
        if !value.trim().is_empty() {
            s.append_pair(name, value.trim());
        }
    }
    let query = s.finish();
    if query.is_empty() {
        "/search".to_owned()
    } else {
        format!("/search?{query}")
    }
}

impl AppState {
    /// The filter choices, built once per content version.
    async fn facets(&self) -> Result<Arc<Facets>, PageError> {
        let generation = self.cache.generation();
        if let Some((g, facets)) = self.facets.lock().unwrap_or_else(|e| e.into_inner()).as_ref()
            && *g == generation
        {
            return Ok(facets.clone());
        }
        let now = OffsetDateTime::now_utc();
        let visibility = Visibility::ListedAt(now);
        let option = |value: String, label: String| FilterOption { value, label };
        let kinds = self
            .config()
            .kinds
            .iter()
            .map(|k| option(quire_core::domain::slugify(k), render::capitalise(k)))
            .collect();
        let topics = self
            .store
            .list_topics(visibility)
            .await?
            .into_iter()
            .filter(|t| t.paper_count > 0)
            .map(|t| option(t.slug, t.name))
            .collect();
        let authors = self
            .store
            .list_authors(visibility)
            .await?
            .into_iter()
            .filter(|a| a.paper_count > 0)
            .map(|a| option(a.slug, a.name))
            .collect();
        let years = match self.store.year_range(now).await? {
            Some((first, last)) => (first..=last)
                .rev()
                .map(|y| option(y.to_string(), y.to_string()))
                .collect(),
            None => Vec::new(),
        };
        let facets = Arc::new(Facets {
            kinds,
            topics,
            authors,
            years,
        });
        *self.facets.lock().unwrap_or_else(|e| e.into_inner()) = Some((generation, facets.clone()));
        Ok(facets)
    }
}

pub async fn search(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response<Body> {
    match build(&state, &uri).await {
        Ok(html) => CachedPage::for_request(RenderedPage::html(StatusCode::OK, html), &headers).respond(&headers),
        Err(e) => e.into_response(),
    }
}

async fn build(state: &AppState, uri: &Uri) -> Result<String, PageError> {
    let (mut form, page, q_long) = read_form(uri);
    let facets = state.facets().await?;
    let mut notices = Vec::new();
    let now = OffsetDateTime::now_utc();
    let mut filter = PaperQuery::listed_at(now);

    if !form.kind.is_empty() {
        match kind_from_slug(&state.config().kinds, &form.kind) {
            Some(kind) => filter.kind = Some(kind.to_owned()),
            None => {
                notices.push(format!("There is no kind “{}”, so every kind was searched.", form.kind));
                form.kind.clear();
            }
        }
    }
    for (value, options, what, field) in [
        (&mut form.topic, &facets.topics, "topic", &mut filter.topic),
        (&mut form.author, &facets.authors, "author", &mut filter.author),
    ] {
        if value.is_empty() {
            continue;
        }
        if validate_slug(value).is_ok() && options.iter().any(|o| o.value == *value) {
            *field = Some(value.clone());
        } else {
            notices.push(format!(
                "There is no {what} “{value}”, so papers by any {what} were searched."
            ));
            value.clear();
        }
    }
    if !form.year.is_empty() {
        match form.year.trim().parse::<i32>() {
            Ok(y) if facets.years.iter().any(|o| o.value == y.to_string()) => filter.year = Some(y),
            _ => {
                notices.push(format!(
                    "No papers were published in “{}”, so every year was searched.",
                    form.year
                ));
                form.year.clear();
            }
        }
    }

    let terms = SearchTerms::parse(&form.q);
    if q_long || terms.shortened {
        notices.push("Your search was long, so only its first words were used.".to_owned());
    }
    if terms.is_empty() && !form.q.trim().is_empty() {
        notices.push("Type words to search for: punctuation and symbols on their own are ignored.".to_owned());
    }
    let filtered = filter.kind.is_some() || filter.topic.is_some() || filter.author.is_some() || filter.year.is_some();
    let per_page = state.config().pages.search_per_page;
    let base = search_url(&form);
    let offset = (page - 1).saturating_mul(per_page);
    let mut total_is_exact = true;
    let (searched, total, results) = if !terms.is_empty() {
        let found = state
            .store
            .search(&SearchQuery {
                terms,
                filter: PaperQuery {
                    limit: Some(per_page),
                    offset,
                    ..filter
                },
            })
            .await?;
        let results = found
            .hits
            .into_iter()
            .map(|hit| SearchResultView {
                card: PaperCard::new(&hit.paper, state.config().pages.words_per_minute),
                snippet: hit.snippet,
            })
            .collect();
        total_is_exact = found.total_is_exact;
        if !found.total_is_exact {
            notices.push(format!(
                "Many papers match, so these are the best matches among the {} most recent. \
                 Add words or choose a filter to narrow the search.",
                found.total
            ));
        }
        (true, found.total, results)
    } else if filtered {
        // Filters alone browse: the matching papers, newest first.
        let total = state.store.count_papers(&filter).await?;
        let papers = state
            .store
            .list_papers(&PaperQuery {
                limit: Some(per_page),
                offset,
                ..filter
            })
            .await?;
        let results = cards(state, &papers)
            .into_iter()
            .map(|card| SearchResultView {
                snippet: vec![SnippetPart {
                    text: card.summary.clone(),
                    hit: false,
                }],
                card,
            })
            .collect();
        (true, total, results)
    } else {
        (false, 0, Vec::new())
    };

    let mut suggestions = Vec::new();
    if searched && total == 0 {
        if filtered && !form.q.trim().is_empty() {
            suggestions.push(LinkView {
                label: format!("Search every paper for “{}”", form.q.trim()),
                url: search_url(&SearchForm {
                    q: form.q.clone(),
                    ..SearchForm::default()
                }),
            });
        }
        suggestions.push(LinkView {
            label: "Browse the archive".to_owned(),
            url: "/archive/".to_owned(),
        });
    }
    let view = SearchView {
        kinds: facets.kinds.clone(),
        topics: facets.topics.clone(),
        authors: facets.authors.clone(),
        years: facets.years.clone(),
        searched,
        results,
        total,
        total_is_exact,
        pagination: Pagination::new(&base, page, total, per_page),
        notices,
        suggestions,
        form,
    };
    Ok(render::render_search(&state.theme, &state.site(), &view)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(q: &str) -> (SearchForm, u32, bool) {
        read_form(&format!("/search?{q}").parse::<Uri>().expect("uri"))
    }

    #[test]
    fn forms_are_read_leniently() {
        let (f, page, long) = form("q=ports+%26+water&kind=report&page=2&utm=x");
        assert_eq!(
            (f.q.as_str(), f.kind.as_str(), page, long),
            ("ports & water", "report", 2, false)
        );
        let (f, page, _) = form("q=%FF%FE%00bad%&page=0");
        assert_eq!(page, 1);
        assert!(!f.q.contains('\u{0}'));
        let (_, page, _) = form("page=99999999999999");
        assert_eq!(page, 1);
        let (f, _, long) = form(&format!("q={}", "a".repeat(5000)));
        assert!(long);
        assert_eq!(f.q.chars().count(), MAX_QUERY_CHARS);
    }

    #[test]
    fn search_urls_keep_only_filled_fields() {
        let f = SearchForm {
            q: "ports & \"water\"".into(),
            year: "2025".into(),
            ..SearchForm::default()
        };
        assert_eq!(search_url(&f), "/search?q=ports+%26+%22water%22&year=2025");
        assert_eq!(search_url(&SearchForm::default()), "/search");
    }
}
