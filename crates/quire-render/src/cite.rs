//! How to cite a paper: Chicago author-date and APA for people, BibTeX,
//! RIS and CSL-JSON for reference managers. One `Citation` feeds them all,
//! so every format names the same authors, title, publisher, date and URL.
//! The accessed date is left to the reader, as the styles ask.

use super::escape_html;
use quire_core::domain::PaperMeta;
use serde_json::json;
use time::{Month, OffsetDateTime};

/// A person's name split the way citation styles need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName {
    pub given: String,
    pub family: String,
}

/// Lower-case particles that belong to the family name ("van", "de", …).
const PARTICLES: &[&str] = &[
    "al", "bin", "da", "de", "del", "della", "der", "di", "dos", "du", "el", "la", "le", "ten", "ter", "van", "von",
];

impl PersonName {
    /// "Ana María de la Cruz" → given "Ana María", family "de la Cruz".
    /// A single word is a family name alone (an organisation or a mononym).
    pub fn split(full: &str) -> PersonName {
        let words: Vec<&str> = full.split_whitespace().collect();
        if words.len() < 2 {
            return PersonName {
                given: String::new(),
                family: full.trim().to_owned(),
            };
        }
        let mut start = words.len() - 1;
        while start > 1 && PARTICLES.contains(&words[start - 1]) {
            start -= 1;
        }
        PersonName {
            given: words[..start].join(" "),
            family: words[start..].join(" "),
        }
    }

    /// "Okafor, Miriam" (or just the family name).
    fn inverted(&self) -> String {
        if self.given.is_empty() {
            self.family.clone()
        } else {
            format!("{}, {}", self.family, self.given)
        }
    }

    /// "M. A." from "Miriam Ada"; hyphenated names keep the hyphen.
    fn initials(&self) -> String {
        self.given
            .split_whitespace()
            .map(|w| {
                w.split('-')
                    .filter_map(|part| part.chars().next())
                    .map(|c| format!("{}.", c.to_uppercase()))
                    .collect::<Vec<_>>()
                    .join("-")
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Everything a citation needs, in one place.
#[derive(Clone, Debug)]
pub struct Citation {
    pub key: String,
    pub authors: Vec<PersonName>,
    pub title: String,
    pub subtitle: Option<String>,
    /// The kind of paper: "Policy brief", "Report".
    pub genre: String,
    pub publisher: String,
    pub published: Option<OffsetDateTime>,
    pub url: String,
    pub summary: String,
    pub language: String,
    pub keywords: Vec<String>,
}

impl Citation {
    /// The citation of `paper`, published by `site_name` at `url`.
    pub fn new(paper: &PaperMeta, site_name: &str, url: String) -> Citation {
        Citation {
            key: paper.slug.clone(),
            authors: paper.authors.iter().map(|a| PersonName::split(&a.name)).collect(),
            title: paper.title.clone(),
            subtitle: paper.subtitle.clone(),
            genre: super::capitalise(&paper.kind),
            publisher: site_name.to_owned(),
            published: paper.published_at,
            url,
            summary: paper.summary.clone(),
            language: paper.language.clone(),
            keywords: paper.topics.iter().map(|t| t.name.clone()).collect(),
        }
    }

    fn full_title(&self) -> String {
        quire_core::domain::full_title(&self.title, self.subtitle.as_deref())
    }

    fn year(&self) -> String {
        self.published
            .map_or_else(|| "n.d.".to_owned(), |t| t.year().to_string())
    }

    /// Chicago author-date, reference-list form, as HTML:
    /// `Okafor, Miriam, and Tomás Reyes. 2025. "Title: Subtitle." Policy brief. Site. URL.`
    pub fn chicago_html(&self) -> String {
        let url = escape_html(&self.url);
        self.chicago(escape_html, &format!("<a href=\"{url}\">{url}</a>"))
    }

    /// The same citation as plain text, for the PDF.
    pub fn chicago_text(&self) -> String {
        self.chicago(|s| s.to_owned(), &self.url)
    }

    /// Chicago author-date with `escape` applied to every part but `link`.
    fn chicago(&self, escape: impl Fn(&str) -> String, link: &str) -> String {
        let names: Vec<String> = self
            .authors
            .iter()
            .enumerate()
            .map(|(i, n)| {
                if i == 0 {
                    n.inverted()
                } else {
                    format!("{} {}", n.given, n.family).trim().to_owned()
                }
            })
            .collect();
        let authors = match names.len() {
            0 => escape(&self.publisher),
            1 => escape(&names[0]),
            2 => escape(&format!("{}, and {}", names[0], names[1])),
            n if n <= 10 => escape(&format!("{}, and {}", names[..n - 1].join(", "), names[n - 1])),
            _ => escape(&format!("{}, et al", names[..7].join(", "))),
        };
        let title = self.full_title();
        format!(
            "{}. {}. “{}{}” {}. {}. {link}.",
            authors.trim_end_matches('.'),
            self.year(),
            escape(&title),
            if title.ends_with(['?', '!', '.']) { "" } else { "." },
            escape(&self.genre),
            escape(&self.publisher),
        )
    }

    /// APA 7th edition, as HTML:
    /// `Okafor, M., & Reyes, T. (2025, March 4). *Title: Subtitle* [Policy brief]. Site. URL`
    pub fn apa_html(&self) -> String {
        let names: Vec<String> = self
            .authors
            .iter()
            .map(|n| {
                let initials = n.initials();
                if initials.is_empty() {
                    n.family.clone()
                } else {
                    format!("{}, {}", n.family, initials)
                }
            })
            .collect();
        let authors = match names.len() {
            0 => self.publisher.clone(),
            1 => names[0].clone(),
            n if n <= 20 => format!("{}, & {}", names[..n - 1].join(", "), names[n - 1]),
            n => format!("{}, … {}", names[..19].join(", "), names[n - 1]),
        };
        let date = match self.published {
            Some(t) => format!("{}, {} {}", t.year(), t.month(), t.day()),
            None => "n.d.".to_owned(),
        };
        // The publisher is left out when it is also the author.
        let publisher = if self.authors.is_empty() {
            String::new()
        } else {
            format!(" {}.", escape_html(&self.publisher))
        };
        format!(
            "{}{} ({}). <i>{}</i> [{}].{} <a href=\"{}\">{}</a>",
            escape_html(&authors),
            if authors.ends_with('.') { "" } else { "." },
            date,
            escape_html(&self.full_title()),
            escape_html(&self.genre),
            publisher,
            escape_html(&self.url),
            escape_html(&self.url)
        )
    }

    /// A BibTeX `@techreport` entry.
    pub fn bibtex(&self) -> String {
        let mut fields: Vec<(&str, String)> = Vec::new();
        if !self.authors.is_empty() {
            let names: Vec<String> = self
                .authors
                .iter()
                .map(|n| {
                    if n.given.is_empty() {
                        format!("{{{}}}", bibtex_escape(&n.family))
                    } else {
                        format!("{}, {}", bibtex_escape(&n.family), bibtex_escape(&n.given))
                    }
                })
                .collect();
            fields.push(("author", names.join(" and ")));
        }
        // Double braces keep the title's capitals as written.
        fields.push(("title", format!("{{{}}}", bibtex_escape(&self.full_title()))));
        fields.push(("type", bibtex_escape(&self.genre)));
        fields.push(("institution", bibtex_escape(&self.publisher)));
        if let Some(t) = self.published {
            fields.push(("year", t.year().to_string()));
            fields.push(("month", month_abbreviation(t.month()).to_owned()));
            fields.push(("date", t.date().to_string()));
        }
        fields.push(("url", self.url.replace(['{', '}'], "")));
        fields.push(("language", bibtex_escape(&self.language)));
        if !self.keywords.is_empty() {
            fields.push(("keywords", bibtex_escape(&self.keywords.join(", "))));
        }
        fields.push(("abstract", bibtex_escape(&self.summary)));
        let mut out = format!("@techreport{{{},\n", bibtex_key(&self.key));
        for (name, value) in fields {
            // `month` is a BibTeX macro (jan, feb, …) and goes unbraced.
            if name == "month" {
                out.push_str(&format!("  {name} = {value},\n"));
            } else {
                out.push_str(&format!("  {name} = {{{value}}},\n"));
            }
        }
        out.push_str("}\n");
        out
    }

    /// An RIS record (type RPRT), CRLF line ends as the format specifies.
    pub fn ris(&self) -> String {
        let mut lines: Vec<(&str, String)> = vec![("TY", "RPRT".to_owned())];
        for n in &self.authors {
            lines.push(("AU", n.inverted()));
        }
        lines.push(("TI", self.full_title()));
        lines.push(("M3", self.genre.clone()));
        lines.push(("PB", self.publisher.clone()));
        if let Some(t) = self.published {
            lines.push(("PY", t.year().to_string()));
            lines.push((
                "DA",
                format!("{:04}/{:02}/{:02}", t.year(), u8::from(t.month()), t.day()),
            ));
        }
        lines.push(("UR", self.url.clone()));
        lines.push(("AB", self.summary.clone()));
        lines.push(("LA", self.language.clone()));
        for k in &self.keywords {
            lines.push(("KW", k.clone()));
        }
        lines.push(("ER", String::new()));
        let mut out = String::new();
        for (tag, value) in lines {
            let value: String = value.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
            out.push_str(format!("{tag}  - {value}").trim_end());
            out.push_str("\r\n");
        }
        out
    }

    /// CSL-JSON: an array with one item of type `report`.
    pub fn csl_json(&self) -> serde_json::Value {
        let authors: Vec<serde_json::Value> = self
            .authors
            .iter()
            .map(|n| {
                if n.given.is_empty() {
                    json!({ "literal": n.family })
                } else {
                    json!({ "family": n.family, "given": n.given })
                }
            })
            .collect();
        let mut item = json!({
            "id": self.key,
            "type": "report",
            "title": self.full_title(),
            "genre": self.genre,
            "publisher": self.publisher,
            "URL": self.url,
            "abstract": self.summary,
            "language": self.language,
        });
        if !authors.is_empty() {
            item["author"] = serde_json::Value::Array(authors);
        }
        if let Some(t) = self.published {
            item["issued"] = json!({ "date-parts": [[t.year(), u8::from(t.month()), t.day()]] });
        }
        if !self.keywords.is_empty() {
            item["keyword"] = json!(self.keywords.join(", "));
        }
        serde_json::Value::Array(vec![item])
    }
}

/// Escapes BibTeX's special characters; braces are dropped because an
/// unbalanced one would break the whole entry.
fn bibtex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '{' | '}' => {}
            '&' | '%' | '$' | '#' | '_' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A citation key BibTeX accepts: slugs are already letters, digits and
/// hyphens, but keys may not hold some characters whatever the input.
fn bibtex_key(slug: &str) -> String {
    slug.chars()
        .map(|c| if c.is_alphanumeric() || c == '-' { c } else { '-' })
        .collect()
}

fn month_abbreviation(m: Month) -> &'static str {
    match m {
        Month::January => "jan",
        Month::February => "feb",
        Month::March => "mar",
        Month::April => "apr",
        Month::May => "may",
        Month::June => "jun",
        Month::July => "jul",
        Month::August => "aug",
        Month::September => "sep",
        Month::October => "oct",
        Month::November => "nov",
        Month::December => "dec",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn citation(authors: &[&str]) -> Citation {
        Citation {
            key: "ports-and-power".into(),
            authors: authors.iter().map(|a| PersonName::split(a)).collect(),
            title: "Ports & Power".into(),
            subtitle: Some("A {decade} of 100% reform_s".into()),
            genre: "Policy brief".into(),
            publisher: "Centre for Maritime Studies".into(),
            published: Some(datetime!(2025-03-04 10:00 UTC)),
            url: "https://papers.example.org/papers/ports-and-power/".into(),
            summary: "Ports, briefly.".into(),
            language: "en".into(),
            keywords: vec!["Trade".into(), "Infrastructure".into()],
        }
    }

    #[test]
    fn names_split_with_particles() {
        let n = PersonName::split("Ana María de la Cruz");
        assert_eq!((n.given.as_str(), n.family.as_str()), ("Ana María", "de la Cruz"));
        let n = PersonName::split("Ludwig van Beethoven");
        assert_eq!((n.given.as_str(), n.family.as_str()), ("Ludwig", "van Beethoven"));
        let n = PersonName::split("Plato");
        assert_eq!((n.given.as_str(), n.family.as_str()), ("", "Plato"));
        assert_eq!(PersonName::split("Jean-Paul Sartre").initials(), "J.-P.");
    }

    #[test]
    fn chicago_and_apa_read_right() {
        let c = citation(&["Miriam Okafor", "Tomás Reyes"]);
        assert_eq!(
            c.chicago_html(),
            "Okafor, Miriam, and Tomás Reyes. 2025. “Ports &amp; Power: A {decade} of 100% reform_s.” Policy brief. \
             Centre for Maritime Studies. <a href=\"https://papers.example.org/papers/ports-and-power/\">\
             https://papers.example.org/papers/ports-and-power/</a>."
        );
        assert_eq!(
            c.apa_html(),
            "Okafor, M., &amp; Reyes, T. (2025, March 4). <i>Ports &amp; Power: A {decade} of 100% reform_s</i> \
             [Policy brief]. Centre for Maritime Studies. <a href=\"https://papers.example.org/papers/ports-and-power/\">\
             https://papers.example.org/papers/ports-and-power/</a>"
        );
        let solo = citation(&[]);
        assert!(solo.chicago_html().starts_with("Centre for Maritime Studies. 2025."));
        assert!(
            solo.apa_html()
                .starts_with("Centre for Maritime Studies. (2025, March 4).")
        );
        let three = citation(&["A B", "C D", "E F"]);
        assert!(three.chicago_html().starts_with("B, A, C D, and E F. 2025."));
        assert!(three.apa_html().starts_with("B, A., D, C., &amp; F, E. (2025"));
    }

    #[test]
    fn hostile_text_cannot_break_out() {
        let mut c = citation(&["<script>alert(1)</script> Evil"]);
        c.title = "\"><img src=x onerror=alert(1)>".into();
        for html in [c.chicago_html(), c.apa_html()] {
            assert!(!html.contains("<script") && !html.contains("<img"), "{html}");
        }
        c.title = "}} @misc{x, title={y".into();
        let bib = c.bibtex();
        assert_eq!(bib.matches('{').count(), bib.matches('}').count(), "{bib}");
        assert_eq!(bib.lines().filter(|l| l.starts_with('@')).count(), 1, "{bib}");
        c.summary = "line\r\nER  - \r\nTY  - JOUR".into();
        let ris = c.ris();
        assert_eq!(ris.matches("\r\nER  -").count(), 1, "{ris}");
    }

    #[test]
    fn machine_formats_carry_every_field() {
        let c = citation(&["Miriam Okafor", "Tomás Reyes"]);
        let bib = c.bibtex();
        assert!(bib.starts_with("@techreport{ports-and-power,\n"));
        assert!(bib.contains("author = {Okafor, Miriam and Reyes, Tomás}"));
        assert!(bib.contains("title = {{Ports \\& Power: A decade of 100\\% reform\\_s}}"));
        assert!(bib.contains("institution = {Centre for Maritime Studies}"));
        assert!(bib.contains("year = {2025}") && bib.contains("month = mar,"));
        assert!(bib.contains("url = {https://papers.example.org/papers/ports-and-power/}"));
        let ris = c.ris();
        assert!(ris.starts_with("TY  - RPRT\r\nAU  - Okafor, Miriam\r\nAU  - Reyes, Tomás\r\n"));
        assert!(ris.contains("PB  - Centre for Maritime Studies\r\n"));
        assert!(ris.contains("DA  - 2025/03/04\r\n"));
        assert!(ris.ends_with("ER  -\r\n"));
        let csl = c.csl_json();
        assert_eq!(csl[0]["type"], "report");
        assert_eq!(csl[0]["author"][1]["family"], "Reyes");
        assert_eq!(csl[0]["issued"]["date-parts"][0][1], 3);
        assert_eq!(csl[0]["publisher"], "Centre for Maritime Studies");
        assert!(csl[0].get("accessed").is_none());
    }
}
