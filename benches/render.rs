//! Markdown → HTML for a 5,000-word paper with 50 footnotes and tables:
//! Quire's full pipeline (footnotes gathered, heading ids, sanitiser) side
//! by side with bare pulldown-cmark (the parser alone, no sanitising), and
//! the whole paper page through the template. Prints the ratio at the end.

use criterion::{Criterion, criterion_group};
use pulldown_cmark::{Options, Parser, html};
use std::hint::black_box;
mod common;

use common::median;

/// A 5,000-word paper with 50 footnotes, headings, tables and lists.
fn long_paper() -> String {
    let sentence = "Regional ports carry a larger share of trade than their size suggests, and their finances depend on long contracts.";
    let mut md = String::new();
    let mut note = 0;
    let mut words = 0;
    let mut section = 0;
    while words < 5000 {
        if words % 600 < 20 {
            section += 1;
            md.push_str(&format!("## Section {section}: ports and harbours\n\n"));
        }
        let mut para = String::new();
        for _ in 0..5 {
            para.push_str(sentence);
            para.push(' ');
            words += sentence.split_whitespace().count();
        }
        if note < 50 {
            note += 1;
            para.push_str(&format!("[^{note}]"));
        }
        md.push_str(&para);
        md.push_str("\n\n");
        if section % 3 == 0 && words % 600 < 120 {
            md.push_str("| Port | 2024 | 2025 |\n|:--|--:|--:|\n| North | 1,200 | 1,340 |\n| South | 800 | 760 |\n\n- first point\n- second point\n\n");
        }
    }
    while note < 50 {
        note += 1;
        md.push_str(&format!("More text.[^{note}]\n\n"));
    }
    for n in 1..=50 {
        md.push_str(&format!(
            "[^{n}]: Harbour Authority, *Annual Review {n}* (2025), p. {n}.\n"
        ));
    }
    md
}

fn bare(md: &str) -> String {
    let mut out = String::new();
    let opts = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_SMART_PUNCTUATION;
    html::push_html(&mut out, Parser::new_ext(md, opts));
    out
}

fn bench_render(c: &mut Criterion) {
    let md = long_paper();
    assert!(quire_core::markdown::word_count(&md) >= 5000);
    let mut g = c.benchmark_group("render_5000_words_50_footnotes");
    g.bench_function("quire_markdown_render", |b| {
        b.iter(|| quire_core::markdown::render(black_box(&md)))
    });
    g.bench_function("pulldown_cmark_bare", |b| b.iter(|| bare(black_box(&md))));
    g.finish();

    let theme = quire_render::Theme::embedded().expect("theme");
    let site = quire_app::config::Config::default().site_view(&theme.assets);
    let paper = quire_core::domain::Paper {
        meta: quire_core::domain::PaperMeta {
            id: 1,
            slug: "ports".into(),
            title: "Ports and Harbours".into(),
            subtitle: None,
            kind: "report".into(),
            summary: "Summary.".into(),
            language: "en".into(),
            status: quire_core::domain::Status::Published,
            published_at: Some(time::OffsetDateTime::UNIX_EPOCH),
            updated_at: time::OffsetDateTime::UNIX_EPOCH,
            canonical_url: None,
            translation_of: None,
            comments: quire_core::domain::CommentsMode::Open,
            comment_count: 0,
            trashed_at: None,
            word_count: 5000,
            authors: vec![],
            topics: vec![],
        },
        body: md.clone(),
        media: Vec::new(),
    };
    let extras = quire_render::PaperExtras {
        authors: &[],
        words_per_minute: 230,
        translations: &[],
        pdf_path: None,
        comments: None,
    };
    c.bench_function("paper_page_5000_words", |b| {
        b.iter(|| quire_render::render_paper(&theme, &site, black_box(&paper), &extras).expect("render"))
    });
}

fn print_ratio() {
    let md = long_paper();
    let quire_t = median(101, || {
        black_box(quire_core::markdown::render(black_box(&md)));
    });
    let bare_t = median(101, || {
        black_box(bare(black_box(&md)));
    });
    println!(
        "\nrender 5,000 words + 50 footnotes: quire {:.3} ms, bare pulldown-cmark {:.3} ms, ratio quire/bare {:.2}x",
        quire_t.as_secs_f64() * 1e3,
        bare_t.as_secs_f64() * 1e3,
        quire_t.as_secs_f64() / bare_t.as_secs_f64()
    );
}

criterion_group!(benches, bench_render);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    print_ratio();
}
