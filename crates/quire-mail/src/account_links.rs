//! Set-password links for the admin's accounts (the first account's,
//! invitations, resets): signed under the site's `accounts` key, expiring,
//! and single-use through the store, which keeps only a digest of each.
//! A link sent by email is made when the email is written for sending, so
//! the outbox never holds one.

use super::MailError;
use quire_core::signing::Signer;
use quire_store::{LinkPurpose, Store};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// The name of the site key set-password links are signed with.
pub const SITE_KEY: &str = "accounts";
/// Where set-password links lead.
pub const PASSWORD_PATH: &str = "/admin/password";
/// How long the first account's link and a reset link work, in hours.
pub const SHORT_LINK_HOURS: i64 = 24;
/// How long an invitation works, in days.
pub const INVITE_DAYS: i64 = 7;

/// A set-password link just made.
#[derive(Clone, Debug)]
pub struct AccountLink {
    pub url: String,
    pub expires_at: OffsetDateTime,
}

/// How long a link made for `purpose` works.
pub fn lifetime(purpose: LinkPurpose) -> time::Duration {
    match purpose {
        LinkPurpose::Invite => time::Duration::days(INVITE_DAYS),
        LinkPurpose::Welcome | LinkPurpose::Reset => time::Duration::hours(SHORT_LINK_HOURS),
    }
}

/// How the store keeps a link: the SHA-256 of its token, in hex.
pub fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Makes and stores a link for account `user_id` at `base` (the site's
/// address), working from `now` for the purpose's lifetime.
pub async fn make(
    store: &Store,
    signer: &Signer,
    base: &str,
    user_id: i64,
    purpose: LinkPurpose,
    now: OffsetDateTime,
) -> Result<AccountLink, MailError> {
    let expires_at = now + lifetime(purpose);
    let mut nonce = [0u8; 18];
    getrandom::fill(&mut nonce).map_err(|e| MailError::Build(format!("no randomness for a link: {e}")))?;
    let nonce: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    let token = signer.sign(&format!("{user_id}.{}.{nonce}", expires_at.unix_timestamp()));
    store
        .add_account_link(&digest(&token), user_id, purpose, now, expires_at)
        .await?;
    Ok(AccountLink {
        url: format!("{}{PASSWORD_PATH}?token={token}", base.trim_end_matches('/')),
        expires_at,
    })
}

/// Why a link's token is not taken, before the store is asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Not one of ours: altered, cut short, signed elsewhere.
    Invalid,
    Expired,
}

/// The account a token's signature vouches for, if it is ours and still
/// in time at `now`.
pub fn open(signer: &Signer, token: &str, now: OffsetDateTime) -> Result<i64, TokenError> {
    let text = signer.open(token).ok_or(TokenError::Invalid)?;
    let mut parts = text.split('.');
    let (Some(id), Some(expires), Some(_nonce), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(TokenError::Invalid);
    };
    let id: i64 = id.parse().map_err(|_| TokenError::Invalid)?;
    let expires: i64 = expires.parse().map_err(|_| TokenError::Invalid)?;
    if now.unix_timestamp() >= expires {
        return Err(TokenError::Expired);
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_open_only_unchanged_in_time_and_under_their_key() {
        let signer = Signer::new(b"accounts key");
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time");
        let token = signer.sign(&format!("7.{}.abcd", now.unix_timestamp() + 60));
        assert_eq!(open(&signer, &token, now), Ok(7));
        assert_eq!(
            open(&signer, &token, now + time::Duration::seconds(60)),
            Err(TokenError::Expired)
        );
        assert_eq!(open(&Signer::new(b"other"), &token, now), Err(TokenError::Invalid));
        let forged = token.replacen("7.", "1.", 1);
        assert_eq!(open(&signer, &forged, now), Err(TokenError::Invalid));
        for shape in ["7", "7.x.abcd", "x.1.abcd", "7.1", "7.1.a.b"] {
            assert_eq!(
                open(&signer, &signer.sign(shape), now),
                Err(TokenError::Invalid),
                "{shape}"
            );
        }
        assert_eq!(digest("a").len(), 64);
    }
}
