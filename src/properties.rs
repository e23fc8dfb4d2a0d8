//! Property tests for every parser a stranger or an import reaches: comment
//! text, Markdown, front matter, search terms, subscriber fields, signed
//! tokens, forwarding headers and line numbers. Each asserts a real
//! property (escaping holds, nothing panics, round trips), over a bounded
//! number of generated cases.

use proptest::prelude::*;

/// Text built from the pieces each parser treats specially, so that cases
/// hit its edges rather than plain letters.
fn tricky(pieces: &'static [&'static str], max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(pieces), 0..max).prop_map(|v| v.concat())
}

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

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 128,
        ..ProptestConfig::default()
    }
}

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
    #![proptest_config(config())]

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
    fn search_terms_hand_the_engines_only_quoted_words(query in tricky(&[
        "\"", "a", "Harbour", "é", "*", "-", "NEAR", "AND", "OR", "(", ")", ":", "'", "&", "|", "!", "<->", " ",
        "\u{0}", "^", "1",
    ], 60)) {
        let terms = crate::store::SearchTerms::parse(&query);
        for word in terms.words() {
            prop_assert!(!word.is_empty() && word.chars().all(char::is_alphanumeric), "{word:?}");
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
        let signer = crate::web::signing::Signer::new(b"site key");
        let signed = signer.sign(&text);
        prop_assert_eq!(signer.open(&signed), Some(text.as_str()));
        let mut bytes = signed.into_bytes();
        let at = flip % bytes.len();
        bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
        let tampered = String::from_utf8(bytes).unwrap_or_default();
        prop_assert!(signer.open(&tampered).is_none() || tampered.ends_with(&text), "{tampered:?}");
    }

    #[test]
    fn confirmation_tokens_round_trip(email in "[a-z]{1,8}@[a-z]{1,8}\\.org", name in ".{0,30}", topics in proptest::collection::vec("[a-z]{1,8}", 0..4)) {
        let signer = crate::web::signing::Signer::new(b"k");
        let now = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let signup = crate::mail::links::SignUp { email, name, topics };
        let token = crate::mail::links::confirm_token(&signer, &signup, now + time::Duration::hours(1));
        prop_assert!(token.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)), "{token}");
        let opened = crate::mail::links::open_confirm_token(&signer, &token, now).map(|(s, _)| s);
        prop_assert_eq!(opened, Ok(signup));
    }

    #[test]
    fn the_client_is_the_peer_or_a_named_hop(hops in proptest::collection::vec(proptest::sample::select(&[
        "203.0.113.1", "10.0.0.1", "junk", "[2001:db8::1]:80", "", " ", "10.9.9.9", "unknown", "::ffff:10.0.0.2",
    ][..]), 0..8)) {
        let proxies = crate::web::client::TrustedProxies::new(&["10.0.0.0/8".into()], "x-forwarded-for");
        let value = hops.join(", ");
        let mut headers = axum::http::HeaderMap::new();
        if let Ok(v) = axum::http::HeaderValue::from_str(&value) {
            headers.insert("x-forwarded-for", v);
        }
        let peer: std::net::IpAddr = "10.0.0.7".parse().unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
        let client = proxies.client(peer, &headers);
        let named = hops.iter().any(|h| {
            h.trim().trim_start_matches('[').split(']').next().unwrap_or("").parse::<std::net::IpAddr>().ok()
                .map(|ip| match ip {
                    std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
                    v4 => v4,
                }) == Some(client)
        });
        prop_assert!(client == peer || named, "{client} from {value:?}");
    }

    #[test]
    fn line_numbers_match_counting(text in tricky(&["a", "\n", "\r\n", "é", ""], 60), at in 0usize..200) {
        let lines = crate::domain::LineIndex::new(text.as_bytes());
        let offset = at.min(text.len());
        prop_assert_eq!(lines.line_at(offset), text.as_bytes()[..offset].iter().filter(|b| **b == b'\n').count() + 1);
    }
}
