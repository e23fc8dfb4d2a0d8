//! Building emails: a campaign's body (one paper, or a digest) rendered
//! once for every recipient, then wrapped per recipient with a greeting
//! and their own links; confirmation and notice messages; and the MIME
//! message with the headers mail clients and providers look for.
//!
//! The HTML is made for mail clients: a table layout at most 600 pixels
//! wide, styles inline on each element (many clients drop `<style>`),
//! absolute URLs, `alt` text on images, and colours that hold up when a
//! client darkens the message.

use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use minijinja::{Environment, context};
use quire_core::domain::{Paper, PaperMeta};
use quire_core::markdown;
use quire_render::paths;

/// What every email says about the site.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MailSite {
    pub name: String,
    /// No trailing slash.
    pub base_url: String,
    /// The site's host, for Message-IDs and the List-Id.
    pub host: String,
}

impl MailSite {
    pub fn new(name: &str, base_url: &str) -> MailSite {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let host = url::Url::parse(&base_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "localhost".to_owned());
        MailSite {
            name: name.to_owned(),
            base_url,
            host,
        }
    }

    /// The List-Id (RFC 2919): the site's name and a label under its host.
    pub fn list_id(&self) -> String {
        format!("{} <newsletter.{}>", self.name.replace(['<', '>', '"'], ""), self.host)
    }
}

/// A subject with its HTML and plain-text bodies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Composed {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// What one recipient's copy adds to a campaign.
#[derive(Clone, Debug)]
pub struct Personal<'a> {
    /// The subscriber's name, or empty for a plain greeting.
    pub name: &'a str,
    pub preferences_url: &'a str,
    pub unsubscribe_url: &'a str,
}

/// Colours and type, in one place for the templates and inline styles.
const FONT: &str = "font-family:Georgia,'Times New Roman',serif";
const INK: &str = "#1f2328";
const MUTED: &str = "#57606a";
const ACCENT: &str = "#0b5cad";

const LAYOUT_HTML: &str = r#"<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="supported-color-schemes" content="light dark">
<title>{{ subject }}</title>
<style>
@media (prefers-color-scheme: dark) {
  .q-bg { background-color: #111418 !important; }
  .q-card { background-color: #1b1f24 !important; }
  .q-ink, .q-ink p, .q-ink li, .q-ink h1, .q-ink h2, .q-ink h3, .q-ink td, .q-ink th { color: #e6e8eb !important; }
  .q-muted { color: #a8b0b9 !important; }
  .q-ink a, a.q-link { color: #7cb7ff !important; }
}
@media (max-width: 620px) { .q-card { padding: 20px !important; } }
</style>
</head>
<body class="q-bg" style="margin:0;padding:0;background-color:#f3f4f6;">
<table role="presentation" class="q-bg" width="100%" cellspacing="0" cellpadding="0" border="0" style="background-color:#f3f4f6;">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" class="q-card" width="600" cellspacing="0" cellpadding="0" border="0" style="width:100%;max-width:600px;background-color:#ffffff;border-radius:6px;">
<tr><td class="q-card q-ink" style="padding:32px;{{ font }};font-size:17px;line-height:1.55;color:{{ ink }};">
<p class="q-muted" style="margin:0 0 24px;font-size:14px;color:{{ muted }};"><a class="q-link" href="{{ site.base_url }}/" style="color:{{ muted }};text-decoration:none;">{{ site.name }}</a></p>
<p style="margin:0 0 16px;">{% if name %}Dear {{ name }},{% else %}Hello,{% endif %}</p>
{{ body|safe }}
</td></tr>
</table>
<table role="presentation" width="600" cellspacing="0" cellpadding="0" border="0" style="width:100%;max-width:600px;">
<tr><td class="q-muted" style="padding:16px 32px;{{ font }};font-size:13px;line-height:1.5;color:{{ muted }};text-align:center;">
{{ footer }}<br>
{% if preferences_url %}<a class="q-link" href="{{ preferences_url }}" style="color:{{ muted }};">Change your topics or name</a> · <a class="q-link" href="{{ unsubscribe_url }}" style="color:{{ muted }};">Unsubscribe</a>{% endif %}
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
"#;

const LAYOUT_TEXT: &str = "{% if name %}Dear {{ name }},{% else %}Hello,{% endif %}

{{ body }}

-- 
{{ footer }}
{% if preferences_url %}Change your topics or name: {{ preferences_url }}
Unsubscribe: {{ unsubscribe_url }}
{% endif %}";

/// The email layouts, parsed once.
pub struct Layouts {
    env: Environment<'static>,
}

impl Default for Layouts {
    fn default() -> Self {
        Layouts::new()
    }
}

impl Layouts {
    pub fn new() -> Layouts {
        let mut env = Environment::new();
        // The site's escaping (the five characters that matter, and
        // control characters dropped); names decide where: HTML for the
        // .html layout, none for text.
        env.set_formatter(quire_render::html_formatter);
        env.add_template("email.html", LAYOUT_HTML)
            .unwrap_or_else(|e| panic!("the built-in email layout does not parse: {e}"));
        env.add_template("email.txt", LAYOUT_TEXT)
            .unwrap_or_else(|e| panic!("the built-in text layout does not parse: {e}"));
        Layouts { env }
    }

    /// One recipient's HTML and text from a campaign body (or any body).
    /// `footer` says why they receive it.
    pub fn personalise(
        &self,
        site: &MailSite,
        language: &str,
        body: &Composed,
        personal: &Personal<'_>,
        footer: &str,
    ) -> Result<(String, String), minijinja::Error> {
        let ctx = context! {
            lang => language,
            subject => &body.subject,
            site => minijinja::Value::from(minijinja::value::Serde(site)),
            name => personal.name,
            body => &body.html,
            footer => footer,
            preferences_url => personal.preferences_url,
            unsubscribe_url => personal.unsubscribe_url,
            font => FONT,
            ink => INK,
            muted => MUTED,
        };
        let html = self.env.get_template("email.html")?.render(&ctx)?;
        let text_ctx = context! {
            name => personal.name,
            body => &body.text,
            footer => footer,
            preferences_url => personal.preferences_url,
            unsubscribe_url => personal.unsubscribe_url,
        };
        let text = self.env.get_template("email.txt")?.render(&text_ctx)?;
        Ok((html, text))
    }
}

/// Marks where a recipient's own values go in a layout rendered once.
/// Private-use characters: a campaign body holding one is rendered per
/// recipient instead.
const MARK: char = '\u{E000}';
const NAME_MARK: &str = "\u{E000}n\u{E000}";
const PREFERENCES_MARK: &str = "\u{E000}p\u{E000}";
const UNSUBSCRIBE_MARK: &str = "\u{E000}u\u{E000}";

/// A run of lines of a rendered layout: encoded once, or holding a
/// recipient's values and encoded per message.
#[derive(Clone, Debug)]
enum Piece {
    Encoded(Vec<u8>),
    Marked(String),
}

/// One layout (HTML or text) rendered with marks and cut at lines.
#[derive(Clone, Debug)]
struct PreparedPart {
    pieces: Vec<Piece>,
    html: bool,
}

/// Quoted-printable with CRLF line ends. Lines are encoded on their own,
/// so runs encoded apart join into a valid whole.
fn qp(text: &str) -> Vec<u8> {
    let mut crlf = String::with_capacity(text.len() + text.len() / 16);
    for line in text.split_inclusive('\n') {
        crlf.push_str(line.strip_suffix('\n').unwrap_or(line).trim_end_matches('\r'));
        crlf.push_str("\r\n");
    }
    quoted_printable::encode(crlf.as_bytes())
}

impl PreparedPart {
    fn new(rendered: &str, html: bool) -> PreparedPart {
        let mut pieces = Vec::new();
        let mut run = String::new();
        for line in rendered.split_inclusive('\n') {
            if line.contains(MARK) {
                if !run.is_empty() {
                    pieces.push(Piece::Encoded(qp(&run)));
                    run.clear();
                }
                pieces.push(Piece::Marked(line.to_owned()));
            } else {
                run.push_str(line);
            }
        }
        if !run.is_empty() {
            pieces.push(Piece::Encoded(qp(&run)));
        }
        PreparedPart { pieces, html }
    }

    fn assemble(&self, personal: &Personal<'_>) -> Vec<u8> {
        let value = |v: &str| if self.html { esc(v) } else { v.to_owned() };
        let mut out = Vec::with_capacity(
            self.pieces
                .iter()
                .map(|p| match p {
                    Piece::Encoded(b) => b.len(),
                    Piece::Marked(l) => l.len() * 2,
                })
                .sum(),
        );
        for piece in &self.pieces {
            match piece {
                Piece::Encoded(bytes) => out.extend_from_slice(bytes),
                Piece::Marked(line) => {
                    let line = line
                        .replace(NAME_MARK, &value(personal.name))
                        .replace(PREFERENCES_MARK, &value(personal.preferences_url))
                        .replace(UNSUBSCRIBE_MARK, &value(personal.unsubscribe_url));
                    out.extend_from_slice(&qp(&line));
                }
            }
        }
        out
    }
}

/// A campaign's layout rendered once, with and without a name in the
/// greeting, and encoded: each copy only fills in its recipient's name
/// and links.
#[derive(Clone, Debug)]
pub struct Prepared {
    named: (PreparedPart, PreparedPart),
    unnamed: (PreparedPart, PreparedPart),
}

impl Prepared {
    /// The campaign `body` prepared, or `None` when it holds the marks'
    /// characters (it is then rendered per recipient).
    pub fn new(layouts: &Layouts, site: &MailSite, language: &str, body: &Composed, footer: &str) -> Option<Prepared> {
        if body.html.contains(MARK) || body.text.contains(MARK) || body.subject.contains(MARK) || footer.contains(MARK)
        {
            return None;
        }
        let render = |name: &str| {
            let personal = Personal {
                name,
                preferences_url: PREFERENCES_MARK,
                unsubscribe_url: UNSUBSCRIBE_MARK,
            };
            layouts
                .personalise(site, language, body, &personal, footer)
                .ok()
                .map(|(html, text)| (PreparedPart::new(&html, true), PreparedPart::new(&text, false)))
        };
        Some(Prepared {
            named: render(NAME_MARK)?,
            unnamed: render("")?,
        })
    }

    /// One recipient's parts, encoded.
    pub fn parts(&self, personal: &Personal<'_>) -> Parts {
        let (html, text) = if personal.name.is_empty() {
            &self.unnamed
        } else {
            &self.named
        };
        Parts::Encoded {
            html: html.assemble(personal),
            text: text.assemble(personal),
        }
    }
}

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    quire_render::escape_html(s)
}

pub(crate) fn button(href: &str, label: &str) -> String {
    format!(
        "<a class=\"q-link\" href=\"{}\" style=\"display:inline-block;margin:0 12px 8px 0;padding:10px 18px;\
         border:1px solid {ACCENT};border-radius:4px;color:{ACCENT};text-decoration:none;font-size:15px;\
         font-family:Helvetica,Arial,sans-serif;\">{}</a>",
        esc(href),
        esc(label)
    )
}

/// The byline: authors and the date.
fn byline(meta: &PaperMeta) -> String {
    let names: Vec<&str> = meta.authors.iter().map(|a| a.name.as_str()).collect();
    let date = meta
        .published_at
        .map(|t| quire_render::DateView::new(t).display)
        .unwrap_or_default();
    [names.join(", "), date]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" · ")
}

/// A campaign of one paper: its title, summary, links to the web page
/// and the PDF, then the whole text.
pub fn paper_campaign(paper: &Paper, site: &MailSite) -> Composed {
    let meta = &paper.meta;
    let page = format!("{}{}", site.base_url, paths::paper(&meta.slug));
    let pdf = format!(
        "{}{}.pdf",
        site.base_url,
        paths::paper(&meta.slug).trim_end_matches('/')
    );
    let links = markdown::ImageLinks {
        prefix: &page,
        media: &paper.media,
        svg_as_png: true,
    };
    let rendered = markdown::render_with_images(&paper.body, Some(&links));
    let body = quire_render::feeds::absolute_links(&rendered.html, &site.base_url, &page);
    let mut html = String::with_capacity(body.len() * 2);
    html.push_str(&format!(
        "<h1 style=\"margin:0 0 8px;font-size:28px;line-height:1.25;color:{INK};\">{}</h1>",
        esc(&meta.title)
    ));
    if let Some(sub) = &meta.subtitle {
        html.push_str(&format!(
            "<p class=\"q-muted\" style=\"margin:0 0 8px;font-size:19px;color:{MUTED};\">{}</p>",
            esc(sub)
        ));
    }
    html.push_str(&format!(
        "<p class=\"q-muted\" style=\"margin:0 0 16px;font-size:14px;color:{MUTED};\">{}</p>",
        esc(&byline(meta))
    ));
    if !meta.summary.is_empty() {
        html.push_str(&format!(
            "<p style=\"margin:0 0 16px;font-style:italic;\">{}</p>",
            esc(&meta.summary)
        ));
    }
    html.push_str(&format!(
        "<p style=\"margin:0 0 24px;\">{}{}</p>",
        button(&page, "Read on the web"),
        button(&pdf, "PDF")
    ));
    html.push_str(&inline_styles(&body));
    let mut text = format!("{}\n", meta.title);
    if let Some(sub) = &meta.subtitle {
        text.push_str(sub);
        text.push('\n');
    }
    text.push_str(&byline(meta));
    text.push_str("\n\n");
    if !meta.summary.is_empty() {
        text.push_str(&meta.summary);
        text.push_str("\n\n");
    }
    text.push_str(&format!("Read on the web: {page}\nPDF: {pdf}\n\n"));
    text.push_str(&plain_text(&paper.body));
    Composed {
        subject: meta.title.clone(),
        html,
        text,
    }
}

/// A digest: each paper's title, byline and summary, with its links.
pub fn digest_campaign(papers: &[PaperMeta], site: &MailSite, subject: &str) -> Composed {
    let mut html = format!(
        "<h1 style=\"margin:0 0 16px;font-size:26px;line-height:1.25;color:{INK};\">{}</h1>",
        esc(subject)
    );
    let mut text = format!("{subject}\n\n");
    for p in papers {
        let page = format!("{}{}", site.base_url, paths::paper(&p.slug));
        let pdf = format!("{}{}.pdf", site.base_url, paths::paper(&p.slug).trim_end_matches('/'));
        html.push_str(&format!(
            "<h2 style=\"margin:24px 0 4px;font-size:21px;line-height:1.3;\"><a class=\"q-link\" href=\"{}\" \
             style=\"color:{ACCENT};text-decoration:none;\">{}</a></h2>\
             <p class=\"q-muted\" style=\"margin:0 0 8px;font-size:14px;color:{MUTED};\">{} · {}</p>\
             <p style=\"margin:0 0 8px;\">{}</p>\
             <p style=\"margin:0 0 8px;font-size:15px;\"><a class=\"q-link\" href=\"{}\" style=\"color:{ACCENT};\">Read on the web</a> · \
             <a class=\"q-link\" href=\"{}\" style=\"color:{ACCENT};\">PDF</a></p>",
            esc(&page),
            esc(&p.title),
            esc(&quire_render::capitalise(&p.kind)),
            esc(&byline(p)),
            esc(&p.summary),
            esc(&page),
            esc(&pdf),
        ));
        text.push_str(&format!(
            "{}\n{} · {}\n{}\nRead on the web: {page}\nPDF: {pdf}\n\n",
            p.title,
            quire_render::capitalise(&p.kind),
            byline(p),
            p.summary
        ));
    }
    Composed {
        subject: subject.to_owned(),
        html,
        text: text.trim_end().to_owned(),
    }
}

/// The confirmation email of a sign-up.
pub fn confirmation(site: &MailSite, confirm_url: &str, hours: u32) -> Composed {
    Composed {
        subject: format!("Confirm your subscription to {}", site.name),
        html: format!(
            "<p style=\"margin:0 0 16px;\">Someone, probably you, asked to receive new papers from {} by email. \
             To start, confirm your address:</p><p style=\"margin:0 0 24px;\">{}</p>\
             <p class=\"q-muted\" style=\"margin:0;font-size:14px;color:{MUTED};\">The link works for {hours} hours. \
             If you did not ask, ignore this email: nothing was stored and nothing more will come.</p>",
            esc(&site.name),
            button(confirm_url, "Confirm my subscription")
        ),
        text: format!(
            "Someone, probably you, asked to receive new papers from {} by email. To start, confirm your address:\n\n\
             {confirm_url}\n\nThe link works for {hours} hours. If you did not ask, ignore this email: nothing was \
             stored and nothing more will come.",
            site.name
        ),
    }
}

/// The confirmation email of `signup`, its link signed by `signer` and
/// valid for `hours` from `now`.
pub fn confirmation_for(
    site: &MailSite,
    signer: &quire_core::signing::Signer,
    signup: &super::links::SignUp,
    hours: u32,
    now: time::OffsetDateTime,
) -> Composed {
    let token = super::links::confirm_token(signer, signup, now + time::Duration::hours(i64::from(hours)));
    confirmation(site, &format!("{}/subscribe/confirm?t={token}", site.base_url), hours)
}

/// The email to an address that signs up again while subscribed: no new
/// subscription, a link to its preferences instead.
pub fn already_subscribed(site: &MailSite, preferences_url: &str) -> Composed {
    Composed {
        subject: format!("You are subscribed to {}", site.name),
        html: format!(
            "<p style=\"margin:0 0 16px;\">Someone, probably you, asked to subscribe this address to {}. It is \
             subscribed already. To change your topics or name, or to leave, use this page:</p>\
             <p style=\"margin:0 0 24px;\">{}</p>",
            esc(&site.name),
            button(preferences_url, "My preferences")
        ),
        text: format!(
            "Someone, probably you, asked to subscribe this address to {}. It is subscribed already. To change \
             your topics or name, or to leave, use this page:\n\n{preferences_url}",
            site.name
        ),
    }
}

/// Extra headers of newsletter copies: the list's identity and one-click
/// unsubscribing (RFC 2369, RFC 8058).
#[derive(Clone, Debug)]
pub struct ListHeaders {
    pub list_id: String,
    pub unsubscribe_url: String,
    pub unsubscribe_mailto: String,
}

/// One message ready to become MIME.
#[derive(Clone, Debug)]
pub struct Letter<'a> {
    pub to: &'a str,
    pub to_name: &'a str,
    pub subject: &'a str,
    pub parts: Parts,
    pub message_id: &'a str,
}

/// A message's text and HTML, as written or already encoded.
#[derive(Clone, Debug)]
pub enum Parts {
    Plain {
        html: String,
        text: String,
    },
    /// Quoted-printable with CRLF line ends, from a `Prepared` campaign.
    Encoded {
        html: Vec<u8>,
        text: Vec<u8>,
    },
}

/// The MIME message: multipart/alternative with text then HTML, UTF-8,
/// and a Message-ID that stays the same if the message is sent again
/// (after a crash), so that clients show it once.
pub fn build_message(
    from: &Mailbox,
    letter: Letter<'_>,
    list: Option<&ListHeaders>,
) -> Result<lettre::Message, String> {
    let Letter {
        to,
        to_name,
        subject,
        parts,
        message_id,
    } = letter;
    let address = to
        .parse::<lettre::Address>()
        .map_err(|e| format!("the address {to:?} cannot be mailed: {e}"))?;
    let name = to_name.trim();
    let mut builder = lettre::Message::builder()
        .from(from.clone())
        .to(Mailbox::new((!name.is_empty()).then(|| name.to_owned()), address))
        .subject(subject)
        .date(std::time::SystemTime::now())
        .message_id(Some(message_id.to_owned()));
    if let Some(list) = list {
        builder = builder
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Id"),
                list.list_id.clone(),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{}>, <{}>", list.unsubscribe_url, list.unsubscribe_mailto),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_owned(),
            ));
    }
    let body = match parts {
        Parts::Plain { html, text } => MultiPart::alternative_plain_html(text, html),
        Parts::Encoded { html, text } => {
            let part = |kind: ContentType, bytes: Vec<u8>| {
                SinglePart::builder().header(kind).body(Body::dangerous_pre_encoded(
                    bytes,
                    ContentTransferEncoding::QuotedPrintable,
                ))
            };
            MultiPart::alternative()
                .singlepart(part(ContentType::TEXT_PLAIN, text))
                .singlepart(part(ContentType::TEXT_HTML, html))
        }
    };
    builder.multipart(body).map_err(|e| e.to_string())
}

/// A message id for outbox row `id` under the site's host.
pub fn message_id(site: &MailSite, outbox_id: i64) -> String {
    format!("<quire.{outbox_id}@{}>", site.host)
}

/// Inline styles for the elements a paper body uses, since many mail
/// clients ignore style sheets. Tags keep their attributes; a `style` is
/// added in front of them.
pub fn inline_styles(html: &str) -> String {
    fn style_for(tag: &str) -> Option<String> {
        Some(match tag {
            "p" => "margin:0 0 16px;".to_owned(),
            "h2" => format!("margin:28px 0 12px;font-size:22px;line-height:1.3;color:{INK};"),
            "h3" => format!("margin:24px 0 8px;font-size:19px;line-height:1.3;color:{INK};"),
            "h4" | "h5" | "h6" => format!("margin:20px 0 8px;font-size:17px;color:{INK};"),
            "a" => format!("color:{ACCENT};"),
            "blockquote" => format!("margin:0 0 16px;padding:0 0 0 16px;border-left:3px solid #d0d7de;color:{MUTED};"),
            "ul" | "ol" => "margin:0 0 16px;padding:0 0 0 24px;".to_owned(),
            "li" => "margin:0 0 6px;".to_owned(),
            "table" => "border-collapse:collapse;width:100%;margin:0 0 16px;font-size:15px;".to_owned(),
            "th" => "border:1px solid #d0d7de;padding:6px 8px;text-align:left;background-color:#f6f8fa;color:#1f2328;"
                .to_owned(),
            "td" => "border:1px solid #d0d7de;padding:6px 8px;".to_owned(),
            "pre" => {
                "margin:0 0 16px;padding:12px;overflow-x:auto;background-color:#f6f8fa;color:#1f2328;font-size:14px;"
                    .to_owned()
            }
            "code" => "font-family:Menlo,Consolas,monospace;font-size:0.9em;".to_owned(),
            "img" => "max-width:100%;height:auto;border:0;background-color:#ffffff;".to_owned(),
            "figure" => "margin:0 0 16px;".to_owned(),
            "figcaption" => format!("margin:6px 0 0;font-size:14px;color:{MUTED};"),
            "hr" => "border:0;border-top:1px solid #d0d7de;margin:24px 0;".to_owned(),
            "sup" => "line-height:0;".to_owned(),
            _ => return None,
        })
    }
    let mut out = String::with_capacity(html.len() + html.len() / 4);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        rest = &rest[lt..];
        let name_len = rest[1..]
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len() - 1);
        let name = rest[1..1 + name_len].to_ascii_lowercase();
        match style_for(&name) {
            Some(style) if name_len > 0 && !rest[1 + name_len..].starts_with(|c: char| c != ' ' && c != '>') => {
                out.push('<');
                out.push_str(&name);
                out.push_str(" style=\"");
                out.push_str(&style);
                out.push('"');
                rest = &rest[1 + name_len..];
            }
            _ => {
                out.push('<');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A paper body as plain text for the text part: paragraphs apart,
/// headings underlined, list items marked (numbered lists keep their
/// numbers, nested lists are indented), links followed by their address.
pub fn plain_text(markdown_text: &str) -> String {
    use pulldown_cmark::{Event, Tag, TagEnd};
    let mut out = String::with_capacity(markdown_text.len());
    let mut links: Vec<String> = Vec::new();
    let mut heading_start: Option<usize> = None;
    // The lists open around the text: each one's next number, or None
    // for a bulleted list.
    let mut lists: Vec<Option<u64>> = Vec::new();
    for event in markdown::events(markdown_text) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak => out.push(' '),
            Event::HardBreak => out.push('\n'),
            Event::Start(Tag::Heading { .. }) => heading_start = Some(out.len()),
            Event::End(TagEnd::Heading(_)) => {
                let len = heading_start.take().map_or(0, |s| out[s..].chars().count());
                out.push('\n');
                out.push_str(&"-".repeat(len.min(72)));
                out.push_str("\n\n");
            }
            Event::Start(Tag::List(start)) => {
                if !lists.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                lists.push(start);
            }
            Event::Start(Tag::Item) => {
                out.push_str(&"   ".repeat(lists.len().saturating_sub(1)));
                match lists.last_mut() {
                    // Numbered lists keep their numbers, from the one they start at.
                    Some(Some(n)) => {
                        out.push_str(&format!("{n}. "));
                        *n += 1;
                    }
                    _ => out.push_str("- "),
                }
            }
            Event::End(TagEnd::Item) if !out.ends_with('\n') => out.push('\n'),
            Event::End(TagEnd::List(_)) => {
                lists.pop();
                if lists.is_empty() {
                    out.push('\n');
                }
            }
            Event::Start(Tag::Link { dest_url, .. }) => links.push(dest_url.into_string()),
            Event::End(TagEnd::Link) => {
                if let Some(url) = links.pop()
                    && !url.starts_with('#')
                {
                    out.push_str(&format!(" <{url}>"));
                }
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                out.push('[');
                links.push(dest_url.into_string());
            }
            Event::End(TagEnd::Image) => {
                links.pop();
                out.push(']');
            }
            Event::End(TagEnd::Paragraph | TagEnd::CodeBlock | TagEnd::BlockQuote(_) | TagEnd::Table) => {
                out.push_str("\n\n")
            }
            Event::End(TagEnd::TableRow | TagEnd::TableHead) => out.push('\n'),
            Event::End(TagEnd::TableCell) => out.push_str(" | "),
            Event::FootnoteReference(label) => out.push_str(&format!("[{label}]")),
            Event::Start(Tag::FootnoteDefinition(label)) => out.push_str(&format!("[{label}] ")),
            _ => {}
        }
    }
    let mut text = out.trim().to_owned();
    while text.contains("\n\n\n") {
        text = text.replace("\n\n\n", "\n\n");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use quire_core::domain::{AuthorRef, PaperMeta, Status, TopicRef};
    use time::macros::datetime;

    fn paper() -> Paper {
        Paper {
            meta: PaperMeta {
                id: 1,
                slug: "ports".into(),
                title: "Ports & Harbours".into(),
                subtitle: Some("Why small ports matter".into()),
                kind: "policy brief".into(),
                summary: "Small ports carry more than their size <suggests>.".into(),
                language: "en".into(),
                status: Status::Published,
                published_at: Some(datetime!(2026-01-05 10:00 UTC)),
                updated_at: datetime!(2026-02-01 09:00 UTC),
                canonical_url: None,
                translation_of: None,
                comments: quire_core::domain::CommentsMode::Open,
                comment_count: 0,
                trashed_at: None,
                word_count: 60,
                authors: vec![AuthorRef {
                    slug: "ada".into(),
                    name: "Ada Lovelace".into(),
                    affiliation: None,
                }],
                topics: vec![TopicRef {
                    slug: "trade".into(),
                    name: "Trade".into(),
                }],
            },
            body: "## Background\n\nSmall ports — the [regional ones](/topics/trade/) — matter.[^1] A long line \
                   that goes on well past seventy-six characters, so that quoted-printable must break it softly.\n\n\
                   | Port | Tonnes |\n|---|---|\n| Brest | 1 200 |\n\n![A chart](chart.png \"Figure 1: Tonnes\")\n\n\
                   <script>alert(1)</script>\n\n[^1]: A note.\n"
                .into(),
            media: Vec::new(),
        }
    }

    #[test]
    fn drawings_go_out_as_png() {
        let mut p = paper();
        p.body = "![A map](map.svg) and ![A chart](chart.png)\n".into();
        let composed = paper_campaign(&p, &site());
        assert!(
            composed
                .html
                .contains("src=\"https://papers.example.org/papers/ports/map.svg.png\""),
            "{}",
            composed.html
        );
        assert!(
            composed
                .html
                .contains("src=\"https://papers.example.org/papers/ports/chart.png\""),
            "{}",
            composed.html
        );
    }

    #[test]
    fn numbered_lists_keep_their_numbers_in_the_text_part() {
        let text = plain_text(
            "Steps:\n\n1. Dredge\n2. Build\n   - quays\n   - cranes\n3. Open\n\nLater:\n\n7. Seventh\n8. Eighth\n\nAlso:\n\n- a\n- b\n",
        );
        assert_eq!(
            text,
            "Steps:\n\n1. Dredge\n2. Build\n   - quays\n   - cranes\n3. Open\n\nLater:\n\n7. Seventh\n8. Eighth\n\nAlso:\n\n- a\n- b"
        );
    }

    fn site() -> MailSite {
        MailSite::new("Policy Lab", "https://papers.example.org/")
    }

    fn personal<'a>(name: &'a str) -> Personal<'a> {
        Personal {
            name,
            preferences_url: "https://papers.example.org/newsletter/preferences?id=7&sig=ab",
            unsubscribe_url: "https://papers.example.org/newsletter/unsubscribe?id=7&sig=ab",
        }
    }

    #[test]
    fn a_paper_email_is_inline_styled_absolute_and_personal() {
        let layouts = Layouts::new();
        let body = paper_campaign(&paper(), &site());
        let (html, text) = layouts
            .personalise(
                &site(),
                "en",
                &body,
                &personal("Ada <Countess> Lovelace"),
                "You subscribed.",
            )
            .expect("render");
        insta::assert_snapshot!("paper_email_html", html);
        insta::assert_snapshot!("paper_email_text", text);
        assert!(!html.contains("<script"));
        assert!(html.contains("Dear Ada &lt;Countess&gt; Lovelace,"));
        assert!(html.contains("src=\"https://papers.example.org/papers/ports/chart.png\""));
        assert!(html.contains("alt=\"A chart\""));
        assert!(!html.contains("href=\"/"), "every link is absolute");
    }

    /// Decodes quoted-printable, as a mail client does.
    fn unqp(bytes: &[u8]) -> String {
        let decoded = quoted_printable::decode(bytes, quoted_printable::ParseMode::Strict).expect("valid QP");
        String::from_utf8(decoded).expect("UTF-8").replace("\r\n", "\n")
    }

    fn unescape(html: &str) -> String {
        html.replace("&#x2f;", "/")
            .replace("&#x27;", "'")
            .replace("&#39;", "'")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    }

    #[test]
    fn prepared_copies_read_as_rendered_ones() {
        let layouts = Layouts::new();
        let body = paper_campaign(&paper(), &site());
        let prepared = Prepared::new(&layouts, &site(), "en", &body, "You subscribed.").expect("prepared");
        for name in ["Ada & <Bob> Lovelace", ""] {
            let (html, text) = layouts
                .personalise(&site(), "en", &body, &personal(name), "You subscribed.")
                .expect("render");
            let Parts::Encoded {
                html: fast_html,
                text: fast_text,
            } = prepared.parts(&personal(name))
            else {
                panic!("encoded parts");
            };
            assert!(fast_html.iter().all(|b| b.is_ascii()), "quoted-printable is ASCII");
            assert!(
                fast_html.split(|b| *b == b'\n').all(|l| l.len() <= 77),
                "lines of 76 and CRLF"
            );
            assert_eq!(
                unqp(&fast_text),
                text.replace("\r\n", "\n").trim_end().to_owned() + "\n"
            );
            assert_eq!(
                unescape(&unqp(&fast_html)),
                unescape(&html).trim_end().to_owned() + "\n"
            );
        }
        let marked = Composed {
            text: "A private \u{E000} character".into(),
            ..body
        };
        assert!(Prepared::new(&layouts, &site(), "en", &marked, "x").is_none());
    }

    #[test]
    fn messages_carry_list_headers_and_encode_names() {
        let letter = Letter {
            to: "ada@example.org",
            to_name: "Ada Lovelace–Byron",
            subject: "Ports — a brief",
            parts: Parts::Plain {
                html: "<p>Hi</p>".into(),
                text: "Hi".into(),
            },
            message_id: "<quire.7@papers.example.org>",
        };
        let list = ListHeaders {
            list_id: site().list_id(),
            unsubscribe_url: "https://papers.example.org/newsletter/unsubscribe?id=7&sig=ab".into(),
            unsubscribe_mailto: "mailto:news@example.org?subject=unsubscribe%207-ab".into(),
        };
        let from = "Policy Lab <news@example.org>".parse().expect("from");
        let message = build_message(&from, letter, Some(&list)).expect("message");
        let raw = String::from_utf8(message.formatted()).expect("ascii");
        assert!(raw.is_ascii(), "headers and parts are 7-bit");
        assert!(raw.contains("Subject: Ports =?utf-8?b?4oCU?= a brief"), "{raw}");
        assert!(raw.contains("To: =?utf-8?"), "{raw}");
        assert!(raw.contains("List-Id: Policy Lab <newsletter.papers.example.org>"));
        // Folded as RFC 5322 allows: the two addresses, in order.
        assert!(
            raw.contains(
                "List-Unsubscribe: <https://papers.example.org/newsletter/unsubscribe?id=7&sig=ab>,\r\n \
                 <mailto:news@example.org?subject=unsubscribe%207-ab>\r\n"
            ),
            "{raw}"
        );
        assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(raw.contains("Message-ID: <quire.7@papers.example.org>"));
        assert!(raw.contains("Content-Type: multipart/alternative"));
        assert!(
            build_message(
                &from,
                Letter {
                    to: "not an address",
                    ..letter_again()
                },
                None
            )
            .is_err()
        );
    }

    fn letter_again() -> Letter<'static> {
        Letter {
            to: "x@example.org",
            to_name: "",
            subject: "s",
            parts: Parts::Plain {
                html: String::new(),
                text: String::new(),
            },
            message_id: "<m@x>",
        }
    }
}
