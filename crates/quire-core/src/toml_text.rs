//! TOML written by people: paper front matter and `quire.toml`. Reading
//! goes on past a mistake, so one run lists every problem, each with the
//! key it is about; a misspelt key is answered with the closest known one.

use serde::Deserialize;
use std::ops::Range;
pub use toml::Spanned;
pub use toml::de::{DeTable, DeValue};

/// A syntax mistake: where it is (a byte offset into the text), the key it
/// belongs to when one can be told, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxProblem {
    pub offset: usize,
    pub key: Option<String>,
    pub message: String,
}

/// Parses `text` as far as it can: the table read (with every key and
/// value spanned), and every syntax problem met on the way.
pub fn parse(text: &str) -> (Spanned<DeTable<'_>>, Vec<SyntaxProblem>) {
    let (table, errors) = DeTable::parse_recoverable(text);
    let problems = errors.iter().map(|e| syntax_problem(text, e)).collect();
    (table, problems)
}

/// Parses `text` as far as it can into a plain table: for settings, whose
/// values are checked by type rather than by place.
pub fn parse_table(text: &str) -> (toml::Table, Vec<SyntaxProblem>) {
    let (table, problems) = parse(text);
    let table = toml::Table::deserialize(toml::de::Deserializer::from(table)).unwrap_or_default();
    (table, problems)
}

fn syntax_problem(text: &str, e: &toml::de::Error) -> SyntaxProblem {
    let message = e.message().trim();
    let message = message.lines().next().unwrap_or(message);
    let span = e.span().unwrap_or(0..0);
    let offset = span.start.min(text.len());
    if message.starts_with("duplicate key") {
        let key = text
            .get(span)
            .map(|k| k.trim().trim_matches(['"', '\'']).to_owned())
            .filter(|k| !k.is_empty())
            .or_else(|| key_at(text, offset));
        let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let header = text[line_start..].trim_start().starts_with('[');
        let message = match &key {
            Some(k) if header => format!("the section [{k}] appears twice: move its keys into the first one"),
            Some(k) => format!("`{k}` is set twice: keep one of the two lines"),
            None => "a key is set twice: keep one of the two lines".to_owned(),
        };
        return SyntaxProblem { offset, key, message };
    }
    SyntaxProblem {
        offset,
        key: key_at(text, offset),
        message: message.to_owned(),
    }
}

/// The 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    let offset = (0..=offset).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    text[..offset].matches('\n').count() + 1
}

/// The key whose value contains `offset`: the nearest `key =` line at or
/// above it (a value such as an array may span several lines).
pub fn key_at(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let offset = (0..=offset).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    let end_of_line = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    text[..end_of_line].lines().rev().find_map(|line| {
        let (key, _) = line.split_once('=')?;
        let key = key.trim();
        (!key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'))
        .then(|| key.to_owned())
    })
}

/// The known key closest to `given`, if one is close enough to be what was
/// meant (a few letters wrong, missing or swapped).
pub fn closest<'a>(given: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|k| (strsim::levenshtein(given, k), k))
        .filter(|(d, k)| *d <= (k.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// What a value is, in words for an error message.
pub fn kind_of(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "text",
        DeValue::Integer(_) => "a number",
        DeValue::Float(_) => "a number",
        DeValue::Boolean(_) => "true or false",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    }
}

/// The text of a string value, or what it was instead.
pub fn as_text(value: &Spanned<DeValue<'_>>) -> Result<Spanned<String>, &'static str> {
    match value.get_ref() {
        DeValue::String(s) => Ok(Spanned::new(value.span(), s.to_string())),
        other => Err(kind_of(other)),
    }
}

/// A list of strings with each item's place, or what the value was
/// instead; items that are not text are reported by their span.
#[allow(clippy::type_complexity)]
pub fn as_text_list(
    value: &Spanned<DeValue<'_>>,
) -> Result<(Spanned<Vec<Spanned<String>>>, Vec<(Range<usize>, &'static str)>), &'static str> {
    let DeValue::Array(items) = value.get_ref() else {
        return Err(kind_of(value.get_ref()));
    };
    let mut texts = Vec::new();
    let mut wrong = Vec::new();
    for item in items {
        match as_text(item) {
            Ok(t) => texts.push(t),
            Err(kind) => wrong.push((item.span(), kind)),
        }
    }
    Ok((Spanned::new(value.span(), texts), wrong))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_syntax_problem_is_reported_with_its_key() {
        let text = "a = 1\nb = \"open\nc = 2\na = 3\n";
        let (_, problems) = parse(text);
        assert!(problems.len() >= 2, "{problems:?}");
        let duplicate = problems
            .iter()
            .find(|p| p.message.contains("set twice"))
            .expect("duplicate named");
        assert_eq!(duplicate.key.as_deref(), Some("a"));
        assert_eq!(line_of(text, duplicate.offset), 4);
        assert!(duplicate.message.contains("`a`"), "{duplicate:?}");
        let unterminated = problems.iter().find(|p| line_of(text, p.offset) == 2).expect("line 2");
        assert_eq!(unterminated.key.as_deref(), Some("b"));
    }

    #[test]
    fn what_parses_is_kept_beside_the_problems() {
        let (table, problems) = parse_table("a = 1\nb = \"open\n[s]\nc = true\n");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(table.get("a").and_then(toml::Value::as_integer), Some(1));
    }

    #[test]
    fn duplicate_keys_in_sections_are_named() {
        let (_, problems) = parse("[site]\nname = \"a\"\nname = \"b\"\n");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].key.as_deref(), Some("name"));
        let (_, problems) = parse("[site]\nname = \"a\"\n[site]\nother = 1\n");
        assert!(
            problems[0].message.contains("the section [site] appears twice"),
            "{problems:?}"
        );
    }

    #[test]
    fn closest_key_is_suggested_only_when_close() {
        let keys = ["title", "authors", "topics"];
        assert_eq!(closest("author", keys), Some("authors"));
        assert_eq!(closest("titel", keys), Some("title"));
        assert_eq!(closest("colour", keys), None);
    }

    #[test]
    fn lines_are_counted_on_character_boundaries() {
        let text = "é\nb";
        assert_eq!(line_of(text, 1), 1);
        assert_eq!(line_of(text, 3), 2);
        assert_eq!(line_of(text, 99), 2);
        assert_eq!(key_at("x = [\n\"é\"", 8).as_deref(), Some("x"));
    }
}
