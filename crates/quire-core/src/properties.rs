//! Property tests for the core's parsers that a stranger or an import
//! reaches: comment text, Markdown, front matter, subscriber fields, signed
//! values and line numbers. (Search terms, confirmation tokens and
//! forwarding headers are tested beside their crates.) Each asserts a real
//! property (escaping holds, nothing panics, round trips), over a bounded
//! number of generated cases.

use crate::test_support::{cases, tricky};
use proptest::prelude::*;

const MARKUP: &[&str] = &[
    "<",
    ">",
    "\"",
    "'",
    "&",
    "<script>",
    "</p>",
    "<img src=x onerror=alert(1)>",
    "javascript:",
    "http://",
    "https://a.b/",
    "www.",
    "(",
    ")",
    "[",
    "]",
    "*",
    "_",
    "`",
    "#",
    "\n",
    "\n\n",
    " ",
    "a",
    "é",
    "שלום",
    "{#x .y onclick=z}",
    "[^1]",
    "[^1]: n",
    "![a](b.png \"t\")",
    "|",
    "---",
    "\u{202e}",
    "\u{0}",
    "\r\n",
];

/// What is left of `html` once Quire's own comment markup is taken out.
fn without_comment_markup(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(i) = rest.find("<a href=\"") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 9..];
        let end = after
            .find("\" rel=\"nofollow ugc noopener\">")
            .map_or(after.len(), |e| e + 30);
        rest = &after[end..];
    }
    out.push_str(rest);
    out.replace("<p>", "")
        .replace("</p>", "")
        .replace("<br>", "")
        .replace("</a>", "")
}

proptest! {
    #![proptest_config(cases())]
    #[test]
    fn comment_text_never_escapes_its_markup(text in tricky(MARKUP, 40)) {
        let html = crate::domain::comment_html(&text);
        let left = without_comment_markup(&html);
        prop_assert!(!left.contains('<') && !left.contains('>') && !left.contains('"'), "{html}");
        let input = crate::domain::CommentInput {
            name: "A".into(),
            email: "a@example.org".into(),
            url: None,
            text: text.clone(),
            parent_id: None,
        };
        prop_assert_eq!(crate::domain::link_count(&input), html.matches("<a href=").count());
    }

    #[test]
    fn markdown_never_gives_scripts_handlers_or_script_urls(body in tricky(MARKUP, 60)) {
        let html = crate::markdown::render(&body).html;
        let lower = html.to_ascii_lowercase();
        prop_assert!(!lower.contains("<script"), "{html}");
        prop_assert!(!lower.contains("href=\"javascript:"), "{html}");
        prop_assert!(!lower.contains("src=\"javascript:"), "{html}");
        // No event handler attribute in any tag Quire wrote.
        for tag in lower.split('<').skip(1) {
            let tag = tag.split('>').next().unwrap_or("");
            for attribute in tag.split_whitespace().skip(1) {
                prop_assert!(!attribute.starts_with("on"), "{tag} in {html}");
                prop_assert!(!attribute.starts_with("style="), "{tag} in {html}");
            }
        }
    }

    #[test]
    fn paper_files_parse_or_fail_with_a_line_never_panicking(text in tricky(&[
        "+++\n", "title = \"T\"\n", "kind = \"report\"\n", "summary = \"S\"\n", "authors = [\"ada\"]\n",
        "status = \"published\"\n", "published_at = 2026-01-05T10:00:00Z\n", "slug = \"x\"\n", "= \n",
        "[[[", "\"", "\n", "body text\n", "topics = [\"a\", 1]\n", "\u{feff}", "\r\n",
    ], 30)) {
        let kinds = ["report".to_owned()];
        let rules = crate::domain::PaperRules {
            kinds: &kinds,
            default_language: "en",
            now: time::OffsetDateTime::UNIX_EPOCH,
        };
        if let Err(errors) = crate::domain::parse_paper_file("p.md", &text, &rules) {
            prop_assert!(!errors.is_empty());
            let lines = text.lines().count().max(1) + 1;
            for e in errors {
                prop_assert!(e.line >= 1 && e.line <= lines, "{e} for {text:?}");
            }
        }
    }

    #[test]
    fn accepted_subscriber_fields_are_single_line_and_plain(raw in tricky(&[
        "a", "@", ".", "example.org", "\r", "\n", "\u{202e}", "\u{0}", " ", "<", ">", "ада", "=", "\"",
    ], 20)) {
        if let Ok(email) = crate::domain::validate_subscriber_email(&raw) {
            prop_assert!(!email.chars().any(|c| c.is_control() || c.is_whitespace()), "{email:?}");
            prop_assert_eq!(email.matches('@').count(), 1);
        }
        if let Ok(name) = crate::domain::validate_subscriber_name(&raw) {
            prop_assert!(!name.chars().any(char::is_control), "{name:?}");
        }
    }

    #[test]
    fn signed_values_open_only_as_signed(text in "[ -~]{0,40}", flip in 0usize..200) {
        let signer = crate::signing::Signer::new(b"site key");
        let signed = signer.sign(&text);
        prop_assert_eq!(signer.open(&signed), Some(text.as_str()));
        let mut bytes = signed.into_bytes();
        let at = flip % bytes.len();
        bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
        let tampered = String::from_utf8(bytes).unwrap_or_default();
        prop_assert!(signer.open(&tampered).is_none() || tampered.ends_with(&text), "{tampered:?}");
    }

    #[test]
    fn line_numbers_match_counting(text in tricky(&["a", "\n", "\r\n", "é", ""], 60), at in 0usize..200) {
        let lines = crate::domain::LineIndex::new(text.as_bytes());
        let offset = at.min(text.len());
        prop_assert_eq!(lines.line_at(offset), text.as_bytes()[..offset].iter().filter(|b| **b == b'\n').count() + 1);
    }
}
