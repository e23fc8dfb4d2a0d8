//! The content model: papers, authors and topics, their validation, slugs,
//! languages and the paper file format. Pure data and rules; no I/O.

mod campaign;
mod comment;
mod front_matter;
mod media;
mod subscriber;
mod user;

pub use campaign::{AttemptResult, CampaignKind, CampaignStatus, DeliveryStatus, MessageKind, retry_after};
pub use comment::{
    Comment, CommentForm, CommentInput, CommentStatus, CommentsMode, FieldError, ModerationRules, PublicComment,
    Verdict, comment_html, link_count, moderate, truncate_ip, validate_comment, validate_email,
};
pub use front_matter::{FrontMatterError, PaperRules, paper_file_text, parse_paper_file, write_paper_file};
pub use media::{
    MAX_MEDIA_BYTES, MediaFile, MediaInput, MediaKind, MediaMeta, check_media, check_media_size, media_name, media_path,
};
pub use subscriber::{
    Consent, MAX_SUBSCRIBER_EMAIL, MAX_SUBSCRIBER_NAME, SubscriberInput, SubscriberStatus, validate_subscriber_email,
    validate_subscriber_name,
};
pub use user::{
    Action, MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS, PaperAction, Role, validate_password, validate_user_name,
};

use serde::Serialize;
use std::fmt;
use std::str::FromStr;
use time::OffsetDateTime;

/// A paper in a translation family: enough to link it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TranslationRef {
    pub slug: String,
    pub title: String,
    pub language: String,
}

/// A stretch of a search result's snippet, matched or not: what the store
/// cuts from a paper's text and the search page marks up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SnippetPart {
    pub text: String,
    pub hit: bool,
}

/// Line numbers of byte offsets in one text, for error messages. The
/// newlines are counted once, block by block, and each look-up counts only
/// within one block: a file with a hundred thousand problems costs no more
/// than its length (counting newlines from the start for each was
/// quadratic), and a file of nothing but newlines costs no more than any
/// other of its size (an index of every newline grew with their number).
pub struct LineIndex<'t> {
    text: &'t [u8],
    /// Newlines before the start of each block, and last all of them:
    /// the count for an offset at the very end, even one on a block's
    /// edge, is looked up like any other, not counted anew.
    before_block: Vec<usize>,
}

/// Bytes per block: few enough to count in a moment, many enough that the
/// index is a small fraction of the text.
const LINE_BLOCK: usize = 256;

fn newlines_in(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| **b == b'\n').count()
}

impl<'t> LineIndex<'t> {
    pub fn new(text: &'t [u8]) -> LineIndex<'t> {
        let mut before_block = Vec::with_capacity(text.len() / LINE_BLOCK + 2);
        let mut seen = 0;
        for block in text.chunks(LINE_BLOCK) {
            before_block.push(seen);
            seen += newlines_in(block);
        }
        before_block.push(seen);
        LineIndex { text, before_block }
    }

    /// The line (from 1) that the byte at `offset` stands on (offsets past
    /// the end stand on the last line).
    pub fn line_at(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        let block = offset / LINE_BLOCK;
        let before = self
            .before_block
            .get(block)
            .or(self.before_block.last())
            .copied()
            .unwrap_or(0);
        before + newlines_in(&self.text[block * LINE_BLOCK..offset]) + 1
    }
}

/// The kinds a site offers when its config names none.
pub const DEFAULT_KINDS: [&str; 4] = ["position paper", "policy brief", "report", "commentary"];

/// Where a paper stands in its life: only `published` and `scheduled` papers
/// whose time has come are shown to readers; `archived` papers keep their URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Draft,
    Scheduled,
    Published,
    Archived,
}

impl Status {
    pub const ALL: [Status; 4] = [Status::Draft, Status::Scheduled, Status::Published, Status::Archived];

    /// The status of a paper stored as `self` with `published_at`, as
    /// readers see it at `now`: a scheduled paper whose time has come is
    /// published, and a published one dated later is scheduled. Every
    /// place that shows a status shows this one.
    pub fn seen_at(self, published_at: Option<OffsetDateTime>, now: OffsetDateTime) -> Status {
        match self {
            Status::Published | Status::Scheduled => match published_at {
                Some(at) if at <= now => Status::Published,
                _ => Status::Scheduled,
            },
            other => other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Scheduled => "scheduled",
            Status::Published => "published",
            Status::Archived => "archived",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a status word that is not one of the four.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown status {0:?}: use one of draft, scheduled, published, archived")]
pub struct UnknownStatus(pub String);

impl FromStr for Status {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

/// Writing direction of a paper, derived from its language so that authors
/// never have to set it by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Ltr,
    Rtl,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ltr => "ltr",
            Direction::Rtl => "rtl",
        }
    }
}

/// Languages written right to left (primary subtags).
const RTL_LANGUAGES: [&str; 12] = ["he", "ar", "fa", "ur", "yi", "ps", "sd", "ug", "dv", "ckb", "syr", "iw"];

/// Direction of a BCP 47 tag: an explicit script subtag wins (`az-Arab` is
/// right to left, `ku-Latn` left to right), then the primary language.
pub fn direction_of(language: &str) -> Direction {
    let mut parts = language.split(['-', '_']);
    let primary = parts.next().unwrap_or("").to_ascii_lowercase();
    for part in parts {
        if part.len() == 4 && part.chars().all(|c| c.is_ascii_alphabetic()) {
            return match part.to_ascii_lowercase().as_str() {
                "arab" | "hebr" | "syrc" | "thaa" | "nkoo" | "adlm" | "rohg" => Direction::Rtl,
                _ => Direction::Ltr,
            };
        }
    }
    if RTL_LANGUAGES.contains(&primary.as_str()) {
        Direction::Rtl
    } else {
        Direction::Ltr
    }
}

/// Checks the shape of a BCP 47 language tag (`en`, `pt-BR`, `zh-Hant-TW`,
/// `az-Arab`): a 2–3 letter language, then subtags of 1–8 letters or digits.
pub fn validate_language(tag: &str) -> Result<(), String> {
    let fail = || {
        Err(format!(
            "{tag:?} is not a BCP 47 language tag: use a code such as \"en\", \"fr\", \"pt-BR\" or \"he\""
        ))
    };
    if tag.is_empty() || tag.len() > 35 {
        return fail();
    }
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or("");
    if !(2..=3).contains(&primary.len()) || !primary.chars().all(|c| c.is_ascii_alphabetic()) {
        return fail();
    }
    for part in parts {
        if !(1..=8).contains(&part.len()) || !part.chars().all(|c| c.is_ascii_alphanumeric()) {
            return fail();
        }
    }
    Ok(())
}

/// Makes a URL slug from a title: lower case letters and digits of any
/// script, words joined by hyphens, at most 80 characters.
pub fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    slugify_into(text, &mut slug);
    slug
}

/// `slugify`, written into `slug` (cleared first): for callers that make
/// a slug per item of a long list and can keep one buffer for all.
pub fn slugify_into(text: &str, slug: &mut String) {
    slug.clear();
    let mut pending_dash = false;
    for c in text.chars() {
        let c = fold_latin(c);
        if c.is_alphanumeric() {
            if pending_dash && !slug.is_empty() {
                slug.push('-');
            }
            pending_dash = false;
            slug.extend(c.to_lowercase());
        } else if c != '\'' && c != '’' {
            pending_dash = true;
        }
    }
    if let Some((cut, _)) = slug.char_indices().nth(80) {
        slug.truncate(cut);
    }
    slug.truncate(slug.trim_end_matches('-').len());
}

/// Folds common accented Latin letters to their base letter, so that
/// "Café Économie" becomes `cafe-economie`, as readers type it.
fn fold_latin(c: char) -> char {
    if c.is_ascii() {
        return c;
    }
    match c.to_lowercase().next().unwrap_or(c) {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ě' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'ī' => 'i',
        'ñ' | 'ń' | 'ň' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' => 'u',
        'ý' | 'ÿ' => 'y',
        'ž' | 'ź' | 'ż' => 'z',
        'š' | 'ś' => 's',
        'ł' => 'l',
        'đ' => 'd',
        _ => c,
    }
}

/// Checks that a slug is safe in a URL path segment: lower-case letters or
/// digits of any script and single hyphens, 1–200 characters.
pub fn validate_slug(slug: &str) -> Result<(), String> {
    let ok = !slug.is_empty()
        && slug.chars().count() <= 200
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--")
        && slug
            .chars()
            .all(|c| c == '-' || (c.is_alphanumeric() && !c.is_uppercase()));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{slug:?} is not a valid slug: use lower-case letters, digits and single hyphens, such as \"ports-and-harbours\""
        ))
    }
}

/// The name an author or topic gets when a paper names it before it
/// exists: the slug as written, since a slug cannot tell "Jean-Paul" from
/// "Jean Paul" or "COVID-19" from "Covid 19". Whoever adds the paper is
/// told, and names it with `author add` / `topic add`.
pub fn name_from_slug(slug: &str) -> String {
    slug.to_owned()
}

/// Checks that an external URL is absolute http(s), so that a canonical link
/// or an author's link can never carry `javascript:` or a relative path.
pub fn validate_http_url(url: &str) -> Result<(), String> {
    let lower = url.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    let ok = match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !url.chars().any(|c| c.is_whitespace() || c.is_control()) && url.len() <= 2000
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{url:?} is not an absolute http(s) URL: write it as \"https://example.org/path\""
        ))
    }
}

/// A paper as submitted: from a paper file or a command, before storage.
#[derive(Clone, Debug, PartialEq)]
pub struct PaperInput {
    pub slug: String,
    pub title: String,
    pub subtitle: Option<String>,
    pub kind: String,
    pub summary: String,
    pub body: String,
    /// Author slugs, in byline order.
    pub authors: Vec<String>,
    /// Topic slugs, in the order given.
    pub topics: Vec<String>,
    pub language: String,
    pub status: Status,
    pub published_at: Option<OffsetDateTime>,
    pub canonical_url: Option<String>,
    /// Slug of the paper this one translates, if it is a translation.
    pub translation_of: Option<String>,
    /// Whether readers may comment.
    pub comments: CommentsMode,
    /// The images the body shows, stored with the paper.
    pub media: Vec<MediaInput>,
}

/// A paper's byline entry: enough of an author to print and link a name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuthorRef {
    pub slug: String,
    pub name: String,
    pub affiliation: Option<String>,
}

/// A paper's topic entry: enough to print and link a topic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TopicRef {
    pub slug: String,
    pub name: String,
}

/// Everything about a paper but its body: what lists, feeds and the
/// command line need.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PaperMeta {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub subtitle: Option<String>,
    pub kind: String,
    pub summary: String,
    pub language: String,
    pub status: Status,
    #[serde(with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub canonical_url: Option<String>,
    /// Slug of the paper this one translates, if it is a translation.
    pub translation_of: Option<String>,
    /// Whether readers may comment, see comments, or neither.
    pub comments: CommentsMode,
    /// Approved comments.
    pub comment_count: u64,
    /// When it was moved to the trash (readers no longer see it); None
    /// while it is not there.
    #[serde(with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub trashed_at: Option<OffsetDateTime>,
    pub word_count: i64,
    pub authors: Vec<AuthorRef>,
    pub topics: Vec<TopicRef>,
}

/// "Title: Subtitle", or the title alone: how citations, feeds, search
/// and link previews name a paper.
pub fn full_title(title: &str, subtitle: Option<&str>) -> String {
    match subtitle {
        Some(sub) => format!("{title}: {sub}"),
        None => title.to_owned(),
    }
}

impl PaperMeta {
    /// The title with its subtitle, see [`full_title`].
    pub fn full_title(&self) -> String {
        full_title(&self.title, self.subtitle.as_deref())
    }

    pub fn direction(&self) -> Direction {
        direction_of(&self.language)
    }

    /// Whether a reader may see the paper at `now`: published or scheduled,
    /// and its time has come. Archived papers stay reachable by URL.
    pub fn is_public_at(&self, now: OffsetDateTime) -> bool {
        if self.trashed_at.is_some() {
            return false;
        }
        match self.status {
            Status::Published | Status::Scheduled | Status::Archived => self.published_at.is_some_and(|at| at <= now),
            Status::Draft => false,
        }
    }

    /// The status readers see at `now`, see [`Status::seen_at`].
    pub fn status_at(&self, now: OffsetDateTime) -> Status {
        self.status.seen_at(self.published_at, now)
    }
}

/// A whole paper, with its Markdown body.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Paper {
    #[serde(flatten)]
    pub meta: PaperMeta,
    pub body: String,
    /// The images stored with it, without their bytes.
    pub media: Vec<MediaMeta>,
}

impl Paper {
    /// The paper as it would be added again: its fields and body, with
    /// bylines and topics by slug, and no image bytes.
    pub fn to_input(&self) -> PaperInput {
        let m = &self.meta;
        PaperInput {
            slug: m.slug.clone(),
            title: m.title.clone(),
            subtitle: m.subtitle.clone(),
            kind: m.kind.clone(),
            summary: m.summary.clone(),
            body: self.body.clone(),
            authors: m.authors.iter().map(|a| a.slug.clone()).collect(),
            topics: m.topics.iter().map(|t| t.slug.clone()).collect(),
            language: m.language.clone(),
            status: m.status,
            published_at: m.published_at,
            canonical_url: m.canonical_url.clone(),
            translation_of: m.translation_of.clone(),
            comments: m.comments,
            media: Vec::new(),
        }
    }
}

/// A link on an author's page (personal site, ORCID, social profile).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AuthorLink {
    pub label: String,
    pub url: String,
}

/// An author as stored and shown on their page.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Author {
    pub slug: String,
    pub name: String,
    pub affiliation: Option<String>,
    /// The ORCID iD, bare (`0000-0002-1825-0097`).
    pub orcid: Option<String>,
    /// Short biography in Markdown.
    pub bio: String,
    pub links: Vec<AuthorLink>,
    /// Number of papers a reader can see (0 where the query did not count).
    pub paper_count: i64,
}

/// A topic as stored and shown on its page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Topic {
    pub slug: String,
    pub name: String,
    pub description: String,
    /// Number of papers a reader can see.
    pub paper_count: i64,
}

/// An author as submitted by a command, before storage.
#[derive(Clone, Debug, PartialEq)]
pub struct AuthorInput {
    pub slug: String,
    pub name: String,
    pub affiliation: Option<String>,
    /// The ORCID iD, bare, as [`parse_orcid`] gives it.
    pub orcid: Option<String>,
    pub bio: String,
    pub links: Vec<AuthorLink>,
}

impl AuthorInput {
    /// Checks the fields a stranger could get wrong; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        validate_slug(&self.slug).map_err(|e| format!("slug: {e}"))?;
        if self.name.trim().is_empty() || self.name.chars().count() > 200 {
            return Err("name: give a name of 1 to 200 characters".into());
        }
        for link in &self.links {
            validate_http_url(&link.url).map_err(|e| format!("link {:?}: {e}", link.label))?;
        }
        if let Some(orcid) = &self.orcid
            && parse_orcid(orcid).as_deref() != Ok(orcid.as_str())
        {
            return Err(format!(
                "orcid: {orcid:?} is not a bare ORCID iD such as 0000-0002-1825-0097"
            ));
        }
        Ok(())
    }
}

/// An ORCID iD as people paste it (`0000-0002-1825-0097`, or its
/// `https://orcid.org/…` address), checked (four groups of four, the last
/// character the ISO 7064 MOD 11-2 check digit) and given back bare.
pub fn parse_orcid(text: &str) -> Result<String, String> {
    let t = text.trim();
    let bare = ["https://orcid.org/", "http://orcid.org/", "orcid.org/"]
        .iter()
        .find_map(|prefix| t.strip_prefix(prefix))
        .unwrap_or(t);
    let example = "write it as 0000-0002-1825-0097 or https://orcid.org/0000-0002-1825-0097";
    let chars: Vec<char> = bare.chars().collect();
    let shaped = chars.len() == 19
        && chars.iter().enumerate().all(|(i, c)| match i {
            4 | 9 | 14 => *c == '-',
            18 => c.is_ascii_digit() || *c == 'X',
            _ => c.is_ascii_digit(),
        });
    if !shaped {
        return Err(format!("{text:?} is not an ORCID iD: {example}"));
    }
    let mut total = 0u32;
    for c in chars[..18].iter().filter(|c| c.is_ascii_digit()) {
        total = (total + c.to_digit(10).unwrap_or(0)) * 2;
    }
    let check = (12 - total % 11) % 11;
    let expected = if check == 10 {
        'X'
    } else {
        char::from_digit(check, 10).unwrap_or('0')
    };
    if chars[18] != expected {
        return Err(format!(
            "{text:?} is not an ORCID iD: its last character should be {expected} (a digit mistyped?); {example}"
        ));
    }
    Ok(bare.to_owned())
}

/// A topic as submitted by a command, before storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicInput {
    pub slug: String,
    pub name: String,
    pub description: String,
}

impl TopicInput {
    /// Checks the fields a stranger could get wrong; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        validate_slug(&self.slug).map_err(|e| format!("slug: {e}"))?;
        if self.name.trim().is_empty() || self.name.chars().count() > 200 {
            return Err("name: give a name of 1 to 200 characters".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orcid_ids_are_checked_by_their_check_digit_and_kept_bare() {
        // ORCID's own examples, one ending in X.
        for (given, bare) in [
            ("0000-0002-1825-0097", "0000-0002-1825-0097"),
            (" https://orcid.org/0000-0001-5109-3700 ", "0000-0001-5109-3700"),
            ("orcid.org/0000-0002-1694-233X", "0000-0002-1694-233X"),
        ] {
            assert_eq!(parse_orcid(given).as_deref(), Ok(bare), "{given:?}");
        }
        let mistyped = parse_orcid("0000-0002-1825-0098").expect_err("wrong check digit");
        assert!(mistyped.contains("should be 7"), "{mistyped}");
        for bad in [
            "",
            "0000000218250097",
            "0000-0002-1825-009",
            "0000-0002-1825-00977",
            "0000-0002-1825-009x",
            "https://evil.example/0000-0002-1825-0097",
            "0000-0002-1825-0097/../x",
            "０000-0002-1825-0097",
            "javascript:alert(1)",
        ] {
            assert!(parse_orcid(bad).is_err(), "{bad:?}");
        }
        let mut a = AuthorInput {
            slug: "ada".into(),
            name: "Ada".into(),
            affiliation: None,
            orcid: Some("https://orcid.org/0000-0002-1825-0097".into()),
            bio: String::new(),
            links: Vec::new(),
        };
        assert!(a.validate().is_err(), "stored bare only");
        a.orcid = Some("0000-0002-1825-0097".into());
        assert_eq!(a.validate(), Ok(()));
    }

    #[test]
    fn status_is_what_readers_see_at_the_time() {
        let now = time::macros::datetime!(2026-12-03 12:00 UTC);
        let past = Some(time::macros::datetime!(2026-12-01 09:00 UTC));
        let later = Some(time::macros::datetime!(2026-12-09 09:00 UTC));
        assert_eq!(Status::Scheduled.seen_at(past, now), Status::Published);
        assert_eq!(Status::Scheduled.seen_at(later, now), Status::Scheduled);
        assert_eq!(Status::Published.seen_at(later, now), Status::Scheduled);
        assert_eq!(Status::Published.seen_at(past, now), Status::Published);
        assert_eq!(Status::Draft.seen_at(past, now), Status::Draft);
        assert_eq!(Status::Archived.seen_at(past, now), Status::Archived);
    }

    #[test]
    fn line_numbers_match_counting_newlines() {
        assert_eq!(super::LineIndex::new(b"").line_at(0), 1);
        // A short text, and one across many blocks and at their edges.
        let long: String = (0..3000)
            .map(|i| if i % 7 == 0 || i % 256 == 255 { '\n' } else { 'x' })
            .collect();
        // The long text cut to a whole number of blocks: its end lies on
        // a block's edge.
        for text in ["one\ntwo\n\nfour\n", long.as_str(), &long[..512]] {
            let lines = super::LineIndex::new(text.as_bytes());
            for offset in 0..=text.len() {
                assert_eq!(
                    lines.line_at(offset),
                    text[..offset].matches('\n').count() + 1,
                    "{offset}"
                );
            }
            // Past the end: the last line.
            assert_eq!(lines.line_at(text.len() + 10), text.matches('\n').count() + 1);
        }
    }

    #[test]
    fn direction_follows_language_and_script() {
        for rtl in ["he", "ar", "fa", "ur", "ar-EG", "he-IL", "az-Arab", "fa_IR"] {
            assert_eq!(direction_of(rtl), Direction::Rtl, "{rtl}");
        }
        for ltr in ["en", "fr-CA", "ku-Latn", "de", "hr", "", "arn"] {
            assert_eq!(direction_of(ltr), Direction::Ltr, "{ltr}");
        }
    }

    #[test]
    fn language_tags_are_checked() {
        for ok in ["en", "pt-BR", "zh-Hant-TW", "he", "es-419", "sgn-BE-FR"] {
            assert!(validate_language(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "e",
            "english language",
            "en_US",
            "en--US",
            "<script>",
            "1en",
            "en-toolongsubtag",
        ] {
            assert!(validate_language(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn slugs_are_made_readable() {
        assert_eq!(slugify("Ports and Harbours"), "ports-and-harbours");
        assert_eq!(slugify("  Why small ports matter!? "), "why-small-ports-matter");
        assert_eq!(slugify("Café Économie 2026"), "cafe-economie-2026");
        assert_eq!(slugify("The State’s Role"), "the-states-role");
        assert_eq!(slugify("נמלים וחופים"), "נמלים-וחופים");
        assert_eq!(slugify("!!!"), "");
        assert!(slugify(&"word ".repeat(100)).chars().count() <= 80);
        assert!(validate_slug(&slugify("Ports & Harbours: a <b>study</b>")).is_ok());
    }

    #[test]
    fn slugs_are_validated() {
        for ok in ["a", "ports-harbours", "2026-outlook", "נמלים"] {
            assert!(validate_slug(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "a-", "a--b", "A", "a b", "../etc", "a/b", "a.pdf", "%2e"] {
            assert!(validate_slug(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_come_from_slugs() {
        assert_eq!(name_from_slug("jean-paul-sartre"), "jean-paul-sartre");
        assert_eq!(name_from_slug("covid-19"), "covid-19");
    }

    #[test]
    fn only_absolute_http_urls_pass() {
        assert!(validate_http_url("https://example.org/a?b#c").is_ok());
        assert!(validate_http_url("http://example.org").is_ok());
        for bad in [
            "javascript:alert(1)",
            "/relative",
            "https://",
            "ftp://x",
            "https://a b",
            "data:text/html,x",
        ] {
            assert!(validate_http_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn statuses_round_trip() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
        assert!("Published".parse::<Status>().is_err());
    }
}
