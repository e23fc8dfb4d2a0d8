//! The signed links in emails: a sign-up's confirmation link, which
//! carries the whole sign-up (nothing is stored until it is confirmed),
//! expires and works once; a subscriber's preferences link, which expires;
//! and the unsubscribe link, which never does (RFC 8058 asks that it keep
//! working). Each purpose has its own signature, and each subscriber a
//! link version that revokes their links when raised.

use quire_core::signing::Signer;
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
///
/// The sign-up travels as base64: what a stranger typed into the form
/// (the name, above all) must not stand readable in an email sent to
/// whatever address they gave.
pub fn confirm_token(signer: &Signer, signup: &SignUp, expires: OffsetDateTime) -> String {
    use base64::Engine;
    let text = serde_json::json!([expires.unix_timestamp(), signup.email, signup.name, signup.topics]).to_string();
    let packed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
    signer.sign(&format!("c{packed}"))
}

/// The sign-up a confirmation token (as decoded from the query) carries,
/// and when the token expires.
pub fn open_confirm_token(
    signer: &Signer,
    token: &str,
    now: OffsetDateTime,
) -> Result<(SignUp, OffsetDateTime), LinkError> {
    use base64::Engine;
    let text = signer.open(token.trim()).ok_or(LinkError::Invalid)?;
    let packed = text.strip_prefix('c').ok_or(LinkError::Invalid)?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(packed)
        .map_err(|_| LinkError::Invalid)?;
    let (expires, email, name, topics): (i64, String, String, Vec<String>) =
        serde_json::from_slice(&json).map_err(|_| LinkError::Invalid)?;
    if now.unix_timestamp() > expires {
        return Err(LinkError::Expired);
    }
    let expires = OffsetDateTime::from_unix_timestamp(expires).map_err(|_| LinkError::Invalid)?;
    Ok((SignUp { email, name, topics }, expires))
}

/// Who a subscriber's links are for: the signatures cover the address
/// (a link stops working for an address erased and added again) and the
/// subscriber's link version (raising it revokes every link sent).
#[derive(Clone, Copy, Debug)]
pub struct LinkHolder<'a> {
    pub id: i64,
    pub email: &'a str,
    pub version: i64,
}

impl<'a> From<&'a quire_store::Subscriber> for LinkHolder<'a> {
    fn from(s: &'a quire_store::Subscriber) -> LinkHolder<'a> {
        LinkHolder {
            id: s.id,
            email: &s.email,
            version: s.link_version,
        }
    }
}

/// The signature of a text, without the text.
fn signature(signer: &Signer, text: &str) -> String {
    signer
        .sign(text)
        .rsplit_once('.')
        .map(|(_, sig)| sig.to_owned())
        .unwrap_or_default()
}

/// The unsubscribe signature: it never expires (RFC 8058 asks that the
/// link keep working) and opens nothing but unsubscribing.
pub fn unsubscribe_sig(signer: &Signer, holder: LinkHolder<'_>) -> String {
    signature(signer, &unsubscribe_text(holder))
}

fn unsubscribe_text(h: LinkHolder<'_>) -> String {
    format!("u{}:{}:{}", h.id, h.version, h.email)
}

/// The preferences signature, valid until `expires`: the page shows the
/// address and changes what is sent, so its link does not last.
pub fn preferences_sig(signer: &Signer, holder: LinkHolder<'_>, expires: OffsetDateTime) -> String {
    signature(signer, &preferences_text(holder, expires.unix_timestamp()))
}

fn preferences_text(h: LinkHolder<'_>, expires: i64) -> String {
    format!("p{}:{}:{expires}:{}", h.id, h.version, h.email)
}

/// Whether `sig` is `holder`'s unsubscribe signature (in constant time).
pub fn check_unsubscribe(signer: &Signer, holder: LinkHolder<'_>, sig: &str) -> bool {
    signer.open(&format!("{}.{sig}", unsubscribe_text(holder))).is_some()
}

/// Whether `sig` is `holder`'s preferences signature for `expires`, and
/// whether that time has come.
pub fn check_preferences(
    signer: &Signer,
    holder: LinkHolder<'_>,
    expires: i64,
    sig: &str,
    now: OffsetDateTime,
) -> Result<(), LinkError> {
    if signer
        .open(&format!("{}.{sig}", preferences_text(holder, expires)))
        .is_none()
    {
        return Err(LinkError::Invalid);
    }
    if now.unix_timestamp() > expires {
        return Err(LinkError::Expired);
    }
    Ok(())
}

/// A digest of a confirmation token, the record that it was used.
pub fn token_digest(token: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(token.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A subscriber's own links, signed once: the preferences page (topics,
/// name, leaving), which expires, and the one-click unsubscribe address
/// (RFC 8058: a POST there unsubscribes; a GET shows one button), which
/// does not.
pub struct SubscriberLinks {
    /// The unsubscribe signature, which the `mailto:` unsubscribe carries.
    pub sig: String,
    pub preferences: String,
    pub unsubscribe: String,
}

impl SubscriberLinks {
    pub fn new(
        base: &str,
        signer: &Signer,
        holder: LinkHolder<'_>,
        preferences_expire: OffsetDateTime,
    ) -> SubscriberLinks {
        let sig = unsubscribe_sig(signer, holder);
        SubscriberLinks {
            preferences: preferences_url(base, signer, holder, preferences_expire),
            unsubscribe: format!("{base}/newsletter/unsubscribe?id={}&sig={sig}", holder.id),
            sig,
        }
    }
}

/// A subscriber's page for topics, name and leaving, valid until `expires`.
pub fn preferences_url(base: &str, signer: &Signer, holder: LinkHolder<'_>, expires: OffsetDateTime) -> String {
    let sig = preferences_sig(signer, holder, expires);
    format!(
        "{base}/newsletter/preferences?id={}&exp={}&sig={sig}",
        holder.id,
        expires.unix_timestamp()
    )
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
        assert_eq!(
            open_confirm_token(&signer, &decoded, now),
            Ok((signup(), now + time::Duration::hours(48)))
        );
        assert_eq!(
            open_confirm_token(&signer, &decoded, now + time::Duration::hours(49)),
            Err(LinkError::Expired)
        );
        assert_eq!(
            open_confirm_token(&Signer::new(b"other"), &decoded, now),
            Err(LinkError::Invalid)
        );
        assert!(!token.contains("Countess") && !token.contains("ada"), "{token}");
        let altered = decoded.replacen('c', "d", 1);
        assert_eq!(open_confirm_token(&signer, &altered, now), Err(LinkError::Invalid));
        assert_eq!(open_confirm_token(&signer, "", now), Err(LinkError::Invalid));
    }

    #[test]
    fn subscriber_links_are_for_one_purpose_subscriber_address_and_version() {
        let signer = Signer::new(b"key");
        let now = datetime!(2026-11-27 10:00 UTC);
        let ada = LinkHolder {
            id: 7,
            email: "ada@example.org",
            version: 1,
        };
        let sig = unsubscribe_sig(&signer, ada);
        assert_eq!(sig.len(), 64);
        assert!(check_unsubscribe(&signer, ada, &sig));
        assert!(!check_unsubscribe(&signer, LinkHolder { id: 8, ..ada }, &sig));
        assert!(!check_unsubscribe(
            &signer,
            LinkHolder {
                email: "bob@example.org",
                ..ada
            },
            &sig
        ));
        assert!(
            !check_unsubscribe(&signer, LinkHolder { version: 2, ..ada }, &sig),
            "revoked"
        );
        assert!(!check_unsubscribe(&signer, ada, "00"));
        let expires = now + time::Duration::days(30);
        let psig = preferences_sig(&signer, ada, expires);
        let exp = expires.unix_timestamp();
        assert_eq!(check_preferences(&signer, ada, exp, &psig, now), Ok(()));
        assert_eq!(
            check_preferences(&signer, ada, exp, &psig, now + time::Duration::days(31)),
            Err(LinkError::Expired)
        );
        assert_eq!(
            check_preferences(&signer, ada, exp + 86_400, &psig, now),
            Err(LinkError::Invalid),
            "a later expiry cannot be written in"
        );
        assert_eq!(
            check_preferences(&signer, LinkHolder { version: 2, ..ada }, exp, &psig, now),
            Err(LinkError::Invalid)
        );
        // Neither signature opens the other page.
        assert!(!check_unsubscribe(&signer, ada, &psig));
        assert_eq!(check_preferences(&signer, ada, exp, &sig, now), Err(LinkError::Invalid));
        let links = SubscriberLinks::new("https://x.org", &signer, ada, expires);
        assert_eq!(links.sig, sig);
        assert_eq!(
            links.unsubscribe,
            format!("https://x.org/newsletter/unsubscribe?id=7&sig={sig}")
        );
        assert_eq!(
            links.preferences,
            format!("https://x.org/newsletter/preferences?id=7&exp={exp}&sig={psig}")
        );
    }
}
