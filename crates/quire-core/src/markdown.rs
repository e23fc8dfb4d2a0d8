//! Markdown → sanitised HTML, table of contents and word count.
//!
//! CommonMark with tables, footnotes, strikethrough, heading ids and smart
//! punctuation. Footnotes are gathered into a numbered list at the end with
//! back-links; headings get stable ids; whatever raw HTML an author wrote
//! passes an allow-list sanitiser. Pure functions: no I/O.

use crate::domain::{MediaMeta, media_name, media_path};
use hashbrown::HashTable;
use pulldown_cmark::{CowStr, Event, HeadingLevel, InlineStr, Options, Parser, Tag, TagEnd, html};
use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::hash::{BuildHasher, RandomState};
use std::sync::LazyLock;

/// A paper's headings, for its table of contents. Every heading's text
/// and id lie end to end in one string: a body of forty thousand headings
/// makes no eighty thousand small strings (nor frees them after).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Toc {
    text: String,
    lines: Vec<TocLine>,
}

/// Where one heading lies in `Toc::text`: its text, then its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TocLine {
    level: u8,
    start: usize,
    id_start: usize,
    end: usize,
}

/// One heading of a paper, as its table of contents shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TocEntry<'t> {
    /// 1 for `#`, 2 for `##`…
    pub level: u8,
    /// The heading's id, the target of `#id` links.
    pub id: &'t str,
    /// The heading as plain text.
    pub text: &'t str,
}

impl Toc {
    fn with_room_for(headings: usize) -> Self {
        Toc {
            text: String::with_capacity(headings * 8),
            lines: Vec::with_capacity(headings),
        }
    }

    /// How many headings the body has.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether the body has no headings.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The headings in the order of the body.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = TocEntry<'_>> + Clone {
        self.lines.iter().map(|l| self.entry(l))
    }

    /// The `n`th heading, if there are that many.
    pub fn get(&self, n: usize) -> Option<TocEntry<'_>> {
        self.lines.get(n).map(|l| self.entry(l))
    }

    fn entry(&self, line: &TocLine) -> TocEntry<'_> {
        TocEntry {
            level: line.level,
            text: &self.text[line.start..line.id_start],
            id: &self.text[line.id_start..line.end],
        }
    }
}

/// A paper body ready to put inside a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedMarkdown {
    /// Sanitised HTML, footnotes last.
    pub html: String,
    pub toc: Toc,
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

/// A paper body as parsed Markdown, with the same extensions and the same
/// runs of text as the web page: what the page, the PDF, word counts and
/// search text are all read from.
pub fn events(markdown: &str) -> impl Iterator<Item = Event<'_>> {
    JoinText::new(markdown, Parser::new_ext(markdown, options()))
}

/// The parser's events with each run of text that lies side by side in
/// the body handed on as one event. The parser gives some text piece by
/// piece (`[[[[…` is one event per bracket, every one to be looked at,
/// escaped and written alone); joined, a body costs what its events are,
/// not its brackets. Pieces it made itself (smart quotes, entities) are
/// not in the body and pass as they are.
struct JoinText<'a, I: Iterator<Item = Event<'a>>> {
    source: &'a str,
    events: std::iter::Peekable<I>,
}

impl<'a, I: Iterator<Item = Event<'a>>> JoinText<'a, I> {
    fn new(source: &'a str, events: I) -> Self {
        JoinText {
            source,
            events: events.peekable(),
        }
    }
}

/// Where `part` starts in `source`, if it is a slice of it.
fn offset_in(source: &str, part: &str) -> Option<usize> {
    let start = (part.as_ptr() as usize).checked_sub(source.as_ptr() as usize)?;
    (start.checked_add(part.len())? <= source.len()).then_some(start)
}

impl<'a, I: Iterator<Item = Event<'a>>> Iterator for JoinText<'a, I> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        let event = self.events.next()?;
        let Event::Text(CowStr::Borrowed(first)) = event else {
            return Some(event);
        };
        let Some(start) = offset_in(self.source, first) else {
            return Some(Event::Text(CowStr::Borrowed(first)));
        };
        let mut end = start + first.len();
        while let Some(Event::Text(CowStr::Borrowed(next))) = self.events.peek() {
            if offset_in(self.source, next) != Some(end) {
                break;
            }
            end += next.len();
            self.events.next();
        }
        Some(Event::Text(CowStr::Borrowed(&self.source[start..end])))
    }
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

/// The addresses of images whose description (their alt text, between
/// the brackets of `![…](name.png)`) is empty: readers who cannot see
/// them would learn nothing of them.
pub fn undescribed_images(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut open: Option<(String, String)> = None;
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Start(Tag::Image { dest_url, .. }) => open = Some((dest_url.to_string(), String::new())),
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, alt)) = open.as_mut() {
                    alt.push_str(&t);
                }
            }
            Event::End(TagEnd::Image) => {
                if let Some((url, alt)) = open.take()
                    && alt.trim().is_empty()
                {
                    found.push(url);
                }
            }
            _ => {}
        }
    }
    found
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
    /// Link SVG drawings as their PNG rendering (`NAME.svg.png`): for
    /// emails, whose readers mostly show no SVG.
    pub svg_as_png: bool,
}

impl ImageLinks<'_> {
    /// The `<img>` for the paper's image `name` (from `media_name`).
    fn img(&self, name: &str, title: &str, alt: &str) -> String {
        let png = if self.svg_as_png && name.ends_with(".svg") {
            ".png"
        } else {
            ""
        };
        let mut tag = format!("<img src=\"{}{}{png}\" alt=\"", self.prefix, media_path(name));
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
        tag
    }
}

/// Renders a Markdown document to sanitised HTML with its table of contents.
pub fn render(markdown: &str) -> RenderedMarkdown {
    render_with_images(markdown, None)
}

/// Renders a paper body whose relative image names point at the images
/// stored with it (`images`).
pub fn render_with_images(markdown: &str, images: Option<&ImageLinks<'_>>) -> RenderedMarkdown {
    // One pass, streamed: the parser's events are transformed and written
    // as they come (a body of a hundred thousand events is never held
    // whole), and only footnote definitions are set aside.
    let mut body = Body::new(events(markdown));
    let mut notes = FootnoteNumbers::default();
    // Room for the headings the body seems to hold, so that neither the
    // ids nor the contents are rehashed or copied as they grow.
    let headings = heading_lines(markdown);
    let mut ids = HeadingIds::with_room_for(headings);
    let mut toc = Toc::with_room_for(headings);
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(
        &mut out,
        Transform::new(&mut body, &mut notes, &mut ids, Some(&mut toc), images),
    );
    let Body {
        mut definitions,
        definition_order,
        word_count,
        has_raw_html,
        ..
    } = body;

    // Definitions may themselves reference footnotes, so number as we go.
    // Both lists only grow, and what a cursor passes (rendered, or with no
    // definition) stays passed: one walk over each, however many notes
    // there are. Notes come out in the order of their numbers (the next
    // is always the lowest not yet written), so each is written straight
    // after the body.
    let (mut referenced_at, mut defined_at) = (0, 0);
    let mut footnote_count = 0;
    loop {
        while referenced_at < notes.order.len() && !definitions.contains_key(&notes.order[referenced_at]) {
            referenced_at += 1;
        }
        while defined_at < definition_order.len() && !definitions.contains_key(&definition_order[defined_at]) {
            defined_at += 1;
        }
        let Some(label) = notes
            .order
            .get(referenced_at)
            .or_else(|| definition_order.get(defined_at))
            .cloned()
        else {
            break;
        };
        let events = definitions.remove(&label).unwrap_or_default();
        let number = notes.number_of(&label);
        if footnote_count == 0 {
            out.push_str("<section class=\"footnotes\" id=\"footnotes\" aria-label=\"Notes\">\n<h2 class=\"footnotes-title\">Notes</h2>\n<ol>\n");
        }
        footnote_count += 1;
        let _ = write!(out, "<li id=\"fn:{number}\">");
        let start = out.len();
        html::push_html(
            &mut out,
            Transform::new(events.into_iter(), &mut notes, &mut ids, None, images),
        );
        // The back-links go inside the note's last paragraph.
        out.truncate(start + out[start..].trim_end().len());
        let closes_paragraph = out[start..].ends_with("</p>");
        if closes_paragraph {
            out.truncate(out.len() - "</p>".len());
        }
        for k in 1..=notes.uses(&label) {
            let _ = write!(
                out,
                " <a href=\"#{}\" class=\"footnote-back\" aria-label=\"Back to reference {number}",
                ReferenceId(number, k)
            );
            if k > 1 {
                let _ = write!(out, " ({k})");
            }
            out.push_str("\">↩\u{fe0e}</a>");
        }
        if closes_paragraph {
            out.push_str("</p>");
        }
        out.push_str("</li>\n");
    }
    if footnote_count > 0 {
        out.push_str("</ol>\n</section>\n");
    }

    // CSP forbids inline styles: table alignment becomes a class. Most
    // bodies have none, and are not copied three times for nothing.
    let out = if memchr::memmem::find(out.as_bytes(), b" style=\"text-align: ").is_some() {
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
    events(markdown)
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
    for e in events(markdown) {
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
    // The runs between white space that hold a letter or digit, read in
    // one walk (as `split_whitespace` and a filter would count them).
    let (mut words, mut word_has_alphanumeric) = (0, false);
    for c in text.chars() {
        if c.is_whitespace() {
            words += usize::from(word_has_alphanumeric);
            word_has_alphanumeric = false;
        } else if !word_has_alphanumeric {
            word_has_alphanumeric = c.is_alphanumeric();
        }
    }
    words + usize::from(word_has_alphanumeric)
}

/// Numbers footnotes in the order they are first referenced. Labels are
/// the parser's own (borrowed from the body, as a rule), not copies.
#[derive(Default)]
struct FootnoteNumbers<'a> {
    order: Vec<CowStr<'a>>,
    /// Each label's number, and how many references it has had.
    notes: HashMap<CowStr<'a>, (usize, usize)>,
}

impl<'a> FootnoteNumbers<'a> {
    fn entry(&mut self, label: &CowStr<'a>) -> &mut (usize, usize) {
        if !self.notes.contains_key(label) {
            self.order.push(label.clone());
            self.notes.insert(label.clone(), (self.order.len(), 0));
        }
        self.notes.get_mut(label).expect("just inserted")
    }

    fn number_of(&mut self, label: &CowStr<'a>) -> usize {
        self.entry(label).0
    }

    /// Records one more reference; returns (number, which use this is).
    fn reference(&mut self, label: &CowStr<'a>) -> (usize, usize) {
        let note = self.entry(label);
        note.1 += 1;
        *note
    }

    fn uses(&self, label: &str) -> usize {
        self.notes.get(label).map_or(0, |n| n.1)
    }
}

/// The id of a footnote reference: its number, and which use of the note
/// it is after the first.
struct ReferenceId(usize, usize);

impl std::fmt::Display for ReferenceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            ReferenceId(number, 1) => write!(f, "fnref:{number}"),
            ReferenceId(number, k) => write!(f, "fnref:{number}:{k}"),
        }
    }
}

/// How many headings `markdown` seems to hold: its lines that start with
/// `#` (at most one per two bytes).
fn heading_lines(markdown: &str) -> usize {
    let bytes = markdown.as_bytes();
    memchr::memchr_iter(b'\n', bytes)
        .filter(|&i| bytes.get(i + 1) == Some(&b'#'))
        .count()
        + usize::from(markdown.starts_with('#'))
}

/// Hands out unique heading ids.
struct HeadingIds {
    /// Every id handed out, end to end in one string: a body of forty
    /// thousand headings makes no forty thousand small allocations (nor
    /// frees them after).
    names: String,
    /// Where each id lies in `names`, with the suffix to try next when a
    /// heading wants it again: a thousand headings of one name cost a
    /// thousand tries, not half a million, and one table serves both
    /// questions.
    claimed: HashTable<Claim>,
    /// Keyed per render, so that no body can be built to collide.
    hasher: RandomState,
}

/// One id handed out (or, for the reserved ones, wanted): `names[start..end]`.
#[derive(Clone, Copy)]
struct Claim {
    start: usize,
    end: usize,
    /// The suffix to try first when a heading wants this id again.
    next: usize,
}

impl HeadingIds {
    fn with_room_for(lines: usize) -> Self {
        HeadingIds {
            names: String::with_capacity(lines * 8),
            claimed: HashTable::with_capacity(lines),
            hasher: RandomState::new(),
        }
    }

    /// The claim of `id` (whose hash is `hash`), if it was handed out or
    /// wanted before; fields apart, so that `id` may lie in `names`.
    fn find<'t>(claimed: &'t mut HashTable<Claim>, names: &str, hash: u64, id: &str) -> Option<&'t mut Claim> {
        claimed.find_mut(hash, |c| &names[c.start..c.end] == id)
    }

    /// Records `names[start..]` as claimed; a heading that wants it again
    /// tries `-2` first.
    fn record(&mut self, hash: u64, start: usize) {
        let (names, hasher) = (&self.names, &self.hasher);
        let end = names.len();
        self.claimed.insert_unique(hash, Claim { start, end, next: 2 }, |c| {
            hasher.hash_one(&names[c.start..c.end])
        });
    }

    /// A unique id for a heading that wants `wanted`: that, or when it is
    /// taken (or reserved for the page), the first free `{wanted}-{n}`.
    fn claim(&mut self, wanted: &str) -> &str {
        let base = if wanted.is_empty() { "section" } else { wanted };
        let base_hash = self.hasher.hash_one(base);
        let mut next = match Self::find(&mut self.claimed, &self.names, base_hash, base) {
            Some(claim) => claim.next,
            None => {
                let start = self.names.len();
                self.names.push_str(base);
                self.record(base_hash, start);
                if !RESERVED_IDS.contains(&base) {
                    return &self.names[start..];
                }
                2
            }
        };
        loop {
            let start = self.names.len();
            self.names.push_str(base);
            self.names.push('-');
            self.names.push_str(itoa::Buffer::new().format(next));
            next += 1;
            let id = &self.names[start..];
            let hash = self.hasher.hash_one(id);
            if !RESERVED_IDS.contains(&id) && Self::find(&mut self.claimed, &self.names, hash, id).is_none() {
                self.record(hash, start);
                if let Some(claim) = Self::find(&mut self.claimed, &self.names, base_hash, base) {
                    claim.next = next;
                }
                return &self.names[start..];
            }
            self.names.truncate(start);
        }
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

/// The parser's events with footnote definitions taken out and set
/// aside, counting words and noticing raw HTML as they pass.
struct Body<'a, I> {
    events: I,
    /// Each definition's events by label (the first of a label wins).
    definitions: HashMap<CowStr<'a>, Vec<Event<'a>>>,
    /// Labels in the order their definitions came.
    definition_order: Vec<CowStr<'a>>,
    /// The definition being read, if inside one.
    current: Option<(CowStr<'a>, Vec<Event<'a>>)>,
    word_count: usize,
    has_raw_html: bool,
}

impl<'a, I: Iterator<Item = Event<'a>>> Body<'a, I> {
    fn new(events: I) -> Self {
        Body {
            events,
            definitions: HashMap::new(),
            definition_order: Vec::new(),
            current: None,
            word_count: 0,
            has_raw_html: false,
        }
    }
}

impl<'a, I: Iterator<Item = Event<'a>>> Iterator for Body<'a, I> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        loop {
            let event = self.events.next()?;
            match &event {
                Event::Text(t) | Event::Code(t) => self.word_count += count_words(t),
                Event::Html(_) | Event::InlineHtml(_) => self.has_raw_html = true,
                _ => {}
            }
            match event {
                Event::Start(Tag::FootnoteDefinition(label)) => {
                    self.current = Some((label, Vec::new()));
                }
                Event::End(TagEnd::FootnoteDefinition) => {
                    if let Some((label, events)) = self.current.take()
                        && let std::collections::hash_map::Entry::Vacant(slot) = self.definitions.entry(label.clone())
                    {
                        self.definition_order.push(label);
                        slot.insert(events);
                    }
                }
                other => match &mut self.current {
                    Some((_, events)) => events.push(other),
                    None => return Some(other),
                },
            }
        }
    }
}

/// Gives headings ids (and records them), turns footnote references into
/// numbered links, wraps tables so that they scroll on narrow screens and
/// makes the paper's own images (and figures) point where they are
/// served. Streams: it reads ahead only as far as one heading or one
/// image reaches, and every event is read a bounded number of times.
struct Transform<'a, 'r, I> {
    input: I,
    /// Events read ahead (to see a heading's text or an image's end),
    /// not transformed yet.
    ahead: VecDeque<Event<'a>>,
    /// Transformed events that follow the one last handed out.
    ready: VecDeque<Event<'a>>,
    /// A heading's events while its text is read, kept for the next.
    heading: Vec<Event<'a>>,
    /// A heading's slug while its id is claimed, kept for the next.
    slug: String,
    notes: &'r mut FootnoteNumbers<'a>,
    ids: &'r mut HeadingIds,
    toc: Option<&'r mut Toc>,
    images: Option<&'r ImageLinks<'r>>,
}

impl<'a, 'r, I: Iterator<Item = Event<'a>>> Transform<'a, 'r, I> {
    fn new(
        input: I,
        notes: &'r mut FootnoteNumbers<'a>,
        ids: &'r mut HeadingIds,
        toc: Option<&'r mut Toc>,
        images: Option<&'r ImageLinks<'r>>,
    ) -> Self {
        Transform {
            input,
            ahead: VecDeque::new(),
            ready: VecDeque::new(),
            heading: Vec::new(),
            slug: String::new(),
            notes,
            ids,
            toc,
            images,
        }
    }

    fn pull(&mut self) -> Option<Event<'a>> {
        self.ahead.pop_front().or_else(|| self.input.next())
    }

    /// Puts events read ahead back, to be transformed in their turn.
    fn put_back(&mut self, events: impl DoubleEndedIterator<Item = Event<'a>>) {
        for e in events.rev() {
            self.ahead.push_front(e);
        }
    }

    /// The events after an image's start up to and with its end (images
    /// may hold images in their description).
    fn read_image(&mut self) -> Vec<Event<'a>> {
        let mut depth = 1usize;
        let mut read = Vec::new();
        while let Some(e) = self.pull() {
            match &e {
                Event::Start(Tag::Image { .. }) => depth += 1,
                Event::End(TagEnd::Image) => depth -= 1,
                _ => {}
            }
            read.push(e);
            if depth == 0 {
                break;
            }
        }
        read
    }

    /// After a paragraph's start: when the paragraph is nothing but one
    /// of the paper's images with a title, the figure it becomes,
    /// captioned by the title (the PDF does the same), with the
    /// paragraph read; otherwise None, with nothing read.
    fn figure(&mut self) -> Option<String> {
        let links = self.images?;
        let first = self.pull()?;
        let name = match &first {
            Event::Start(Tag::Image { dest_url, title, .. }) if !title.is_empty() => {
                media_name(dest_url).ok().flatten()
            }
            _ => None,
        };
        let Some(name) = name else {
            self.put_back(std::iter::once(first));
            return None;
        };
        let read = self.read_image();
        let after = self.pull();
        let whole = matches!(read.last(), Some(Event::End(TagEnd::Image)))
            && matches!(after, Some(Event::End(TagEnd::Paragraph)));
        if let (true, Event::Start(Tag::Image { title, .. })) = (whole, &first) {
            let mut html = format!("<figure>{}<figcaption>", links.img(&name, "", &plain_text(&read)));
            let _ = pulldown_cmark_escape::escape_html(&mut html, title);
            html.push_str("</figcaption></figure>\n");
            return Some(html);
        }
        self.put_back(std::iter::once(first).chain(read).chain(after));
        None
    }

    fn transform(&mut self, event: Event<'a>) -> Event<'a> {
        match event {
            Event::Start(Tag::Paragraph) => match self.figure() {
                Some(figure) => Event::Html(CowStr::from(figure)),
                None => Event::Start(Tag::Paragraph),
            },
            Event::Start(Tag::Heading { level, id, classes, .. }) => {
                // One buffer for every heading's events, not one each.
                let mut inner = std::mem::take(&mut self.heading);
                while let Some(e) = self.pull() {
                    let end = matches!(e, Event::End(TagEnd::Heading(_)));
                    inner.push(e);
                    if end {
                        break;
                    }
                }
                // The heading's text goes where the contents keep it (a
                // note's heading, which has no place there, to a scratch
                // string), its slug to one buffer kept for every heading.
                let mut scratch = String::new();
                let (text, start) = match self.toc.as_deref_mut() {
                    Some(toc) => {
                        let start = toc.text.len();
                        (&mut toc.text, start)
                    }
                    None => (&mut scratch, 0),
                };
                push_plain_text(text, &inner);
                crate::domain::slugify_into(id.as_deref().unwrap_or(&text[start..]), &mut self.slug);
                let id = self.ids.claim(&self.slug);
                if let Some(toc) = self.toc.as_deref_mut() {
                    let id_start = toc.text.len();
                    toc.text.push_str(id);
                    toc.lines.push(TocLine {
                        level: heading_number(level),
                        start,
                        id_start,
                        end: toc.text.len(),
                    });
                }
                // Most ids fit in the event itself, allocating nothing.
                let id = InlineStr::try_from(id).map_or_else(|_| CowStr::from(id.to_owned()), CowStr::Inlined);
                // What the heading holds is transformed now, in order,
                // unless it holds an image, whose reading reads on.
                if inner.iter().any(|e| matches!(e, Event::Start(Tag::Image { .. }))) {
                    self.put_back(inner.drain(..));
                } else {
                    for e in inner.drain(..) {
                        let e = self.transform(e);
                        self.ready.push_back(e);
                    }
                }
                self.heading = inner;
                // `{…}` after a heading may give an id and classes only:
                // every other attribute is dropped, whether or not the
                // body holds raw HTML (which alone sends it through the
                // sanitiser).
                Event::Start(Tag::Heading {
                    level,
                    id: Some(id),
                    classes: classes.into_iter().filter(|c| valid_class(c)).take(8).collect(),
                    attrs: Vec::new(),
                })
            }
            Event::FootnoteReference(label) => {
                let (number, k) = self.notes.reference(&label);
                Event::InlineHtml(CowStr::from(format!(
                    "<sup class=\"footnote-ref\" id=\"{}\"><a href=\"#fn:{number}\" aria-label=\"Note {number}\">{number}</a></sup>",
                    ReferenceId(number, k)
                )))
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
                Event::InlineHtml(CowStr::from(a))
            }
            Event::End(TagEnd::Link) => Event::InlineHtml(CowStr::from("</a>")),
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                // The paper's own images are read to their end and
                // replaced whole (what they hold is read once, here).
                if let Some(links) = self.images
                    && let Some(name) = media_name(&dest_url).ok().flatten()
                {
                    let alt = plain_text(&self.read_image());
                    return Event::InlineHtml(CowStr::from(links.img(&name, &title, &alt)));
                }
                let dest_url = if safe_url(&dest_url) {
                    dest_url
                } else {
                    CowStr::from("")
                };
                Event::Start(Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    id,
                })
            }
            table @ Event::Start(Tag::Table(_)) => {
                self.ready.push_back(table);
                Event::Html(CowStr::from("<div class=\"table-scroll\">"))
            }
            end @ Event::End(TagEnd::Table) => {
                self.ready.push_back(Event::Html(CowStr::from("</div>\n")));
                end
            }
            other => other,
        }
    }
}

impl<'a, I: Iterator<Item = Event<'a>>> Iterator for Transform<'a, '_, I> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        if let Some(e) = self.ready.pop_front() {
            return Some(e);
        }
        let event = self.pull()?;
        Some(self.transform(event))
    }
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
    push_plain_text(&mut s, events);
    s
}

/// Appends the text of `events` to `out`, with line breaks as spaces and
/// no space at either end.
fn push_plain_text(out: &mut String, events: &[Event<'_>]) {
    let start = out.len();
    for e in events {
        match e {
            // Nothing leads: spaces at the start are not written.
            Event::Text(t) | Event::Code(t) if out.len() == start => out.push_str(t.trim_start()),
            Event::Text(t) | Event::Code(t) => out.push_str(t),
            Event::SoftBreak | Event::HardBreak if out.len() > start => out.push(' '),
            _ => {}
        }
    }
    let end = start + out[start..].trim_end().len();
    out.truncate(end);
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
    use super::undescribed_images;

    #[test]
    fn images_without_a_description_are_found() {
        let body = "![A chart of dues](dues.png) and ![](bare.png), ![  ](spaces.svg), \
                    ![*emphasis* counts](em.png), ![`code`](code.png)\n\n[![](linked.png)](https://example.org)\n";
        assert_eq!(undescribed_images(body), ["bare.png", "spaces.svg", "linked.png"]);
        assert!(undescribed_images("No images at all.").is_empty());
    }

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
    use proptest::strategy::Strategy as _;

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
        let ids: Vec<_> = r.toc.iter().map(|t| t.id).collect();
        assert_eq!(
            ids,
            ["background", "background-2", "ports-harbours", "content-2", "my-id"]
        );
        let third = r.toc.get(2).expect("a third heading");
        assert_eq!((third.text, third.level), ("Ports & harbours", 3));
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
            svg_as_png: false,
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
    fn what_is_read_ahead_is_still_transformed_in_order() {
        let links = ImageLinks {
            prefix: "/p/",
            media: &[],
            svg_as_png: false,
        };
        // A titled image of the paper with more after it is read ahead as
        // a possible figure, then put back: no figure, nothing lost.
        let md = "![A](a.png \"T\") and [more](https://x.org)[^1]\n\n\
                  ## Ports[^2] and [links](https://y.org)\n\n\
                  [^1]: One.\n\n[^2]: Two.\n";
        let r = render_with_images(md, Some(&links));
        assert!(
            r.html.starts_with(
                "<p><img src=\"/p/a.png\" alt=\"A\" title=\"T\" loading=\"lazy\" decoding=\"async\"> and \
                 <a href=\"https://x.org\" rel=\"noopener noreferrer\">more</a>\
                 <sup class=\"footnote-ref\" id=\"fnref:1\"><a href=\"#fn:1\" aria-label=\"Note 1\">1</a></sup></p>\n\
                 <h2 id=\"ports-and-links\">Ports<sup class=\"footnote-ref\" id=\"fnref:2\">"
            ),
            "{}",
            r.html
        );
        assert!(
            r.html
                .contains("and <a href=\"https://y.org\" rel=\"noopener noreferrer\">links</a></h2>")
        );
        assert!(!r.html.contains("<figure>"), "{}", r.html);
        assert_eq!(r.toc.get(0).map(|t| t.text), Some("Ports and links"));
        assert_eq!(r.footnote_count, 2);
    }

    #[test]
    fn words_are_the_runs_between_spaces_that_hold_a_letter_or_digit() {
        let reference = |t: &str| {
            t.split_whitespace()
                .filter(|w| w.chars().any(char::is_alphanumeric))
                .count()
        };
        for text in [
            "",
            " ",
            "a",
            "ports and harbours",
            "  lead and trail  ",
            "— 1,200 — ... !!",
            "tab\tand\nnew\u{2003}line\u{a0}nbsp",
            "نمل وحوض",
            "x— —y",
            "--- a-b",
        ] {
            assert_eq!(count_words(text), reference(text), "{text:?}");
        }
    }

    #[test]
    fn contents_keep_each_headings_text_and_id_apart() {
        let r = render("#   Lead *in*  \n\nPorts  \nand `code`\n---\n\n### [Link](https://x.org) text {#own}\n");
        let toc: Vec<_> = r.toc.iter().map(|t| (t.level, t.text, t.id)).collect();
        assert_eq!(
            toc,
            [
                (1, "Lead in", "lead-in"),
                (2, "Ports and code", "ports-and-code"),
                (3, "Link text", "own")
            ]
        );
        assert_eq!(r.toc.len(), 3);
        assert!(render("No headings.").toc.is_empty());
    }

    #[test]
    fn heading_ids_never_repeat_even_when_a_heading_spells_a_suffix() {
        let r =
            render("## A\n\n## A 2\n\n## A\n\n## Content\n\n## Content\n\n## Content 2\n\n##\n\n##\n\n## Toc {#toc}\n");
        let ids: Vec<_> = r.toc.iter().map(|t| t.id).collect();
        assert_eq!(
            ids,
            [
                "a",
                "a-2",
                "a-3",
                "content-2",
                "content-3",
                "content-2-2",
                "section",
                "section-2",
                "toc-2"
            ]
        );
        // An id longer than fits inside an event is written whole.
        let long = "word ".repeat(12);
        let r = render(&format!("## {long}\n\n## {long}\n"));
        let id = "word-".repeat(12).trim_end_matches('-').to_owned();
        assert!(r.html.contains(&format!("<h2 id=\"{id}\">")), "{}", r.html);
        assert!(r.html.contains(&format!("<h2 id=\"{id}-2\">")), "{}", r.html);
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
            svg_as_png: false,
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
        // The count stored for lists is the count of the rendered page,
        // also where the parser gives a word in pieces.
        for doc in ["harbour[s] and ports", "a[b[c d", "x_y_ z", "Hello *big* world."] {
            assert_eq!(word_count(doc), render(doc).word_count, "{doc}");
        }
        assert_eq!(word_count("a[b[c d"), 2);
        assert_eq!(reading_minutes(0, 230), 1);
        assert_eq!(reading_minutes(231, 230), 2);
    }

    #[test]
    fn text_the_parser_gives_piece_by_piece_is_joined_and_reads_the_same() {
        // One event per bracket from the parser; one event after joining.
        let body = "[".repeat(1000);
        let texts: Vec<_> = events(&body).filter(|e| matches!(e, Event::Text(_))).collect();
        assert_eq!(texts, [Event::Text(CowStr::Borrowed(body.as_str()))]);
        // Joined or not, every document is the same HTML: text the parser
        // made itself (smart quotes, entities, escapes) stays in its place.
        const PIECES: &[&str] = &[
            "[", "]", "(", ")", "*", "_", "\\", "&amp;", "&", "'", "\"", "`", "```\n", "    ", "\n", "\n\n", "a", "é",
            "<b>", "!", "#", "|", "-", "~~", "[^1]", "[^1]: ",
        ];
        let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
            cases: 256,
            ..Default::default()
        });
        let document =
            proptest::collection::vec(proptest::sample::select(PIECES), 0..40).prop_map(|pieces| pieces.concat());
        runner
            .run(&document, |doc| {
                let (mut parsed, mut joined) = (String::new(), String::new());
                html::push_html(&mut parsed, Parser::new_ext(&doc, options()));
                html::push_html(&mut joined, events(&doc));
                proptest::prop_assert_eq!(parsed, joined, "{:?}", doc);
                Ok(())
            })
            .expect("joined text reads the same");
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
