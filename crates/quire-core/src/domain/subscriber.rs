//! Newsletter subscribers: which addresses Quire will mail, how their
//! consent was given, and the checks every address and name passes before
//! it is stored. Pure; no I/O.

use serde::Serialize;
use std::fmt;

/// Longest address SMTP carries (RFC 5321).
pub const MAX_SUBSCRIBER_EMAIL: usize = 254;
/// Longest name shown in a greeting.
pub const MAX_SUBSCRIBER_NAME: usize = 100;

/// Where a subscriber stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SubscriberStatus {
    /// Has not confirmed: is sent nothing but a confirmation.
    Pending,
    /// Receives newsletters.
    Confirmed,
    Unsubscribed,
    /// Mail to the address failed for good too often.
    Bounced,
}

impl SubscriberStatus {
    pub const ALL: [SubscriberStatus; 4] = [
        SubscriberStatus::Pending,
        SubscriberStatus::Confirmed,
        SubscriberStatus::Unsubscribed,
        SubscriberStatus::Bounced,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SubscriberStatus::Pending => "pending",
            SubscriberStatus::Confirmed => "confirmed",
            SubscriberStatus::Unsubscribed => "unsubscribed",
            SubscriberStatus::Bounced => "bounced",
        }
    }
}

impl fmt::Display for SubscriberStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for SubscriberStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SubscriberStatus::ALL
            .into_iter()
            .find(|x| x.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| format!("{s:?} is not a subscriber status: use pending, confirmed, unsubscribed or bounced"))
    }
}

/// How a subscriber's consent was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Consent {
    /// Confirmed from the link in a confirmation email (double opt-in).
    Form,
    /// Imported by an editor who declared the list consented.
    ImportedWithConsent,
    /// Imported without that declaration: must confirm before any mail.
    Imported,
}

impl Consent {
    pub fn as_str(self) -> &'static str {
        match self {
            Consent::Form => "form",
            Consent::ImportedWithConsent => "imported-with-consent",
            Consent::Imported => "imported",
        }
    }

    pub fn parse(s: &str) -> Option<Consent> {
        [Consent::Form, Consent::ImportedWithConsent, Consent::Imported]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// A subscriber to add: checked address, name and topics (topic slugs;
/// empty means everything).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriberInput {
    pub email: String,
    pub name: String,
    pub topics: Vec<String>,
}

/// Checks an address for mailing: plain ASCII (letters from other
/// scripts that look Latin would disguise another address), no line
/// breaks (they would add mail headers), at most 254 characters, and a
/// well-formed address. Returns it in lower case.
pub fn validate_subscriber_email(raw: &str) -> Result<String, String> {
    let email = raw.trim();
    if email.is_empty() {
        return Err("is required: write the address to send to".into());
    }
    if email.chars().any(|c| c.is_control()) {
        return Err("has a line break or control character: write the address alone on one line".into());
    }
    if email.chars().count() > MAX_SUBSCRIBER_EMAIL {
        return Err(format!(
            "is {} characters long; an address has at most {MAX_SUBSCRIBER_EMAIL}: check it",
            email.chars().count()
        ));
    }
    if let Some(c) = email.chars().find(|c| !c.is_ascii()) {
        return Err(format!(
            "has the character {c:?}, which is not a plain Latin letter (some look like one but are not): type the address again"
        ));
    }
    if email.starts_with(['=', '+', '-']) {
        return Err("starts with a character spreadsheets read as a formula: check the address".into());
    }
    super::validate_email(email)?;
    Ok(email.to_ascii_lowercase())
}

/// Checks a subscriber's name for greetings: one line, at most 100
/// characters, without the characters that reorder text.
pub fn validate_subscriber_name(raw: &str) -> Result<String, String> {
    if raw.chars().any(|c| c == '\r' || c == '\n') {
        return Err("has a line break: write the name on one line".into());
    }
    let name: String = raw
        .chars()
        .filter(|c| !c.is_control() && !super::comment::is_bidi_control(*c))
        .collect();
    let name = name.trim().to_owned();
    if name.chars().count() > MAX_SUBSCRIBER_NAME {
        return Err(format!(
            "is {} characters long; a name has at most {MAX_SUBSCRIBER_NAME}: shorten it",
            name.chars().count()
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_for_mailing_are_plain_and_single_line() {
        assert_eq!(
            validate_subscriber_email("  Ada@Example.ORG "),
            Ok("ada@example.org".into())
        );
        for (bad, says) in [
            ("", "is required"),
            ("ada@example.org\r\nBcc: all@example.org", "line break"),
            ("ada@example.org\nX-Injected: 1", "line break"),
            ("ada\u{0}@example.org", "control character"),
            ("аda@example.org", "not a plain Latin letter"),
            ("ada@exаmple.org", "not a plain Latin letter"),
            ("ada@ｅxample.org", "not a plain Latin letter"),
            ("no-at-sign", "is not an email address"),
            ("a@b", "no valid domain"),
            ("=cmd|'/c calc'!A1@example.org", "read as a formula"),
        ] {
            let err = validate_subscriber_email(bad).expect_err(bad);
            assert!(err.contains(says), "{bad:?}: {err}");
        }
        let long = format!("{}@example.org", "a".repeat(250));
        assert!(
            validate_subscriber_email(&long)
                .expect_err("long")
                .contains("at most 254")
        );
    }

    #[test]
    fn names_are_one_line_and_bounded() {
        assert_eq!(
            validate_subscriber_name(" Ada \u{202e}Lovelace "),
            Ok("Ada Lovelace".into())
        );
        assert!(
            validate_subscriber_name("Ada\r\nBcc: x@y.z")
                .expect_err("crlf")
                .contains("line break")
        );
        assert!(
            validate_subscriber_name(&"n".repeat(101))
                .expect_err("long")
                .contains("at most 100")
        );
        assert_eq!(validate_subscriber_name(""), Ok(String::new()));
    }

    #[test]
    fn statuses_and_consents_round_trip() {
        for s in SubscriberStatus::ALL {
            assert_eq!(s.as_str().parse::<SubscriberStatus>(), Ok(s));
        }
        for c in [Consent::Form, Consent::ImportedWithConsent, Consent::Imported] {
            assert_eq!(Consent::parse(c.as_str()), Some(c));
        }
        assert!("gone".parse::<SubscriberStatus>().is_err());
    }
}
