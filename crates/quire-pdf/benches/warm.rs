//! Warm typesetting: one Typesetter (fonts and standard library loaded,
//! compiler caches filled) typesets a paper 20 times, each time with one
//! sentence changed, as after an edit; prints the median. `bench/pdf.sh`
//! runs it beside a cold `quire pdf` and Chromium's print-to-PDF.
//!
//! The paper body is read from the file named by QUIRE_BENCH_BODY
//! (Markdown); without it, a 5,000-word paper is generated.

use pulldown_cmark::{Options, Parser};
use quire_pdf::{Author, PaperInfo, Typesetter};
use std::time::{Duration, Instant};

fn main() {
    let body = match std::env::var("QUIRE_BENCH_BODY") {
        Ok(path) => std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}")),
        Err(_) => generated_body(),
    };
    let info = PaperInfo {
        organisation: "Quire".into(),
        kind: "Report".into(),
        title: "A long paper".into(),
        short_title: "A long paper".into(),
        authors: vec![Author {
            name: "Ada Lovelace".into(),
            affiliation: Some("Analytical Society".into()),
        }],
        date: "5 March 2026".into(),
        date_parts: Some((2026, 3, 5)),
        summary: "What the paper finds.".into(),
        permalink: "http://127.0.0.1/papers/long-paper/".into(),
        language: "en".into(),
        citation: "Lovelace, Ada. 2026. “A long paper.” Report. Quire.".into(),
        ..PaperInfo::default()
    };
    let options = Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH;
    let typesetter = Typesetter::default();
    // The first compile fills the caches; it is the cold part in-process.
    let started = Instant::now();
    let first = typesetter
        .typeset(&info, Parser::new_ext(&body, options), &[])
        .expect("typeset");
    let first_time = started.elapsed();
    let mut times: Vec<Duration> = Vec::new();
    for i in 0..20 {
        let edited = format!("{body}\n\nEdit number {i}.\n");
        let started = Instant::now();
        let pdf = typesetter
            .typeset(&info, Parser::new_ext(&edited, options), &[])
            .expect("typeset");
        times.push(started.elapsed());
        assert!(pdf.pages >= first.pages);
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "warm median {:.1} ms (min {:.1}, max {:.1}) over 20; first in-process {:.1} ms; {} pages, {} KB",
        ms(times[10]),
        ms(times[0]),
        ms(times[19]),
        ms(first_time),
        first.pages,
        first.bytes.len() / 1024
    );
}

fn generated_body() -> String {
    let mut md = String::new();
    for s in 1..=10 {
        md.push_str(&format!("## Section {s}\n\n"));
        for p in 0..10 {
            md.push_str(&"Ports carry more of the regional economy than their size suggests. ".repeat(5));
            if p % 5 == 0 {
                md.push_str(&format!(
                    "[^n{s}x{p}]\n\n[^n{s}x{p}]: A source for section {s}, paragraph {p}.\n\n"
                ));
            } else {
                md.push_str("\n\n");
            }
        }
    }
    md
}
