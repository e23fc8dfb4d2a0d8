//! Worst cases against plain input of the same length, for every function
//! that walks text a stranger (or an imported file) sends: comment text,
//! names and addresses, search queries, forwarding headers, Markdown, front
//! matter and CSV line numbers. Each worst case is built against the
//! algorithm as written (brackets to trim, repeated prefixes, same-named
//! headings, thousands of notes, nests), not just made long. Prints each
//! pair's times and the ratio; the target is at most 3x.
//!
//! Run: `cargo bench --bench hostile` (or `bench/hostile.sh`); `bench/hostile.sh
//! markdown` runs only the cases whose names hold "markdown".

use std::hint::black_box;
mod common;

use common::median;

/// `piece` repeated to `len` bytes (less a character's worth, where
/// `len` falls inside one).
fn fill(piece: &str, len: usize) -> String {
    let mut s = piece.repeat(len / piece.len() + 1);
    let mut end = len.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s
}

/// A paper as authors write them, to `len` bytes: sections, paragraphs
/// with emphasis, links and notes, lists and tables; the plain input for
/// the Markdown cases.
fn paper_text(len: usize) -> String {
    paper_with(
        len,
        "Regional ports carry a *larger* share of trade than their size suggests, and their \
         finances depend on [long contracts](https://example.org/contracts).",
    )
}

/// The same paper with the raw HTML authors put in (an abbreviation per
/// sentence): the plain input for raw HTML, which sends any body through
/// the sanitiser, and a body without it does not pass there at all.
fn paper_html(len: usize) -> String {
    paper_with(
        len,
        "Regional ports carry a *larger* share of <abbr title=\"gross domestic product\">GDP</abbr> \
         than their size suggests, and depend on [long contracts](https://example.org/contracts).",
    )
}

fn paper_with(len: usize, sentence: &str) -> String {
    let mut md = String::new();
    let mut n = 0;
    while md.len() < len {
        n += 1;
        if n % 6 == 1 {
            md.push_str(&format!("## Section {n}: ports and harbours\n\n"));
        }
        md.push_str(&format!("{sentence} {sentence} {sentence}[^{n}]\n\n"));
        if n % 9 == 0 {
            md.push_str(
                "| Port | 2024 | 2025 |\n|:--|--:|--:|\n| North | 1,200 | 1,340 |\n\n- first point\n- second point\n\n",
            );
        }
        md.push_str(&format!(
            "[^{n}]: Harbour Authority, *Annual Review* (2025), p. {n}.\n\n"
        ));
    }
    let mut end = len;
    while !md.is_char_boundary(end) {
        end -= 1;
    }
    md.truncate(end);
    md
}

struct Case {
    name: &'static str,
    plain: String,
    worst: String,
    run: fn(&str),
}

/// pulldown-cmark alone, with Quire's extensions: what the parser itself
/// costs on the same inputs, beside which Quire's own work is measured.
fn parser_alone(s: &str) {
    use pulldown_cmark::{Options, Parser, html};
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_SMART_PUNCTUATION;
    let mut out = String::new();
    html::push_html(&mut out, Parser::new_ext(black_box(s), options));
    black_box(out);
}

fn comment_html(s: &str) {
    black_box(quire_core::domain::comment_html(black_box(s)));
}

fn validate_comment(s: &str) {
    let form = quire_core::domain::CommentForm {
        name: s.chars().take(245).collect(),
        email: "reader@example.org".into(),
        url: String::new(),
        text: s.to_owned(),
        parent: String::new(),
    };
    let input = quire_core::domain::validate_comment(&form);
    if let Ok(input) = input {
        black_box(quire_core::domain::link_count(&input));
    }
}

fn markdown(s: &str) {
    black_box(quire_core::markdown::render(black_box(s)));
}

fn search_terms(s: &str) {
    black_box(quire_store::SearchTerms::parse(black_box(s)));
}

fn subscriber_fields(s: &str) {
    let _ = black_box(quire_core::domain::validate_subscriber_email(black_box(s)));
    let _ = black_box(quire_core::domain::validate_subscriber_name(black_box(s)));
}

fn forwarded_for(s: &str) {
    let proxies = quire_web::client::TrustedProxies::new(&["10.0.0.0/8".to_owned()], "x-forwarded-for");
    let mut headers = axum::http::HeaderMap::new();
    if let Ok(v) = axum::http::HeaderValue::from_str(s) {
        headers.insert("x-forwarded-for", v);
    }
    black_box(proxies.client("10.0.0.1".parse().expect("ip"), &headers));
}

fn front_matter(s: &str) {
    let kinds = ["report".to_owned()];
    let rules = quire_core::domain::PaperRules {
        kinds: &kinds,
        default_language: "en",
        now: time::OffsetDateTime::UNIX_EPOCH,
    };
    let _ = black_box(quire_core::domain::parse_paper_file("bench.md", black_box(s), &rules));
}

fn line_numbers(s: &str) {
    // What an import does for every bad row: the line of its offset.
    let lines = quire_core::domain::LineIndex::new(s.as_bytes());
    let mut sum = 0;
    for offset in (0..s.len()).step_by(16) {
        sum += lines.line_at(offset);
    }
    black_box(sum);
}

fn cases() -> Vec<Case> {
    let comment = 65_000;
    let md = 200_000;
    let mut notes = String::new();
    for n in 0..3000 {
        notes.push_str(&format!("x[^{n}] "));
    }
    for n in 0..3000 {
        notes.push_str(&format!("\n\n[^{n}]: note {n}"));
    }
    let notes_len = notes.len();
    let paper = |body: &str| {
        format!(
            "+++\ntitle = \"Bench\"\nkind = \"report\"\nsummary = \"S.\"\nauthors = [\"ada\"]\nstatus = \"draft\"\n+++\n{body}"
        )
    };
    vec![
        Case {
            name: "comment text: trailing brackets",
            plain: fill("harbour ", comment),
            worst: format!("http://ab{}", ")".repeat(comment - 9)),
            run: comment_html,
        },
        Case {
            name: "comment text: an address per word",
            plain: fill("harbour ", comment),
            worst: fill("www.a.b ", comment),
            run: comment_html,
        },
        Case {
            name: "comment form: control and bidi characters",
            plain: fill("harbour ", comment),
            worst: fill("\u{202e}\r\n\u{0}", comment),
            run: validate_comment,
        },
        Case {
            name: "search query: quotes and words",
            plain: fill("harbour ", 32_000),
            worst: fill("\"a\" ", 32_000),
            run: search_terms,
        },
        Case {
            name: "subscriber address and name",
            plain: fill("harbour ", 32_000),
            worst: fill("@.\u{202e}", 32_000),
            run: subscriber_fields,
        },
        Case {
            name: "forwarding header: trusted hops",
            plain: fill("203.0.113.1 ", 16_000),
            worst: format!("203.0.113.1{}", fill(", 10.1.2.3", 16_000 - 11)),
            run: forwarded_for,
        },
        Case {
            name: "markdown: same-named headings",
            plain: paper_text(md),
            worst: fill("# a\n\n", md),
            run: markdown,
        },
        Case {
            name: "markdown: thousands of footnotes",
            plain: paper_text(notes_len),
            worst: notes,
            run: markdown,
        },
        Case {
            name: "markdown: nested brackets",
            plain: paper_text(md),
            worst: fill("[", md),
            run: markdown,
        },
        Case {
            name: "markdown: nested images",
            plain: paper_text(40_000),
            worst: format!("{}x{}", "![".repeat(4000), fill("](a.png)", 40_000 - 8001)),
            run: markdown,
        },
        Case {
            name: "markdown: emphasis runs",
            plain: paper_text(md),
            worst: fill("*a **b ", md),
            run: markdown,
        },
        Case {
            name: "markdown: heading attributes",
            plain: paper_text(md),
            worst: fill("## T {.a .b #c onclick=x}\n\n", md),
            run: markdown,
        },
        Case {
            name: "markdown: raw HTML to sanitise",
            plain: paper_html(md),
            worst: fill("<b><i onclick=x>", md),
            run: markdown,
        },
        Case {
            name: "paper file: front matter and body",
            plain: paper(&paper_text(md)),
            worst: paper(&fill("+++\n", md)),
            run: front_matter,
        },
        Case {
            name: "import line numbers: every row",
            plain: fill("reader@example.org,Reader Name,trade\n", 1_000_000),
            worst: fill("\n", 1_000_000),
            run: line_numbers,
        },
    ]
}

fn main() {
    // `cargo test` runs benches with --bench absent; keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let runs = if quick { 1 } else { 15 };
    // `-- --bench WORDS`: only the cases whose names hold WORDS.
    let only: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    println!(
        "{:<46} {:>12} {:>12} {:>7} {:>9}",
        "input", "plain", "worst", "ratio", "x2 input"
    );
    let mut worst_ratio: f64 = 0.0;
    let mut worst_growth: f64 = 0.0;
    for case in cases() {
        if only.as_ref().is_some_and(|words| !case.name.contains(words.as_str())) {
            continue;
        }
        assert!(
            case.plain.len().abs_diff(case.worst.len()) * 100 <= case.plain.len().max(1),
            "{}: inputs differ in length ({} and {})",
            case.name,
            case.plain.len(),
            case.worst.len()
        );
        let plain = median(runs, || (case.run)(&case.plain));
        let worst = median(runs, || (case.run)(&case.worst));
        let ratio = worst.as_secs_f64() / plain.as_secs_f64().max(1e-9);
        // Twice the worst input: linear work takes twice the time,
        // quadratic four times.
        let doubled = case.worst.repeat(2);
        let growth = median(runs, || (case.run)(&doubled)).as_secs_f64() / worst.as_secs_f64().max(1e-9);
        worst_ratio = worst_ratio.max(ratio);
        worst_growth = worst_growth.max(growth);
        // For Markdown, the parser's own ratio on the same two inputs,
        // and its floor: the parser alone on the worst input beside all
        // of Quire on the plain one, which no work of Quire's can go under.
        let parser = if case.name.starts_with("markdown") {
            let p = median(runs, || parser_alone(&case.plain));
            let w = median(runs, || parser_alone(&case.worst));
            format!(
                "  (pulldown-cmark alone: {:.2}x; its floor: {:.2}x)",
                w.as_secs_f64() / p.as_secs_f64().max(1e-9),
                w.as_secs_f64() / plain.as_secs_f64().max(1e-9)
            )
        } else {
            String::new()
        };
        println!(
            "{:<46} {:>9.3} ms {:>9.3} ms {:>6.2}x {:>8.2}x{}{}",
            case.name,
            plain.as_secs_f64() * 1e3,
            worst.as_secs_f64() * 1e3,
            ratio,
            growth,
            if ratio > 3.0 { "  ABOVE TARGET" } else { "" },
            parser
        );
    }
    println!("largest ratio worst/plain: {worst_ratio:.2}x (target <= 3x)");
    println!("largest growth for twice the worst input: {worst_growth:.2}x (linear: 2x; quadratic: 4x)");
}
