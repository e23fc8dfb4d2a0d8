//! The search page: the form, with its filters kept, and one page of
//! ranked results with the matched words marked.

use super::{LinkView, PageHead, Pagination, PaperCard, RenderError, SiteView, Theme, head};
use quire_core::domain::SnippetPart;
use serde::Serialize;

/// What the reader asked for, as typed, to fill the form again.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SearchForm {
    pub q: String,
    pub kind: String,
    pub topic: String,
    pub author: String,
    pub year: String,
}

/// A choice in a filter's list.
#[derive(Clone, Debug, Serialize)]
pub struct FilterOption {
    pub value: String,
    pub label: String,
}

/// One result: the paper's card and where it matched.
#[derive(Clone, Debug, Serialize)]
pub struct SearchResultView {
    #[serde(flatten)]
    pub card: PaperCard,
    pub snippet: Vec<SnippetPart>,
}

/// Everything the search page shows.
#[derive(Clone, Debug, Serialize)]
pub struct SearchView {
    pub form: SearchForm,
    pub kinds: Vec<FilterOption>,
    pub topics: Vec<FilterOption>,
    pub authors: Vec<FilterOption>,
    pub years: Vec<FilterOption>,
    /// False before the reader has searched for anything.
    pub searched: bool,
    pub results: Vec<SearchResultView>,
    pub total: u64,
    /// False when more papers match than `total` (only the most recent
    /// were ranked).
    pub total_is_exact: bool,
    pub pagination: Pagination,
    /// A note to the reader: the query was shortened, or could not be used.
    pub notices: Vec<String>,
    /// Links that broaden a search that found nothing.
    pub suggestions: Vec<LinkView>,
}

#[derive(Serialize)]
struct SearchContext<'a> {
    site: &'a SiteView,
    page: PageHead,
    search: &'a SearchView,
}

/// The search page, with or without results.
pub fn render_search(theme: &Theme, site: &SiteView, search: &SearchView) -> Result<String, RenderError> {
    let title = if search.form.q.trim().is_empty() {
        format!("Search | {}", site.name)
    } else {
        format!("Search: {} | {}", search.form.q.trim(), site.name)
    };
    let mut page = head(site, title, format!("Search the papers of {}.", site.name), "/search");
    page.robots = Some("noindex");
    theme.render("search.html", &SearchContext { site, page, search })
}
