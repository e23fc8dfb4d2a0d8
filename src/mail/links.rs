//! The signed links in emails: a sign-up's confirmation link, which
//! carries the whole sign-up (nothing is stored until it is opened) and
//! expires; and a subscriber's preferences and unsubscribe links, which
//! name the subscriber and never expire (RFC 8058 asks that they keep
//! working).

use crate::web::signing::Signer;
use time::OffsetDateTime;

/// The name of the site key newsletter links are signed with.
pub const SITE_KEY: &str = "newsletter";

/// A sign-up waiting for its confirmation: checked address, name and
/// topic slugs (empty: everything).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SignUp {
    pub email: String,
    pub name: String,
    pub topics: Vec<String>,
}

/// Why a confirmation link is not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// Altered, cut short, or signed by another site.
    Invalid,
    /// Older than `subscribe_confirm_hours`.
    Expired,
}

/// The confirmation token for `signup`, valid until `expires`, ready for
/// a query string.
pub fn confirm_token(signer: &Signer, signup: &SignUp, expires: OffsetDateTime) -> String {
    let text = serde_json::json!([expires.unix_timestamp(), signup.email, signup.name, signup.topics]).to_string();
    form_urlencoded::byte_serialize(signer.sign(&format!("c{text}")).as_bytes()).collect()
}

/// The sign-up a confirmation token (as decoded from the query) carries.
pub fn open_confirm_token(signer: &Signer, token: &str, now: OffsetDateTime) -> Result<SignUp, LinkError> {
    let text = signer.open(token).ok_or(LinkError::Invalid)?;
    let json = text.strip_prefix('c').ok_or(LinkError::Invalid)?;
    let (expires, email, name, topics): (i64, String, String, Vec<String>) =
        serde_json::from_str(json).map_err(|_| LinkError::Invalid)?;
    if now.unix_timestamp() > expires {
        return Err(LinkError::Expired);
    }
    Ok(SignUp { email, name, topics })
}

/// The signature in subscriber `id`'s links. It covers the address too,
/// so a link stops working for an address erased and added again.
pub fn subscriber_sig(signer: &Signer, id: i64, email: &str) -> String {
    let signed = signer.sign(&subscriber_text(id, email));
    signed
        .rsplit_once('.')
        .map(|(_, sig)| sig.to_owned())
        .unwrap_or_default()
}

/// Whether `sig` is subscriber `id`'s signature (checked in constant time).
pub fn check_subscriber_sig(signer: &Signer, id: i64, email: &str, sig: &str) -> bool {
    signer.open(&format!("{}.{sig}", subscriber_text(id, email))).is_some()
}

fn subscriber_text(id: i64, email: &str) -> String {
    format!("s{id}:{email}")
}

/// A subscriber's own links, signed once: the preferences page (topics,
/// name, leaving) and the one-click unsubscribe address (RFC 8058: a POST
/// there unsubscribes; a GET shows one button).
pub struct SubscriberLinks {
    pub sig: String,
    pub preferences: String,
    pub unsubscribe: String,
}

impl SubscriberLinks {
    pub fn new(base: &str, signer: &Signer, id: i64, email: &str) -> SubscriberLinks {
        let sig = subscriber_sig(signer, id, email);
        SubscriberLinks {
            preferences: format!("{base}/newsletter/preferences?id={id}&sig={sig}"),
            unsubscribe: format!("{base}/newsletter/unsubscribe?id={id}&sig={sig}"),
            sig,
        }
    }
}

/// A subscriber's page for topics, name and leaving.
pub fn preferences_url(base: &str, signer: &Signer, id: i64, email: &str) -> String {
    SubscriberLinks::new(base, signer, id, email).preferences
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn signup() -> SignUp {
        SignUp {
            email: "ada|x@example.org".into(),
            name: "Ada \"Countess\" Lovelace".into(),
            topics: vec!["trade".into()],
        }
    }

    #[test]
    fn confirmation_tokens_carry_the_sign_up_until_they_expire() {
        let signer = Signer::new(b"key");
        let now = datetime!(2026-11-27 10:00 UTC);
        let token = confirm_token(&signer, &signup(), now + time::Duration::hours(48));
        let decoded: String = form_urlencoded::parse(format!("t={token}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        assert_eq!(open_confirm_token(&signer, &decoded, now), Ok(signup()));
        assert_eq!(
            open_confirm_token(&signer, &decoded, now + time::Duration::hours(49)),
            Err(LinkError::Expired)
        );
        assert_eq!(
            open_confirm_token(&Signer::new(b"other"), &decoded, now),
            Err(LinkError::Invalid)
        );
        let altered = decoded.replace("trade", "tradf");
        assert_eq!(open_confirm_token(&signer, &altered, now), Err(LinkError::Invalid));
        assert_eq!(open_confirm_token(&signer, "", now), Err(LinkError::Invalid));
    }

    #[test]
    fn subscriber_links_are_for_one_subscriber_and_address() {
        let signer = Signer::new(b"key");
        let sig = subscriber_sig(&signer, 7, "ada@example.org");
        assert_eq!(sig.len(), 64);
        assert!(check_subscriber_sig(&signer, 7, "ada@example.org", &sig));
        assert!(!check_subscriber_sig(&signer, 8, "ada@example.org", &sig));
        assert!(!check_subscriber_sig(&signer, 7, "bob@example.org", &sig));
        assert!(!check_subscriber_sig(&signer, 7, "ada@example.org", "00"));
        let links = SubscriberLinks::new("https://x.org", &signer, 7, "ada@example.org");
        assert_eq!(links.sig, sig);
        assert_eq!(
            links.unsubscribe,
            format!("https://x.org/newsletter/unsubscribe?id=7&sig={sig}")
        );
        assert_eq!(
            links.preferences,
            format!("https://x.org/newsletter/preferences?id=7&sig={sig}")
        );
    }
}
