//! Whole PDFs, checked with the tools readers' software trusts: qpdf for
//! structure, pdffonts for embedded fonts, pdftotext for the text (Debian's
//! qpdf and poppler-utils; `.ci/run` installs them).

use pulldown_cmark::{Options, Parser};
use quire_pdf::{Author, PaperInfo, Pdf, Typesetter, misused_fonts};
use std::process::Command;
use std::sync::LazyLock;

static TYPESETTER: LazyLock<Typesetter> = LazyLock::new(Typesetter::default);

fn info(title: &str, language: &str, rtl: bool) -> PaperInfo {
    PaperInfo {
        organisation: "Institute for Harbour Studies".into(),
        kind: "Report".into(),
        title: title.into(),
        subtitle: Some("A subtitle".into()),
        short_title: title.into(),
        authors: vec![
            Author {
                name: "Ada Lovelace".into(),
                affiliation: Some("Analytical Society".into()),
            },
            Author {
                name: "Alan Turing".into(),
                affiliation: None,
            },
        ],
        date: "5 March 2026".into(),
        date_parts: Some((2026, 3, 5)),
        summary: "What the paper finds, in two sentences. It finds much.".into(),
        permalink: "https://papers.example.org/papers/harbours/".into(),
        language: language.into(),
        right_to_left: rtl,
        site_language: "en".into(),
        keywords: vec!["Trade".into(), "Water".into()],
        citation: "Lovelace, Ada, and Alan Turing. 2026. “Harbours.” Institute for Harbour Studies.".into(),
    }
}

fn typeset(info: &PaperInfo, markdown: &str) -> Pdf {
    let options = Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH;
    TYPESETTER
        .typeset(info, Parser::new_ext(markdown, options), &[])
        .expect("typeset")
}

/// Whether the checks with qpdf and poppler-utils run: they need those
/// installed, so they are an extra suite, like PostgreSQL's. `.ci/run`
/// installs them and sets QUIRE_TEST_PDF_TOOLS=1.
fn tools_wanted() -> bool {
    static WANTED: LazyLock<bool> = LazyLock::new(|| {
        let wanted = std::env::var_os("QUIRE_TEST_PDF_TOOLS").is_some();
        if !wanted {
            eprintln!(
                "PDF tool checks (qpdf, pdffonts, pdftotext, pdftoppm) skipped: QUIRE_TEST_PDF_TOOLS is not set. \
                 .ci/run sets it; to run them yourself: apt install qpdf poppler-utils, then \
                 QUIRE_TEST_PDF_TOOLS=1 cargo test -p quire-pdf"
            );
        }
        wanted
    });
    *WANTED
}

/// Runs a poppler or qpdf tool on the PDF: its standard output, or None
/// when the tool checks are not wanted.
fn tool(name: &str, args: &[&str], pdf: &Pdf) -> Option<String> {
    if !tools_wanted() {
        return None;
    }
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("paper.pdf");
    std::fs::write(&path, &pdf.bytes).expect("write");
    let out = Command::new(name)
        .args(args)
        .arg(&path)
        .args(if name == "pdftotext" { vec!["-"] } else { vec![] })
        .output()
        .unwrap_or_else(|e| panic!("{name} could not run ({e}): install qpdf and poppler-utils"));
    assert!(
        out.status.success(),
        "{name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Keeps `pdf` and its pages as PNG images (pdftoppm) among the test
/// artefacts, to look at: `target/tmp/pdf/NAME.pdf`, `NAME-N.png`.
fn keep(name: &str, pdf: &Pdf) {
    if !tools_wanted() {
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("pdf");
    std::fs::create_dir_all(&dir).expect("artefact dir");
    let path = dir.join(format!("{name}.pdf"));
    std::fs::write(&path, &pdf.bytes).expect("write");
    let status = Command::new("pdftoppm")
        .args(["-r", "60", "-png"])
        .arg(&path)
        .arg(dir.join(name))
        .status()
        .expect("pdftoppm runs (poppler-utils)");
    assert!(status.success());
}

/// Every font in the PDF is embedded: pdffonts' "emb" column says yes.
fn assert_fonts_embedded(pdf: &Pdf) -> Option<String> {
    let listing = tool("pdffonts", &[], pdf)?;
    for line in listing.lines().skip(2) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        // name type [encoding…] emb sub uni object ID
        let emb = cols[cols.len() - 5];
        assert_eq!(emb, "yes", "not embedded: {line}");
    }
    Some(listing)
}

const ENGLISH: &str = "## Background\n\n\
    Harbours matter.[^1] Costs rose by 5% in #2025 and $3 was spent; see @ref <= \\ `#read(\"/etc/passwd\")`.\n\n\
    A paragraph that says #read(\"/etc/passwd\") and #import \"@preview/x:1.0.0\": * aloud.\n\n\
    ### Findings\n\n\
    | Port | Tonnes |\n|:--|--:|\n| Rotterdam | 440 |\n| Hamburg | 120 |\n\n\
    1. First\n2. Second\n\n\
    > A quoted line.\n\n\
    [^1]: The footnote text about tariffs.\n";

#[test]
fn an_english_paper_is_a_clean_pdf_with_its_text_fonts_and_outline() {
    let pdf = typeset(&info("Harbour governance", "en", false), ENGLISH);
    keep("english", &pdf);
    assert!(pdf.bytes.starts_with(b"%PDF-"));
    assert!(
        String::from_utf8_lossy(&pdf.bytes).contains("/Outlines"),
        "headings make bookmarks"
    );
    assert!(pdf.accessible, "PDF/UA-1");
    let raw = String::from_utf8_lossy(&pdf.bytes);
    for metadata in [
        "/CreationDate(D:20260305000000Z)",
        "/Lang(en)",
        "Harbour governance",
        "Ada Lovelace",
        "Trade, Water",
        "It finds much.",
    ] {
        assert!(raw.contains(metadata), "PDF metadata lacks {metadata}");
    }
    assert_eq!(misused_fonts(&pdf), Vec::<String>::new(), "{:?}", pdf.fonts);
    let Some(check) = tool("qpdf", &["--check"], &pdf) else {
        return;
    };
    assert!(check.contains("No syntax or stream encoding errors"), "{check}");
    assert_fonts_embedded(&pdf);
    let text = tool("pdftotext", &["-enc", "UTF-8"], &pdf).expect("tools wanted");
    for needle in [
        "Harbour governance",
        "The footnote text about tariffs.",
        "#read(\"/etc/passwd\")",
        "#import \"@preview/x:1.0.0\": *",
        "$3 was spent; see @ref <= \\",
        "Rotterdam",
        "How to cite:",
        "1 of 1",
    ] {
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }
}

#[test]
fn hebrew_and_arabic_papers_use_faces_made_for_them() {
    let hebrew = typeset(
        &info("מדיניות נמלים", "he", true),
        "## רקע\n\nהנמלים חשובים לסחר.[^1]\n\n[^1]: הערה על מכסים.\n",
    );
    keep("hebrew", &hebrew);
    assert!(hebrew.accessible, "PDF/UA-1");
    assert_eq!(misused_fonts(&hebrew), Vec::<String>::new(), "{:?}", hebrew.fonts);
    if let Some(text) = tool("pdftotext", &["-enc", "UTF-8"], &hebrew) {
        assert!(text.contains("הנמלים"), "{text}");
    }
    assert!(
        hebrew
            .fonts
            .iter()
            .any(|(f, s)| f == "Libertinus Serif" && s.contains(&quire_pdf::Script::Hebrew))
    );

    let arabic = typeset(
        &info("سياسة الموانئ", "ar", true),
        "## خلفية\n\nالموانئ مهمة للتجارة.[^1]\n\n[^1]: ملاحظة عن التعريفات.\n",
    );
    keep("arabic", &arabic);
    assert!(arabic.accessible, "PDF/UA-1");
    assert_eq!(misused_fonts(&arabic), Vec::<String>::new(), "{:?}", arabic.fonts);
    assert!(
        arabic
            .fonts
            .iter()
            .any(|(f, s)| f == "Noto Naskh Arabic" && s.contains(&quire_pdf::Script::Arabic))
    );
    if let Some(listing) = assert_fonts_embedded(&arabic) {
        assert!(listing.contains("NotoNaskhArabic"), "{listing}");
    }
}

#[test]
fn a_script_without_a_face_is_caught_not_hidden() {
    let pdf = typeset(&info("Mixed", "en", false), "Text in Devanagari: नमस्ते.\n");
    let misused = misused_fonts(&pdf);
    assert!(
        misused.iter().any(|m| m.ends_with("Other")),
        "{misused:?} {:?}",
        pdf.fonts
    );
}

#[test]
fn a_long_paper_runs_over_pages_numbered_n_of_total() {
    let mut md = String::new();
    for section in 1..=12 {
        md.push_str(&format!("## Section {section}\n\n"));
        for p in 0..6 {
            md.push_str(&format!(
                "Paragraph {p} of section {section}. {}[^n{section}x{p}]\n\n",
                "Words of the paper go on. ".repeat(12)
            ));
            md.push_str(&format!("[^n{section}x{p}]: Note {section}.{p}.\n\n"));
        }
    }
    let pdf = typeset(&info("Long", "en", false), &md);
    keep("long", &pdf);
    assert!((6..=40).contains(&pdf.pages), "{} pages", pdf.pages);
    if let Some(text) = tool("pdftotext", &["-enc", "UTF-8"], &pdf) {
        assert!(text.contains(&format!("2 of {}", pdf.pages)), "{text}");
        assert!(text.contains("Note 12.5."));
    }
}

#[test]
fn the_sandbox_reads_no_file_and_no_package() {
    // A template that tries: it must fail to compile, not read.
    for attempt in [
        "#read(\"/etc/passwd\")",
        "#import \"@preview/cetz:0.3.0\": *",
        "#image(\"/etc/hostname\")",
    ] {
        let template = format!("#let paper(..args, doc) = {{ [{attempt}]; doc }}\n");
        let typesetter = Typesetter::new(Some(template));
        let result = typesetter.typeset(&info("T", "en", false), Parser::new("Body."), &[]);
        assert!(result.is_err(), "{attempt} compiled");
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .expect("fixture")
}

/// The chart without the file link that the fixture carries to test
/// refusals.
fn chart_svg() -> Vec<u8> {
    let svg = String::from_utf8(fixture("chart.svg")).expect("svg");
    svg.lines()
        .filter(|l| !l.contains("<image"))
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes()
}

#[test]
fn held_images_are_embedded_and_titled_ones_become_captioned_figures() {
    let images = [
        quire_pdf::Image {
            url: "figures/gradient.png".into(),
            extension: "png".into(),
            data: fixture("gradient.png"),
        },
        quire_pdf::Image {
            url: "chart.svg".into(),
            extension: "svg".into(),
            data: chart_svg(),
        },
    ];
    let markdown = "## Figures\n\nThe gradient:\n\n\
        ![A gradient from blue to green](figures/gradient.png \"Figure 1: Colour by latitude\")\n\n\
        ![Bars for three ports](chart.svg \"Figure 2: Tonnage, #read(\\\"/etc/passwd\\\") $x$\")\n\n\
        An image from elsewhere: ![A remote photo](https://example.org/photo.jpg).\n";
    let options = Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES;
    let source = TYPESETTER.source(
        &info("Figures", "en", false),
        Parser::new_ext(markdown, options),
        &images,
    );
    assert!(
        source.contains("numbering: none, caption: [Figure 1\\: Colour by latitude]"),
        "{source}"
    );
    let pdf = TYPESETTER
        .typeset(
            &info("Figures", "en", false),
            Parser::new_ext(markdown, options),
            &images,
        )
        .expect("typeset");
    assert!(pdf.accessible, "images carry their descriptions, so PDF/UA holds");
    let raw = String::from_utf8_lossy(&pdf.bytes).replace("/Subtype /", "/Subtype/");
    assert!(
        raw.contains("/Subtype/Image") && raw.contains("/Width 160"),
        "the PNG is embedded"
    );
    if let Some(listing) = tool("pdfimages", &["-list"], &pdf) {
        let rows: Vec<&str> = listing.lines().skip(2).collect();
        assert_eq!(
            rows.len(),
            1,
            "one raster image; the SVG is drawn as vectors: {listing}"
        );
        assert!(rows[0].split_whitespace().nth(3) == Some("160"), "{listing}");
    }
    if let Some(text) = tool("pdftotext", &[], &pdf) {
        assert!(text.contains("Figure 1: Colour by latitude"), "{text}");
        assert!(
            text.contains("Figure 2: Tonnage, #read(\"/etc/passwd\") $x$"),
            "a caption prints literally: {text}"
        );
        assert!(
            text.contains("[A remote photo]"),
            "an image not held is described: {text}"
        );
        assert!(!text.contains("root:"), "{text}");
    }
    keep("figures", &pdf);
}

#[test]
fn images_are_checked_as_the_typesetter_reads_them() {
    let png = fixture("gradient.png");
    assert_eq!(quire_pdf::check_image(&png, "png"), Ok((160.0, 80.0)));
    assert_eq!(quire_pdf::check_image(&chart_svg(), "svg"), Ok((300.0, 120.0)));
    let truncated = &png[..png.len() / 2];
    let err = quire_pdf::check_image(truncated, "png").expect_err("truncated");
    assert!(err.starts_with("the image cannot be decoded"), "{err}");
    let err = quire_pdf::check_image(&png, "jpg").expect_err("not a JPEG");
    assert!(err.starts_with("the image cannot be decoded"), "{err}");
    let err = quire_pdf::check_image(b"<svg xmlns=\"http://www.w3.org/2000/svg\"><g>", "svg").expect_err("bad svg");
    assert!(err.starts_with("the SVG cannot be read"), "{err}");
    let linking = String::from_utf8(fixture("chart.svg")).expect("svg");
    let err = quire_pdf::check_image(linking.as_bytes(), "svg").expect_err("links a file");
    assert!(err.contains("links to the file \"file:///etc/hostname\""), "{err}");
    let err = quire_pdf::check_image(
        &linking.replace("file:///etc/hostname", "other.png").into_bytes(),
        "svg",
    )
    .expect_err("links a file");
    assert!(err.contains("links to the file \"other.png\""), "{err}");
    let err = quire_pdf::check_image(b"<html></html>", "svg").expect_err("not svg");
    assert!(err.starts_with("the SVG cannot be read"), "{err}");
    assert!(quire_pdf::check_image(&png, "bmp").is_err());
}
