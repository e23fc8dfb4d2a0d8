//! Writing papers in the admin: a paper typed into the editor is saved by
//! the rules a paper file is checked by (it is written as one and read
//! back, so both front doors refuse the same mistakes with the same
//! words), as a draft, submitted for review, published, scheduled or
//! unpublished, each checked against what the actor's role may do to it.
//! Every save is a revision: a save over one the editor did not see is
//! refused, and any two revisions can be compared, any one restored.

use crate::accounts::Actor;
use crate::papers::{Draft, PaperSource};
use crate::{App, AppError, PaperProblem};
use quire_core::domain::{
    Action, AuthorRef, FrontMatterError, Paper, PaperAction, PaperInput, PaperMeta, PaperRules, Status, TopicRef,
    media_name, paper_file_text, parse_paper_file, slugify,
};
use quire_store::{AddOptions, RevisionMeta, StoreError, Visibility};
use std::time::Duration;
use time::OffsetDateTime;

/// What the messages about a paper typed in the editor call their source.
pub const EDITOR_ORIGIN: &str = "the editor";

/// What the editor's save button asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveIntent {
    /// Keep the paper's status (a new paper is a draft).
    Save,
    /// Save as a draft and ask an editor to review it.
    Submit,
    /// Readers see it now (a paper published before keeps its date).
    Publish,
    /// Readers see it from then (a past time publishes it with that date).
    Schedule(OffsetDateTime),
    /// Back to draft: readers no longer see it.
    Unpublish,
}

/// A paper as the editor sends it.
#[derive(Clone, Debug)]
pub struct PaperEdit {
    /// The slug of the paper edited; `None` for a new paper (whose slug is
    /// `paper.slug`, or made from its title when empty).
    pub original: Option<String>,
    /// The revision the editor opened (0 for a new paper).
    pub base_revision: i64,
    /// The fields and body as typed; status and date come from `intent`.
    pub paper: PaperInput,
    pub intent: SaveIntent,
}

/// What a save did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Saved {
    pub slug: String,
    /// The revision the paper is at now.
    pub revision: i64,
    /// The status readers see now.
    pub status: Status,
    pub published_at: Option<OffsetDateTime>,
    /// Whether it waits for review.
    pub submitted: bool,
}

/// A paper in the editor: the stored paper with its latest revision.
#[derive(Clone, Debug)]
pub struct EditorPaper {
    pub paper: quire_core::domain::Paper,
    pub revision: i64,
    pub submitted_at: Option<OffsetDateTime>,
    pub may_publish: bool,
}

/// One line of a comparison of two revisions.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DiffLine {
    /// "same", "removed" or "added".
    pub change: &'static str,
    pub text: String,
}

/// Two revisions side by side: the changed lines with some context, in
/// groups; an empty `groups` means the two are the same.
#[derive(Clone, Debug)]
pub struct RevisionDiff {
    pub old: RevisionMeta,
    pub new: RevisionMeta,
    pub groups: Vec<Vec<DiffLine>>,
}

/// Lines of context around each change in a comparison.
const DIFF_CONTEXT: usize = 3;
/// Longest a comparison may take: past it, the diff is coarser, not slower.
const DIFF_DEADLINE: Duration = Duration::from_millis(500);

/// The editor's paper, read by the paper file rules.
struct EditorForm {
    text: String,
}

impl PaperSource for EditorForm {
    fn read(&self, rules: &PaperRules<'_>, _notes: &mut Vec<String>) -> (Vec<Draft>, Vec<PaperProblem>) {
        match parse_paper_file(EDITOR_ORIGIN, &self.text, rules) {
            Ok(paper) => (
                vec![Draft {
                    origin: EDITOR_ORIGIN.to_owned(),
                    text: self.text.clone(),
                    paper,
                }],
                Vec::new(),
            ),
            Err(errors) => (Vec::new(), problem_list(errors)),
        }
    }
}

fn problem_list(errors: Vec<FrontMatterError>) -> Vec<PaperProblem> {
    errors
        .into_iter()
        .map(|problem| PaperProblem { problem, remedy: None })
        .collect()
}

fn problems(errors: Vec<FrontMatterError>) -> AppError {
    AppError::Papers(problem_list(errors))
}

fn field_problem(field: &str, message: String) -> AppError {
    AppError::Papers(vec![PaperProblem {
        problem: FrontMatterError {
            file: EDITOR_ORIGIN.to_owned(),
            line: 1,
            field: Some(field.to_owned()),
            message,
        },
        remedy: None,
    }])
}

/// Whether `actor` may do `action` to a paper bylined `authors`, which
/// has gone out (published, scheduled or archived) or not.
fn may_on(actor: &Actor, action: PaperAction, authors: &[String], gone_out: bool) -> bool {
    match actor {
        Actor::CommandLine => true,
        Actor::Staff(staff) => {
            let own = staff.author.as_deref().is_some_and(|a| authors.iter().any(|x| x == a));
            staff.role.may_on_paper(action, own, gone_out)
        }
    }
}

impl App {
    /// The paper `slug` as the editor opens it, if `actor` may edit it.
    pub async fn editor_paper(&self, actor: &Actor, slug: &str) -> Result<EditorPaper, AppError> {
        let paper = self.paper(slug).await?;
        let authors: Vec<String> = paper.meta.authors.iter().map(|a| a.slug.clone()).collect();
        let gone_out = paper.meta.status != Status::Draft;
        if !may_on(actor, PaperAction::Edit, &authors, gone_out) {
            return Err(AppError::Forbidden {
                action: "edit this paper",
            });
        }
        let state = self
            .store
            .edit_state(slug)
            .await?
            .ok_or_else(|| AppError::not_found("paper", "slug", slug))?;
        Ok(EditorPaper {
            may_publish: may_on(actor, PaperAction::Publish, &authors, gone_out),
            paper,
            revision: state.revision,
            submitted_at: state.submitted_at,
        })
    }

    /// Saves a paper from the editor, as `edit.intent` asks: all of it or
    /// nothing, refused when the actor's role does not allow it, when a
    /// field breaks a rule of paper files (each problem names its field),
    /// or when someone saved the paper after `edit.base_revision`.
    pub async fn save_paper(&self, actor: &Actor, edit: PaperEdit) -> Result<Saved, AppError> {
        actor.require(Action::WriteDrafts, "write papers")?;
        let now = OffsetDateTime::now_utc();
        let mut paper = edit.paper;
        let existing = match &edit.original {
            Some(slug) => {
                let current = self.editor_paper(actor, slug).await?;
                if current.paper.meta.trashed_at.is_some() {
                    return Err(AppError::WrongState(format!(
                        "{slug:?} is in the trash: restore it before editing it"
                    )));
                }
                paper.slug = slug.clone();
                Some(current)
            }
            None => {
                if paper.slug.trim().is_empty() {
                    paper.slug = slugify(&paper.title);
                }
                None
            }
        };
        if let Actor::Staff(staff) = actor
            && !staff.role.may(Action::EditOthersPapers)
        {
            let mine = staff.author.as_deref();
            if !mine.is_some_and(|a| paper.authors.iter().any(|x| x == a)) {
                return Err(field_problem(
                    "authors",
                    match mine {
                        Some(a) => {
                            format!("name yourself ({a:?}) among the authors: your role writes only its own papers")
                        }
                        None => "your account writes as no author: an administrator links it to your author profile"
                            .to_owned(),
                    },
                ));
            }
        }
        let undescribed = quire_core::markdown::undescribed_images(&paper.body);
        if let Some(first) = undescribed.first() {
            return Err(field_problem(
                "body",
                format!(
                    "{} image{} no description ({first:?}{}): write what it shows between the brackets, \
                     such as ![A chart of harbour dues, 2010 to 2025]({first}), for readers who cannot see it",
                    undescribed.len(),
                    if undescribed.len() == 1 { " has" } else { "s have" },
                    if undescribed.len() > 1 { " and others" } else { "" }
                ),
            ));
        }
        let stored = existing.as_ref().map(|e| &e.paper.meta);
        let was_public = stored.is_some_and(|m| m.is_public_at(now));
        let gone_out = stored.is_some_and(|m| m.status != Status::Draft);
        let (status, published_at) = match edit.intent {
            SaveIntent::Save | SaveIntent::Submit => match stored {
                Some(m) => (m.status, m.published_at),
                None => (Status::Draft, None),
            },
            SaveIntent::Publish => (
                Status::Published,
                Some(stored.and_then(|m| m.published_at).filter(|t| *t <= now).unwrap_or(now)),
            ),
            SaveIntent::Schedule(at) if at <= now => (Status::Published, Some(at)),
            SaveIntent::Schedule(at) => {
                if let Some(m) = stored.filter(|_| was_public) {
                    return Err(AppError::WouldGoOffline {
                        slug: m.slug.clone(),
                        live_since: m.published_at.unwrap_or(now),
                        at,
                    });
                }
                (Status::Scheduled, Some(at))
            }
            SaveIntent::Unpublish => (Status::Draft, stored.and_then(|m| m.published_at)),
        };
        let needs = match edit.intent {
            SaveIntent::Save => PaperAction::Edit,
            SaveIntent::Submit => PaperAction::Submit,
            SaveIntent::Publish | SaveIntent::Schedule(_) | SaveIntent::Unpublish => PaperAction::Publish,
        };
        if !may_on(actor, needs, &paper.authors, gone_out) {
            return Err(AppError::Forbidden {
                action: match needs {
                    PaperAction::Publish => "publish, schedule or unpublish this paper",
                    PaperAction::Submit => "submit this paper for review",
                    _ => "edit this paper",
                },
            });
        }
        if edit.intent == SaveIntent::Submit && gone_out {
            return Err(AppError::WrongState(
                "only drafts are submitted for review; this paper has gone out already".to_owned(),
            ));
        }
        paper.status = status;
        paper.published_at = published_at;
        let source = EditorForm {
            text: paper_file_text(&paper),
        };
        let options = AddOptions {
            create_missing: false,
            replace: existing.is_some(),
            keep_media: true,
            expected_revision: Some(existing.as_ref().map_or(0, |_| edit.base_revision)),
            saved_by: actor.user_id(),
        };
        let mut notes = Vec::new();
        let report = match self.add_papers(&source, options, &mut notes).await {
            Err(AppError::Store(StoreError::StaleRevision { slug, current })) => {
                return Err(self.conflict(slug, current).await);
            }
            other => other?,
        };
        let slug = report
            .added
            .first()
            .map(|a| a.1.clone())
            .unwrap_or_else(|| paper.slug.clone());
        match edit.intent {
            SaveIntent::Submit => {
                self.store.set_submitted(&slug, Some(now)).await?;
                self.audit(actor, "paper.submit", &slug, "").await?;
            }
            SaveIntent::Publish | SaveIntent::Schedule(_) => {
                let detail = match (status, published_at) {
                    (Status::Scheduled, Some(at)) => format!("scheduled for {at}"),
                    _ => String::new(),
                };
                self.audit(actor, "paper.publish", &slug, &detail).await?;
            }
            SaveIntent::Unpublish if was_public || gone_out => {
                self.audit(actor, "paper.unpublish", &slug, "").await?;
            }
            SaveIntent::Save | SaveIntent::Unpublish => {}
        }
        let state = self
            .store
            .edit_state(&slug)
            .await?
            .ok_or_else(|| AppError::not_found("paper", "slug", slug.clone()))?;
        Ok(Saved {
            status: status.seen_at(published_at, OffsetDateTime::now_utc()),
            published_at,
            revision: state.revision,
            submitted: state.submitted_at.is_some(),
            slug,
        })
    }

    /// The paper the editor holds, as readers would see it once
    /// published, without saving anything: checked by the same rules as
    /// a save (a mistake comes back as one would), with the stored
    /// paper's images and comment count.
    pub async fn preview_paper(&self, actor: &Actor, edit: PaperEdit) -> Result<Paper, AppError> {
        actor.require(Action::WriteDrafts, "write papers")?;
        let now = OffsetDateTime::now_utc();
        let mut input = edit.paper;
        let stored = match &edit.original {
            Some(slug) => {
                let current = self.editor_paper(actor, slug).await?;
                input.slug = slug.clone();
                Some(current.paper)
            }
            None => {
                if input.slug.trim().is_empty() {
                    input.slug = slugify(&input.title);
                }
                None
            }
        };
        input.status = Status::Published;
        input.published_at = Some(stored.as_ref().and_then(|p| p.meta.published_at).unwrap_or(now));
        let config = self.config();
        let rules = PaperRules {
            kinds: &config.kinds,
            default_language: &config.language,
            now,
        };
        let checked = parse_paper_file(EDITOR_ORIGIN, &paper_file_text(&input), &rules).map_err(problems)?;
        let known = self.store.authors_by_slugs(&checked.authors).await?;
        let mut authors = Vec::with_capacity(checked.authors.len());
        for slug in &checked.authors {
            match known.iter().find(|a| &a.slug == slug) {
                Some(a) => authors.push(AuthorRef {
                    slug: a.slug.clone(),
                    name: a.name.clone(),
                    affiliation: a.affiliation.clone(),
                }),
                None => return Err(field_problem("authors", format!("unknown author {slug:?}"))),
            }
        }
        let mut topics = Vec::with_capacity(checked.topics.len());
        for slug in &checked.topics {
            match self.store.get_topic(slug, Visibility::All).await? {
                Some(t) => topics.push(TopicRef {
                    slug: t.slug,
                    name: t.name,
                }),
                None => return Err(field_problem("topics", format!("unknown topic {slug:?}"))),
            }
        }
        let (id, comment_count, media) = match stored {
            Some(p) => (p.meta.id, p.meta.comment_count, p.media),
            None => (0, 0, Vec::new()),
        };
        Ok(Paper {
            meta: PaperMeta {
                id,
                word_count: i64::try_from(quire_core::markdown::word_count(&checked.body)).unwrap_or(i64::MAX),
                slug: checked.slug,
                title: checked.title,
                subtitle: checked.subtitle,
                kind: checked.kind,
                summary: checked.summary,
                language: checked.language,
                status: Status::Published,
                published_at: checked.published_at,
                updated_at: now,
                canonical_url: checked.canonical_url,
                translation_of: checked.translation_of,
                comments: checked.comments,
                comment_count,
                trashed_at: None,
                authors,
                topics,
            },
            body: checked.body,
            media,
        })
    }

    /// Adds an image to the paper `slug` (or replaces its image of the
    /// same name), checked by its content as `quire paper add` checks the
    /// images a paper file names: same limits, same messages. The name is
    /// the file's own, without any folder it claims. Returns the name the
    /// body uses for it.
    pub async fn add_paper_image(
        &self,
        actor: &Actor,
        slug: &str,
        file_name: &str,
        data: Vec<u8>,
    ) -> Result<String, AppError> {
        actor.require(Action::UploadImages, "upload images")?;
        let paper = self.editor_paper(actor, slug).await?;
        let base = file_name.rsplit(['/', '\\']).next().unwrap_or("").trim();
        let name = match media_name(base) {
            Ok(Some(name)) => name,
            Ok(None) => return Err(AppError::invalid("image", "choose an image file to upload")),
            Err(message) => return Err(AppError::invalid("image", message)),
        };
        let media = tokio::task::spawn_blocking(move || crate::papers::check_image(&name, data))
            .await
            .map_err(|e| AppError::WrongState(format!("the image could not be checked: {e}")))?
            .map_err(|message| AppError::invalid("image", message))?;
        self.store.put_media(paper.paper.meta.id, &media).await?;
        Ok(media.name)
    }

    /// The stored paper `slug` as it will be published (its date, or now),
    /// for its PDF before it goes out, if `actor` may edit it.
    pub async fn paper_as_published(&self, actor: &Actor, slug: &str) -> Result<Paper, AppError> {
        let mut paper = self.editor_paper(actor, slug).await?.paper;
        let now = OffsetDateTime::now_utc();
        paper.meta.status = Status::Published;
        paper.meta.published_at = Some(paper.meta.published_at.unwrap_or(now));
        Ok(paper)
    }

    /// The conflict error for `slug`, now at revision `current`, naming
    /// who saved it and when.
    async fn conflict(&self, slug: String, current: i64) -> AppError {
        let latest = match self.store.edit_state(&slug).await {
            Ok(Some(state)) => self.store.revision(state.paper_id, current).await.ok().flatten(),
            _ => None,
        };
        AppError::EditConflict {
            slug,
            revision: current,
            saved_by: latest.as_ref().and_then(|r| r.meta.saved_by.clone()),
            saved_at: latest.map(|r| r.meta.saved_at),
        }
    }

    /// The revisions of `slug`, newest first, if `actor` may edit it.
    pub async fn paper_revisions(&self, actor: &Actor, slug: &str) -> Result<Vec<RevisionMeta>, AppError> {
        let paper_id = self.editor_paper(actor, slug).await?.paper.meta.id;
        Ok(self.store.revisions(paper_id).await?)
    }

    async fn paper_revision(&self, paper_id: i64, number: i64) -> Result<quire_store::Revision, AppError> {
        self.store
            .revision(paper_id, number)
            .await?
            .ok_or_else(|| AppError::not_found("revision", "number", number.to_string()))
    }

    /// Revisions `old` and `new` of `slug` compared line by line (fields
    /// and body), if `actor` may edit the paper.
    pub async fn compare_revisions(
        &self,
        actor: &Actor,
        slug: &str,
        old: i64,
        new: i64,
    ) -> Result<RevisionDiff, AppError> {
        let paper_id = self.editor_paper(actor, slug).await?.paper.meta.id;
        let a = self.paper_revision(paper_id, old).await?;
        let b = self.paper_revision(paper_id, new).await?;
        let (old, new) = (a.meta, b.meta);
        let (a, b) = (a.source, b.source);
        let groups = tokio::task::spawn_blocking(move || diff_lines(&a, &b))
            .await
            .map_err(|e| AppError::WrongState(format!("the comparison failed: {e}")))?;
        Ok(RevisionDiff { old, new, groups })
    }

    /// Makes revision `number` of `slug` the paper's text and fields
    /// again (as a new revision; its status and date stay), if `actor`
    /// may edit it and nobody saved after `base_revision`.
    pub async fn restore_revision(
        &self,
        actor: &Actor,
        slug: &str,
        number: i64,
        base_revision: i64,
    ) -> Result<Saved, AppError> {
        let paper_id = self.editor_paper(actor, slug).await?.paper.meta.id;
        let revision = self.paper_revision(paper_id, number).await?;
        let config = self.config();
        let rules = PaperRules {
            kinds: &config.kinds,
            default_language: &config.language,
            now: OffsetDateTime::now_utc(),
        };
        let paper = parse_paper_file(EDITOR_ORIGIN, &revision.source, &rules).map_err(problems)?;
        self.save_paper(
            actor,
            PaperEdit {
                original: Some(slug.to_owned()),
                base_revision,
                paper,
                intent: SaveIntent::Save,
            },
        )
        .await
    }
}

/// The lines that differ between `old` and `new`, with context, in groups.
fn diff_lines(old: &str, new: &str) -> Vec<Vec<DiffLine>> {
    let diff = similar::TextDiff::configure()
        .timeout(DIFF_DEADLINE)
        .diff_lines(old, new);
    diff.grouped_ops(DIFF_CONTEXT)
        .iter()
        .map(|group| {
            group
                .iter()
                .flat_map(|op| diff.iter_changes(op))
                .map(|change| DiffLine {
                    change: match change.tag() {
                        similar::ChangeTag::Equal => "same",
                        similar::ChangeTag::Delete => "removed",
                        similar::ChangeTag::Insert => "added",
                    },
                    text: change.value().trim_end_matches(['\n', '\r']).to_owned(),
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comparison_shows_only_what_changed_with_context() {
        let old = "+++\ntitle = \"A\"\n+++\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\n";
        let new = "+++\ntitle = \"B\"\n+++\none\ntwo\nthree\nfour\nfive\nsix\nseven\nEIGHT\n";
        let groups = diff_lines(old, new);
        assert_eq!(groups.len(), 2, "two changes far apart are two groups: {groups:?}");
        let changed: Vec<(&str, &str)> = groups
            .iter()
            .flatten()
            .filter(|l| l.change != "same")
            .map(|l| (l.change, l.text.as_str()))
            .collect();
        assert_eq!(
            changed,
            [
                ("removed", "title = \"A\""),
                ("added", "title = \"B\""),
                ("removed", "eight"),
                ("added", "EIGHT")
            ]
        );
        assert!(diff_lines(old, old).is_empty(), "the same text has no changes");
    }
}
