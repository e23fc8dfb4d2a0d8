//! Papers in and out of the site: adding or replacing them from any
//! [`PaperSource`] (paper files today; WordPress items and JSON bodies
//! next), all or nothing with every problem reported at once, and
//! publishing, scheduling and unpublishing them.

use crate::newsletter::Announcement;
use crate::{App, AppError, PaperProblem, Remedy};
use quire_core::domain::{
    FrontMatterError, MediaInput, Paper, PaperInput, PaperMeta, PaperRules, Status, parse_paper_file,
};
use quire_store::{AddOptions, PaperQuery, SlugTable};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// One paper read from a source and checked on its own, before the
/// database is asked.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Where it came from, as messages name it (a file's path).
    pub origin: String,
    /// The source text, for the line of a key in messages about what only
    /// the database knows (a slug taken, an author missing).
    pub text: String,
    pub paper: PaperInput,
}

/// Somewhere papers come from. A source reads and checks everything it
/// can alone (its format, front matter, images); [`App::add_papers`]
/// does the rest the same way for all.
pub trait PaperSource: Sync {
    /// Every paper the source holds, and every problem found reading them;
    /// `notes` gets what is worth knowing but stops nothing.
    fn read(&self, rules: &PaperRules<'_>, notes: &mut Vec<String>) -> (Vec<Draft>, Vec<PaperProblem>);
}

/// What adding papers did: each paper's origin, slug and status.
#[derive(Debug, Default)]
pub struct AddReport {
    pub added: Vec<(String, String, Status)>,
    /// Authors made because a paper named them (slug, name given).
    pub created_authors: Vec<(String, String)>,
    /// Topics made because a paper named them (slug, name given).
    pub created_topics: Vec<(String, String)>,
    /// What `newsletter_on_publish` did for each paper (slug), where it
    /// did something.
    pub announcements: Vec<(String, Announcement)>,
}

/// Authors and topics that papers name and the database lacks.
struct Missing {
    authors: Vec<String>,
    topics: Vec<String>,
}

impl App {
    /// Adds every paper `source` holds, or none: every problem of every
    /// paper (its own, the batch's, the database's) comes back at once in
    /// [`AppError::Papers`]. `notes` gets the source's remarks either way.
    pub async fn add_papers(
        &self,
        source: &dyn PaperSource,
        options: AddOptions,
        notes: &mut Vec<String>,
    ) -> Result<AddReport, AppError> {
        let config = self.config();
        let rules = PaperRules {
            kinds: &config.kinds,
            default_language: &config.language,
            now: OffsetDateTime::now_utc(),
        };
        let (drafts, mut problems) = source.read(&rules, notes);
        for (i, d) in drafts.iter().enumerate() {
            if let Some(first) = drafts[..i].iter().find(|e| e.paper.slug == d.paper.slug) {
                problems.push(
                    problem(
                        d,
                        "slug",
                        format!(
                            "{:?} is also the slug of {}: give one of them another slug",
                            d.paper.slug, first.origin
                        ),
                    )
                    .into(),
                );
            }
        }
        if !problems.is_empty() {
            return Err(AppError::Papers(problems));
        }
        let missing = self.check_against_store(&drafts, options, &mut problems).await?;
        if !problems.is_empty() {
            return Err(AppError::Papers(problems));
        }
        let inputs: Vec<PaperInput> = drafts.iter().map(|d| d.paper.clone()).collect();
        let was_public = self.public_now(&inputs).await?;
        self.store.add_papers(&inputs, options).await?;
        let announcements = self
            .announce_all(&inputs.iter().map(|p| p.slug.clone()).collect::<Vec<_>>(), &was_public)
            .await?;
        let named = |slugs: Vec<String>| {
            slugs
                .into_iter()
                .map(|s| {
                    let name = quire_core::domain::name_from_slug(&s);
                    (s, name)
                })
                .collect()
        };
        let now = OffsetDateTime::now_utc();
        Ok(AddReport {
            added: drafts
                .into_iter()
                .map(|d| {
                    (
                        d.origin,
                        d.paper.slug,
                        d.paper.status.seen_at(d.paper.published_at, now),
                    )
                })
                .collect(),
            created_authors: named(missing.authors),
            created_topics: named(missing.topics),
            announcements,
        })
    }

    /// Which of `papers` readers see now, when `newsletter_on_publish`
    /// needs to know (it emails only papers that were not public).
    async fn public_now(&self, papers: &[PaperInput]) -> Result<Vec<String>, AppError> {
        if !self.config().newsletter.on_publish {
            return Ok(Vec::new());
        }
        let slugs: Vec<String> = papers.iter().map(|p| p.slug.clone()).collect();
        let now = OffsetDateTime::now_utc();
        let mut public = Vec::new();
        for slug in self.store.existing_slugs(SlugTable::Papers, &slugs).await? {
            if self.paper(&slug).await?.meta.is_public_at(now) {
                public.push(slug);
            }
        }
        Ok(public)
    }

    /// [`App::announce`] for each of `slugs`, keeping what did something.
    async fn announce_all(
        &self,
        slugs: &[String],
        was_public: &[String],
    ) -> Result<Vec<(String, Announcement)>, AppError> {
        let mut done = Vec::new();
        if !self.config().newsletter.on_publish {
            return Ok(done);
        }
        for slug in slugs {
            let public = was_public.iter().any(|s| s == slug);
            match self.announce(slug, public).await? {
                Announcement::Nothing => {}
                a => done.push((slug.to_owned(), a)),
            }
        }
        Ok(done)
    }

    /// Finds what only the database knows: slugs taken, authors and topics
    /// missing. Each problem names the source and line.
    async fn check_against_store(
        &self,
        drafts: &[Draft],
        options: AddOptions,
        problems: &mut Vec<PaperProblem>,
    ) -> Result<Missing, AppError> {
        let store = &self.store;
        let slugs: Vec<String> = drafts.iter().map(|d| d.paper.slug.clone()).collect();
        let taken = store.existing_slugs(SlugTable::Papers, &slugs).await?;
        let sorted = |pick: fn(&PaperInput) -> &Vec<String>| {
            let mut all: Vec<String> = drafts.iter().flat_map(|d| pick(&d.paper).clone()).collect();
            all.sort();
            all.dedup();
            all
        };
        let known_authors = store
            .existing_slugs(SlugTable::Authors, &sorted(|p| &p.authors))
            .await?;
        let known_topics = store.existing_slugs(SlugTable::Topics, &sorted(|p| &p.topics)).await?;
        let missing = Missing {
            authors: sorted(|p| &p.authors)
                .into_iter()
                .filter(|a| !known_authors.contains(a))
                .collect(),
            topics: sorted(|p| &p.topics)
                .into_iter()
                .filter(|t| !known_topics.contains(t))
                .collect(),
        };
        for d in drafts {
            if !options.replace && taken.contains(&d.paper.slug) {
                problems.push(PaperProblem {
                    problem: problem(
                        d,
                        "slug",
                        format!(
                            "a paper with the slug {:?} already exists: choose another slug",
                            d.paper.slug
                        ),
                    ),
                    remedy: Some(Remedy::Replace),
                });
            }
            if options.create_missing {
                continue;
            }
            for a in d.paper.authors.iter().filter(|a| !known_authors.contains(*a)) {
                problems.push(PaperProblem {
                    problem: problem(d, "authors", format!("unknown author {a:?}")),
                    remedy: Some(Remedy::CreateAuthor(a.clone())),
                });
            }
            for t in d.paper.topics.iter().filter(|t| !known_topics.contains(*t)) {
                problems.push(PaperProblem {
                    problem: problem(d, "topics", format!("unknown topic {t:?}")),
                    remedy: Some(Remedy::CreateTopic(t.clone())),
                });
            }
        }
        Ok(missing)
    }

    /// The paper `slug`, drafts too, with the status readers see now.
    pub async fn paper(&self, slug: &str) -> Result<Paper, AppError> {
        let mut paper = self
            .store
            .get_paper(slug)
            .await?
            .ok_or_else(|| AppError::not_found("paper", "slug", slug))?;
        paper.meta.status = paper.meta.status_at(OffsetDateTime::now_utc());
        Ok(paper)
    }

    /// Papers as `query` selects them, each with the status readers see
    /// now (a scheduled paper whose time has come is published).
    pub async fn papers(&self, query: &PaperQuery) -> Result<Vec<PaperMeta>, AppError> {
        let now = OffsetDateTime::now_utc();
        let mut papers = self.store.list_papers(query).await?;
        for p in &mut papers {
            p.status = p.status_at(now);
        }
        Ok(papers)
    }

    /// Publishes `slug` now, or schedules it for `at` when that is later.
    /// Without `at`, a paper published before keeps its date. A paper
    /// readers can see is only taken offline until a later `at` when
    /// `unpublish_until` says so; otherwise that is refused.
    pub async fn publish(
        &self,
        slug: &str,
        at: Option<OffsetDateTime>,
        unpublish_until: bool,
    ) -> Result<(Publication, Announcement), AppError> {
        let publication = self.set_publication(slug, at, unpublish_until).await?;
        let was_public = matches!(
            publication,
            Publication::AlreadyLive { .. } | Publication::OfflineUntil { .. }
        );
        Ok((publication, self.announce(slug, was_public).await?))
    }

    async fn set_publication(
        &self,
        slug: &str,
        at: Option<OffsetDateTime>,
        unpublish_until: bool,
    ) -> Result<Publication, AppError> {
        let now = OffsetDateTime::now_utc();
        let paper = self.paper(slug).await?;
        let live_since = paper
            .meta
            .is_public_at(now)
            .then_some(paper.meta.published_at)
            .flatten();
        let when = at.unwrap_or_else(|| paper.meta.published_at.filter(|t| *t <= now).unwrap_or(now));
        if when <= now {
            self.store.set_status(slug, Status::Published, Some(when)).await?;
            return Ok(match live_since {
                Some(since) if at.is_none() => Publication::AlreadyLive { since },
                _ => Publication::Published { at: when },
            });
        }
        match live_since {
            Some(live_since) if !unpublish_until => Err(AppError::WouldGoOffline {
                slug: slug.to_owned(),
                live_since,
                at: when,
            }),
            Some(live_since) => {
                self.store.set_status(slug, Status::Scheduled, Some(when)).await?;
                Ok(Publication::OfflineUntil { at: when, live_since })
            }
            None => {
                self.store.set_status(slug, Status::Scheduled, Some(when)).await?;
                Ok(Publication::Scheduled { at: when })
            }
        }
    }

    /// Moves papers to the trash, all or none: readers get "not found"
    /// at once; the papers keep their comments and images until restored
    /// or purged.
    /// Returns the emails this cancelled, per paper.
    pub async fn delete_papers(&self, slugs: &[String]) -> Result<Vec<(String, Announcement)>, AppError> {
        self.store.set_trashed(slugs, Some(OffsetDateTime::now_utc())).await?;
        self.announce_all(slugs, &[]).await
    }

    /// Brings papers back from the trash as they were (status, date,
    /// comments, images), all or none.
    pub async fn restore_papers(&self, slugs: &[String]) -> Result<Vec<(String, Announcement)>, AppError> {
        for slug in slugs {
            let paper = self.paper(slug).await?;
            if paper.meta.trashed_at.is_none() {
                return Err(AppError::WrongState(format!("{slug:?} is not in the trash")));
            }
        }
        self.store.set_trashed(slugs, None).await?;
        self.announce_all(slugs, &[]).await
    }

    /// Deletes for good the papers in the trash for longer than `age`,
    /// with their comments and images; returns their slugs.
    pub async fn purge_papers(&self, age: time::Duration) -> Result<Vec<String>, AppError> {
        Ok(self.store.purge_trash(OffsetDateTime::now_utc() - age).await?)
    }

    /// Takes `slug` back to draft, keeping its publication date; its
    /// email waiting under `newsletter_on_publish` is cancelled.
    pub async fn unpublish(&self, slug: &str) -> Result<Announcement, AppError> {
        let paper = self.paper(slug).await?;
        self.store
            .set_status(slug, Status::Draft, paper.meta.published_at)
            .await?;
        self.announce(slug, false).await
    }
}

/// What publishing did, so that the caller can say it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Publication {
    /// Readers see it from `at` (now, or the earlier time asked for).
    Published { at: OffsetDateTime },
    /// It was public already, since `since`; nothing changed.
    AlreadyLive { since: OffsetDateTime },
    /// Readers will see it from `at`.
    Scheduled { at: OffsetDateTime },
    /// It was public (since `live_since`) and is now offline until `at`,
    /// as asked.
    OfflineUntil {
        at: OffsetDateTime,
        live_since: OffsetDateTime,
    },
}

/// The line of `key = …` in a paper's text, for messages about checks that
/// need the database.
fn key_line(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| l.split_once('=').is_some_and(|(k, _)| k.trim() == key))
        .map_or(1, |i| i + 1)
}

fn problem(d: &Draft, field: &str, message: String) -> FrontMatterError {
    let line = match field {
        // A slug derived from the title is the title's line.
        "slug" => key_line(&d.text, "slug").max(key_line(&d.text, "title")),
        _ => key_line(&d.text, field),
    };
    FrontMatterError {
        file: d.origin.clone(),
        line,
        field: Some(field.into()),
        message,
    }
}

/// Paper files on disk: Markdown with TOML front matter, and the images
/// their bodies name, read from beside each file.
pub struct PaperFiles<'a>(pub &'a [PathBuf]);

impl PaperSource for PaperFiles<'_> {
    fn read(&self, rules: &PaperRules<'_>, notes: &mut Vec<String>) -> (Vec<Draft>, Vec<PaperProblem>) {
        let mut errors: Vec<FrontMatterError> = Vec::new();
        let mut drafts = Vec::new();
        for path in self.0 {
            let name = path.display().to_string();
            let text = match std::fs::read(path) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(t) => t,
                    Err(e) => {
                        errors.push(file_error(
                            &name,
                            1,
                            format!(
                                "is not UTF-8 text (bad byte at offset {}): save it as UTF-8",
                                e.utf8_error().valid_up_to()
                            ),
                        ));
                        continue;
                    }
                },
                Err(e) => {
                    errors.push(file_error(&name, 1, format!("cannot be read: {e}")));
                    continue;
                }
            };
            match parse_paper_file(&name, &text, rules) {
                Ok(mut p) => {
                    attach_media(path, &name, &text, &mut p, &mut errors, notes);
                    drafts.push(Draft {
                        origin: name,
                        text,
                        paper: p,
                    });
                }
                Err(errs) => errors.extend(errs),
            }
        }
        (drafts, errors.into_iter().map(PaperProblem::from).collect())
    }
}

/// Reads the images a paper file's body names from its folder, checks
/// them as the web and the typesetter will read them, and attaches them to
/// `paper`. Each problem names the file and line; images from the web are
/// left as addresses, with a note that the PDF cannot show them.
fn attach_media(
    path: &Path,
    file: &str,
    text: &str,
    paper: &mut PaperInput,
    errors: &mut Vec<FrontMatterError>,
    notes: &mut Vec<String>,
) {
    let references = quire_core::markdown::image_references(&paper.body);
    if references.is_empty() {
        return;
    }
    // The body is the end of the file; lines count from the file's start.
    let body_start = if text.ends_with(paper.body.as_str()) {
        text.len() - paper.body.len()
    } else {
        0
    };
    let lines = quire_core::domain::LineIndex::new(text.as_bytes());
    let line_of = |offset: usize| lines.line_at((body_start + offset).min(text.len()));
    let folder = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(p) => p.to_path_buf(),
        None => PathBuf::from("."),
    };
    let folder = match folder.canonicalize() {
        Ok(f) => f,
        Err(e) => {
            errors.push(file_error(file, 1, format!("its folder cannot be read: {e}")));
            return;
        }
    };
    for (reference, offset) in references {
        let line = line_of(offset);
        let name = match quire_core::domain::media_name(&reference) {
            Ok(Some(name)) => name,
            Ok(None) => {
                if reference.starts_with("http://") || reference.starts_with("https://") {
                    notes.push(format!(
                        "{file}, line {line}: image {reference:?} is on the web, not stored with the paper: \
                         the PDF prints its description instead; save it beside the paper file to embed it"
                    ));
                }
                continue;
            }
            Err(message) => {
                errors.push(file_error(file, line, message));
                continue;
            }
        };
        if paper.media.iter().any(|m| m.name == name) {
            continue;
        }
        match read_media(&folder, &name) {
            Ok(media) => paper.media.push(media),
            Err(message) => errors.push(file_error(file, line, message)),
        }
    }
}

/// Reads and checks the image `name` below `folder` (both canonical).
fn read_media(folder: &Path, name: &str) -> Result<MediaInput, String> {
    let path = folder.join(name);
    let real = path.canonicalize().map_err(|e| {
        format!(
            "image {name:?} cannot be read from {} ({e}): put the file there, or correct the name",
            folder.display()
        )
    })?;
    if !real.starts_with(folder) {
        return Err(format!(
            "image {name:?} is a link to a file outside the paper's folder: copy the image into the folder instead"
        ));
    }
    let size = std::fs::metadata(&real).map_err(|e| format!("image {name:?} cannot be read: {e}"))?;
    if !size.is_file() {
        return Err(format!("image {name:?} is not a file: name the image file itself"));
    }
    // Refused before reading a huge file into memory.
    quire_core::domain::check_media_size(name, size.len())?;
    let data = std::fs::read(&real).map_err(|e| format!("image {name:?} cannot be read: {e}"))?;
    check_image(name, data)
}

/// Checks image bytes by their content, as the web and the typesetter will
/// read them, whichever source they came from.
pub fn check_image(name: &str, data: Vec<u8>) -> Result<MediaInput, String> {
    let (kind, pixels) = quire_core::domain::check_media(name, &data)?;
    let drawn = quire_pdf::check_image(&data, kind.extension())
        .map_err(|e| format!("image {name:?} cannot be used: {e}: export it again"))?;
    let (width, height) = match pixels {
        Some((w, h)) => (Some(w), Some(h)),
        None => {
            let side = |v: f64| (1.0..=100_000.0).contains(&v).then(|| v.round() as u32);
            (side(drawn.0), side(drawn.1))
        }
    };
    Ok(MediaInput {
        name: name.to_owned(),
        kind,
        width,
        height,
        data,
    })
}

fn file_error(file: &str, line: usize, message: String) -> FrontMatterError {
    FrontMatterError {
        file: file.to_owned(),
        line,
        field: None,
        message,
    }
}
