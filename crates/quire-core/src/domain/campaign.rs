//! Newsletter campaigns and outgoing mail: what a campaign is, where it
//! and each message stand, and the retry rules for delivery. Pure; no I/O.

use serde::Serialize;
use std::time::Duration;

/// What a campaign sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CampaignKind {
    /// One published paper.
    Paper,
    /// The papers published since the last digest.
    Digest,
}

/// Where a campaign stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CampaignStatus {
    /// Waiting for its time; no recipients chosen yet.
    Scheduled,
    /// Its messages are queued and being delivered.
    Sending,
    /// Stopped by an editor; nothing more goes out until resumed.
    Paused,
    /// Every message delivered, failed for good or skipped.
    Sent,
}

/// Why a message is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    /// A campaign's copy for one subscriber.
    Campaign,
    /// A sign-up's confirmation link.
    Confirm,
    /// A notice: a comment to moderate, a reply to a comment.
    Notice,
    /// An editor's test copy of a campaign.
    Test,
}

/// Where one outgoing message stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Queued,
    Sent,
    /// Refused for good, or still failing after every retry.
    Failed,
    /// Not sent: the subscriber left or bounced before their turn.
    Skipped,
}

macro_rules! string_enum {
    ($t:ty, $what:literal, $($v:ident => $s:literal),+) => {
        impl $t {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),+ }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some(Self::$v),)+ _ => None }
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(CampaignKind, "campaign kind", Paper => "paper", Digest => "digest");
string_enum!(CampaignStatus, "campaign status", Scheduled => "scheduled", Sending => "sending", Paused => "paused", Sent => "sent");
string_enum!(MessageKind, "message kind", Campaign => "campaign", Confirm => "confirm", Notice => "notice", Test => "test");
string_enum!(DeliveryStatus, "delivery status", Queued => "queued", Sent => "sent", Failed => "failed", Skipped => "skipped");

/// What one delivery attempt came to, as the SMTP server answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttemptResult {
    Delivered,
    /// A 4xx reply, a dropped connection or a timeout: worth trying again.
    Transient(String),
    /// A 5xx reply: the server will never take this message.
    Permanent(String),
}

/// When to try a message again after its `attempts`th failed attempt, or
/// `None` when it has had all its tries: waits double from `base` (1, 2,
/// 4, 8… times), capped at six hours.
pub fn retry_after(attempts: u32, max_attempts: u32, base: Duration) -> Option<Duration> {
    if attempts >= max_attempts {
        return None;
    }
    let factor = 1u32 << attempts.saturating_sub(1).min(16);
    Some(base.saturating_mul(factor).min(Duration::from_secs(6 * 3600)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_twice_as_long_each_time_until_the_last() {
        let base = Duration::from_secs(60);
        assert_eq!(retry_after(1, 5, base), Some(Duration::from_secs(60)));
        assert_eq!(retry_after(2, 5, base), Some(Duration::from_secs(120)));
        assert_eq!(retry_after(4, 5, base), Some(Duration::from_secs(480)));
        assert_eq!(retry_after(5, 5, base), None);
        assert_eq!(retry_after(30, 99, base), Some(Duration::from_secs(6 * 3600)));
    }

    #[test]
    fn names_round_trip() {
        for s in ["scheduled", "sending", "paused", "sent"] {
            assert_eq!(CampaignStatus::parse(s).map(CampaignStatus::as_str), Some(s));
        }
        for s in ["campaign", "confirm", "notice", "test"] {
            assert_eq!(MessageKind::parse(s).map(MessageKind::as_str), Some(s));
        }
        for s in ["queued", "sent", "failed", "skipped"] {
            assert_eq!(DeliveryStatus::parse(s).map(DeliveryStatus::as_str), Some(s));
        }
        assert_eq!(CampaignKind::parse("digest"), Some(CampaignKind::Digest));
        assert_eq!(CampaignKind::parse("Digest"), None);
    }
}
