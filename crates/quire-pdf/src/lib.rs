//! Typeset PDF of a paper, made by the Typst compiler in memory.
//!
//! A paper's body (pulldown-cmark events, the same the web page is made
//! from) becomes Typst markup (`markup`), its metadata becomes string
//! literals, and a template lays both out. The compiler sees a sandbox
//! (`world`): the generated file, the template, the fonts and the paper's
//! own images, nothing else: no file system, no packages, no network.

mod markup;
mod world;

use pulldown_cmark::Event;
use std::collections::HashMap;
use typst::foundations::Bytes;
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt};
use typst_layout::PagedDocument;

/// The built-in template.
pub const DEFAULT_TEMPLATE: &str = include_str!("paper.typ");

/// Fonts Quire brings beyond Typst's own (which have no Arabic face).
const EXTRA_FONTS: [&[u8]; 2] = [
    include_bytes!("../fonts/NotoNaskhArabic-Regular.ttf"),
    include_bytes!("../fonts/NotoNaskhArabic-Bold.ttf"),
];

/// Why a PDF could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The template (or, if Quire has a bug, the generated markup) did not
    /// compile; the messages say where.
    #[error("the PDF template did not compile: {0}")]
    Compile(String),
    #[error("the PDF could not be written: {0}")]
    Export(String),
}

/// A paper's author as printed.
#[derive(Clone, Debug)]
pub struct Author {
    pub name: String,
    pub affiliation: Option<String>,
}

/// An image of the paper, held by Quire.
#[derive(Clone, Debug)]
pub struct Image {
    /// The URL the Markdown uses for it.
    pub url: String,
    /// "png", "jpg", "gif", "svg" or "webp".
    pub extension: String,
    pub data: Vec<u8>,
}

/// What the first page, the running header and footer, the document
/// metadata and the closing citation show.
#[derive(Clone, Debug, Default)]
pub struct PaperInfo {
    /// The publisher: the site's name.
    pub organisation: String,
    pub kind: String,
    pub title: String,
    pub subtitle: Option<String>,
    /// For the running header.
    pub short_title: String,
    pub authors: Vec<Author>,
    /// As printed ("5 March 2026").
    pub date: String,
    /// (year, month, day) for the PDF's metadata.
    pub date_parts: Option<(i32, u8, u8)>,
    pub summary: String,
    pub permalink: String,
    /// BCP 47 language of the paper ("en", "he", "ar").
    pub language: String,
    pub right_to_left: bool,
    /// The site's language, for its own words (date, labels).
    pub site_language: String,
    /// Topics, as the PDF's keywords.
    pub keywords: Vec<String>,
    /// The citation the web page shows.
    pub citation: String,
}

/// A typeset paper.
pub struct Pdf {
    pub bytes: Vec<u8>,
    /// Conforms to PDF/UA-1 (accessible PDF).
    pub accessible: bool,
    pub pages: usize,
    /// Each font family used, with the writing systems set in it, so a
    /// face used for a script it was not made for shows.
    pub fonts: Vec<(String, Vec<Script>)>,
}

/// Writing systems Quire checks fonts for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Script {
    Latin,
    Hebrew,
    Arabic,
    Other,
}

impl Script {
    fn of(c: char) -> Option<Script> {
        match c {
            c if c.is_ascii_alphabetic() => Some(Script::Latin),
            '\u{00C0}'..='\u{024F}' => Some(Script::Latin),
            '\u{0590}'..='\u{05FF}' | '\u{FB1D}'..='\u{FB4F}' => Some(Script::Hebrew),
            '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' | '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}' => {
                Some(Script::Arabic)
            }
            c if c.is_alphabetic() => Some(Script::Other),
            _ => None,
        }
    }

    /// The faces made for this script in Quire's template, besides the
    /// monospace face of code.
    pub fn faces(self) -> &'static [&'static str] {
        match self {
            Script::Latin => &["Libertinus Serif", "DejaVu Sans Mono"],
            Script::Hebrew => &["Libertinus Serif"],
            Script::Arabic => &["Noto Naskh Arabic"],
            Script::Other => &[],
        }
    }
}

/// Makes PDFs. Holds the fonts and the standard library, loaded once: the
/// compiler's caches then make later papers fast.
pub struct Typesetter {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
    template: String,
}

impl Typesetter {
    /// A typesetter with `template` (Typst source defining `paper`), or
    /// the built-in one.
    pub fn new(template: Option<String>) -> Typesetter {
        let fonts: Vec<Font> = typst_assets::fonts()
            .chain(EXTRA_FONTS)
            .flat_map(|data| Font::iter(Bytes::new(data)))
            .collect();
        let book = FontBook::from_fonts(&fonts);
        Typesetter {
            library: LazyHash::new(Library::builder().build()),
            book: LazyHash::new(book),
            fonts,
            template: template.unwrap_or_else(|| DEFAULT_TEMPLATE.to_owned()),
        }
    }

    /// The Typst source of a paper: the template's `paper` applied to the
    /// metadata (string literals) and the body markup.
    pub fn source<'a>(&self, info: &PaperInfo, body: impl IntoIterator<Item = Event<'a>>, images: &[Image]) -> String {
        let paths: HashMap<String, String> = images
            .iter()
            .enumerate()
            .map(|(i, image)| (image.url.clone(), image_path(i, image)))
            .collect();
        let body = markup::body_markup(body, &paths);
        let s = |t: &str| markup::string_literal(t);
        let authors: Vec<String> = info
            .authors
            .iter()
            .map(|a| {
                format!(
                    "(name: {}, affiliation: {})",
                    s(&a.name),
                    a.affiliation.as_deref().map_or("none".to_owned(), s)
                )
            })
            .collect();
        let keywords: Vec<String> = info.keywords.iter().map(|k| s(k)).collect();
        let date_parts = info
            .date_parts
            .map_or("none".to_owned(), |(y, m, d)| format!("({y}, {m}, {d})"));
        format!(
            "#import \"/template.typ\": paper\n\
             #show: paper.with(\n  organisation: {},\n  kind: {},\n  title: {},\n  subtitle: {},\n  short-title: {},\n  \
             authors: ({}),\n  date: {},\n  date-parts: {date_parts},\n  summary: {},\n  permalink: {},\n  lang: {},\n  \
             right-to-left: {},\n  site-lang: {},\n  keywords: ({}),\n  citation: {},\n)\n\n{body}",
            s(&info.organisation),
            s(&info.kind),
            s(&info.title),
            info.subtitle.as_deref().map_or("none".to_owned(), s),
            s(&info.short_title),
            authors.iter().map(|a| format!("{a}, ")).collect::<String>(),
            s(&info.date),
            s(&info.summary),
            s(&info.permalink),
            s(&language_code(&info.language)),
            info.right_to_left,
            s(&language_code(&info.site_language)),
            keywords.iter().map(|k| format!("{k}, ")).collect::<String>(),
            s(&info.citation),
        )
    }

    /// Typesets a paper.
    pub fn typeset<'a>(
        &self,
        info: &PaperInfo,
        body: impl IntoIterator<Item = Event<'a>>,
        images: &[Image],
    ) -> Result<Pdf, PdfError> {
        let source = self.source(info, body, images);
        self.compile(source, images, &info.permalink)
    }

    /// Typesets Typst `source` made by `source()`; `ident` (the paper's
    /// permalink) identifies the document across versions.
    pub fn compile(&self, source: String, images: &[Image], ident: &str) -> Result<Pdf, PdfError> {
        let files: Vec<(String, Bytes)> = images
            .iter()
            .enumerate()
            .map(|(i, image)| (image_path(i, image), Bytes::new(image.data.clone())))
            .collect();
        let world = world::PaperWorld::new(self, source, &files);
        let document = typst::compile::<PagedDocument>(&world)
            .output
            .map_err(|errors| PdfError::Compile(world.describe(&errors)))?;
        // PDF/UA-1 where the paper allows it: tagged for screen readers,
        // with that standard's checks (a title, a language, text for
        // images, every glyph in its font). A paper that fails them (text
        // in a script Quire has no face for) is still typeset, tagged but
        // not claiming the standard; `misused_fonts` says why.
        let options = |standards| typst_pdf::PdfOptions {
            ident: typst::foundations::Smart::Custom(ident.to_owned()),
            creator: typst::foundations::Smart::Custom(Some("Quire".to_owned())),
            standards,
            ..Default::default()
        };
        let ua = typst_pdf::PdfStandards::new(&[typst_pdf::PdfStandard::Ua_1])
            .map_err(|e| PdfError::Export(e.message().to_string()))?;
        let (bytes, accessible) = match typst_pdf::pdf(&document, &options(ua)) {
            Ok(bytes) => (bytes, true),
            Err(_) => (
                typst_pdf::pdf(&document, &options(typst_pdf::PdfStandards::default()))
                    .map_err(|errors| PdfError::Export(world.describe(&errors)))?,
                false,
            ),
        };
        Ok(Pdf {
            bytes,
            accessible,
            pages: document.pages().len(),
            fonts: fonts_used(&document),
        })
    }
}

impl Typesetter {
    /// The template in use: with the source, what a PDF depends on.
    pub fn template(&self) -> &str {
        &self.template
    }
}

impl Default for Typesetter {
    fn default() -> Self {
        Typesetter::new(None)
    }
}

/// Decodes an image the way the typesetter will, so that a file which would
/// break a paper's PDF is refused when the paper is added, not when a
/// reader asks for it. `extension` is "png", "jpg", "gif", "webp" or "svg".
/// Returns the image's size: pixels, or an SVG drawing's own units.
pub fn check_image(data: &[u8], extension: &str) -> Result<(f64, f64), String> {
    use typst::visualize::{ExchangeFormat, RasterImage};
    let format = match extension {
        "png" => ExchangeFormat::Png,
        "jpg" | "jpeg" => ExchangeFormat::Jpg,
        "gif" => ExchangeFormat::Gif,
        "webp" => ExchangeFormat::Webp,
        "svg" => {
            // The typesetter refuses an SVG that links to another file (it
            // may read none), and so must this check; it must not read the
            // file either, as usvg's own resolver would.
            let linked = std::sync::Mutex::new(None::<String>);
            let options = usvg::Options {
                image_href_resolver: usvg::ImageHrefResolver {
                    resolve_data: usvg::ImageHrefResolver::default_data_resolver(),
                    resolve_string: Box::new(|href, _| {
                        if let Ok(mut first) = linked.lock() {
                            first.get_or_insert_with(|| href.to_owned());
                        }
                        None
                    }),
                },
                ..svg_options()
            };
            let tree = usvg::Tree::from_data(data, &options).map_err(|e| format!("the SVG cannot be read ({e})"))?;
            if let Some(href) = linked.lock().ok().and_then(|l| l.clone()) {
                return Err(format!(
                    "the SVG links to the file {href:?}, which cannot travel with the paper: embed that picture in the SVG or remove it"
                ));
            }
            let size = tree.size();
            return Ok((f64::from(size.width()), f64::from(size.height())));
        }
        other => return Err(format!("{other:?} is not an image format the typesetter reads")),
    };
    let image = RasterImage::plain(Bytes::new(data.to_vec()), format)
        .map_err(|e| format!("the image cannot be decoded ({e})"))?;
    Ok((f64::from(image.width()), f64::from(image.height())))
}

/// The fonts Quire brings, for text in SVG drawings read outside the
/// typesetter: every generic family and every name it lacks falls back to
/// Libertinus Serif (monospace to DejaVu Sans Mono), so text is drawn with
/// fonts that are always there and nothing is looked up, or warned about,
/// on the machine. Loaded once.
pub fn svg_fonts() -> std::sync::Arc<usvg::fontdb::Database> {
    static FONTS: std::sync::LazyLock<std::sync::Arc<usvg::fontdb::Database>> = std::sync::LazyLock::new(|| {
        let mut db = usvg::fontdb::Database::new();
        for data in typst_assets::fonts().chain(EXTRA_FONTS) {
            db.load_font_data(data.to_vec());
        }
        for set in [
            usvg::fontdb::Database::set_serif_family,
            usvg::fontdb::Database::set_sans_serif_family,
            usvg::fontdb::Database::set_cursive_family,
            usvg::fontdb::Database::set_fantasy_family,
        ] {
            set(&mut db, "Libertinus Serif");
        }
        db.set_monospace_family("DejaVu Sans Mono");
        std::sync::Arc::new(db)
    });
    FONTS.clone()
}

/// How Quire reads SVG drawings outside the typesetter (checking them,
/// drawing them as PNG for emails): with [`svg_fonts`], and characters a
/// font lacks taken from another bundled font, preferring text faces to
/// the monospace one, without a warning for each.
pub fn svg_options<'a>() -> usvg::Options<'a> {
    usvg::Options {
        fontdb: svg_fonts(),
        font_resolver: usvg::FontResolver {
            select_font: usvg::FontResolver::default_font_selector(),
            select_fallback: Box::new(|c, used, fontdb| {
                let monospace = |id| {
                    fontdb
                        .face(id)
                        .is_some_and(|f| f.families.iter().any(|(name, _)| name.contains("Mono")))
                };
                let candidates = || fontdb.faces().map(|f| f.id).filter(|id| !used.contains(id));
                candidates()
                    .filter(|id| !monospace(*id))
                    .chain(candidates())
                    .find(|id| {
                        fontdb
                            .with_face_data(*id, |data, index| {
                                ttf_parser::Face::parse(data, index).is_ok_and(|f| f.glyph_index(c).is_some())
                            })
                            .unwrap_or(false)
                    })
            }),
        },
        ..usvg::Options::default()
    }
}

/// Draws an SVG drawing as PNG for readers that show no SVG (email
/// programs): twice its own size for sharp screens, at most `max_width`
/// pixels wide and 4096 high, on white (as emails show images), with the
/// bundled fonts. Files the drawing links to are never read.
pub fn svg_to_png(data: &[u8], max_width: u32) -> Result<Vec<u8>, String> {
    let options = usvg::Options {
        image_href_resolver: usvg::ImageHrefResolver {
            resolve_data: usvg::ImageHrefResolver::default_data_resolver(),
            resolve_string: Box::new(|_, _| None),
        },
        ..svg_options()
    };
    let tree = usvg::Tree::from_data(data, &options).map_err(|e| format!("the SVG cannot be read ({e})"))?;
    let size = tree.size();
    let max_width = max_width.max(1) as f32;
    let scale = 2.0_f32.min(max_width / size.width()).min(4096.0 / size.height());
    let width = (size.width() * scale).ceil().clamp(1.0, max_width) as u32;
    let height = (size.height() * scale).ceil().clamp(1.0, 4096.0) as u32;
    let mut pixmap = resvg::tiny_skia::Pixmap::new(width, height).ok_or("the drawing has no area")?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(width as f32 / size.width(), height as f32 / size.height()),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| format!("the PNG cannot be written ({e})"))
}

/// Where image `i` lives in the sandbox.
fn image_path(i: usize, image: &Image) -> String {
    let ext: String = image.extension.chars().filter(char::is_ascii_alphanumeric).collect();
    format!("/images/{i}.{ext}")
}

/// The primary language subtag Typst knows ("en" of "en-GB").
fn language_code(language: &str) -> String {
    let code: String = language
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_lowercase();
    if (2..=3).contains(&code.len()) {
        code
    } else {
        "en".to_owned()
    }
}

/// Font families used in `document`, each with the scripts set in it.
fn fonts_used(document: &PagedDocument) -> Vec<(String, Vec<Script>)> {
    fn walk(frame: &typst::layout::Frame, found: &mut HashMap<String, Vec<Script>>) {
        for (_, item) in frame.items() {
            match item {
                typst::layout::FrameItem::Group(group) => walk(&group.frame, found),
                typst::layout::FrameItem::Text(text) => {
                    let family = text.font.font().info().family.clone();
                    let scripts = found.entry(family).or_default();
                    for script in text.text.chars().filter_map(Script::of) {
                        if !scripts.contains(&script) {
                            scripts.push(script);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let mut found = HashMap::new();
    for page in document.pages() {
        walk(&page.frame, &mut found);
    }
    let mut fonts: Vec<(String, Vec<Script>)> = found
        .into_iter()
        .map(|(family, mut scripts)| {
            scripts.sort();
            (family, scripts)
        })
        .collect();
    fonts.sort();
    fonts
}

/// Fonts given a script they were not made for, as "family: script".
pub fn misused_fonts(pdf: &Pdf) -> Vec<String> {
    pdf.fonts
        .iter()
        .flat_map(|(family, scripts)| {
            scripts
                .iter()
                .filter(|s| !s.faces().contains(&family.as_str()))
                .map(move |s| format!("{family}: {s:?}"))
        })
        .collect()
}

#[cfg(test)]
mod svg_tests {
    #[test]
    fn drawings_become_pngs_of_a_bounded_size() {
        let svg = br##"<svg xmlns="http://www.w3.org/2000/svg" width="300" height="100"><rect width="300" height="100" fill="#c00"/><text x="10" y="50">Exports</text></svg>"##;
        let size_of = |png: &[u8]| {
            let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            (be(&png[16..20]), be(&png[20..24]))
        };
        let png = super::svg_to_png(svg, 1200).expect("png");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_eq!(size_of(&png), (600, 200));
        let wide = br#"<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="10"/>"#;
        let png = super::svg_to_png(wide, 1200).expect("png");
        assert_eq!(size_of(&png).0, 1200);
        let tall = br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="100000"/>"#;
        assert!(size_of(&super::svg_to_png(tall, 1200).expect("png")).1 <= 4096);
        assert!(super::svg_to_png(b"<svg", 1200).is_err());
    }
}
