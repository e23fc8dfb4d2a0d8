//! Times as editors type and read them: in the site's time zone
//! (`time_zone`, an IANA name such as `Europe/Paris`), daylight saving
//! included, and always echoed in UTC too so that no one has to guess.

use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The site's time zone, checked.
#[derive(Clone, Debug)]
pub struct SiteZone {
    name: String,
    zone: TimeZone,
}

impl SiteZone {
    /// The zone named `name` (`UTC`, or an IANA name such as
    /// `America/New_York`); an error says how to write one.
    pub fn new(name: &str) -> Result<SiteZone, String> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("utc") || name.is_empty() {
            return Ok(SiteZone::utc());
        }
        // Offsets such as "+02:00" are not zones: they ignore daylight saving.
        if name.starts_with(['+', '-']) || name.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            return Err(format!(
                "{name:?} is an offset, not a time zone: name the zone, such as \"Europe/Paris\", so that daylight saving is followed"
            ));
        }
        match TimeZone::get(name) {
            Ok(zone) => Ok(SiteZone {
                name: name.to_owned(),
                zone,
            }),
            Err(_) => Err(format!(
                "{name:?} is not a time zone this machine knows: use an IANA name such as \"UTC\", \"Europe/Paris\" or \"America/New_York\""
            )),
        }
    }

    /// Coordinated Universal Time, the default.
    pub fn utc() -> SiteZone {
        SiteZone {
            name: "UTC".to_owned(),
            zone: TimeZone::UTC,
        }
    }

    /// The zone's name as configured.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn is_utc(&self) -> bool {
        self.name == "UTC"
    }

    /// Reads a time an editor typed: RFC 3339 with its offset
    /// (`2026-12-03T09:00:00+01:00`), or a date and time on the site's
    /// clock (`2026-12-03 09:00`, `2026-12-03T09:00`, seconds optional), or
    /// a date alone (midnight on the site's clock).
    pub fn parse(&self, text: &str) -> Result<OffsetDateTime, String> {
        let text = text.trim();
        let hint = || {
            format!(
                "write a date and time on the site's clock ({}), such as 2026-12-03 09:00, or with an offset, such as 2026-12-03T09:00:00Z",
                self.name
            )
        };
        if text.len() > 64 {
            return Err(format!("is too long to be a time: {}", hint()));
        }
        if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
            return Ok(t);
        }
        let civil = parse_civil(text).ok_or_else(|| format!("{text:?} is not a time: {}", hint()))?;
        let ambiguous = self.zone.to_ambiguous_timestamp(civil);
        let timestamp = match ambiguous.offset() {
            AmbiguousOffset::Unambiguous { .. } => ambiguous
                .compatible()
                .map_err(|e| format!("{text:?} cannot be placed in {}: {e}", self.name))?,
            AmbiguousOffset::Gap { .. } => {
                return Err(format!(
                    "{text:?} does not happen in {}: the clocks jump over it (daylight saving); choose a time an hour later",
                    self.name
                ));
            }
            AmbiguousOffset::Fold { before, after } => {
                return Err(format!(
                    "{text:?} happens twice in {} as the clocks go back: add the offset you mean, {}{} or {}{}",
                    self.name,
                    civil_rfc3339(civil),
                    before,
                    civil_rfc3339(civil),
                    after
                ));
            }
        };
        OffsetDateTime::from_unix_timestamp_nanos(timestamp.as_nanosecond())
            .map_err(|_| format!("{text:?} is out of range: {}", hint()))
    }

    /// An instant on the site's clock and in UTC, for messages:
    /// `2026-12-03 09:00 Europe/Paris (08:00 UTC)`.
    pub fn describe(&self, t: OffsetDateTime) -> String {
        let utc = t.to_offset(time::UtcOffset::UTC);
        let utc_text = format!("{} {:02}:{:02} UTC", utc.date(), utc.hour(), utc.minute());
        if self.is_utc() {
            return utc_text;
        }
        let Ok(timestamp) = jiff::Timestamp::from_nanosecond(t.unix_timestamp_nanos()) else {
            return utc_text;
        };
        let local = timestamp.to_zoned(self.zone.clone());
        let same_day = local.date().to_string() == utc.date().to_string();
        let utc_part = if same_day {
            format!("{:02}:{:02} UTC", utc.hour(), utc.minute())
        } else {
            utc_text
        };
        format!("{} {} ({utc_part})", local.strftime("%Y-%m-%d %H:%M"), self.name)
    }
}

impl SiteZone {
    /// An instant as a `datetime-local` field shows it on the site's
    /// clock (`2026-12-03T09:00`), which [`SiteZone::parse`] reads back.
    pub fn local_input(&self, t: OffsetDateTime) -> String {
        match jiff::Timestamp::from_nanosecond(t.unix_timestamp_nanos()) {
            Ok(timestamp) => timestamp
                .to_zoned(self.zone.clone())
                .strftime("%Y-%m-%dT%H:%M")
                .to_string(),
            Err(_) => String::new(),
        }
    }
}

fn civil_rfc3339(civil: DateTime) -> String {
    civil.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

/// `YYYY-MM-DD`, then optionally `T` or a space and `HH:MM[:SS]`.
fn parse_civil(text: &str) -> Option<DateTime> {
    let (date, time) = match text.split_once(['T', 't', ' ']) {
        Some((d, t)) => (d, Some(t.trim())),
        None => (text, None),
    };
    let date: jiff::civil::Date = date.parse().ok()?;
    let time = match time {
        None => jiff::civil::Time::midnight(),
        Some(t) => {
            let parts: Vec<&str> = t.split(':').collect();
            let number = |s: &str| {
                (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| s.parse::<i8>().ok())
                    .flatten()
            };
            match parts.as_slice() {
                [h, m] => jiff::civil::Time::new(number(h)?, number(m)?, 0, 0).ok()?,
                [h, m, s] => jiff::civil::Time::new(number(h)?, number(m)?, number(s)?, 0).ok()?,
                _ => return None,
            }
        }
    };
    Some(date.to_datetime(time))
}

/// A span such as `30d`, `12h`, `2w`, `90m` or `45s` (`0` for none): what
/// `--older-than` and `newsletter_publish_delay` take.
pub fn parse_span(text: &str) -> Result<time::Duration, String> {
    let t = text.trim();
    if t == "0" {
        return Ok(time::Duration::ZERO);
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: i64 = number.parse().ok().filter(|n| *n <= 100_000).ok_or_else(|| {
        format!("{text:?} is not a length of time: write a number and a unit, such as 30d, 12h, 2w or 90m")
    })?;
    match unit {
        "s" => Ok(time::Duration::seconds(n)),
        "m" => Ok(time::Duration::minutes(n)),
        "h" => Ok(time::Duration::hours(n)),
        "d" => Ok(time::Duration::days(n)),
        "w" => Ok(time::Duration::weeks(n)),
        _ => Err(format!(
            "{text:?} has no unit Quire knows: write s (seconds), m (minutes), h (hours), d (days) or w (weeks), \
             such as 30d"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn spans_read_in_seconds_minutes_hours_days_and_weeks() {
        assert_eq!(parse_span("90m"), Ok(time::Duration::minutes(90)));
        assert_eq!(parse_span(" 12h "), Ok(time::Duration::hours(12)));
        assert_eq!(parse_span("30d"), Ok(time::Duration::days(30)));
        assert_eq!(parse_span("2w"), Ok(time::Duration::weeks(2)));
        assert_eq!(parse_span("45s"), Ok(time::Duration::seconds(45)));
        assert_eq!(parse_span("0m"), Ok(time::Duration::ZERO));
        assert_eq!(parse_span("0"), Ok(time::Duration::ZERO));
        for bad in ["", "d", "30", "30 d", "-1d", "1y", "99999999999999999999d", "1000000d"] {
            assert!(parse_span(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn people_write_times_on_the_site_clock() {
        let paris = SiteZone::new("Europe/Paris").expect("zone");
        assert_eq!(paris.parse("2026-12-03 09:00"), Ok(datetime!(2026-12-03 08:00 UTC)));
        assert_eq!(paris.parse("2026-12-03T09:00"), Ok(datetime!(2026-12-03 08:00 UTC)));
        assert_eq!(
            paris.parse("2026-07-03 09:00:30"),
            Ok(datetime!(2026-07-03 07:00:30 UTC))
        );
        assert_eq!(paris.parse("2026-12-03"), Ok(datetime!(2026-12-02 23:00 UTC)));
        assert_eq!(paris.parse("2026-12-03T09:00:00Z"), Ok(datetime!(2026-12-03 09:00 UTC)));
        assert_eq!(
            SiteZone::utc().parse("2026-12-03 09:00"),
            Ok(datetime!(2026-12-03 09:00 UTC))
        );
    }

    #[test]
    fn form_fields_show_times_on_the_site_clock_and_read_back() {
        let paris = SiteZone::new("Europe/Paris").expect("zone");
        let t = datetime!(2026-07-03 07:00 UTC);
        assert_eq!(paris.local_input(t), "2026-07-03T09:00");
        assert_eq!(paris.parse(&paris.local_input(t)), Ok(t));
        assert_eq!(SiteZone::utc().local_input(t), "2026-07-03T07:00");
    }

    #[test]
    fn daylight_saving_edges_are_explained() {
        let paris = SiteZone::new("Europe/Paris").expect("zone");
        let gap = paris.parse("2026-03-29 02:30").expect_err("gap");
        assert!(gap.contains("does not happen"), "{gap}");
        let fold = paris.parse("2026-10-25 02:30").expect_err("fold");
        assert!(
            fold.contains("happens twice") && fold.contains("+02") && fold.contains("+01"),
            "{fold}"
        );
    }

    #[test]
    fn nonsense_is_refused_with_an_example() {
        let zone = SiteZone::utc();
        for bad in [
            "tomorrow",
            "2026-13-01 09:00",
            "2026-12-03 9:00",
            "2026-12-03 09:00:00:00",
            "2026-12-03 25:00",
            "",
        ] {
            let e = zone.parse(bad).expect_err(bad);
            assert!(e.contains("2026-12-03 09:00"), "{bad}: {e}");
        }
        assert!(zone.parse(&"9".repeat(10_000)).is_err());
    }

    #[test]
    fn zones_are_named_not_offsets() {
        assert!(SiteZone::new("Mars/Olympus").is_err());
        assert!(SiteZone::new("+02:00").expect_err("offset").contains("offset"));
        assert_eq!(SiteZone::new("utc").expect("utc").name(), "UTC");
        assert!(SiteZone::new("../../etc/passwd").is_err());
    }

    #[test]
    fn instants_are_echoed_on_both_clocks() {
        let paris = SiteZone::new("Europe/Paris").expect("zone");
        assert_eq!(
            paris.describe(datetime!(2026-12-03 08:00 UTC)),
            "2026-12-03 09:00 Europe/Paris (08:00 UTC)"
        );
        assert_eq!(
            paris.describe(datetime!(2026-12-03 23:30 UTC)),
            "2026-12-04 00:30 Europe/Paris (2026-12-03 23:30 UTC)"
        );
        assert_eq!(
            SiteZone::utc().describe(datetime!(2026-12-03 08:00 UTC)),
            "2026-12-03 08:00 UTC"
        );
    }
}
