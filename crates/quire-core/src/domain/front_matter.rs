//! Paper files: Markdown with TOML front matter between `+++` fences.
//! Errors name the file, the line and the field, so an editor can go
//! straight to the mistake.

use super::{PaperInput, Status, slugify, validate_http_url, validate_language, validate_slug};
use crate::toml_text::{self, DeTable, DeValue, Spanned, as_text, as_text_list, closest, kind_of};
use std::fmt;
use time::{Date, Month, OffsetDateTime, Time, UtcOffset};
use toml::value::{Datetime, Offset};

/// A mistake in a paper file, with where it is and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrontMatterError {
    pub file: String,
    pub line: usize,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for FrontMatterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{}:{}: field `{}`: {}", self.file, self.line, field, self.message),
            None => write!(f, "{}:{}: {}", self.file, self.line, self.message),
        }
    }
}

impl std::error::Error for FrontMatterError {}

/// What the site allows in a paper file.
#[derive(Clone, Copy, Debug)]
pub struct PaperRules<'a> {
    /// The configured kinds; a paper's `kind` must be one of them.
    pub kinds: &'a [String],
    /// Language for papers whose front matter names none.
    pub default_language: &'a str,
    /// The time a `published` paper without `published_at` gets.
    pub now: OffsetDateTime,
}

/// The keys a paper file may use, in the order the docs list them.
const KEYS: [&str; 13] = [
    "title",
    "subtitle",
    "slug",
    "kind",
    "summary",
    "authors",
    "topics",
    "language",
    "status",
    "published_at",
    "canonical_url",
    "translation_of",
    "comments",
];

/// The front matter's fields as written, each with its place, before any
/// rule is checked. Keys of the wrong type are already reported and absent.
#[derive(Default)]
struct RawFrontMatter {
    title: Option<Spanned<String>>,
    subtitle: Option<Spanned<String>>,
    slug: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    summary: Option<Spanned<String>>,
    authors: Option<Spanned<Vec<Spanned<String>>>>,
    topics: Option<Spanned<Vec<Spanned<String>>>>,
    language: Option<Spanned<String>>,
    status: Option<Spanned<String>>,
    published_at: Option<Spanned<Datetime>>,
    canonical_url: Option<Spanned<String>>,
    translation_of: Option<Spanned<String>>,
    comments: Option<Spanned<String>>,
}

impl RawFrontMatter {
    /// Reads every key of `table`, reporting unknown keys (with the closest
    /// known one) and values of the wrong type, all of them. `errors` holds
    /// the syntax problems so far; keys they name are left out.
    fn read(table: &DeTable<'_>, loc: &Located<'_>, errors: &mut Vec<FrontMatterError>) -> RawFrontMatter {
        let mut raw = RawFrontMatter::default();
        for (key, value) in table {
            let name = key.get_ref().as_ref();
            if errors.iter().any(|e| e.field.as_deref() == Some(name)) {
                // Its syntax is already reported; what was recovered of
                // its value would only repeat that.
                continue;
            }
            let start = value.span().start;
            let text = |errors: &mut Vec<FrontMatterError>| match as_text(value) {
                Ok(t) => Some(t),
                Err(found) => {
                    errors.push(loc.error(
                        start,
                        name,
                        format!("must be text in quotes, such as {name} = \"…\"; found {found}"),
                    ));
                    None
                }
            };
            let list = |errors: &mut Vec<FrontMatterError>| match as_text_list(value) {
                Ok((items, wrong)) => {
                    for (span, found) in wrong {
                        errors.push(loc.error(
                            span.start,
                            name,
                            format!("each item must be a slug in quotes; found {found}"),
                        ));
                    }
                    Some(items)
                }
                Err(found) => {
                    errors.push(loc.error(
                        start,
                        name,
                        format!("must be a list of slugs, such as {name} = [\"ada-lovelace\"]; found {found}"),
                    ));
                    None
                }
            };
            match name {
                "title" => raw.title = text(errors),
                "subtitle" => raw.subtitle = text(errors),
                "slug" => raw.slug = text(errors),
                "kind" => raw.kind = text(errors),
                "summary" => raw.summary = text(errors),
                "authors" => raw.authors = list(errors),
                "topics" => raw.topics = list(errors),
                "language" => raw.language = text(errors),
                "status" => raw.status = text(errors),
                "canonical_url" => raw.canonical_url = text(errors),
                "translation_of" => raw.translation_of = text(errors),
                "comments" => raw.comments = text(errors),
                "published_at" => match value.get_ref() {
                    DeValue::Datetime(d) => raw.published_at = Some(Spanned::new(value.span(), *d)),
                    other => errors.push(loc.error(
                        start,
                        name,
                        format!(
                            "must be a TOML date and time without quotes, such as published_at = 2026-01-05T10:00:00Z; found {}",
                            kind_of(other)
                        ),
                    )),
                },
                _ => {
                    let message = match closest(name, KEYS) {
                        Some(known) => format!("unknown key: did you mean `{known}`?"),
                        None => format!("unknown key: the keys are {}", KEYS.join(", ")),
                    };
                    errors.push(loc.error(key.span().start, name, message));
                }
            }
        }
        raw
    }
}

/// Where the front matter sits inside the file.
struct Located<'a> {
    file: &'a str,
    front_matter: &'a str,
    /// File line number of the first front matter line.
    first_line: usize,
}

impl Located<'_> {
    fn line_of(&self, offset: usize) -> usize {
        self.first_line + toml_text::line_of(self.front_matter, offset) - 1
    }

    fn error(&self, offset: usize, field: &str, message: impl Into<String>) -> FrontMatterError {
        FrontMatterError {
            file: self.file.to_owned(),
            line: self.line_of(offset),
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }
}

/// Parses a paper file into a [`PaperInput`], checking every field against
/// `rules`. All mistakes found are returned, not only the first.
pub fn parse_paper_file(file: &str, text: &str, rules: &PaperRules<'_>) -> Result<PaperInput, Vec<FrontMatterError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let whole_file_error = |line: usize, message: &str| {
        vec![FrontMatterError {
            file: file.to_owned(),
            line,
            field: None,
            message: message.to_owned(),
        }]
    };
    let Some(after_open) = text.strip_prefix("+++\n").or_else(|| text.strip_prefix("+++\r\n")) else {
        return Err(whole_file_error(
            1,
            "the file must start with a `+++` line, then TOML front matter (title, kind, summary, authors…), then a closing `+++` line",
        ));
    };
    let close = find_closing_fence(after_open);
    let Some((fm_end, body_start)) = close else {
        return Err(whole_file_error(
            1,
            "the front matter opened on line 1 is never closed: add a line containing only `+++` after it",
        ));
    };
    let loc = Located {
        file,
        front_matter: &after_open[..fm_end],
        first_line: 2,
    };
    let body = after_open[body_start..].to_owned();

    let (table, syntax) = toml_text::parse(loc.front_matter);
    let mut errors: Vec<FrontMatterError> = syntax
        .iter()
        .map(|p| FrontMatterError {
            file: file.to_owned(),
            line: loc.line_of(p.offset),
            field: p.key.clone(),
            message: syntax_hint(&p.message, p.key.as_deref()),
        })
        .collect();
    let raw = RawFrontMatter::read(table.get_ref(), &loc, &mut errors);
    // A required key that is absent is named once, unless a syntax
    // problem on its own line already hides it.
    let mut required = |value: Option<&Spanned<String>>, field: &str| -> Spanned<String> {
        if let Some(v) = value {
            return v.clone();
        }
        let reported = errors.iter().any(|e| e.field.as_deref() == Some(field));
        if !reported {
            errors.push(FrontMatterError {
                file: file.to_owned(),
                line: 1,
                field: Some(field.to_owned()),
                message: format!("missing: add a `{field} = \"…\"` line to the front matter"),
            });
        }
        Spanned::new(0..0, String::new())
    };
    let raw_title = required(raw.title.as_ref(), "title");
    let raw_kind = required(raw.kind.as_ref(), "kind");
    let raw_summary = required(raw.summary.as_ref(), "summary");
    let missing_authors = raw.authors.is_none() && !errors.iter().any(|e| e.field.as_deref() == Some("authors"));
    let raw_authors = raw.authors.clone().unwrap_or_else(|| Spanned::new(0..0, Vec::new()));
    let complete = errors.is_empty();
    let mut check = |result: Result<(), String>, span: std::ops::Range<usize>, field: &str| {
        if let Err(message) = result {
            errors.push(loc.error(span.start, field, message));
        }
    };

    let title = raw_title.get_ref().trim().to_owned();
    if raw.title.is_some() {
        check(non_empty(&title, 500), raw_title.span(), "title");
    }
    let subtitle = raw
        .subtitle
        .as_ref()
        .map(|s| s.get_ref().trim().to_owned())
        .filter(|s| !s.is_empty());
    if let Some(s) = &raw.subtitle {
        check(max_len(s.get_ref(), 500), s.span(), "subtitle");
    }
    let slug = match &raw.slug {
        Some(s) => {
            check(validate_slug(s.get_ref()), s.span(), "slug");
            s.get_ref().clone()
        }
        None => {
            let derived = slugify(&title);
            if derived.is_empty() && !title.is_empty() {
                check(
                    Err("no slug can be made from this title: add a `slug = \"…\"` line".into()),
                    raw_title.span(),
                    "slug",
                );
            }
            derived
        }
    };
    let kind = raw_kind.get_ref().trim().to_owned();
    if raw.kind.is_some() && !rules.kinds.contains(&kind) {
        check(
            Err(format!(
                "unknown kind {kind:?}: use one of {} (or add it to `kinds` in quire.toml)",
                rules
                    .kinds
                    .iter()
                    .map(|k| format!("{k:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            raw_kind.span(),
            "kind",
        );
    }
    let summary = raw_summary.get_ref().trim().to_owned();
    if raw.summary.is_some() {
        check(non_empty(&summary, 5000), raw_summary.span(), "summary");
    }

    let authors = slug_list(&raw_authors, "authors", &loc, &mut errors);
    if missing_authors || (raw.authors.is_some() && raw_authors.get_ref().is_empty()) {
        let line = if missing_authors {
            1
        } else {
            loc.line_of(raw_authors.span().start)
        };
        errors.push(FrontMatterError {
            file: file.to_owned(),
            line,
            field: Some("authors".to_owned()),
            message: "name at least one author by slug, such as authors = [\"ada-lovelace\"]".to_owned(),
        });
    }
    let topics = raw
        .topics
        .as_ref()
        .map(|t| slug_list(t, "topics", &loc, &mut errors))
        .unwrap_or_default();

    let language = match &raw.language {
        Some(l) => {
            if let Err(e) = validate_language(l.get_ref()) {
                errors.push(loc.error(l.span().start, "language", e));
            }
            l.get_ref().clone()
        }
        None => rules.default_language.to_owned(),
    };
    let status = match &raw.status {
        Some(s) => match s.get_ref().parse::<Status>() {
            Ok(st) => st,
            Err(e) => {
                errors.push(loc.error(s.span().start, "status", e.to_string()));
                Status::Draft
            }
        },
        None => Status::Draft,
    };
    let published_at = match &raw.published_at {
        Some(d) => match datetime_to_offset(d.get_ref()) {
            Ok(t) => Some(t),
            Err(e) => {
                errors.push(loc.error(d.span().start, "published_at", e));
                None
            }
        },
        None => match status {
            Status::Published | Status::Archived => Some(rules.now),
            Status::Scheduled => {
                if raw.status.is_some() && complete {
                    errors.push(loc.error(
                        raw.status.as_ref().map_or(0, |s| s.span().start),
                        "published_at",
                        "a scheduled paper needs the time it goes out: add published_at = 2026-01-05T10:00:00Z",
                    ));
                }
                None
            }
            Status::Draft => None,
        },
    };
    let canonical_url = match &raw.canonical_url {
        Some(u) => {
            if let Err(e) = validate_http_url(u.get_ref()) {
                errors.push(loc.error(u.span().start, "canonical_url", e));
            }
            Some(u.get_ref().clone())
        }
        None => None,
    };

    let translation_of = match &raw.translation_of {
        Some(t) => {
            let other = t.get_ref().trim();
            if let Err(e) = validate_slug(other) {
                errors.push(loc.error(
                    t.span().start,
                    "translation_of",
                    format!("{e}: name the slug of the paper this one translates"),
                ));
            } else if other == slug {
                errors.push(loc.error(
                    t.span().start,
                    "translation_of",
                    "a paper cannot be a translation of itself: name the original paper's slug",
                ));
            }
            Some(other.to_owned())
        }
        None => None,
    };

    // Control characters have no place in a text (and PostgreSQL refuses
    // NUL): say where the first is.
    if let Some((at, c)) = body
        .char_indices()
        .find(|(_, c)| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        let body_line = body[..at].matches('\n').count();
        let fence_lines = text[..text.len() - body.len()].matches('\n').count();
        errors.push(FrontMatterError {
            file: file.to_owned(),
            line: fence_lines + body_line + 1,
            field: Some("body".to_owned()),
            message: format!(
                "the text holds the control character U+{:04X}, which no page can show: remove it",
                u32::from(c)
            ),
        });
    }

    let comments = match &raw.comments {
        Some(c) => c.get_ref().parse::<super::CommentsMode>().unwrap_or_else(|e| {
            errors.push(loc.error(c.span().start, "comments", e));
            super::CommentsMode::Open
        }),
        None => super::CommentsMode::Open,
    };

    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(errors);
    }
    Ok(PaperInput {
        slug,
        title,
        subtitle,
        kind,
        summary,
        body,
        authors,
        topics,
        language,
        status,
        published_at,
        canonical_url,
        translation_of,
        comments,
        media: Vec::new(),
    })
}

/// Writes a paper back as a paper file, the inverse of [`parse_paper_file`]:
/// exporting and adding again gives the same paper.
pub fn write_paper_file(paper: &super::Paper) -> String {
    paper_file_text(&paper.to_input())
}

/// A paper as a paper file: what `quire paper export` writes, what a
/// revision keeps, and what the admin's editor hands to
/// [`parse_paper_file`], so that every front door checks a paper by the
/// same rules.
pub fn paper_file_text(p: &PaperInput) -> String {
    let quote = |s: &str| basic_string(s);
    let list = |items: &[String]| format!("[{}]", items.iter().map(|i| quote(i)).collect::<Vec<_>>().join(", "));
    let mut out = String::from("+++\n");
    out.push_str(&format!("title = {}\n", quote(&p.title)));
    if let Some(sub) = &p.subtitle {
        out.push_str(&format!("subtitle = {}\n", quote(sub)));
    }
    out.push_str(&format!("slug = {}\n", quote(&p.slug)));
    out.push_str(&format!("kind = {}\n", quote(&p.kind)));
    out.push_str(&format!("summary = {}\n", quote(&p.summary)));
    out.push_str(&format!("authors = {}\n", list(&p.authors)));
    out.push_str(&format!("topics = {}\n", list(&p.topics)));
    out.push_str(&format!("language = {}\n", quote(&p.language)));
    out.push_str(&format!("status = {}\n", quote(p.status.as_str())));
    if let Some(at) = p.published_at {
        let at = at.to_offset(UtcOffset::UTC);
        let text = at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        out.push_str(&format!("published_at = {text}\n"));
    }
    if let Some(url) = &p.canonical_url {
        out.push_str(&format!("canonical_url = {}\n", quote(url)));
    }
    if let Some(original) = &p.translation_of {
        out.push_str(&format!("translation_of = {}\n", quote(original)));
    }
    if p.comments != super::CommentsMode::Open {
        out.push_str(&format!("comments = {}\n", quote(p.comments.as_str())));
    }
    out.push_str("+++\n");
    out.push_str(&p.body);
    out
}

/// `s` as a TOML basic string on one line: a multi-line string could hold
/// a `+++` line, which would close the front matter early.
fn basic_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Finds the `+++` line that closes the front matter: the end of the front
/// matter and the start of the body, as byte offsets into `rest`.
fn find_closing_fence(rest: &str) -> Option<(usize, usize)> {
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end_matches(['\n', '\r']) == "+++" {
            return Some((offset, offset + line.len()));
        }
        offset += line.len();
    }
    None
}

fn non_empty(value: &str, max: usize) -> Result<(), String> {
    if value.is_empty() {
        Err("must not be empty".into())
    } else {
        max_len(value, max)
    }
}

fn max_len(value: &str, max: usize) -> Result<(), String> {
    if value.chars().count() > max {
        Err(format!("is longer than {max} characters: shorten it"))
    } else if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        Err("contains control characters: remove them".into())
    } else {
        Ok(())
    }
}

fn slug_list(
    list: &Spanned<Vec<Spanned<String>>>,
    field: &str,
    loc: &Located<'_>,
    errors: &mut Vec<FrontMatterError>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in list.get_ref() {
        let slug = item.get_ref();
        if let Err(e) = validate_slug(slug) {
            errors.push(loc.error(item.span().start, field, e));
        } else if out.contains(slug) {
            errors.push(loc.error(
                item.span().start,
                field,
                format!("{slug:?} is listed twice: remove one"),
            ));
        } else {
            out.push(slug.clone());
        }
    }
    out
}

/// Turns a TOML datetime into a point in time. A date alone means midnight
/// UTC; a time without an offset is refused, since it names no instant.
fn datetime_to_offset(d: &Datetime) -> Result<OffsetDateTime, String> {
    let hint = "write a full date and time with a zone, such as 2026-01-05T10:00:00Z";
    let date = d.date.ok_or_else(|| format!("has no date: {hint}"))?;
    let month = Month::try_from(date.month).map_err(|_| format!("has no valid month: {hint}"))?;
    let date = Date::from_calendar_date(i32::from(date.year), month, date.day)
        .map_err(|e| format!("is not a real date ({e}): {hint}"))?;
    let (time, offset) = match (d.time, d.offset) {
        (None, _) => (Time::MIDNIGHT, UtcOffset::UTC),
        (Some(_), None) => return Err(format!("has no time zone: {hint}")),
        (Some(t), Some(off)) => {
            let time = Time::from_hms_nano(t.hour, t.minute, t.second.unwrap_or(0), t.nanosecond.unwrap_or(0))
                .map_err(|e| format!("is not a real time ({e}): {hint}"))?;
            let offset = match off {
                Offset::Z => UtcOffset::UTC,
                Offset::Custom { minutes } => UtcOffset::from_whole_seconds(i32::from(minutes) * 60)
                    .map_err(|e| format!("has an impossible offset ({e}): {hint}"))?,
            };
            (time, offset)
        }
    };
    Ok(date.with_time(time).assume_offset(offset))
}

/// A syntax problem's message with what to write instead, where we know.
fn syntax_hint(message: &str, key: Option<&str>) -> String {
    if key == Some("published_at") && !message.contains("set twice") {
        format!("{message} (write a TOML date and time without quotes, such as 2026-01-05T10:00:00Z)")
    } else {
        message.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn rules(kinds: &[String]) -> PaperRules<'_> {
        PaperRules {
            kinds,
            default_language: "en",
            now: datetime!(2026-02-01 12:00 UTC),
        }
    }

    fn kinds() -> Vec<String> {
        crate::domain::DEFAULT_KINDS.iter().map(|s| s.to_string()).collect()
    }

    const GOOD: &str = r#"+++
title = "Ports and Harbours"
subtitle = "Why small ports matter"
slug = "ports-harbours"
kind = "policy brief"
summary = "One paragraph."
authors = ["ada-lovelace", "alan-turing"]
topics = ["trade", "infrastructure"]
language = "en"
status = "published"
published_at = 2026-01-05T10:00:00Z
canonical_url = "https://example.org/ports"
+++
Body in Markdown.[^1]

[^1]: A footnote.
"#;

    #[test]
    fn parses_every_documented_key() {
        let k = kinds();
        let p = parse_paper_file("ports.md", GOOD, &rules(&k)).expect("valid file");
        assert_eq!(p.title, "Ports and Harbours");
        assert_eq!(p.subtitle.as_deref(), Some("Why small ports matter"));
        assert_eq!(p.slug, "ports-harbours");
        assert_eq!(p.kind, "policy brief");
        assert_eq!(p.authors, ["ada-lovelace", "alan-turing"]);
        assert_eq!(p.topics, ["trade", "infrastructure"]);
        assert_eq!(p.status, Status::Published);
        assert_eq!(p.published_at, Some(datetime!(2026-01-05 10:00 UTC)));
        assert_eq!(p.canonical_url.as_deref(), Some("https://example.org/ports"));
        assert_eq!(p.body, "Body in Markdown.[^1]\n\n[^1]: A footnote.\n");
    }

    #[test]
    fn optional_keys_get_defaults() {
        let k = kinds();
        let text = "+++\ntitle = \"Café Économie\"\nkind = \"report\"\nsummary = \"S\"\nauthors = [\"a\"]\n+++\nBody\n";
        let p = parse_paper_file("x.md", text, &rules(&k)).expect("valid");
        assert_eq!(p.slug, "cafe-economie");
        assert_eq!(p.language, "en");
        assert_eq!(p.status, Status::Draft);
        assert_eq!(p.published_at, None);
        assert!(p.topics.is_empty());
    }

    #[test]
    fn offsets_and_dates_are_understood() {
        let k = kinds();
        let with = |d: &str| GOOD.replace("2026-01-05T10:00:00Z", d);
        let p = parse_paper_file("x.md", &with("2026-01-05T12:00:00+02:00"), &rules(&k)).expect("valid");
        assert_eq!(p.published_at, Some(datetime!(2026-01-05 10:00 UTC)));
        let p = parse_paper_file("x.md", &with("2026-01-05"), &rules(&k)).expect("valid");
        assert_eq!(p.published_at, Some(datetime!(2026-01-05 0:00 UTC)));
    }

    fn error_of(text: &str) -> FrontMatterError {
        let k = kinds();
        let errs = parse_paper_file("papers/x.md", text, &rules(&k)).expect_err("must fail");
        errs.into_iter().next().expect("one error")
    }

    #[test]
    fn missing_field_is_named() {
        let e = error_of(&GOOD.replace("summary = \"One paragraph.\"\n", ""));
        assert_eq!(e.field.as_deref(), Some("summary"));
        assert_eq!(e.file, "papers/x.md");
        assert!(e.to_string().contains("papers/x.md:1: field `summary`"), "{e}");
    }

    #[test]
    fn wrong_type_names_line_and_field() {
        let e = error_of(&GOOD.replace("kind = \"policy brief\"", "kind = 3"));
        assert_eq!((e.line, e.field.as_deref()), (5, Some("kind")), "{e}");
        let e = error_of(&GOOD.replace("[\"trade\", \"infrastructure\"]", "\"trade\""));
        assert_eq!((e.line, e.field.as_deref()), (8, Some("topics")), "{e}");
    }

    #[test]
    fn bad_dates_are_explained() {
        let e = error_of(&GOOD.replace("2026-01-05T10:00:00Z", "\"last tuesday\""));
        assert_eq!((e.line, e.field.as_deref()), (11, Some("published_at")), "{e}");
        assert!(e.message.contains("2026-01-05T10:00:00Z"), "{e}");
        let e = error_of(&GOOD.replace("2026-01-05T10:00:00Z", "2026-01-05T10:00:00"));
        assert_eq!((e.line, e.field.as_deref()), (11, Some("published_at")), "{e}");
        assert!(e.message.contains("time zone"), "{e}");
        let e = error_of(&GOOD.replace("2026-01-05T10:00:00Z", "2026-02-30T10:00:00Z"));
        assert_eq!(e.field.as_deref(), Some("published_at"), "{e}");
    }

    #[test]
    fn unknown_keys_and_values_are_refused() {
        let k = kinds();
        let errs = parse_paper_file("x.md", &GOOD.replace("kind =", "kinds ="), &rules(&k)).expect_err("invalid");
        let found: Vec<_> = errs.iter().map(|e| (e.line, e.field.as_deref())).collect();
        assert_eq!(found, [(1, Some("kind")), (5, Some("kinds"))], "{errs:?}");
        assert!(errs[1].message.contains("did you mean `kind`?"), "{}", errs[1]);
        let e = error_of(&GOOD.replace("policy brief", "blog post"));
        assert_eq!((e.line, e.field.as_deref()), (5, Some("kind")), "{e}");
        assert!(e.message.contains("\"policy brief\""), "{e}");
        let e = error_of(&GOOD.replace("\"published\"", "\"live\""));
        assert_eq!((e.line, e.field.as_deref()), (10, Some("status")), "{e}");
        let e = error_of(&GOOD.replace("\"en\"", "\"english please\""));
        assert_eq!(e.field.as_deref(), Some("language"), "{e}");
        let e = error_of(&GOOD.replace("https://example.org/ports", "javascript:alert(1)"));
        assert_eq!(e.field.as_deref(), Some("canonical_url"), "{e}");
        let e = error_of(&GOOD.replace("\"alan-turing\"", "\"Alan Turing\""));
        assert_eq!((e.line, e.field.as_deref()), (7, Some("authors")), "{e}");
        let e = error_of(&GOOD.replace("slug = \"ports-harbours\"", "slug = \"../../etc/passwd\""));
        assert_eq!((e.line, e.field.as_deref()), (4, Some("slug")), "{e}");
    }

    #[test]
    fn broken_files_are_explained() {
        let e = error_of("No front matter here\n");
        assert_eq!(e.line, 1);
        assert!(e.message.contains("+++"));
        let e = error_of("+++\ntitle = \"x\"\n");
        assert!(e.message.contains("never closed"), "{e}");
        let k = kinds();
        let errs = parse_paper_file("x.md", "+++\ntitle = \"unterminated\n+++\nbody", &rules(&k)).expect_err("invalid");
        let title = errs
            .iter()
            .find(|e| e.field.as_deref() == Some("title"))
            .expect("title named");
        assert_eq!(title.line, 2, "{title}");
        assert_eq!(
            errs.iter().filter(|e| e.field.as_deref() == Some("title")).count(),
            1,
            "{errs:?}"
        );
        let e = error_of(&GOOD.replace("authors = [\"ada-lovelace\", \"alan-turing\"]", "authors = []"));
        assert_eq!(e.field.as_deref(), Some("authors"), "{e}");
        let e = error_of(&GOOD.replace("title = \"Ports and Harbours\"", "title = \"a\u{0}b\""));
        assert_eq!(e.field.as_deref(), Some("title"), "{e}");
    }

    #[test]
    fn written_files_parse_back_to_the_same_paper() {
        let k = kinds();
        let input = parse_paper_file("x.md", GOOD, &rules(&k)).expect("valid");
        let paper = crate::domain::Paper {
            meta: crate::domain::PaperMeta {
                translation_of: Some("ports-original".into()),
                comments: crate::domain::CommentsMode::Closed,
                comment_count: 0,
                trashed_at: None,
                id: 1,
                slug: input.slug.clone(),
                title: "Quotes \" and \\ backslashes\nand a newline".into(),
                subtitle: input.subtitle.clone(),
                kind: input.kind.clone(),
                summary: "+++ not a fence".into(),
                language: input.language.clone(),
                status: input.status,
                published_at: input.published_at,
                updated_at: input.published_at.unwrap_or(rules(&k).now),
                canonical_url: input.canonical_url.clone(),
                word_count: 3,
                authors: input
                    .authors
                    .iter()
                    .map(|s| crate::domain::AuthorRef {
                        slug: s.clone(),
                        name: s.clone(),
                        affiliation: None,
                    })
                    .collect(),
                topics: input
                    .topics
                    .iter()
                    .map(|s| crate::domain::TopicRef {
                        slug: s.clone(),
                        name: s.clone(),
                    })
                    .collect(),
            },
            body: "+++\nA body that starts like a fence.\n".into(),
            media: Vec::new(),
        };
        let text = write_paper_file(&paper);
        let back = parse_paper_file("x.md", &text, &rules(&k)).expect("parses back");
        assert_eq!(back.title, paper.meta.title.trim());
        assert_eq!(back.summary, "+++ not a fence");
        assert_eq!(back.body, paper.body);
        assert_eq!(back.authors, input.authors);
        assert_eq!(back.published_at, input.published_at);
        assert_eq!(back.canonical_url, input.canonical_url);
        assert_eq!(back.translation_of.as_deref(), Some("ports-original"));
        assert_eq!(back.comments, crate::domain::CommentsMode::Closed);
    }

    #[test]
    fn values_holding_fences_quotes_and_line_breaks_stay_values() {
        let k = kinds();
        let mut paper = parse_paper_file("x.md", GOOD, &rules(&k)).expect("valid");
        paper.summary = "Line one\n+++\nstatus = \"published\"\n+++\n\"quoted\" \\ back\tslash".into();
        paper.subtitle = Some("'''".into());
        let text = paper_file_text(&paper);
        assert_eq!(text.matches("\n+++\n").count(), 1, "one closing fence: {text}");
        let back = parse_paper_file("x.md", &text, &rules(&k)).expect("parses back");
        assert_eq!(back.summary, paper.summary.trim());
        assert_eq!(back.subtitle, paper.subtitle);
        assert_eq!(back.status, paper.status);
    }

    #[test]
    fn control_characters_in_the_text_are_refused_with_their_line() {
        let k = kinds();
        for c in ['\u{0}', '\u{1b}', '\u{85}'] {
            let text = format!("{GOOD}second line\nthird{c}line\n");
            let errors = parse_paper_file("x.md", &text, &rules(&k)).expect_err("refused");
            let line = GOOD.lines().count() + 2;
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(
                (errors[0].line, errors[0].field.as_deref()),
                (line, Some("body")),
                "{errors:?}"
            );
            assert!(errors[0].message.contains("control character"), "{errors:?}");
        }
        let fine = format!("{GOOD}tabs\there\r\nand CR LF\n");
        assert!(parse_paper_file("x.md", &fine, &rules(&k)).is_ok());
    }

    #[test]
    fn comments_are_open_unless_the_file_says() {
        let k = kinds();
        assert_eq!(
            parse_paper_file("x.md", GOOD, &rules(&k)).expect("valid").comments,
            crate::domain::CommentsMode::Open
        );
        let hidden = GOOD.replacen("+++\n", "+++\ncomments = \"hidden\"\n", 1);
        assert_eq!(
            parse_paper_file("x.md", &hidden, &rules(&k)).expect("valid").comments,
            crate::domain::CommentsMode::Hidden
        );
        let bad = GOOD.replacen("+++\n", "+++\ncomments = \"off\"\n", 1);
        let errors = parse_paper_file("x.md", &bad, &rules(&k)).expect_err("invalid");
        assert_eq!((errors[0].line, errors[0].field.as_deref()), (2, Some("comments")));
        assert!(
            errors[0].message.contains("use open, closed or hidden"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn translations_name_another_paper_by_slug() {
        let k = kinds();
        let with = |line: &str| GOOD.replacen("+++\n", &format!("+++\n{line}\n"), 1);
        let p = parse_paper_file("x.md", &with("translation_of = \"ports-in-english\""), &rules(&k)).expect("valid");
        assert_eq!(p.translation_of.as_deref(), Some("ports-in-english"));
        let e = error_of(&with("translation_of = \"Not A Slug!\""));
        assert_eq!(e.field.as_deref(), Some("translation_of"), "{e}");
        assert!(e.message.contains("slug"), "{e}");
        let own = format!("translation_of = \"{}\"", p.slug);
        let e = error_of(&with(&own));
        assert!(e.message.contains("itself"), "{e}");
    }

    #[test]
    fn crlf_and_bom_files_parse() {
        let k = kinds();
        let text = format!("\u{feff}{}", GOOD.replace('\n', "\r\n"));
        let p = parse_paper_file("x.md", &text, &rules(&k)).expect("valid");
        assert_eq!(p.slug, "ports-harbours");
    }

    #[test]
    fn every_problem_of_a_file_is_reported_in_one_run() {
        let k = kinds();
        let text = "+++\ntitle = \"Ports\"\nslug = \"Ports and Harbours\"\nkind = \"blog\"\nsummary = \"S\"\nauthor = [\"ada\"]\npublished_at = \"last tuesday\"\nstatus = \"published\"\n+++\nBody\n";
        let errs = parse_paper_file("x.md", text, &rules(&k)).expect_err("invalid");
        let found: Vec<_> = errs
            .iter()
            .map(|e| (e.line, e.field.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            found,
            [
                (1, "authors"),
                (3, "slug"),
                (4, "kind"),
                (6, "author"),
                (7, "published_at")
            ],
            "{errs:#?}"
        );
        let author = errs
            .iter()
            .find(|e| e.field.as_deref() == Some("author"))
            .expect("author");
        assert_eq!(author.message, "unknown key: did you mean `authors`?");
        let far = error_of(&GOOD.replacen("+++\n", "+++\ncolour = \"red\"\n", 1));
        assert!(far.message.contains("the keys are title, subtitle"), "{far}");
    }

    #[test]
    fn syntax_problems_do_not_hide_the_other_fields() {
        let k = kinds();
        let text =
            "+++\ntitle = \"Ports\"\ntitle = \"Again\"\nkind = \"blog\"\nsummary = \"S\"\nauthors = [\"a\"]\n+++\n";
        let errs = parse_paper_file("x.md", text, &rules(&k)).expect_err("invalid");
        let found: Vec<_> = errs
            .iter()
            .map(|e| (e.line, e.field.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(found, [(3, "title"), (4, "kind")], "{errs:#?}");
        assert!(errs[0].message.contains("set twice"), "{}", errs[0]);
    }

    #[test]
    fn several_mistakes_are_all_reported() {
        let k = kinds();
        let text = GOOD
            .replace("policy brief", "blog")
            .replace("\"published\"", "\"live\"");
        let errs = parse_paper_file("x.md", &text, &rules(&k)).expect_err("invalid");
        let fields: Vec<_> = errs.iter().filter_map(|e| e.field.as_deref()).collect();
        assert_eq!(fields, ["kind", "status"]);
    }
}

#[cfg(test)]
mod robustness {
    use super::*;

    /// Random files built from front matter fragments, odd characters and
    /// broken syntax: the parser must answer every one, never panic.
    #[test]
    fn arbitrary_files_never_panic() {
        const PIECES: &[&str] = &[
            "+++",
            "+++\n",
            "\n",
            "\r\n",
            "title = ",
            "\"",
            "'''",
            "[",
            "]",
            "=",
            "kind = \"report\"",
            "authors = [\"a\"]",
            "summary = \"s\"",
            "published_at = ",
            "2026-01-05T10:00:00Z",
            "2026-13-45",
            "status = \"published\"",
            "slug = \"",
            "é",
            "נ",
            "ب",
            "\u{202e}",
            "\u{0}",
            "\u{feff}",
            "🚢",
            "#",
            "\\",
            "\\u",
            "{",
            "}",
            ",",
            "1e999",
            "-",
            "language = \"he\"",
            "[^1]",
            "canonical_url = \"javascript:x\"",
        ];
        let kinds: Vec<String> = crate::domain::DEFAULT_KINDS.iter().map(|s| s.to_string()).collect();
        let rules = PaperRules {
            kinds: &kinds,
            default_language: "en",
            now: OffsetDateTime::UNIX_EPOCH,
        };
        for text in crate::test_support::random_documents(PIECES, 0x2545_F491_4F6C_DD1D, 3000, 40) {
            match parse_paper_file("fuzz.md", &text, &rules) {
                Ok(p) => assert!(crate::domain::validate_slug(&p.slug).is_ok(), "{text:?}"),
                Err(errors) => {
                    assert!(!errors.is_empty());
                    for e in errors {
                        assert!(
                            e.line >= 1 && e.line <= text.lines().count().max(1) + 1,
                            "{e} for {text:?}"
                        );
                    }
                }
            }
        }
    }
}
