//! Parsed Markdown → Typst markup.
//!
//! Everything an author wrote reaches Typst as text, never as code: text is
//! escaped character by character in markup, and URLs, code and metadata
//! become string literals. Structure (emphasis, lists, tables, links,
//! footnotes) is written with Typst's function syntax (`#emph[…]`), which
//! works wherever it stands, unlike the `_…_` shorthands.

use pulldown_cmark::{Alignment, CodeBlockKind, Event, HeadingLevel, Tag, TagEnd};
use std::collections::HashMap;

/// Text for Typst markup: every ASCII punctuation character is escaped, so
/// none starts code (`#`), maths (`$`), a label (`<`), a reference (`@`),
/// a heading, a list, a comment or a raw block.
pub fn escape_text(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            c if c.is_ascii_punctuation() => {
                out.push('\\');
                out.push(c);
            }
            // Line breaks in text are spaces: a paragraph ends only where
            // the Markdown said so.
            '\n' | '\r' => out.push(' '),
            // Invisible controls have no place in a printed paper.
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
}

/// A Typst string literal holding `text` exactly.
pub fn string_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Typst markup for a paper body given as pulldown-cmark events (parsed
/// with tables and footnotes on). Footnotes are typeset where they are
/// referenced, at the foot of that page. `images` maps an image URL to its
/// path in the sandbox; an image not there is described instead.
pub fn body_markup<'a>(events: impl IntoIterator<Item = Event<'a>>, images: &HashMap<String, String>) -> String {
    // Footnote definitions may come anywhere; gather them first.
    let mut body = Vec::new();
    let mut notes: HashMap<String, Vec<Event<'a>>> = HashMap::new();
    let mut current: Option<(String, Vec<Event<'a>>)> = None;
    for event in events {
        match event {
            Event::Start(Tag::FootnoteDefinition(label)) => current = Some((label.to_string(), Vec::new())),
            Event::End(TagEnd::FootnoteDefinition) => {
                if let Some((label, events)) = current.take() {
                    notes.entry(label).or_insert(events);
                }
            }
            other => match &mut current {
                Some((_, events)) => events.push(other),
                None => body.push(other),
            },
        }
    }
    let mut writer = Writer {
        out: String::new(),
        notes,
        note_numbers: HashMap::new(),
        images,
        tables: Vec::new(),
        image_alt: None,
        in_code: false,
    };
    writer.write(body);
    // Blocks each open and close with a blank line: one is enough.
    let mut out = String::with_capacity(writer.out.len());
    let mut newlines = 0;
    for c in writer.out.trim().chars() {
        newlines = if c == '\n' { newlines + 1 } else { 0 };
        if newlines <= 2 {
            out.push(c);
        }
    }
    out.push('\n');
    out
}

struct Writer<'a, 'i> {
    out: String,
    notes: HashMap<String, Vec<Event<'a>>>,
    /// Footnotes already typeset, by label: later references point to them.
    note_numbers: HashMap<String, usize>,
    images: &'i HashMap<String, String>,
    /// Open tables: their alignments and whether the head is being written.
    tables: Vec<Vec<Alignment>>,
    /// Inside an image: its description is gathered here.
    image_alt: Option<(String, Option<String>)>,
    /// Inside a code block: its text goes into a string literal.
    in_code: bool,
}

impl<'a> Writer<'a, '_> {
    fn write(&mut self, events: Vec<Event<'a>>) {
        let mut i = 0;
        while i < events.len() {
            if let Some((figure, next)) = self.figure(&events, i) {
                self.out.push_str(&figure);
                i = next;
                continue;
            }
            self.event(events[i].clone());
            i += 1;
        }
    }

    /// A paragraph at `i` that is nothing but a held image with a title
    /// becomes a figure captioned by the title, as on the web page: its
    /// markup and the index after the paragraph.
    fn figure(&self, events: &[Event<'a>], i: usize) -> Option<(String, usize)> {
        let (Event::Start(Tag::Paragraph), Some(Event::Start(Tag::Image { dest_url, title, .. }))) =
            (&events[i], events.get(i + 1))
        else {
            return None;
        };
        let path = self.images.get(dest_url.as_ref())?;
        if title.is_empty() {
            return None;
        }
        let end = i
            + 2
            + events[i + 2..]
                .iter()
                .position(|e| matches!(e, Event::End(TagEnd::Image)))?;
        if !matches!(events.get(end + 1), Some(Event::End(TagEnd::Paragraph))) {
            return None;
        }
        let alt: String = events[i + 2..end]
            .iter()
            .filter_map(|e| match e {
                Event::Text(t) | Event::Code(t) => Some(t.as_ref()),
                _ => None,
            })
            .collect();
        let mut out = format!(
            "\n\n#figure(image({}, alt: {}, width: 100%), numbering: none, caption: [",
            string_literal(path),
            string_literal(&alt)
        );
        escape_text(title, &mut out);
        out.push_str("])\n\n");
        Some((out, end + 2))
    }

    fn event(&mut self, event: Event<'a>) {
        if let Some((alt, _)) = &mut self.image_alt {
            match event {
                Event::Text(t) | Event::Code(t) => alt.push_str(&t),
                Event::End(TagEnd::Image) => self.end_image(),
                _ => {}
            }
            return;
        }
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) if self.in_code => {
                let literal = string_literal(&t);
                self.out.push_str(&literal[1..literal.len() - 1]);
            }
            Event::Text(t) => escape_text(&t, &mut self.out),
            Event::Code(t) => {
                self.out.push_str("#raw(");
                self.out.push_str(&string_literal(&t));
                self.out.push(')');
            }
            Event::SoftBreak => self.out.push(' '),
            Event::HardBreak => self.out.push_str("#linebreak()"),
            Event::Rule => self.out.push_str("\n\n#line(length: 100%, stroke: 0.5pt)\n\n"),
            Event::FootnoteReference(label) => self.footnote(&label),
            Event::TaskListMarker(done) => self.out.push_str(if done { "☑ " } else { "☐ " }),
            // Raw HTML cannot be typeset; what it says in words is kept
            // by the text events around it.
            Event::Html(_) | Event::InlineHtml(_) => {}
            Event::InlineMath(t) | Event::DisplayMath(t) => escape_text(&t, &mut self.out),
        }
    }

    fn start(&mut self, tag: Tag<'a>) {
        let out = &mut self.out;
        match tag {
            Tag::Paragraph => out.push_str("\n\n"),
            Tag::Heading { level, .. } => {
                out.push_str("\n\n");
                out.push_str(&"=".repeat(heading_level(level)));
                out.push(' ');
            }
            Tag::BlockQuote(_) => out.push_str("\n\n#quote(block: true)["),
            Tag::CodeBlock(kind) => {
                out.push_str("\n\n#raw(block: true, ");
                if let CodeBlockKind::Fenced(lang) = &kind {
                    let lang = lang.split_whitespace().next().unwrap_or("");
                    if !lang.is_empty() {
                        out.push_str("lang: ");
                        out.push_str(&string_literal(lang));
                        out.push_str(", ");
                    }
                }
                // The code's text follows as one string.
                out.push('"');
                self.in_code = true;
            }
            Tag::List(Some(start)) => out.push_str(&format!("\n\n#enum(start: {start}, tight: true, ")),
            Tag::List(None) => out.push_str("\n\n#list(tight: true, "),
            Tag::Item => out.push('['),
            Tag::Table(alignments) => {
                let align: Vec<&str> = alignments
                    .iter()
                    .map(|a| match a {
                        Alignment::Right => "end",
                        Alignment::Center => "center",
                        Alignment::Left | Alignment::None => "start",
                    })
                    .collect();
                out.push_str(&format!(
                    "\n\n#figure(table(columns: {}, align: ({},), ",
                    alignments.len().max(1),
                    align.join(", ")
                ));
                self.tables.push(alignments);
            }
            Tag::TableHead => out.push_str("table.header("),
            Tag::TableRow => {}
            Tag::TableCell => out.push('['),
            Tag::Emphasis => out.push_str("#emph["),
            Tag::Strong => out.push_str("#strong["),
            Tag::Strikethrough => out.push_str("#strike["),
            Tag::Superscript => out.push_str("#super["),
            Tag::Subscript => out.push_str("#sub["),
            Tag::Link { dest_url, .. } => {
                out.push_str("#link(");
                out.push_str(&string_literal(&link_target(&dest_url)));
                out.push_str(")[");
            }
            Tag::Image { dest_url, .. } => {
                let path = self.images.get(dest_url.as_ref()).cloned();
                self.image_alt = Some((String::new(), path));
            }
            // Definition lists, metadata blocks and HTML blocks are not
            // enabled by Quire's parser options; their text still prints.
            Tag::FootnoteDefinition(_)
            | Tag::HtmlBlock
            | Tag::MetadataBlock(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        let out = &mut self.out;
        match tag {
            TagEnd::Paragraph => out.push_str("\n\n"),
            TagEnd::Heading(_) => out.push_str("\n\n"),
            TagEnd::BlockQuote(_) => out.push_str("]\n\n"),
            TagEnd::CodeBlock => {
                // Close the string and the call.
                out.push_str("\")\n\n");
                self.in_code = false;
            }
            TagEnd::List(_) => out.push_str(")\n\n"),
            TagEnd::Item => out.push_str("], "),
            TagEnd::Table => {
                out.push_str("))\n\n");
                self.tables.pop();
            }
            TagEnd::TableHead => out.push_str("), "),
            TagEnd::TableRow => {}
            TagEnd::TableCell => out.push_str("], "),
            TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript
            | TagEnd::Link => out.push(']'),
            TagEnd::Image => self.end_image(),
            TagEnd::FootnoteDefinition
            | TagEnd::HtmlBlock
            | TagEnd::MetadataBlock(_)
            | TagEnd::DefinitionList
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition => {}
        }
    }

    fn end_image(&mut self) {
        let Some((alt, path)) = self.image_alt.take() else {
            return;
        };
        match path {
            Some(path) => {
                self.out.push_str("#box(image(");
                self.out.push_str(&string_literal(&path));
                self.out.push_str(", alt: ");
                self.out.push_str(&string_literal(&alt));
                self.out.push_str(", width: 100%))");
            }
            // No network: an image Quire does not hold is described.
            None => {
                self.out.push_str("#emph[");
                escape_text(&format!("[{alt}]"), &mut self.out);
                self.out.push(']');
            }
        }
    }

    fn footnote(&mut self, label: &str) {
        if let Some(number) = self.note_numbers.get(label) {
            self.out.push_str(&format!("#footnote(<quire-note-{number}>)"));
            return;
        }
        let Some(events) = self.notes.remove(label) else {
            // Undefined: the reference stays as it was written.
            escape_text(&format!("[^{label}]"), &mut self.out);
            return;
        };
        let number = self.note_numbers.len() + 1;
        self.note_numbers.insert(label.to_owned(), number);
        let mut inner = Writer {
            out: String::new(),
            notes: std::mem::take(&mut self.notes),
            note_numbers: std::mem::take(&mut self.note_numbers),
            images: self.images,
            tables: Vec::new(),
            image_alt: None,
            in_code: false,
        };
        inner.write(events);
        self.notes = inner.notes;
        self.note_numbers = inner.note_numbers;
        self.out.push_str("#footnote[");
        self.out.push_str(inner.out.trim());
        self.out.push_str(&format!("]<quire-note-{number}>"));
    }
}

/// Typst headings from Markdown's: `#` and `##` both become top-level
/// sections, since the paper's title is set apart by the template.
fn heading_level(level: HeadingLevel) -> usize {
    match level {
        HeadingLevel::H1 | HeadingLevel::H2 => 1,
        HeadingLevel::H3 => 2,
        HeadingLevel::H4 => 3,
        HeadingLevel::H5 => 4,
        HeadingLevel::H6 => 5,
    }
}

/// Link targets that a PDF reader may open: web and mail addresses. Other
/// schemes (javascript:, file:) are dropped; page anchors become the
/// paper's own address, which the template knows.
fn link_target(url: &str) -> String {
    let lower = url.trim().to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:") {
        url.trim().to_owned()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulldown_cmark::{Options, Parser};

    fn markup(md: &str) -> String {
        let options = Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH;
        body_markup(Parser::new_ext(md, options), &HashMap::new())
    }

    #[test]
    fn text_is_escaped_into_markup() {
        let mut out = String::new();
        escape_text("#read(\"/etc/passwd\") $x$ @ref <l> \\ = - + // /* `", &mut out);
        assert_eq!(
            out,
            "\\#read\\(\\\"\\/etc\\/passwd\\\"\\) \\$x\\$ \\@ref \\<l\\> \\\\ \\= \\- \\+ \\/\\/ \\/\\* \\`"
        );
        assert_eq!(string_literal("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }

    #[test]
    fn links_keep_only_web_and_mail_targets() {
        assert_eq!(
            link_target("https://example.org/a?b=\"c\""),
            "https://example.org/a?b=\"c\""
        );
        assert_eq!(link_target("javascript:alert(1)"), "");
        assert_eq!(link_target("file:///etc/passwd"), "");
    }

    #[test]
    fn a_paper_body_becomes_typst_markup() {
        let md = "## Background\n\nText with *emphasis*, **strong**, `code` and a [link](https://example.org \"t\").[^1]\n\n\
                  1. first\n2. second\n\n- a\n- b\n\n> Quoted.\n\n| A | B |\n|:--|--:|\n| 1 | 2 |\n\n\
                  ```rust\nfn main() {}\n```\n\n[^1]: A note with `code`.\n";
        insta::assert_snapshot!(markup(md));
    }

    #[test]
    fn footnotes_used_twice_point_to_one_note_and_undefined_ones_stay_text() {
        let out = markup("One.[^a] Two.[^a] Three.[^missing]\n\n[^a]: The note.\n");
        assert_eq!(out.matches("#footnote[").count(), 1, "{out}");
        assert!(out.contains("#footnote(<quire-note-1>)"), "{out}");
        assert!(out.contains("\\[\\^missing\\]"), "{out}");
    }

    #[test]
    fn images_not_held_are_described() {
        let out = markup("![A chart](https://elsewhere.example/c.png)");
        assert!(out.contains("#emph[\\[A chart\\]]"), "{out}");
        let mut held = HashMap::new();
        held.insert("/media/c.png".to_owned(), "/images/1.png".to_owned());
        let options = Options::ENABLE_TABLES;
        let out = body_markup(Parser::new_ext("![A \"chart\"](/media/c.png)", options), &held);
        assert!(
            out.contains("#box(image(\"/images/1.png\", alt: \"A \\\"chart\\\"\""),
            "{out}"
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    fn typst_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            proptest::sample::select(
                &[
                    "#",
                    "$",
                    "<",
                    ">",
                    "@",
                    "=",
                    "-",
                    "+",
                    "*",
                    "_",
                    "`",
                    "\\",
                    "/",
                    "//",
                    "/*",
                    "[",
                    "]",
                    "{",
                    "}",
                    "\"",
                    "~",
                    "'",
                    "a",
                    " ",
                    "\n",
                    "é",
                    "#set page(width: 1pt)",
                    "#import \"x\"",
                    "$x$",
                    "<label>",
                    "@ref",
                    "```raw```",
                    "\u{0}",
                    "1.",
                    "- ",
                    "= H",
                ][..],
            ),
            0..40,
        )
        .prop_map(|v| v.concat())
    }

    fn no_code(node: &typst::syntax::SyntaxNode) -> Result<(), String> {
        use typst::syntax::SyntaxKind as K;
        if node.diagnosis().errors {
            return Err(format!("an error at {:?}", node.full_text()));
        }
        if matches!(
            node.kind(),
            K::Hash | K::Equation | K::Label | K::Ref | K::Raw | K::Heading | K::ListItem | K::EnumItem | K::TermItem
        ) {
            return Err(format!("{:?}", node.kind()));
        }
        node.children().try_for_each(no_code)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn escaped_text_is_only_text_to_typst(text in typst_text()) {
            let mut out = String::new();
            super::escape_text(&text, &mut out);
            let root = typst::syntax::parse(&out);
            prop_assert_eq!(no_code(&root), Ok(()), "{:?} became {:?}", text, out);
        }

        #[test]
        fn string_literals_hold_the_text_exactly(text in typst_text()) {
            let literal = super::string_literal(&text);
            let root = typst::syntax::parse_code(&literal);
            prop_assert!(!root.diagnosis().errors, "{literal}");
            let kept: String = text.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t')).collect();
            let string = root.children().find(|n| n.kind() == typst::syntax::SyntaxKind::Str);
            let value = string.and_then(|n| n.cast::<typst::syntax::ast::Str>()).map(|s| s.get().to_string());
            prop_assert_eq!(value, Some(kept));
        }
    }
}
