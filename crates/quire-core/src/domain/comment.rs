//! Readers' comments: what a submission must hold, how its text is shown,
//! and the moderation rules that decide where it lands. WordPress's rules
//! and limits, because its users know them. Pure; no I/O.

use serde::Serialize;
use std::fmt;

/// Longest name, email, website and text, as WordPress allows
/// (`wp_get_comment_fields_max_lengths`), in characters.
pub const MAX_NAME: usize = 245;
pub const MAX_EMAIL: usize = 100;
pub const MAX_URL: usize = 200;
pub const MAX_TEXT: usize = 65_525;

/// Where a comment stands. Readers see only approved ones (and the author
/// of a pending one, their own).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CommentStatus {
    Pending,
    Approved,
    Spam,
    Trash,
}

impl CommentStatus {
    pub const ALL: [CommentStatus; 4] = [
        CommentStatus::Pending,
        CommentStatus::Approved,
        CommentStatus::Spam,
        CommentStatus::Trash,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CommentStatus::Pending => "pending",
            CommentStatus::Approved => "approved",
            CommentStatus::Spam => "spam",
            CommentStatus::Trash => "trash",
        }
    }
}

impl fmt::Display for CommentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for CommentStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CommentStatus::ALL
            .into_iter()
            .find(|c| c.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| format!("{s:?} is not a comment status: use pending, approved, spam or trash"))
    }
}

/// A comment form as a reader filled it in, before any check.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommentForm {
    pub name: String,
    pub email: String,
    pub url: String,
    pub text: String,
    /// The comment replied to, as the form sent it.
    pub parent: String,
}

/// A field of the form and what is wrong with it, to show beside it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// `name`, `email`, `url`, `text` or `parent`.
    pub field: &'static str,
    pub message: String,
}

/// A submission that passed every check of its own fields, cleaned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommentInput {
    pub name: String,
    pub email: String,
    pub url: Option<String>,
    pub text: String,
    pub parent_id: Option<i64>,
}

/// A stored comment with everything a moderator sees. Pages get only
/// [`PublicComment`], which has no email or IP address to leak.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Comment {
    pub id: i64,
    /// The paper's slug.
    pub paper: String,
    pub parent_id: Option<i64>,
    pub status: CommentStatus,
    pub name: String,
    pub email: String,
    pub url: Option<String>,
    pub text: String,
    /// Full while moderation may need it, then truncated.
    pub ip: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

/// A comment as readers see it: no email, no IP address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PublicComment {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub status: CommentStatus,
    pub name: String,
    pub url: Option<String>,
    pub text: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

impl From<Comment> for PublicComment {
    fn from(c: Comment) -> Self {
        PublicComment {
            id: c.id,
            parent_id: c.parent_id,
            status: c.status,
            name: c.name,
            url: c.url,
            text: c.text,
            created_at: c.created_at,
        }
    }
}

/// An IP address with its host part dropped, for keeping past the
/// moderation period: IPv4 keeps 24 bits, IPv6 48, as analytics tools
/// anonymise. Anything else is dropped whole.
pub fn truncate_ip(ip: &str) -> String {
    match ip.trim().parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0")
        }
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0).to_string()
        }
        Err(_) => String::new(),
    }
}

/// Characters that reorder text on screen (bidirectional embeddings,
/// overrides and isolates): in a name or comment they can disguise what
/// the text says, so they are removed. Right-to-left text needs none of
/// them to show correctly.
pub(super) fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Drops control characters (keeping line breaks and tabs in the text) and
/// bidi controls, turns CRLF into LF, trims.
fn clean(s: &str, multiline: bool) -> String {
    let s = s.replace("\r\n", "\n").replace('\r', "\n");
    let kept: String = s
        .chars()
        .filter(|c| !is_bidi_control(*c))
        .filter(|c| !c.is_control() || (multiline && (*c == '\n' || *c == '\t')))
        .collect();
    kept.trim().to_owned()
}

/// Checks an email address the way mail software will accept it: one `@`,
/// a local part and a domain with a dot, no spaces or control characters,
/// nothing a header could be split on.
pub fn validate_email(email: &str) -> Result<(), String> {
    let fix = "write it as name@example.org";
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Err(format!("is not an email address: {fix}"));
    };
    if local.is_empty() || domain.is_empty() || local.contains('@') {
        return Err(format!("is not an email address: {fix}"));
    }
    if email
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "<>()[]\\,;:\"".contains(c))
    {
        return Err(format!("has characters an address cannot hold: {fix}"));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(format!("has no valid domain after the @: {fix}"));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(format!("is not an email address: {fix}"));
    }
    Ok(())
}

/// A commenter's website as a link: http(s) only; a bare `example.org`
/// gets `https://`, as WordPress adds a scheme.
fn normalise_url(url: &str) -> Result<String, String> {
    let fix = "write it as https://example.org, or leave it empty";
    let lower = url.to_ascii_lowercase();
    let full = if lower.starts_with("http://") || lower.starts_with("https://") {
        url.to_owned()
    } else if url.contains(':') && !url.contains('.') || lower.contains("script:") || lower.starts_with("data:") {
        return Err(format!("is not a web address: {fix}"));
    } else {
        format!("https://{url}")
    };
    if full
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "<>\"'`\\".contains(c))
    {
        return Err(format!("has characters a web address cannot hold: {fix}"));
    }
    crate::domain::validate_http_url(&full).map_err(|_| format!("is not a web address: {fix}"))?;
    let host = full
        .split("://")
        .nth(1)
        .unwrap_or("")
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or("");
    if host.is_empty() || !host.contains('.') && !host.starts_with('[') {
        return Err(format!("has no site name: {fix}"));
    }
    Ok(full)
}

/// Checks and cleans a submission; every problem is reported, each with
/// its field, so the form can show them all at once.
pub fn validate_comment(form: &CommentForm) -> Result<CommentInput, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut err = |field: &'static str, message: String| errors.push(FieldError { field, message });
    let name = clean(&form.name, false);
    let email = clean(&form.email, false);
    let url = clean(&form.url, false);
    let text = clean(&form.text, true);
    let too_long =
        |what: &str, n: usize, max: usize| format!("is {n} characters long; {what} may have at most {max}: shorten it");
    if name.is_empty() {
        err("name", "is required: write the name to show with your comment".into());
    } else if name.chars().count() > MAX_NAME {
        err("name", too_long("a name", name.chars().count(), MAX_NAME));
    }
    if email.is_empty() {
        err("email", "is required: it is never published".into());
    } else if email.chars().count() > MAX_EMAIL {
        err("email", too_long("an address", email.chars().count(), MAX_EMAIL));
    } else if let Err(m) = validate_email(&email) {
        err("email", m);
    }
    let url = if url.is_empty() {
        None
    } else if url.chars().count() > MAX_URL {
        err("url", too_long("a website address", url.chars().count(), MAX_URL));
        None
    } else {
        match normalise_url(&url) {
            Ok(u) => Some(u),
            Err(m) => {
                err("url", m);
                None
            }
        }
    };
    if text.is_empty() {
        err("text", "is required: write your comment".into());
    } else if text.chars().count() > MAX_TEXT {
        err("text", too_long("a comment", text.chars().count(), MAX_TEXT));
    }
    let parent = form.parent.trim();
    let parent_id = if parent.is_empty() || parent == "0" {
        None
    } else {
        match parent.parse::<i64>() {
            Ok(id) if id > 0 => Some(id),
            _ => {
                err(
                    "parent",
                    "names no comment: reply from the Reply link under a comment".into(),
                );
                None
            }
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(CommentInput {
        name,
        email: email.to_lowercase(),
        url,
        text,
        parent_id,
    })
}

/// The web addresses in a comment's text, where they start and end: what
/// becomes a link, and what the link rule counts. `http://`, `https://` and
/// `www.` starts; trailing punctuation stays outside.
///
/// One pass, in time linear in the text: each byte is looked at a bounded
/// number of times (as a possible start, inside one address, and once
/// more if that address's end is trimmed), whatever the text holds.
fn find_urls(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let Some(prefix) = url_prefix(&bytes[at..]) else {
            at += 1;
            continue;
        };
        let start = at;
        // Only at the start of a word.
        let word_start = text[..start]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || "([<\"'".contains(c));
        let mut end = text[start..]
            .find(|c: char| c.is_whitespace() || "<>\"'`".contains(c))
            .map_or(text.len(), |i| start + i);
        // Brackets counted once; trimming a `)` takes one off.
        let span = &bytes[start..end];
        let opened = span.iter().filter(|b| **b == b'(').count();
        let mut closed = span.iter().filter(|b| **b == b')').count();
        while end > start {
            match bytes[end - 1] {
                // A closing bracket belongs to the address when it opened there.
                b')' if opened >= closed => break,
                b')' => closed -= 1,
                b'.' | b',' | b';' | b':' | b'!' | b'?' | b']' | b'\'' => {}
                _ => break,
            }
            end -= 1;
        }
        let minimum = if prefix == WWW { 5 } else { 9 };
        if word_start && end - start >= minimum {
            found.push((start, end));
        }
        at = end.max(start + 1);
        while !text.is_char_boundary(at) {
            at += 1;
        }
    }
    found
}

const WWW: &[u8] = b"www.";

/// The address start (`https://`, `http://`, `www.`, in any case) that
/// `rest` begins with.
fn url_prefix(rest: &[u8]) -> Option<&'static [u8]> {
    [b"https://".as_slice(), b"http://", WWW]
        .into_iter()
        .find(|p| rest.len() >= p.len() && rest[..p.len()].eq_ignore_ascii_case(p))
}

/// How many links a comment holds: its website counts, as in WordPress.
pub fn link_count(input: &CommentInput) -> usize {
    find_urls(&input.text).len() + usize::from(input.url.is_some())
}

fn escape(s: &str, out: &mut String) {
    let _ = pulldown_cmark_escape::escape_html(out, s);
}

/// A comment's text as HTML: plain text, escaped; blank lines separate
/// paragraphs, single line breaks stay; web addresses become links that
/// pass no ranking (`rel="nofollow ugc noopener"`). No HTML the commenter
/// wrote is honoured.
pub fn comment_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    for paragraph in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        out.push_str("<p>");
        for (i, line) in paragraph.lines().enumerate() {
            if i > 0 {
                out.push_str("<br>\n");
            }
            let mut at = 0;
            for (start, end) in find_urls(line) {
                escape(&line[at..start], &mut out);
                let shown = &line[start..end];
                out.push_str("<a href=\"");
                if shown.get(..4).is_some_and(|w| w.eq_ignore_ascii_case("www.")) {
                    out.push_str("https://");
                }
                escape(shown, &mut out);
                out.push_str("\" rel=\"nofollow ugc noopener\">");
                escape(shown, &mut out);
                out.push_str("</a>");
                at = end;
            }
            escape(&line[at..], &mut out);
        }
        out.push_str("</p>\n");
    }
    out
}

/// The site's moderation settings, with WordPress's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModerationRules {
    /// Hold a comment with more links than this (WordPress: 2).
    pub max_links: usize,
    /// Approve only commenters with an approved comment before (WordPress:
    /// on); others wait for an editor.
    pub previously_approved: bool,
    /// Hold every comment for an editor (WordPress: off).
    pub hold_all: bool,
    /// Words that send a comment to moderation.
    pub moderation_words: Vec<String>,
    /// Words that send a comment to spam.
    pub disallowed_words: Vec<String>,
}

impl Default for ModerationRules {
    fn default() -> Self {
        ModerationRules {
            max_links: 2,
            previously_approved: true,
            hold_all: false,
            moderation_words: Vec::new(),
            disallowed_words: Vec::new(),
        }
    }
}

/// Why a comment landed where it did, for the log and the moderator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub status: CommentStatus,
    pub reason: String,
}

/// The first of `words` found in any of `fields`, case-insensitive, as
/// WordPress matches its lists (a word may match inside a longer one).
fn first_word<'w>(words: &'w [String], fields: &[&str]) -> Option<&'w str> {
    let fields: Vec<String> = fields.iter().map(|f| f.to_lowercase()).collect();
    words.iter().map(|w| w.trim()).filter(|w| !w.is_empty()).find(|w| {
        let w = w.to_lowercase();
        fields.iter().any(|f| f.contains(&w))
    })
}

/// Where a valid comment goes, by WordPress's order: disallowed words mean
/// spam; then too many links, moderation words, holding everything, or a
/// first-time commenter mean pending; otherwise approved. Words are matched
/// in the name, email, website, text and IP address.
pub fn moderate(input: &CommentInput, ip: &str, rules: &ModerationRules, approved_before: bool) -> Verdict {
    let url = input.url.as_deref().unwrap_or("");
    let fields = [input.name.as_str(), input.email.as_str(), url, input.text.as_str(), ip];
    if let Some(w) = first_word(&rules.disallowed_words, &fields) {
        return Verdict {
            status: CommentStatus::Spam,
            reason: format!("holds the disallowed word {w:?}"),
        };
    }
    let links = link_count(input);
    let pending = |reason: String| Verdict {
        status: CommentStatus::Pending,
        reason,
    };
    if links > rules.max_links {
        return pending(format!("holds {links} links (more than {})", rules.max_links));
    }
    if let Some(w) = first_word(&rules.moderation_words, &fields) {
        return pending(format!("holds the moderation word {w:?}"));
    }
    if rules.hold_all {
        return pending("every comment waits for an editor".into());
    }
    if rules.previously_approved && !approved_before {
        return pending("first comment from this address".into());
    }
    Verdict {
        status: CommentStatus::Approved,
        reason: "passed every rule".into(),
    }
}

/// Whether a paper takes comments: WordPress's open and closed, and hidden
/// (neither form nor comments shown).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CommentsMode {
    Open,
    Closed,
    Hidden,
}

impl CommentsMode {
    pub fn as_str(self) -> &'static str {
        match self {
            CommentsMode::Open => "open",
            CommentsMode::Closed => "closed",
            CommentsMode::Hidden => "hidden",
        }
    }
}

impl std::str::FromStr for CommentsMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "open" => Ok(CommentsMode::Open),
            "closed" => Ok(CommentsMode::Closed),
            "hidden" => Ok(CommentsMode::Hidden),
            _ => Err(format!("{s:?} is not a comments setting: use open, closed or hidden")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(name: &str, email: &str, url: &str, text: &str) -> CommentForm {
        CommentForm {
            name: name.into(),
            email: email.into(),
            url: url.into(),
            text: text.into(),
            parent: String::new(),
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&'static str> {
        errors.iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_good_comment_is_cleaned() {
        let c = validate_comment(&CommentForm {
            parent: " 12 ".into(),
            ..form(
                "  Ada\u{202e} Lovelace ",
                " Ada@Example.ORG ",
                "example.org/me",
                "First line\r\nsecond\u{0}\n\n\tThird\u{7}",
            )
        })
        .expect("valid");
        assert_eq!(c.name, "Ada Lovelace", "bidi override removed");
        assert_eq!(c.email, "ada@example.org");
        assert_eq!(c.url.as_deref(), Some("https://example.org/me"));
        assert_eq!(c.text, "First line\nsecond\n\n\tThird");
        assert_eq!(c.parent_id, Some(12));
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let errors = validate_comment(&CommentForm {
            parent: "-3".into(),
            ..form(" ", "", "javascript:alert(1)", "\u{0}  ")
        })
        .expect_err("invalid");
        assert_eq!(fields(&errors), ["name", "email", "url", "text", "parent"]);
        assert!(errors[1].message.contains("never published"));

        let long = |n: usize| "x".repeat(n);
        let errors = validate_comment(&form(
            &long(MAX_NAME + 1),
            &format!("{}@example.org", long(MAX_EMAIL)),
            &format!("https://example.org/{}", long(MAX_URL)),
            &long(MAX_TEXT + 1),
        ))
        .expect_err("too long");
        assert_eq!(fields(&errors), ["name", "email", "url", "text"]);
        assert!(
            errors[3]
                .message
                .contains("65526 characters long; a comment may have at most 65525"),
            "{:?}",
            errors[3]
        );
        // Limits count characters, not bytes.
        assert!(validate_comment(&form(&"é".repeat(MAX_NAME), "a@b.co", "", "ok")).is_ok());
    }

    #[test]
    fn hostile_addresses_are_refused() {
        for bad in [
            "plain",
            "a@b",
            "@example.org",
            "a@@example.org",
            "a b@example.org",
            "a@example.org\r\nBcc: victim@example.org",
            "a@example.org\nBcc: x@y.z",
            "\"a\"@example.org",
            "a@-example.org",
            "a@example..org",
            ".a@example.org",
            "a<script>@example.org",
            "a@exam_ple.org",
        ] {
            assert!(validate_email(bad).is_err(), "{bad:?}");
        }
        for good in [
            "a@example.org",
            "first.last+tag@sub.example.co.uk",
            "δοκιμή@παράδειγμα.δοκιμή",
        ] {
            assert_eq!(validate_email(good), Ok(()), "{good}");
        }
        // CR/LF inside the field are removed by cleaning, and what is left
        // is not one address.
        let e = validate_comment(&form("A", "a@example.org\r\nBcc: v@example.org", "", "t")).expect_err("inject");
        assert_eq!(fields(&e), ["email"]);
    }

    #[test]
    fn websites_must_be_web_addresses() {
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox",
            "https://exa mple.org",
            "https://example.org/\"onmouseover=\"alert(1)",
            "localhost",
            "https://",
            "ftp://example.org",
        ] {
            assert!(normalise_url(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            normalise_url("HTTPS://Example.org/a?b=c"),
            Ok("HTTPS://Example.org/a?b=c".into())
        );
        assert_eq!(normalise_url("www.example.org"), Ok("https://www.example.org".into()));
    }

    #[test]
    fn text_is_escaped_paragraphed_and_linked() {
        let html = comment_html(
            "<script>alert('x')</script> & more\nsecond line\n\nSee https://example.org/a_(b), or www.example.com.\n\n\n\
             javascript:alert(1) and <a href=\"https://evil.example\">x</a>",
        );
        assert_eq!(
            html,
            "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more<br>\nsecond line</p>\n\
             <p>See <a href=\"https://example.org/a_(b)\" rel=\"nofollow ugc noopener\">https://example.org/a_(b)</a>, \
             or <a href=\"https://www.example.com\" rel=\"nofollow ugc noopener\">www.example.com</a>.</p>\n\
             <p>javascript:alert(1) and &lt;a href=&quot;<a href=\"https://evil.example\" rel=\"nofollow ugc noopener\">https://evil.example</a>&quot;&gt;x&lt;/a&gt;</p>\n"
        );
        assert_eq!(comment_html("http://"), "<p>http://</p>\n", "a scheme alone is no link");
        assert_eq!(comment_html("xhttps://example.org"), "<p>xhttps://example.org</p>\n");
    }

    #[test]
    fn hostile_comment_text_is_linked_in_linear_time() {
        use crate::test_support::finishes_within;
        use std::time::Duration;
        // Trailing brackets were recounted over the whole address at each
        // one trimmed: 200,000 of them took minutes.
        let brackets = format!("http://ab{}", ")".repeat(200_000));
        let found = finishes_within(Duration::from_secs(10), move || find_urls(&brackets));
        assert_eq!(found, [(0, 9)], "the brackets stay outside the link");
        // Every address made the others' prefixes be searched for again
        // to the end of the text.
        let many = "www.a.b ".repeat(100_000);
        let found = finishes_within(Duration::from_secs(10), move || find_urls(&many));
        assert_eq!(found.len(), 100_000);
        assert_eq!(found[1], (8, 15));
        // Nested brackets that do belong to the address.
        let nested = format!("https://x.org/{}{}", "(".repeat(50_000), ")".repeat(50_001));
        let len = nested.len();
        let found = finishes_within(Duration::from_secs(10), move || find_urls(&nested));
        assert_eq!(found, [(0, len - 1)]);
        // Prefixes inside words and in other cases.
        assert_eq!(find_urls("HTTPS://Example.org x"), [(0, 19)]);
        assert!(find_urls("xwww.example.org éhttp://a.org").is_empty());
        assert_eq!(find_urls("(www.example.org)"), [(1, 16)]);
    }

    #[test]
    fn arbitrary_text_never_escapes_its_markup() {
        // Every `<` and `"` the commenter typed comes out escaped.
        let nasty = "<img src=x onerror=alert(1)>\"'><svg/onload=alert(1)> https://a.example/\"onmouseover=alert(1) \
                     www.x.example/<script> ｈｔｔｐ://x \u{2028} \u{feff}";
        let html = comment_html(nasty);
        let without_ours = html
            .replace("<p>", "")
            .replace("</p>", "")
            .replace("<br>", "")
            .replace(" rel=\"nofollow ugc noopener\">", "")
            .replace("</a>", "");
        let without_ours = regex_free_strip_links(&without_ours);
        assert!(!without_ours.contains('<') && !without_ours.contains('"'), "{html}");
    }

    /// Removes the `<a href="…"` openings Quire wrote.
    fn regex_free_strip_links(s: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find("<a href=\"") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 9..];
            let end = after.find('"').map_or(after.len(), |e| e + 1);
            rest = &after[end..];
        }
        out.push_str(rest);
        out
    }

    fn input(text: &str, url: Option<&str>) -> CommentInput {
        CommentInput {
            name: "Ada".into(),
            email: "ada@example.org".into(),
            url: url.map(str::to_owned),
            text: text.into(),
            parent_id: None,
        }
    }

    #[test]
    fn moderation_follows_wordpress_order_and_defaults() {
        let rules = ModerationRules::default();
        let ok = input("Thoughtful remark.", None);
        assert_eq!(moderate(&ok, "192.0.2.1", &rules, true).status, CommentStatus::Approved);
        let first = moderate(&ok, "192.0.2.1", &rules, false);
        assert_eq!(first.status, CommentStatus::Pending, "first-time commenters wait");
        assert!(first.reason.contains("first comment"));
        let open = ModerationRules {
            previously_approved: false,
            ..rules.clone()
        };
        assert_eq!(moderate(&ok, "192.0.2.1", &open, false).status, CommentStatus::Approved);

        let two = input("https://a.example and https://b.example", None);
        assert_eq!(
            moderate(&two, "", &open, true).status,
            CommentStatus::Approved,
            "two links pass"
        );
        let three = input("https://a.example and https://b.example", Some("https://c.example"));
        let v = moderate(&three, "", &open, true);
        assert_eq!(v.status, CommentStatus::Pending, "the website is the third link");
        assert!(v.reason.contains("3 links"), "{}", v.reason);

        let words = ModerationRules {
            moderation_words: vec!["casino".into(), " ".into()],
            disallowed_words: vec!["viagra".into(), "203.0.113.".into()],
            ..open.clone()
        };
        assert_eq!(
            moderate(&input("Best CASINOs", None), "", &words, true).status,
            CommentStatus::Pending
        );
        assert_eq!(
            moderate(&input("cheap Viagra", None), "", &words, true).status,
            CommentStatus::Spam
        );
        assert_eq!(
            moderate(&input("fine", None), "203.0.113.7", &words, true).status,
            CommentStatus::Spam,
            "the IP address is matched too"
        );
        let by_site = input("fine", Some("https://casino.example"));
        assert_eq!(moderate(&by_site, "", &words, true).status, CommentStatus::Pending);
        assert_eq!(
            moderate(&input("casino viagra", None), "", &words, true).status,
            CommentStatus::Spam,
            "disallowed beats moderation"
        );
        let hold = ModerationRules { hold_all: true, ..open };
        assert_eq!(moderate(&ok, "", &hold, true).status, CommentStatus::Pending);
    }

    #[test]
    fn ip_addresses_lose_their_host_part() {
        assert_eq!(truncate_ip("203.0.113.77"), "203.0.113.0");
        assert_eq!(truncate_ip("2001:db8:85a3:8d3:1319:8a2e:370:7348"), "2001:db8:85a3::");
        assert_eq!(truncate_ip("not an ip"), "");
    }

    #[test]
    fn statuses_and_modes_parse() {
        for s in CommentStatus::ALL {
            assert_eq!(s.as_str().parse::<CommentStatus>(), Ok(s));
        }
        assert!("deleted".parse::<CommentStatus>().is_err());
        assert_eq!("Closed".parse::<CommentsMode>(), Ok(CommentsMode::Closed));
        assert!("off".parse::<CommentsMode>().is_err());
    }
}
