//! Markdown → sanitised HTML, table of contents and word count.
//!
//! CommonMark with tables, footnotes, strikethrough, heading ids and smart
//! punctuation. Footnotes are gathered into a numbered list at the end with
//! back-links; headings get stable ids; whatever raw HTML an author wrote
//! passes an allow-list sanitiser. Pure functions: no I/O.

use crate::domain::{MediaMeta, media_name, media_path};
use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// One heading of a paper, for its table of contents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TocEntry {
    /// 1 for `#`, 2 for `##`…
    pub level: u8,
    /// The heading's id, the target of `#id` links.
    pub id: String,
    /// The heading as plain text.
    pub text: String,
}

/// A paper body ready to put inside a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedMarkdown {
    /// Sanitised HTML, footnotes last.
    pub html: String,
    pub toc: Vec<TocEntry>,
    pub word_count: usize,
    pub footnote_count: usize,
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_SMART_PUNCTUATION
}

/// A paper body as parsed Markdown, with the same extensions as the web
/// page: what the PDF is typeset from.
pub fn events(markdown: &str) -> impl Iterator<Item = Event<'_>> {
    Parser::new_ext(markdown, options())
}

/// Every image address a body gives, with the byte offset where its image
/// starts: for reading the images a paper file names.
pub fn image_references(markdown: &str) -> Vec<(String, usize)> {
    Parser::new_ext(markdown, options())
        .into_offset_iter()
        .filter_map(|(event, range)| match event {
            Event::Start(Tag::Image { dest_url, .. }) => Some((dest_url.to_string(), range.start)),
            _ => None,
        })
        .collect()
}

/// Ids the page itself uses; a heading with the same name gets a suffix.
const RESERVED_IDS: [&str; 6] = ["content", "toc", "footnotes", "top", "main", "summary"];

/// Where a paper's own images are served, so that the names its body gives
/// them become working addresses wherever the HTML is read.
pub struct ImageLinks<'a> {
    /// What an image's path is appended to: the paper's path on its page,
    /// its absolute URL in feeds.
    pub prefix: &'a str,
    /// The images stored with the paper, for their sizes.
    pub media: &'a [MediaMeta],
}

impl ImageLinks<'_> {
    /// A paragraph at `i` that is nothing but one of the paper's images
    /// with a title becomes a figure captioned by the title (the PDF does
    /// the same): its HTML and the index after the paragraph.
    fn figure(&self, events: &[Event<'_>], i: usize) -> Option<(String, usize)> {
        let (Event::Start(Tag::Paragraph), Some(Event::Start(Tag::Image { dest_url, title, .. }))) =
            (&events[i], events.get(i + 1))
        else {
            return None;
        };
        if title.is_empty() || media_name(dest_url).ok().flatten().is_none() {
            return None;
        }
        let end = image_end(events, i + 1);
        if !matches!(events.get(end + 1), Some(Event::End(TagEnd::Paragraph))) {
            return None;
        }
        let img = self.img(dest_url, "", &plain_text(&events[i + 2..end]))?;
        let mut html = format!("<figure>{img}<figcaption>");
        let _ = pulldown_cmark_escape::escape_html(&mut html, title);
        html.push_str("</figcaption></figure>\n");
        Some((html, end + 2))
    }

    /// The `<img>` for an image of the paper named by `dest`, or None when
    /// `dest` is not such a name (a web address stays as written).
    fn img(&self, dest: &str, title: &str, alt: &str) -> Option<String> {
        let name = media_name(dest).ok().flatten()?;
        let mut tag = format!("<img src=\"{}{}\" alt=\"", self.prefix, media_path(&name));
        let _ = pulldown_cmark_escape::escape_html(&mut tag, alt);
        tag.push('"');
        if !title.is_empty() {
            tag.push_str(" title=\"");
            let _ = pulldown_cmark_escape::escape_html(&mut tag, title);
            tag.push('"');
        }
        if let Some(m) = self.media.iter().find(|m| m.name == name)
            && let (Some(w), Some(h)) = (m.width, m.height)
        {
            tag.push_str(&format!(" width=\"{w}\" height=\"{h}\""));
        }
        tag.push_str(" loading=\"lazy\" decoding=\"async\">");
        Some(tag)
    }
}

/// Renders a Markdown document to sanitised HTML with its table of contents.
pub fn render(markdown: &str) -> RenderedMarkdown {
    render_with_images(markdown, None)
}

/// Renders a paper body whose relative image names point at the images
/// stored with it (`images`).
pub fn render_with_images(markdown: &str, images: Option<&ImageLinks<'_>>) -> RenderedMarkdown {
    let mut body: Vec<Event<'_>> = Vec::new();
    let mut definitions: HashMap<String, Vec<Event<'_>>> = HashMap::new();
    let mut definition_order: Vec<String> = Vec::new();
    let mut current_definition: Option<(String, Vec<Event<'_>>)> = None;
    let mut word_count = 0;

    let mut has_raw_html = false;
    for event in Parser::new_ext(markdown, options()) {
        match &event {
            Event::Text(t) | Event::Code(t) => word_count += count_words(t),
            Event::Html(_) | Event::InlineHtml(_) => has_raw_html = true,
            _ => {}
        }
        match event {
            Event::Start(Tag::FootnoteDefinition(label)) => {
                current_definition = Some((label.to_string(), Vec::new()));
            }
            Event::End(TagEnd::FootnoteDefinition) => {
                if let Some((label, events)) = current_definition.take()
                    && let std::collections::hash_map::Entry::Vacant(slot) = definitions.entry(label.clone())
                {
                    definition_order.push(label);
                    slot.insert(events);
                }
            }
            other => match &mut current_definition {
                Some((_, events)) => events.push(other),
                None => body.push(other),
            },
        }
    }

    let mut notes = FootnoteNumbers::default();
    let mut ids = HeadingIds::default();
    let mut toc = Vec::new();
    let body = transform(body, &mut notes, &mut ids, Some(&mut toc), images);

    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, body.into_iter());

    // Definitions may themselves reference footnotes, so number as we go.
    // Both lists only grow or stay, and what a cursor passes (done, or
    // with no definition) stays passed: one walk over each, however many
    // notes there are.
    let mut rendered_notes: Vec<(usize, String)> = Vec::new();
    let mut done: HashSet<String> = HashSet::new();
    let (mut referenced_at, mut defined_at) = (0, 0);
    loop {
        while referenced_at < notes.order.len()
            && (done.contains(&notes.order[referenced_at]) || !definitions.contains_key(&notes.order[referenced_at]))
        {
            referenced_at += 1;
        }
        while defined_at < definition_order.len() && done.contains(&definition_order[defined_at]) {
            defined_at += 1;
        }
        let next = notes
            .order
            .get(referenced_at)
            .or_else(|| definition_order.get(defined_at))
            .cloned();
        let Some(label) = next else { break };
        done.insert(label.clone());
        let events = definitions.remove(&label).unwrap_or_default();
        let number = notes.number_of(&label);
        let events = transform(events, &mut notes, &mut ids, None, images);
        let mut note_html = String::new();
        html::push_html(&mut note_html, events.into_iter());
        let backlinks: String = (1..=notes.uses(&label))
            .map(|k| {
                let target = reference_id(number, k);
                let label = if k == 1 {
                    format!("Back to reference {number}")
                } else {
                    format!("Back to reference {number} ({k})")
                };
                format!(" <a href=\"#{target}\" class=\"footnote-back\" aria-label=\"{label}\">↩\u{fe0e}</a>")
            })
            .collect();
        let trimmed = note_html.trim_end();
        let note_html = match trimmed.strip_suffix("</p>") {
            Some(head) => format!("{head}{backlinks}</p>"),
            None => format!("{trimmed}{backlinks}"),
        };
        rendered_notes.push((number, note_html));
    }
    let footnote_count = rendered_notes.len();
    if !rendered_notes.is_empty() {
        rendered_notes.sort_by_key(|(n, _)| *n);
        out.push_str("<section class=\"footnotes\" id=\"footnotes\" aria-label=\"Notes\">\n<h2 class=\"footnotes-title\">Notes</h2>\n<ol>\n");
        for (number, note) in rendered_notes {
            out.push_str(&format!("<li id=\"fn:{number}\">{note}</li>\n"));
        }
        out.push_str("</ol>\n</section>\n");
    }

    // CSP forbids inline styles: table alignment becomes a class. Most
    // bodies have none, and are not copied three times for nothing.
    let out = if out.contains(" style=\"text-align: ") {
        out.replace(" style=\"text-align: left\"", " class=\"align-left\"")
            .replace(" style=\"text-align: center\"", " class=\"align-center\"")
            .replace(" style=\"text-align: right\"", " class=\"align-right\"")
    } else {
        out
    };

    // Without raw HTML from the author, the output holds only markup made
    // here, and every URL in it has passed `safe_url`: the sanitiser, most
    // of the cost of rendering, has nothing to remove.
    let html = if has_raw_html {
        SANITISER.clean(&out).to_string()
    } else {
        out
    };
    RenderedMarkdown {
        html,
        toc,
        word_count,
        footnote_count,
    }
}

/// Counts the words of a Markdown document without rendering it, for lists
/// and stored metadata.
pub fn word_count(markdown: &str) -> usize {
    Parser::new_ext(markdown, options())
        .map(|e| match e {
            Event::Text(t) | Event::Code(t) => count_words(&t),
            _ => 0,
        })
        .sum()
}

/// The words of a Markdown document as plain text, blocks separated by
/// newlines: what search indexes and shows in snippets, free of markup.
pub fn to_plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for e in Parser::new_ext(markdown, options()) {
        match e {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::TableCell
                | TagEnd::CodeBlock
                | TagEnd::FootnoteDefinition,
            ) if !out.ends_with('\n') => out.push('\n'),
            _ => {}
        }
    }
    out.trim_end().to_owned()
}

/// Minutes to read `words` at `words_per_minute`, never less than one.
pub fn reading_minutes(words: usize, words_per_minute: u32) -> u32 {
    let wpm = words_per_minute.max(1) as usize;
    u32::try_from(words.div_ceil(wpm).max(1)).unwrap_or(u32::MAX)
}

fn count_words(text: &str) -> usize {
    text.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

/// Numbers footnotes in the order they are first referenced.
#[derive(Default)]
struct FootnoteNumbers {
    order: Vec<String>,
    numbers: HashMap<String, usize>,
    references: HashMap<String, usize>,
}

impl FootnoteNumbers {
    fn number_of(&mut self, label: &str) -> usize {
        if let Some(n) = self.numbers.get(label) {
            return *n;
        }
        self.order.push(label.to_owned());
        let n = self.order.len();
        self.numbers.insert(label.to_owned(), n);
        n
    }

    /// Records one more reference; returns (number, which use this is).
    fn reference(&mut self, label: &str) -> (usize, usize) {
        let n = self.number_of(label);
        let uses = self.references.entry(label.to_owned()).or_insert(0);
        *uses += 1;
        (n, *uses)
    }

    fn uses(&self, label: &str) -> usize {
        self.references.get(label).copied().unwrap_or(0)
    }
}

fn reference_id(number: usize, use_index: usize) -> String {
    if use_index == 1 {
        format!("fnref:{number}")
    } else {
        format!("fnref:{number}:{use_index}")
    }
}

/// Hands out unique heading ids.
#[derive(Default)]
struct HeadingIds {
    used: HashSet<String>,
    /// Per wanted id, the suffix to try next: a thousand headings of one
    /// name cost a thousand tries, not half a million.
    next_suffix: HashMap<String, usize>,
}

impl HeadingIds {
    fn claim(&mut self, wanted: &str) -> String {
        let base = if wanted.is_empty() { "section" } else { wanted };
        if !self.next_suffix.contains_key(base) {
            self.next_suffix.insert(base.to_owned(), 1);
        }
        let Some(n) = self.next_suffix.get_mut(base) else {
            return base.to_owned();
        };
        let mut candidate = if *n == 1 {
            base.to_owned()
        } else {
            format!("{base}-{n}")
        };
        while self.used.contains(&candidate) || RESERVED_IDS.contains(&candidate.as_str()) {
            *n += 1;
            candidate = format!("{base}-{n}");
        }
        self.used.insert(candidate.clone());
        candidate
    }
}

/// Class names a heading may take from Markdown attributes: a letter,
/// then letters, digits, `-` and `_`. Nothing else (no `style`, no event
/// handlers, no other attribute) is ever taken from them.
fn valid_class(class: &str) -> bool {
    class.len() <= 64
        && class.starts_with(|c: char| c.is_ascii_alphabetic())
        && class.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Gives headings ids (and records them), turns footnote references into
/// numbered links and wraps tables so that they scroll on narrow screens.
fn transform<'a>(
    mut events: Vec<Event<'a>>,
    notes: &mut FootnoteNumbers,
    ids: &mut HeadingIds,
    mut toc: Option<&mut Vec<TocEntry>>,
    images: Option<&ImageLinks<'_>>,
) -> Vec<Event<'a>> {
    let mut out = Vec::with_capacity(events.len() + 8);
    let mut i = 0;
    while i < events.len() {
        if let Some((figure, next)) = images.and_then(|links| links.figure(&events, i)) {
            out.push(Event::Html(CowStr::from(figure)));
            i = next;
            continue;
        }
        // Taken, not cloned: what follows reads only later events.
        let event = std::mem::replace(&mut events[i], Event::SoftBreak);
        match event {
            Event::Start(Tag::Heading { level, id, classes, .. }) => {
                let end = events[i..]
                    .iter()
                    .position(|e| matches!(e, Event::End(TagEnd::Heading(_))))
                    .map_or(events.len(), |p| i + p);
                let text = plain_text(&events[i + 1..end]);
                let wanted = match &id {
                    Some(id) => crate::domain::slugify(id),
                    None => crate::domain::slugify(&text),
                };
                let id = ids.claim(&wanted);
                if let Some(toc) = toc.as_deref_mut() {
                    toc.push(TocEntry {
                        level: heading_number(level),
                        id: id.clone(),
                        text,
                    });
                }
                // `{…}` after a heading may give an id and classes only:
                // every other attribute is dropped, whether or not the
                // body holds raw HTML (which alone sends it through the
                // sanitiser).
                out.push(Event::Start(Tag::Heading {
                    level,
                    id: Some(CowStr::from(id)),
                    classes: classes.into_iter().filter(|c| valid_class(c)).take(8).collect(),
                    attrs: Vec::new(),
                }));
            }
            Event::FootnoteReference(label) => {
                let (number, k) = notes.reference(&label);
                out.push(Event::InlineHtml(CowStr::from(format!(
                    "<sup class=\"footnote-ref\" id=\"{}\"><a href=\"#fn:{number}\" aria-label=\"Note {number}\">{number}</a></sup>",
                    reference_id(number, k)
                ))));
            }
            Event::Start(Tag::Link { dest_url, title, .. }) => {
                let mut a = String::from("<a href=\"");
                if safe_url(&dest_url) {
                    let _ = pulldown_cmark_escape::escape_href(&mut a, &dest_url);
                }
                a.push('"');
                if !title.is_empty() {
                    a.push_str(" title=\"");
                    let _ = pulldown_cmark_escape::escape_html(&mut a, &title);
                    a.push('"');
                }
                a.push_str(" rel=\"noopener noreferrer\">");
                out.push(Event::InlineHtml(CowStr::from(a)));
            }
            Event::End(TagEnd::Link) => out.push(Event::InlineHtml(CowStr::from("</a>"))),
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                // Only the paper's own images are read to their end (and
                // skipped whole): reading every image of a nest to its end
                // would be quadratic in the nesting.
                if let Some(links) = images.filter(|_| media_name(&dest_url).ok().flatten().is_some()) {
                    let end = image_end(&events, i);
                    let alt = plain_text(&events[i + 1..end]);
                    if let Some(img) = links.img(&dest_url, &title, &alt) {
                        out.push(Event::InlineHtml(CowStr::from(img)));
                        i = end + 1;
                        continue;
                    }
                }
                let dest_url = if safe_url(&dest_url) {
                    dest_url
                } else {
                    CowStr::from("")
                };
                out.push(Event::Start(Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    id,
                }));
            }
            table @ Event::Start(Tag::Table(_)) => {
                out.push(Event::Html(CowStr::from("<div class=\"table-scroll\">")));
                out.push(table);
            }
            end @ Event::End(TagEnd::Table) => {
                out.push(end);
                out.push(Event::Html(CowStr::from("</div>\n")));
            }
            other => out.push(other),
        }
        i += 1;
    }
    out
}

/// The index of the end of the image that starts at `start` (images may
/// hold images in their description).
fn image_end(events: &[Event<'_>], start: usize) -> usize {
    // The start itself is not read: `transform` has taken it already.
    let mut depth = 1usize;
    for (k, e) in events.iter().enumerate().skip(start + 1) {
        match e {
            Event::Start(Tag::Image { .. }) => depth += 1,
            Event::End(TagEnd::Image) => {
                depth -= 1;
                if depth == 0 {
                    return k;
                }
            }
            _ => {}
        }
    }
    events.len().saturating_sub(1)
}

/// Whether a link or image may point at `url`: relative addresses and the
/// http, https, mailto and tel schemes. Browsers ignore tabs, newlines and
/// control characters in a scheme, so those are dropped before checking.
fn safe_url(url: &str) -> bool {
    let cleaned: String = url
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_control())
        .collect();
    let scheme_end = cleaned.find(':');
    let path_start = cleaned.find(['/', '?', '#']);
    match (scheme_end, path_start) {
        (Some(colon), Some(path)) if path < colon => true,
        (Some(colon), _) => {
            let scheme = cleaned[..colon].to_ascii_lowercase();
            ["http", "https", "mailto", "tel"].contains(&scheme.as_str())
        }
        (None, _) => true,
    }
}

fn plain_text(events: &[Event<'_>]) -> String {
    let mut s = String::new();
    for e in events {
        match e {
            Event::Text(t) | Event::Code(t) => s.push_str(t),
            Event::SoftBreak | Event::HardBreak => s.push(' '),
            _ => {}
        }
    }
    s.trim().to_owned()
}

fn heading_number(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// The allow-list every paper body passes: ordinary document markup, ids
/// and classes, links with safe schemes only; no scripts, styles, forms,
/// frames or event handlers.
static SANITISER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.add_tags([
        "section",
        "figure",
        "figcaption",
        "sup",
        "sub",
        "mark",
        "abbr",
        "details",
        "summary",
    ])
    .add_generic_attributes(["id", "class", "aria-label", "dir"])
    .add_tag_attributes("ol", ["start"])
    .add_tag_attributes("img", ["title", "loading", "decoding"])
    .add_tag_attributes("td", ["colspan", "rowspan"])
    .add_tag_attributes("th", ["colspan", "rowspan", "scope"])
    .url_schemes(["http", "https", "mailto", "tel"].into_iter().collect())
    .link_rel(Some("noopener noreferrer"));
    b
});

#[cfg(test)]
mod tests {
    #[test]
    fn plain_text_drops_markup_and_keeps_words() {
        let text = super::to_plain_text(
            "# Ports\n\nThe **busiest** [port](https://x.org) `code`.[^1]\n\n| a | b |\n|---|---|\n| c | d |\n\n[^1]: A note.\n\n<b>raw</b>",
        );
        assert!(text.starts_with("Ports\nThe busiest port code."), "{text}");
        assert!(text.contains("A note."), "{text}");
        assert!(!text.contains(['*', '[', '|', '`', '#', '<']), "{text}");
    }

    use super::*;

    #[test]
    fn renders_commonmark_extensions() {
        let r = render("# Title\n\nSome *em* and ~~gone~~ \"quoted\" -- dash...\n\n| a | b |\n|:-|:-:|\n| 1 | 2 |\n");
        assert!(r.html.contains("<h1 id=\"title\">Title</h1>"), "{}", r.html);
        assert!(r.html.contains("<em>em</em>"));
        assert!(r.html.contains("<del>gone</del>"));
        assert!(r.html.contains("“quoted”"), "{}", r.html);
        assert!(r.html.contains("–") && r.html.contains("…"), "{}", r.html);
        assert!(r.html.contains("<div class=\"table-scroll\"><table>"), "{}", r.html);
        assert!(r.html.contains("<th class=\"align-center\">b</th>"), "{}", r.html);
        assert!(!r.html.contains("style="));
    }

    #[test]
    fn footnotes_become_a_numbered_list_with_backlinks() {
        let md = "First.[^b] Second.[^a] Again.[^b]\n\n[^a]: Note A.\n[^b]: Note B.\n[^unused]: Never cited.\n";
        let r = render(md);
        // Numbered by first reference: b is 1, a is 2.
        assert!(
            r.html
                .contains("<sup class=\"footnote-ref\" id=\"fnref:1\"><a href=\"#fn:1\""),
            "{}",
            r.html
        );
        assert!(r.html.contains("id=\"fnref:2\"><a href=\"#fn:2\""));
        assert!(r.html.contains("id=\"fnref:1:2\""), "second use of b");
        let notes = &r.html[r.html.find("<section class=\"footnotes\"").expect("notes section")..];
        let b = notes.find("Note B.").expect("B");
        let a = notes.find("Note A.").expect("A");
        let unused = notes.find("Never cited.").expect("unused kept");
        assert!(b < a && a < unused);
        assert!(
            notes.contains("<li id=\"fn:1\"><p>Note B. <a href=\"#fnref:1\""),
            "{notes}"
        );
        assert!(notes.contains("href=\"#fnref:1:2\""));
        assert_eq!(r.footnote_count, 3);
        // The body no longer holds the definitions.
        assert!(!r.html[..r.html.find("<section").unwrap_or(0)].contains("Note A."));
    }

    #[test]
    fn headings_get_unique_ids_and_a_toc() {
        let r =
            render("## Background\n\n## Background\n\n### Ports & *harbours*\n\n## Content\n\n## Custom {#my-id}\n");
        let ids: Vec<_> = r.toc.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(
            ids,
            ["background", "background-2", "ports-harbours", "content-2", "my-id"]
        );
        assert_eq!(r.toc[2].text, "Ports & harbours");
        assert_eq!(r.toc[2].level, 3);
        assert!(r.html.contains("<h2 id=\"background-2\">"));
    }

    #[test]
    fn own_images_get_addresses_sizes_and_captions() {
        let media = [crate::domain::MediaMeta {
            name: "figures/chart 1.png".into(),
            kind: crate::domain::MediaKind::Png,
            width: Some(800),
            height: Some(400),
            byte_size: 10,
            sha256: "00".into(),
        }];
        let links = ImageLinks {
            prefix: "/papers/ports/",
            media: &media,
        };
        let md = "![Exports <b>\"2025\"</b>](figures/chart%201.png \"Figure 1: Exports & <imports>\")\n\n\
                  Inline ![icon](./logo.svg) here, ![far](https://example.org/a.png) and ![up](../x.png).\n\n\
                  ![Chart, no title](figures/chart%201.png)\n";
        let html = render_with_images(md, Some(&links)).html;
        assert!(
            html.contains(
                "<figure><img src=\"/papers/ports/figures/chart%201.png\" alt=\"Exports “2025”\" \
                 width=\"800\" height=\"400\" loading=\"lazy\" decoding=\"async\">\
                 <figcaption>Figure 1: Exports &amp; &lt;imports&gt;</figcaption></figure>"
            ),
            "{html}"
        );
        assert!(
            html.contains("<img src=\"/papers/ports/logo.svg\" alt=\"icon\" loading=\"lazy\""),
            "an image not stored keeps no size: {html}"
        );
        assert!(
            html.contains("<img src=\"https://example.org/a.png\" alt=\"far\""),
            "{html}"
        );
        assert!(html.contains("<img src=\"../x.png\" alt=\"up\""), "{html}");
        assert!(
            html.contains("<p><img src=\"/papers/ports/figures/chart%201.png\" alt=\"Chart, no title\" width=\"800\""),
            "no title, no figure: {html}"
        );
        // With raw HTML the sanitiser runs, and keeps what Quire wrote.
        let html = render_with_images(&format!("{md}\n<b>bold</b>\n"), Some(&links)).html;
        assert!(
            html.contains("width=\"800\" height=\"400\" loading=\"lazy\" decoding=\"async\""),
            "{html}"
        );
        assert!(html.contains("<figcaption>"), "{html}");
    }

    #[test]
    fn heading_attributes_give_only_an_id_and_plain_classes() {
        let vectors = [
            "## Title {onmouseover=alert(1) style=color:red autofocus onfocus=alert(2)}",
            "## Title {#x .ok .bad\"x onclick=\"alert(3)\" data-x=y}",
            "## Title {.ok tabindex=1 hidden accesskey=x .x:y}",
            "Title {contenteditable=true}\n-----",
        ];
        for markdown in vectors {
            let html = super::render(markdown).html;
            let tag = &html[..html.find('>').expect("a tag")];
            for attribute in [
                "onmouseover",
                "onfocus",
                "onclick",
                "style",
                "autofocus",
                "tabindex",
                "hidden",
                "accesskey",
                "data-x",
                "contenteditable",
                "<script",
            ] {
                assert!(!tag.contains(attribute), "{markdown:?} gave {html}");
            }
            assert!(tag.starts_with("<h") && !tag.contains("Title"), "{html}");
        }
        let html = super::render("## Title {#chosen .lead .also-this}").html;
        assert_eq!(html, "<h2 id=\"chosen\" class=\"lead also-this\">Title</h2>\n");
    }

    #[test]
    fn many_headings_notes_and_nested_images_take_linear_time() {
        use crate::test_support::finishes_within;
        use std::time::Duration;
        let headings = "# a\n\n".repeat(40_000);
        let html = finishes_within(Duration::from_secs(20), move || super::render(&headings).html);
        assert!(html.contains("id=\"a-40000\""));
        let mut notes = String::new();
        for n in 0..20_000 {
            notes.push_str(&format!("x[^{n}] "));
        }
        for n in 0..20_000 {
            notes.push_str(&format!("\n\n[^{n}]: note {n}"));
        }
        let html = finishes_within(Duration::from_secs(20), move || super::render(&notes).html);
        assert!(html.contains("<li id=\"fn:20000\">"));
        let nested = format!("{}x{}", "![".repeat(20_000), "](a.png)".repeat(20_000));
        let links = super::ImageLinks {
            prefix: "/papers/p/",
            media: &[],
        };
        finishes_within(Duration::from_secs(20), move || {
            super::render_with_images(&nested, Some(&links)).html
        });
    }

    #[test]
    fn raw_html_is_sanitised() {
        let hostile = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<svg onload=alert(1)><circle/></svg>",
            "<p style=\"background:url(javascript:alert(1))\">x</p>",
            "<form action=\"https://evil.example\"><input name=a></form>",
            "<a href=\"data:text/html;base64,PHNjcmlwdD4=\">x</a>",
            "<object data=\"x.swf\"></object>",
            "<div onclick=\"alert(1)\">click</div>",
            "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
            "<scr<script>ipt>alert(1)</script>",
        ];
        // Links written in Markdown alone (no raw HTML in the document).
        for md in [
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x](java&#9;script:alert(1))",
            "[x](&#106;avascript:alert(1))",
            "[x](vbscript:msgbox(1))",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "![x](javascript:alert(1))",
            "<javascript:alert(1)>",
            "[x]: javascript:alert(1)\n\n[y][x]",
            "[x](<javascript:alert(1)>)",
        ] {
            let out = render(md).html.to_ascii_lowercase();
            // The text may show the address; no attribute may hold it.
            for bad in ["=\"javascript:", "=\"vbscript:", "=\"data:", "=\"java\tscript", "=\"&#"] {
                assert!(!out.contains(bad), "{md:?} left {bad:?} in {out}");
            }
            assert!(
                out.contains("href=\"\"") || out.contains("src=\"\"") || !out.contains("<a"),
                "{md:?}: {out}"
            );
        }
        let out = render("[ok](https://example.org/a?b=1&c=\"2\") [rel](../x#y) [mail](mailto:a@b.org)").html;
        assert!(
            out.contains("href=\"https://example.org/a?b=1&amp;c=%222%22\""),
            "{out}"
        );
        assert!(
            out.contains("href=\"../x#y\"") && out.contains("href=\"mailto:a@b.org\""),
            "{out}"
        );
        for h in hostile {
            let out = render(&format!("Para\n\n{h}\n\nAnd inline {h} too.")).html;
            let lower = out.to_ascii_lowercase();
            for bad in [
                "<script",
                "onerror",
                "onload",
                "onclick",
                "javascript:",
                "<iframe",
                "<svg",
                "style=",
                "<form",
                "<input",
                "data:text",
                "<object",
            ] {
                assert!(!lower.contains(bad), "{h:?} left {bad:?} in {out}");
            }
        }
    }

    #[test]
    fn safe_raw_html_survives() {
        let out =
            render("<figure><img src=\"/media/a.png\" alt=\"A chart\"><figcaption>Fig. 1</figcaption></figure>").html;
        assert!(
            out.contains("<figure>") && out.contains("alt=\"A chart\"") && out.contains("<figcaption>"),
            "{out}"
        );
    }

    #[test]
    fn words_are_counted() {
        assert_eq!(word_count("Hello *big* world.\n\n- one\n- two `code`\n\n---\n"), 6);
        assert_eq!(render("Hello *big* world.").word_count, 3);
        assert_eq!(word_count("— – ..."), 0);
        assert_eq!(reading_minutes(0, 230), 1);
        assert_eq!(reading_minutes(231, 230), 2);
    }

    #[test]
    fn undefined_footnote_stays_text() {
        let r = render("See [^missing].");
        assert!(r.html.contains("[^missing]"), "{}", r.html);
        assert_eq!(r.footnote_count, 0);
    }
}

#[cfg(test)]
mod robustness {
    use super::*;

    /// Random documents of Markdown syntax, raw HTML and odd characters:
    /// rendering never panics and never lets a script through.
    #[test]
    fn arbitrary_documents_render_safely() {
        const PIECES: &[&str] = &[
            "# ",
            "## ",
            "[^1]",
            "[^1]: ",
            "[^a]",
            "[^a]: note",
            "\n",
            "\n\n",
            "| a | b |\n|---|---|\n",
            "| 1 |",
            "*",
            "**",
            "~~",
            "`",
            "```",
            "> ",
            "- ",
            "1. ",
            "[x](",
            ")",
            "javascript:alert(1)",
            "<script>",
            "</script>",
            "<img src=x onerror=alert(1)>",
            "<a href='javascript:x'>",
            "{#id}",
            "é",
            "נ",
            "\u{202e}",
            "\u{0}",
            "&#106;",
            "<!--",
            "-->",
            "<div>",
            "\\",
            "![i](",
            "http://x",
            "    code",
            "---",
            "[x](javascript:alert(1))",
            "![i](JavaScript:alert(1))",
            "<javascript:alert(1)>",
        ];
        for doc in crate::test_support::random_documents(PIECES, 0x9E37_79B9_7F4A_7C15, 2000, 60) {
            let out = render(&doc).html.to_ascii_lowercase();
            assert!(!out.contains("<script"), "{doc:?} → {out}");
            // Dangerous words may appear as text or inside a class value,
            // never as an event attribute or a link.
            for attack in [" onerror=", "=\"javascript:", "='javascript:", "=javascript:"] {
                for (at, _) in out.match_indices(attack) {
                    let Some(open) = out[..at].rfind('<').filter(|o| out[..at].rfind('>') < Some(*o)) else {
                        continue; // in text
                    };
                    let tag = &out[open..at];
                    let value_attribute = if tag.matches('"').count() % 2 == 1 {
                        // Inside a quoted value: which attribute holds it?
                        tag.rfind("=\"")
                            .map(|eq| &tag[tag[..eq].rfind(' ').map_or(0, |s| s + 1)..eq])
                    } else if attack.starts_with('=') {
                        Some(&tag[tag.rfind(' ').map_or(0, |s| s + 1)..])
                    } else {
                        None
                    };
                    assert_eq!(value_attribute, Some("class"), "{attack:?} in a tag: {doc:?} → {out}");
                }
            }
        }
    }
}
