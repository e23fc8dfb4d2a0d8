//! The optional second step of signing in: a code from an authenticator
//! app (TOTP, RFC 6238: six digits, thirty seconds, SHA-1, as every app
//! reads them), each code taken once, and ten single-use recovery codes
//! for a lost phone. Turned on by the account itself; turned off by it
//! (with a code) or by an administrator.

use crate::accounts::{ACCOUNT_BACKOFF, Actor, Login, LoginAttempt, Staff, account_wait, random_token};
use crate::limits::limit_key;
use crate::{App, AppError};
use quire_core::domain::Action;
use quire_mail::account_links::digest;
use quire_store::User;
use time::OffsetDateTime;
use totp_rs::{Algorithm, Secret, Totp};

/// Recovery codes made when the second step is turned on.
pub const RECOVERY_CODES: usize = 10;
/// How long the code form waits after the password was right.
pub const PENDING_MINUTES: i64 = 5;
/// How long the page that shows a new key waits for its first code.
const ENROL_MINUTES: i64 = 30;

/// A new key for an authenticator app, waiting for its first code.
#[derive(Clone, Debug)]
pub struct Enrolment {
    /// The key as apps take it typed in: base32.
    pub secret: String,
    /// The `otpauth://` address a QR code carries.
    pub url: String,
    /// The key, signed for this account, to post back with the code.
    pub ticket: String,
}

/// A code typed on the second step.
#[derive(Clone, Debug)]
pub struct CodeAttempt<'a> {
    /// What signing in with the password gave (`SignIn::SecondStep`).
    pub pending: &'a str,
    pub code: &'a str,
    pub client: std::net::IpAddr,
    pub agent: &'a str,
    pub previous: Option<&'a str>,
}

fn totp(secret: &str, account: &str, issuer: &str) -> Result<Totp, AppError> {
    let bytes = Secret::try_from_base32(secret).map_err(|_| AppError::invalid("code", "the key is not base32"))?;
    // Issuers and account names may not hold ':' in an otpauth address.
    let issuer: String = issuer.chars().filter(|c| *c != ':').collect();
    let issuer = Some(issuer.trim().to_owned()).filter(|i| !i.is_empty());
    totp_rs::Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(bytes)
        .with_account_name(account.replace(':', ""))
        .with_issuer(issuer)
        .build()
        .map_err(|e| AppError::invalid("code", e.to_string()))
}

/// A code as typed: spaces and dashes dropped, letters in lower case.
fn normalise(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .take(64)
        .flat_map(char::to_lowercase)
        .collect()
}

/// Ten-letter recovery codes, shown as `abcde-fghij`.
fn recovery_code() -> Result<String, AppError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let raw = random_token(16)?;
    let letters: String = raw
        .bytes()
        .take(10)
        .map(|b| char::from(ALPHABET[usize::from(b) % ALPHABET.len()]))
        .collect();
    Ok(format!("{}-{}", &letters[..5], &letters[5..]))
}

impl App {
    /// A new key for `staff`'s authenticator app; nothing changes until
    /// [`App::finish_two_step`] gets a code made with it.
    pub async fn start_two_step(&self, staff: &Staff) -> Result<Enrolment, AppError> {
        let mut bytes = [0u8; 20];
        getrandom::fill(&mut bytes).map_err(|e| AppError::Io {
            path: "the system's random source".into(),
            source: std::io::Error::other(e.to_string()),
        })?;
        let secret = Secret::new(Box::new(bytes)).to_base32();
        let site = self.config().site_name.clone();
        let url = totp(&secret, &staff.email, &site)?
            .to_url()
            .map_err(|e| AppError::invalid("code", e.to_string()))?;
        let expires = OffsetDateTime::now_utc().unix_timestamp() + ENROL_MINUTES * 60;
        let ticket = self
            .accounts_signer()
            .await?
            .sign(&format!("enrol.{}.{expires}.{secret}", staff.id));
        Ok(Enrolment { secret, url, ticket })
    }

    /// The key of `ticket`, if it is `staff`'s and still in time.
    async fn open_enrolment(&self, staff: &Staff, ticket: &str, now: OffsetDateTime) -> Result<String, AppError> {
        let text = self
            .accounts_signer()
            .await?
            .open(ticket)
            .ok_or(AppError::FormTokenInvalid)?;
        let mut parts = text.split('.');
        let (Some("enrol"), Some(id), Some(expires), Some(secret), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AppError::FormTokenInvalid);
        };
        if id != staff.id.to_string() {
            return Err(AppError::FormTokenInvalid);
        }
        if expires.parse::<i64>().map_or(true, |e| now.unix_timestamp() >= e) {
            return Err(AppError::FormExpired);
        }
        Ok(secret.to_owned())
    }

    /// The enrolment of `ticket` again (after a wrong first code), with
    /// the same key and ticket.
    pub async fn enrolment_again(&self, staff: &Staff, ticket: &str) -> Result<Enrolment, AppError> {
        let secret = self.open_enrolment(staff, ticket, OffsetDateTime::now_utc()).await?;
        let site = self.config().site_name.clone();
        let url = totp(&secret, &staff.email, &site)?
            .to_url()
            .map_err(|e| AppError::invalid("code", e.to_string()))?;
        Ok(Enrolment {
            secret,
            url,
            ticket: ticket.to_owned(),
        })
    }

    /// Turns the second step on for `staff` once `code` shows their app
    /// holds the key of `ticket`; returns the recovery codes, shown once.
    pub async fn finish_two_step(&self, staff: &Staff, ticket: &str, code: &str) -> Result<Vec<String>, AppError> {
        let now = OffsetDateTime::now_utc();
        let secret = self.open_enrolment(staff, ticket, now).await?;
        let secret = secret.as_str();
        let site = self.config().site_name.clone();
        let unix = u64::try_from(now.unix_timestamp()).unwrap_or(0);
        let step = totp(secret, &staff.email, &site)?
            .check(&normalise(code), unix)
            .ok_or(AppError::CodeFailed)?;
        let mut codes = Vec::with_capacity(RECOVERY_CODES);
        for _ in 0..RECOVERY_CODES {
            codes.push(recovery_code()?);
        }
        let digests: Vec<String> = codes.iter().map(|c| digest(&normalise(c))).collect();
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        self.store
            .set_two_step(staff.id, Some((secret, step)), &digests, now)
            .await?;
        self.audit(&Actor::Staff(staff.clone()), "user.two-step-on", &staff.email, "")
            .await?;
        Ok(codes)
    }

    /// Turns the second step off for the account `email`: by the account
    /// itself with a current code (or a recovery code), or by an
    /// administrator (a lost phone) without one.
    pub async fn turn_off_two_step(&self, actor: &Actor, email: &str, code: Option<&str>) -> Result<User, AppError> {
        let key = email.trim().to_ascii_lowercase();
        let user = self
            .store
            .user_by_email(&key)
            .await?
            .ok_or_else(|| AppError::not_found("account", "address", email.trim()))?;
        let own = matches!(actor, Actor::Staff(s) if s.id == user.id);
        if own {
            let now = OffsetDateTime::now_utc();
            if !self.second_step_holds(&user, code.unwrap_or(""), now).await? {
                return Err(AppError::CodeFailed);
            }
        } else {
            actor.require(Action::ManageUsers, "manage accounts")?;
        }
        self.store
            .set_two_step(user.id, None, &[], OffsetDateTime::now_utc())
            .await?;
        self.audit(actor, "user.two-step-off", &user.email, "").await?;
        Ok(user)
    }

    /// How many recovery codes `staff` has left.
    pub async fn recovery_codes_left(&self, staff: &Staff) -> Result<i64, AppError> {
        Ok(self.store.recovery_codes_left(staff.id).await?)
    }

    /// Whether `code` is a good second step for `user` now: a code of the
    /// app not taken before, or an unused recovery code (then used up).
    async fn second_step_holds(&self, user: &User, code: &str, now: OffsetDateTime) -> Result<bool, AppError> {
        let code = normalise(code);
        if code.is_empty() {
            return Ok(false);
        }
        if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
            let Some(secret) = self.store.two_step_secret(user.id).await? else {
                return Ok(false);
            };
            let site = self.config().site_name.clone();
            let unix = u64::try_from(now.unix_timestamp()).unwrap_or(0);
            let Some(step) = totp(&secret, &user.email, &site)?.check(&code, unix) else {
                return Ok(false);
            };
            return Ok(self
                .store
                .take_two_step(user.id, i64::try_from(step).unwrap_or(i64::MAX))
                .await?);
        }
        Ok(code.len() == 10 && self.store.use_recovery_code(user.id, &digest(&code), now).await?)
    }

    /// The pending sign-in that waits for `user`'s code.
    pub(crate) async fn pending_sign_in(&self, user: &User, now: OffsetDateTime) -> Result<String, AppError> {
        let expires = now.unix_timestamp() + PENDING_MINUTES * 60;
        let nonce = random_token(12)?;
        Ok(self
            .accounts_signer()
            .await?
            .sign(&format!("step.{}.{expires}.{nonce}", user.id)))
    }

    /// The second step of signing in: the code for the pending sign-in,
    /// slowed like passwords (per account and per address); starts the
    /// session.
    pub async fn login_code(&self, attempt: &CodeAttempt<'_>, now: OffsetDateTime) -> Result<Login, AppError> {
        let unix = now.unix_timestamp();
        let address = limit_key(attempt.client);
        if let Some(retry_after) = self.login_addresses.wait(&address, unix) {
            return Err(AppError::RateLimited { retry_after });
        }
        let text = self
            .accounts_signer()
            .await?
            .open(attempt.pending)
            .ok_or(AppError::FormTokenInvalid)?;
        let mut parts = text.split('.');
        let (Some("step"), Some(id), Some(expires), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AppError::FormTokenInvalid);
        };
        if expires.parse::<i64>().map_or(true, |e| unix >= e) {
            return Err(AppError::FormExpired);
        }
        let id: i64 = id.parse().map_err(|_| AppError::FormTokenInvalid)?;
        let user = match self.store.user(id).await? {
            Some(u) if u.disabled_at.is_none() && u.two_step => u,
            _ => return Err(AppError::LoginFailed),
        };
        if let Some(retry_after) = account_wait(&user, unix) {
            return Err(AppError::RateLimited { retry_after });
        }
        if !self.second_step_holds(&user, attempt.code, now).await? {
            self.login_addresses.fail(address, unix);
            self.store
                .record_failed_login(user.id, now, now - ACCOUNT_BACKOFF.forget_after)
                .await?;
            return Err(AppError::CodeFailed);
        }
        let login = LoginAttempt {
            email: &user.email,
            password: "",
            client: attempt.client,
            agent: attempt.agent,
            previous: attempt.previous,
        };
        self.finish_login(&user, &login, now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_rfc_6238() {
        // RFC 6238 appendix B: the SHA-1 key "12345678901234567890".
        let secret = Secret::new(Box::from(&b"12345678901234567890"[..])).to_base32();
        let t = totp(&secret, "ada@example.org", "Harbour: Institute").expect("totp");
        for (time, code) in [(59, "287082"), (1_111_111_109, "081804"), (2_000_000_000, "279037")] {
            assert_eq!(t.generate(time).to_string(), code, "{time}");
            assert!(t.check(code, time).is_some());
        }
        assert!(t.check("287082", 59 + 90).is_none(), "outside the skew");
        let url = t.to_url().expect("url");
        assert!(url.starts_with("otpauth://totp/"), "{url}");
    }

    #[test]
    fn codes_are_read_as_people_type_them() {
        assert_eq!(normalise(" 123 456 "), "123456");
        assert_eq!(normalise("ABCDE-FGHJK"), "abcdefghjk");
        assert_eq!(normalise(&"9".repeat(100_000)).len(), 64, "bounded");
        let code = recovery_code().expect("code");
        assert_eq!(code.len(), 11);
        assert_eq!(normalise(&code).len(), 10);
    }
}
