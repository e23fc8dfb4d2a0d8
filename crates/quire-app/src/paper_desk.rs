//! Papers as the admin lists them and acts on many at once: filtered,
//! searched with the site's engine, sorted and paged, with the count of
//! each status; and bulk publishing, unpublishing, trashing and restoring,
//! each paper checked against what the actor's role may do to it (an
//! author only to their own).

use crate::accounts::{Actor, Staff};
use crate::{App, AppError};
use quire_core::domain::{PaperAction, PaperMeta, Status};
use quire_store::{PaperQuery, PaperSort, SearchQuery, SearchTerms, Visibility};
use time::OffsetDateTime;

/// Papers on one page of the admin's list.
pub const PAPERS_PER_PAGE: u32 = 50;
/// Most papers one bulk action takes.
pub const MAX_BULK: usize = 500;
/// Deepest page offered (the search engine ranks a bounded pool anyway).
pub const MAX_PAGE: u32 = 2000;

/// What the editor asked the list for.
#[derive(Clone, Debug, Default)]
pub struct PaperListQuery {
    /// `None`: every status (not the trash).
    pub status: Option<Status>,
    /// The trash instead.
    pub trashed: bool,
    /// Only drafts waiting for review.
    pub submitted: bool,
    pub kind: Option<String>,
    pub author: Option<String>,
    pub topic: Option<String>,
    /// Words to find, as the site's search takes them.
    pub search: String,
    pub sort: PaperSort,
    /// From 1.
    pub page: u32,
}

/// One paper of the list, with what the actor may do to it.
#[derive(Clone, Debug)]
pub struct ListedPaper {
    pub meta: PaperMeta,
    /// It names the actor's author profile.
    pub own: bool,
    pub may_edit: bool,
    pub may_publish: bool,
}

/// A page of the list.
#[derive(Clone, Debug)]
pub struct PaperList {
    pub papers: Vec<ListedPaper>,
    /// How many papers the query selects in all.
    pub total: u64,
    pub page: u32,
    pub pages: u32,
    /// Papers per status (not in the trash), in [`Status::ALL`] order.
    pub counts: Vec<(Status, u64)>,
    pub trashed: u64,
    /// Drafts waiting for review (not in the trash).
    pub submitted: u64,
}

/// What a bulk action does to each paper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BulkAction {
    Publish,
    Unpublish,
    Trash,
    Restore,
}

impl BulkAction {
    pub fn parse(s: &str) -> Option<BulkAction> {
        match s {
            "publish" => Some(BulkAction::Publish),
            "unpublish" => Some(BulkAction::Unpublish),
            "trash" => Some(BulkAction::Trash),
            "restore" => Some(BulkAction::Restore),
            _ => None,
        }
    }

    fn audit_name(self) -> &'static str {
        match self {
            BulkAction::Publish => "paper.publish",
            BulkAction::Unpublish => "paper.unpublish",
            BulkAction::Trash => "paper.delete",
            BulkAction::Restore => "paper.restore",
        }
    }

    fn needs(self) -> PaperAction {
        match self {
            BulkAction::Publish | BulkAction::Unpublish => PaperAction::Publish,
            BulkAction::Trash | BulkAction::Restore => PaperAction::Edit,
        }
    }
}

/// What a bulk action did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BulkReport {
    pub done: Vec<String>,
    /// Papers left as they were, each with why.
    pub refused: Vec<(String, String)>,
}

/// Whether `paper` names `staff`'s author profile.
pub fn is_own(staff: &Staff, paper: &PaperMeta) -> bool {
    staff
        .author
        .as_deref()
        .is_some_and(|a| paper.authors.iter().any(|x| x.slug == a))
}

/// Whether `actor` may do `action` to `paper`.
pub fn may(actor: &Actor, action: PaperAction, paper: &PaperMeta) -> bool {
    match actor {
        Actor::CommandLine => true,
        Actor::Staff(staff) => staff
            .role
            .may_on_paper(action, is_own(staff, paper), paper.status != Status::Draft),
    }
}

impl App {
    /// A page of the admin's list of papers (every role sees every
    /// paper's line; what each may do to it is marked).
    pub async fn paper_list(&self, actor: &Actor, query: &PaperListQuery) -> Result<PaperList, AppError> {
        let now = OffsetDateTime::now_utc();
        let page = query.page.clamp(1, MAX_PAGE);
        // No kind, author or topic holds a control character (and
        // PostgreSQL refuses a NUL in a query): such a filter matches none.
        let impossible = [&query.kind, &query.author, &query.topic]
            .iter()
            .any(|f| f.as_deref().is_some_and(|v| v.chars().any(char::is_control)));
        let filter = PaperQuery {
            visibility: Visibility::All,
            trashed: query.trashed,
            status: query.status.map(|s| (s, now)),
            submitted: query.submitted && !query.trashed,
            kind: query.kind.clone(),
            author: query.author.clone(),
            topic: query.topic.clone(),
            limit: Some(PAPERS_PER_PAGE),
            offset: (page - 1) * PAPERS_PER_PAGE,
            sort: query.sort,
            ..PaperQuery::all()
        };
        let (counts, trashed) = self.store.status_counts(now).await?;
        let submitted = self.store.submitted_count().await?;
        let terms = SearchTerms::parse(&query.search);
        let unfiltered = query.kind.is_none() && query.author.is_none() && query.topic.is_none();
        let (metas, total) = if impossible {
            (Vec::new(), 0)
        } else if terms.is_empty() {
            let total = match (unfiltered && !query.submitted, query.trashed, query.status) {
                (true, true, _) => trashed,
                (true, false, Some(status)) => counts.iter().find(|c| c.0 == status).map_or(0, |c| c.1),
                (true, false, None) => counts.iter().map(|c| c.1).sum(),
                (false, ..) => {
                    self.store
                        .count_papers(&PaperQuery {
                            limit: None,
                            offset: 0,
                            ..filter.clone()
                        })
                        .await?
                }
            };
            (self.store.list_papers(&filter).await?, total)
        } else {
            let found = self.store.search(&SearchQuery { terms, filter }).await?;
            (found.hits.into_iter().map(|h| h.paper).collect(), found.total)
        };
        let papers = metas
            .into_iter()
            .map(|mut meta| {
                meta.status = meta.status_at(now);
                let own = matches!(actor, Actor::Staff(s) if is_own(s, &meta));
                ListedPaper {
                    own,
                    may_edit: may(actor, PaperAction::Edit, &meta),
                    may_publish: may(actor, PaperAction::Publish, &meta),
                    meta,
                }
            })
            .collect();
        let pages = u32::try_from(total.div_ceil(u64::from(PAPERS_PER_PAGE)))
            .unwrap_or(MAX_PAGE)
            .clamp(1, MAX_PAGE);
        Ok(PaperList {
            papers,
            total,
            page,
            pages,
            counts,
            trashed,
            submitted,
        })
    }

    /// Does `action` to each of `slugs` that `actor` may, leaving the
    /// others with why; each paper done is in the audit log.
    pub async fn bulk_papers(
        &self,
        actor: &Actor,
        slugs: &[String],
        action: BulkAction,
    ) -> Result<BulkReport, AppError> {
        if slugs.len() > MAX_BULK {
            return Err(AppError::invalid(
                "slug",
                format!(
                    "{} papers were chosen; choose at most {MAX_BULK} at a time",
                    slugs.len()
                ),
            ));
        }
        let mut report = BulkReport::default();
        let mut seen = std::collections::HashSet::new();
        for slug in slugs {
            if !seen.insert(slug.as_str()) {
                continue;
            }
            let paper = match self.store.get_paper(slug).await? {
                Some(p) => p,
                None => {
                    report.refused.push((slug.clone(), "no such paper".into()));
                    continue;
                }
            };
            if !may(actor, action.needs(), &paper.meta) {
                let why = match action {
                    BulkAction::Publish | BulkAction::Unpublish => "your role may not publish it",
                    BulkAction::Trash | BulkAction::Restore => "your role may not change it",
                };
                report.refused.push((slug.clone(), why.into()));
                continue;
            }
            let in_trash = paper.meta.trashed_at.is_some();
            let outcome = match action {
                BulkAction::Publish if in_trash => Err("it is in the trash: restore it first".to_owned()),
                BulkAction::Unpublish if in_trash => Err("it is in the trash".to_owned()),
                BulkAction::Publish => self
                    .publish(slug, None, false)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                BulkAction::Unpublish => self.unpublish(slug).await.map(|_| ()).map_err(|e| e.to_string()),
                BulkAction::Trash if in_trash => Err("it is in the trash already".to_owned()),
                BulkAction::Trash => self
                    .delete_papers(std::slice::from_ref(slug))
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                BulkAction::Restore => self
                    .restore_papers(std::slice::from_ref(slug))
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
            };
            match outcome {
                Ok(()) => {
                    self.audit(actor, action.audit_name(), slug, "").await?;
                    report.done.push(slug.clone());
                }
                Err(why) => report.refused.push((slug.clone(), why)),
            }
        }
        Ok(report)
    }
}
