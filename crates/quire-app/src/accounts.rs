//! The people who run the site, as the admin and the command line see
//! them: adding and inviting accounts, roles, disabling, set-password
//! links, signing in (argon2id, slowed per account and per address),
//! sessions shared through the database, and the audit log of who did
//! what. The web side carries tokens in cookies and forms; every rule is
//! here.

use crate::limits::{Backoff, BackoffRule, limit_key};
use crate::{App, AppError};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use quire_core::domain::{
    Action, CommentStatus, Role, Status, validate_password, validate_subscriber_email, validate_user_name,
};
use quire_core::signing::Signer;
use quire_mail::account_links::{self, TokenError};
use quire_mail::notices::Notice;
use quire_store::{AuditEntry, AuditRecord, LinkPurpose, LinkUse, NewSession, NewUser, User};
use sha2::Digest;
use std::net::IpAddr;
use std::time::Duration;
use time::OffsetDateTime;

pub use quire_mail::account_links::{AccountLink as PasswordLink, PASSWORD_PATH};
/// A session not used for this long ends.
pub const SESSION_IDLE_DAYS: i64 = 14;
/// A session ends this long after sign-in, used or not.
pub const SESSION_MAX_DAYS: i64 = 30;
/// A session's last use is written at most this often.
const TOUCH_EVERY: time::Duration = time::Duration::minutes(5);

/// Failed sign-ins of one account: three free, then 1 s, 2 s, 4 s… up to
/// fifteen minutes; counted in the database, so every server sees them.
pub const ACCOUNT_BACKOFF: BackoffRule = BackoffRule {
    free: 3,
    cap: Duration::from_secs(15 * 60),
    forget_after: Duration::from_secs(24 * 3600),
};
/// Failed sign-ins from one address (IPv6 by /64), whichever accounts
/// they name: ten free, then doubling up to an hour.
pub const ADDRESS_BACKOFF: BackoffRule = BackoffRule {
    free: 10,
    cap: Duration::from_secs(3600),
    forget_after: Duration::from_secs(24 * 3600),
};

/// Who does something: the command line (someone with the server's
/// shell, who may do anything) or a signed-in account.
#[derive(Clone, Debug)]
pub enum Actor {
    CommandLine,
    Staff(Staff),
}

/// A signed-in account, as operations check it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Staff {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The author profile the account writes as.
    pub author: Option<String>,
}

impl Staff {
    fn of(user: &User) -> Staff {
        Staff {
            id: user.id,
            email: user.email.clone(),
            name: user.name.clone(),
            role: user.role,
            author: user.author.clone(),
        }
    }
}

impl Actor {
    /// Whether the actor may do `action`.
    pub fn may(&self, action: Action) -> bool {
        match self {
            Actor::CommandLine => true,
            Actor::Staff(staff) => staff.role.may(action),
        }
    }

    /// `Forbidden` unless the actor may do `action`, described as `what`.
    pub fn require(&self, action: Action, what: &'static str) -> Result<(), AppError> {
        if self.may(action) {
            Ok(())
        } else {
            Err(AppError::Forbidden { action: what })
        }
    }

    /// The actor as the audit log names them.
    pub fn label(&self) -> String {
        match self {
            Actor::CommandLine => "command line".to_owned(),
            Actor::Staff(s) => format!("{} <{}>", s.name, s.email),
        }
    }

    pub(crate) fn user_id(&self) -> Option<i64> {
        match self {
            Actor::CommandLine => None,
            Actor::Staff(s) => Some(s.id),
        }
    }
}

/// An account to add.
#[derive(Clone, Debug, Default)]
pub struct AccountInput {
    pub email: String,
    pub name: String,
    pub role: Option<Role>,
    /// The slug of the author profile the account writes as.
    pub author: Option<String>,
}

/// A sign-in that worked: the cookie's secret and who it is.
#[derive(Clone, Debug)]
pub struct Login {
    pub token: String,
    pub staff: Staff,
}

/// What a right password leads to: a session, or (when the account
/// turned the second step on) the code form, with the pending sign-in it
/// posts back.
#[derive(Clone, Debug)]
pub enum SignIn {
    Session(Login),
    SecondStep { pending: String },
}

/// A browser's session, as a request finds it.
#[derive(Clone, Debug)]
pub struct Session {
    pub staff: Staff,
    /// The session's anti-forgery token, which every form it posts carries.
    pub csrf: String,
    /// The session's new secret when it was just rotated (the account's
    /// role changed): the browser must be given it.
    pub rotated: Option<String>,
}

/// A sign-in attempt.
#[derive(Clone, Debug)]
pub struct LoginAttempt<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub client: IpAddr,
    /// The browser, as its User-Agent names it (kept with the session).
    pub agent: &'a str,
    /// The session the browser had, which a sign-in replaces.
    pub previous: Option<&'a str>,
}

/// What the admin's dashboard counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overview {
    /// Papers per status as readers see it now, in [`Status::ALL`] order.
    pub papers: Vec<(Status, u64)>,
    pub trashed: u64,
    /// Drafts submitted for review.
    pub submitted: u64,
    /// Comments waiting for a moderator (counted for those who moderate).
    pub pending_comments: Option<u64>,
    /// Browsers the account is signed in on.
    pub sessions: i64,
}

/// Random bytes as unpadded URL-safe base64.
pub(crate) fn random_token(bytes: usize) -> Result<String, AppError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| AppError::Io {
        path: "the system's random source".into(),
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf))
}

/// How a secret is kept in the database: its SHA-256, in hex.
fn digest(secret: &str) -> String {
    account_links::digest(secret)
}

/// A hash of a password nobody has, checked when an account does not
/// exist, so that failing takes as long either way.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        Argon2::default()
            .hash_password(b"no account has this password")
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// The hasher failed (a worker stopped): the site's fault, not the input's.
fn hasher_failed(e: impl std::fmt::Display) -> AppError {
    AppError::Io {
        path: "the password hasher".into(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// Checks `password` against the PHC string `hash`.
fn password_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

impl App {
    /// The signer of set-password links.
    pub(crate) async fn accounts_signer(&self) -> Result<&Signer, AppError> {
        self.accounts_signer
            .get_or_try_init(|| async {
                Ok::<_, AppError>(Signer::new(&self.store.site_key(account_links::SITE_KEY).await?))
            })
            .await
    }

    /// Runs argon2 work off the async threads, a few at a time: each
    /// takes 19 MiB and tens of milliseconds, so a flood of sign-ins
    /// waits its turn rather than exhausting memory.
    async fn hashing<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
        let _permit = self.hashing.acquire().await.map_err(hasher_failed)?;
        tokio::task::spawn_blocking(work).await.map_err(hasher_failed)
    }

    /// The argon2id hash (PHC string) of a new `password`.
    async fn new_hash(&self, password: &str) -> Result<String, AppError> {
        let owned = password.to_owned();
        self.hashing(move || Argon2::default().hash_password(owned.as_bytes()).map(|h| h.to_string()))
            .await?
            .map_err(hasher_failed)
    }

    /// Whether `password` is the one `hash` was made from; one over
    /// [`MAX_PASSWORD_BYTES`](quire_core::domain::MAX_PASSWORD_BYTES) is
    /// refused unchecked.
    async fn password_holds(&self, password: &str, hash: String) -> Result<bool, AppError> {
        if password.len() > quire_core::domain::MAX_PASSWORD_BYTES {
            return Ok(false);
        }
        let password = password.to_owned();
        self.hashing(move || password_matches(&password, &hash)).await
    }

    /// Writes what `actor` did to the audit log.
    pub async fn audit(&self, actor: &Actor, action: &str, subject: &str, detail: &str) -> Result<(), AppError> {
        self.store
            .audit(&AuditEntry {
                user_id: actor.user_id(),
                actor: &actor.label(),
                action,
                subject,
                detail,
                at: OffsetDateTime::now_utc(),
            })
            .await?;
        Ok(())
    }

    /// The audit log, newest first, `limit` lines before line `before`.
    pub async fn audit_log(
        &self,
        actor: &Actor,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, AppError> {
        actor.require(Action::ReadAuditLog, "read the audit log")?;
        Ok(self.store.audit_log(before, limit.clamp(1, 500)).await?)
    }

    /// Every account.
    pub async fn users(&self, actor: &Actor) -> Result<Vec<User>, AppError> {
        actor.require(Action::ManageUsers, "manage accounts")?;
        Ok(self.store.users().await?)
    }

    /// The signed-in account's own record, as it is now.
    pub async fn user_self(&self, staff: &Staff) -> Result<User, AppError> {
        self.store
            .user(staff.id)
            .await?
            .ok_or_else(|| AppError::not_found("account", "address", staff.email.clone()))
    }

    /// The account with the address `email`.
    pub async fn user(&self, actor: &Actor, email: &str) -> Result<User, AppError> {
        actor.require(Action::ManageUsers, "manage accounts")?;
        self.find_user(email).await
    }

    async fn find_user(&self, email: &str) -> Result<User, AppError> {
        let key = email.trim().to_ascii_lowercase();
        self.store
            .user_by_email(&key)
            .await?
            .ok_or_else(|| AppError::not_found("account", "address", email.trim()))
    }

    /// Adds an account, checked; no link yet.
    async fn create_account(&self, actor: &Actor, input: &AccountInput) -> Result<User, AppError> {
        actor.require(Action::ManageUsers, "manage accounts")?;
        let mut problems = Vec::new();
        let email = validate_subscriber_email(&input.email).map_err(|m| problems.push(("email", m)));
        let name = validate_user_name(&input.name).map_err(|m| problems.push(("name", m)));
        let role = input.role.ok_or_else(|| {
            problems.push((
                "role",
                "is required: choose administrator, editor, author or contributor".to_owned(),
            ))
        });
        let (Ok(email), Ok(name), Ok(role)) = (email, name, role) else {
            return Err(AppError::Fields(
                problems
                    .into_iter()
                    .map(|(field, message)| quire_core::domain::FieldError { field, message })
                    .collect(),
            ));
        };
        let new = NewUser {
            email,
            name,
            role,
            author: input.author.clone().filter(|a| !a.trim().is_empty()),
        };
        let user = self.store.add_user(&new, OffsetDateTime::now_utc()).await?;
        self.audit(actor, "user.add", &user.email, role.as_str()).await?;
        Ok(user)
    }

    /// Adds an account and makes its set-password link, to hand over by
    /// other means (the command line prints it); it works for a day.
    pub async fn add_user(&self, actor: &Actor, input: &AccountInput) -> Result<(User, PasswordLink), AppError> {
        let user = self.create_account(actor, input).await?;
        let link = self.password_link(&user, LinkPurpose::Welcome).await?;
        Ok((user, link))
    }

    /// Adds an account and emails it an invitation: a link to set its
    /// password, working for a week, made when the email goes.
    pub async fn invite_user(&self, actor: &Actor, input: &AccountInput) -> Result<User, AppError> {
        let user = self.create_account(actor, input).await?;
        self.queue_account_link(&user, LinkPurpose::Invite).await?;
        Ok(user)
    }

    /// Queues the email with a set-password link to `user`.
    async fn queue_account_link(&self, user: &User, purpose: LinkPurpose) -> Result<(), AppError> {
        let notice = Notice::AccountLink { user: user.id, purpose };
        self.postbox()
            .await?
            .queue(
                quire_core::domain::MessageKind::Notice,
                &user.email,
                &user.name,
                &notice,
            )
            .await?;
        self.wake_sender();
        Ok(())
    }

    /// Makes a set-password link for `user`.
    async fn password_link(&self, user: &User, purpose: LinkPurpose) -> Result<PasswordLink, AppError> {
        let signer = self.accounts_signer().await?;
        let base = self.config().base().into_owned();
        Ok(account_links::make(&self.store, signer, &base, user.id, purpose, OffsetDateTime::now_utc()).await?)
    }

    /// Emails the account `email` a link to choose a new password (an
    /// administrator's action); its password works until then.
    pub async fn send_password_reset(&self, actor: &Actor, email: &str) -> Result<User, AppError> {
        actor.require(Action::ManageUsers, "manage accounts")?;
        let user = self.find_user(email).await?;
        if user.disabled_at.is_some() {
            return Err(AppError::WrongState(format!(
                "the account {} is disabled: enable it first",
                user.email
            )));
        }
        self.queue_account_link(&user, LinkPurpose::Reset).await?;
        self.audit(actor, "user.reset-password", &user.email, "by email")
            .await?;
        Ok(user)
    }

    /// "Forgot your password?": emails a reset link to `email` when it is
    /// an enabled account's, and does nothing otherwise, answering alike
    /// (the answer does not tell who has an account). Counted per client
    /// and per address like sign-ups, so it cannot flood an inbox.
    pub async fn forgot_password(&self, email: &str, client: IpAddr) -> Result<(), AppError> {
        let now = std::time::Instant::now();
        if let Err(retry_after) = self.subscribe_limits.check(limit_key(client), 5, 30, now) {
            return Err(AppError::RateLimited { retry_after });
        }
        let key = email.trim().to_ascii_lowercase();
        if key.is_empty() || key.len() > quire_core::domain::MAX_SUBSCRIBER_EMAIL {
            return Ok(());
        }
        let hashed: [u8; 32] = sha2::Sha256::digest(key.as_bytes()).into();
        if self.address_limits.check(hashed, 1, 3, now).is_err() {
            return Ok(());
        }
        match self.store.user_by_email(&key).await? {
            Some(user) if user.disabled_at.is_none() => {
                self.queue_account_link(&user, LinkPurpose::Reset).await?;
                self.audit(&Actor::Staff(Staff::of(&user)), "user.forgot-password", &user.email, "")
                    .await?;
            }
            _ => {}
        }
        Ok(())
    }

    /// A new set-password link for the account `email`, which ends the
    /// links made before; its password works until the new one is set.
    pub async fn reset_password(&self, actor: &Actor, email: &str) -> Result<(User, PasswordLink), AppError> {
        actor.require(Action::ManageUsers, "manage accounts")?;
        let user = self.find_user(email).await?;
        if user.disabled_at.is_some() {
            return Err(AppError::WrongState(format!(
                "the account {} is disabled: enable it first",
                user.email
            )));
        }
        let link = self.password_link(&user, LinkPurpose::Reset).await?;
        self.audit(actor, "user.reset-password", &user.email, "").await?;
        Ok((user, link))
    }

    /// Gives the account `email` the role `role`. The last administrator
    /// keeps theirs, so the site is never left without one.
    pub async fn set_role(&self, actor: &Actor, email: &str, role: Role) -> Result<User, AppError> {
        actor.require(Action::ManageUsers, "manage accounts")?;
        let user = self.find_user(email).await?;
        if user.role == role {
            return Ok(user);
        }
        if user.role == Role::Administrator && self.other_administrators(user.id).await? == 0 {
            return Err(AppError::WrongState(format!(
                "{} is the only administrator: make another account administrator first",
                user.email
            )));
        }
        self.store.set_role(user.id, role, OffsetDateTime::now_utc()).await?;
        self.audit(actor, "user.role", &user.email, &format!("{} → {}", user.role, role))
            .await?;
        self.find_user(email).await
    }

    /// Links the account `email` to the author profile `author` (or none):
    /// its "own papers" are then the papers that name that author.
    pub async fn set_user_author(&self, actor: &Actor, email: &str, author: Option<&str>) -> Result<User, AppError> {
        actor.require(Action::ManageUsers, "manage accounts")?;
        let user = self.find_user(email).await?;
        self.store
            .set_user_author(user.id, author, OffsetDateTime::now_utc())
            .await?;
        self.audit(actor, "user.author", &user.email, author.unwrap_or(""))
            .await?;
        self.find_user(email).await
    }

    /// Disables the account `email` (its sessions and links end at once)
    /// or, with `disabled` false, enables it again.
    pub async fn set_disabled(&self, actor: &Actor, email: &str, disabled: bool) -> Result<User, AppError> {
        actor.require(Action::ManageUsers, "manage accounts")?;
        let user = self.find_user(email).await?;
        if disabled && user.role == Role::Administrator && self.other_administrators(user.id).await? == 0 {
            return Err(AppError::WrongState(format!(
                "{} is the only administrator: make another account administrator first",
                user.email
            )));
        }
        let at = disabled.then(OffsetDateTime::now_utc);
        self.store.set_disabled(user.id, at).await?;
        let action = if disabled { "user.disable" } else { "user.enable" };
        self.audit(actor, action, &user.email, "").await?;
        self.find_user(email).await
    }

    /// Enabled administrators other than account `id`.
    async fn other_administrators(&self, id: i64) -> Result<usize, AppError> {
        Ok(self
            .store
            .users()
            .await?
            .iter()
            .filter(|u| u.id != id && u.role == Role::Administrator && u.disabled_at.is_none())
            .count())
    }

    /// The account a set-password link is for, if the link still works
    /// (for the page that asks for the new password; the link stays unused).
    pub async fn password_link_account(&self, token: &str) -> Result<User, AppError> {
        let user_id = self.open_link(token).await?;
        match self
            .store
            .account_link_open(&digest(token), OffsetDateTime::now_utc())
            .await?
        {
            LinkUse::Taken { .. } => {}
            LinkUse::Used => return Err(AppError::LinkUsed),
            LinkUse::Expired => return Err(AppError::LinkExpired),
            LinkUse::Unknown => return Err(AppError::LinkInvalid),
        }
        self.live_account(user_id).await
    }

    /// The account id a link's signature vouches for, if it is ours and
    /// in time.
    async fn open_link(&self, token: &str) -> Result<i64, AppError> {
        let signer = self.accounts_signer().await?;
        account_links::open(signer, token, OffsetDateTime::now_utc()).map_err(|e| match e {
            TokenError::Invalid => AppError::LinkInvalid,
            TokenError::Expired => AppError::LinkExpired,
        })
    }

    /// An enabled account by id, or `LinkGone`.
    async fn live_account(&self, id: i64) -> Result<User, AppError> {
        match self.store.user(id).await? {
            Some(user) if user.disabled_at.is_none() => Ok(user),
            _ => Err(AppError::LinkGone),
        }
    }

    /// Sets the password of the account a set-password link is for, and
    /// uses the link up. Every session of the account ends (whoever knew
    /// the old password is out), and so do its other links.
    pub async fn set_password(&self, token: &str, password: &str) -> Result<User, AppError> {
        let user_id = self.open_link(token).await?;
        let user = self.live_account(user_id).await?;
        validate_password(password, &user.email, &user.name).map_err(|m| AppError::invalid("password", m))?;
        let hash = self.new_hash(password).await?;
        let now = OffsetDateTime::now_utc();
        match self.store.use_account_link(&digest(token), now).await? {
            LinkUse::Taken { user_id: owner, .. } if owner == user.id => {}
            LinkUse::Taken { .. } | LinkUse::Unknown => return Err(AppError::LinkInvalid),
            LinkUse::Used => return Err(AppError::LinkUsed),
            LinkUse::Expired => return Err(AppError::LinkExpired),
        }
        self.store.set_password_hash(user.id, &hash, now).await?;
        self.audit(&Actor::Staff(Staff::of(&user)), "user.password", &user.email, "")
            .await?;
        Ok(user)
    }

    /// Signs in: checks the password, slowing guesses per account (in the
    /// database) and per address (in this server), and starts a session
    /// that replaces the browser's previous one. Every failure answers
    /// alike, so that the answer does not tell which accounts exist.
    pub async fn login(&self, attempt: &LoginAttempt<'_>, now: OffsetDateTime) -> Result<SignIn, AppError> {
        let unix = now.unix_timestamp();
        let address = limit_key(attempt.client);
        if let Some(retry_after) = self.login_addresses.wait(&address, unix) {
            return Err(AppError::RateLimited { retry_after });
        }
        let email = attempt.email.trim().to_ascii_lowercase();
        let user = if email.is_empty() || email.len() > quire_core::domain::MAX_SUBSCRIBER_EMAIL {
            None
        } else {
            self.store.user_by_email(&email).await?
        };
        if let Some(retry_after) = user.as_ref().and_then(|u| account_wait(u, unix)) {
            self.login_addresses.fail(address, unix);
            return Err(AppError::RateLimited { retry_after });
        }
        let usable = user.as_ref().filter(|u| u.disabled_at.is_none());
        let hash = match usable {
            Some(u) => self.store.password_hash(u.id).await?,
            None => None,
        };
        let checked_hash = hash.clone().unwrap_or_else(|| decoy_hash().to_owned());
        let matches = self.password_holds(attempt.password, checked_hash).await?;
        let (Some(user), true, true) = (usable, hash.is_some(), matches) else {
            self.login_addresses.fail(address, unix);
            if let Some(u) = &user {
                let forget_before = now - ACCOUNT_BACKOFF.forget_after;
                self.store.record_failed_login(u.id, now, forget_before).await?;
            }
            return Err(AppError::LoginFailed);
        };
        if user.two_step {
            return Ok(SignIn::SecondStep {
                pending: self.pending_sign_in(user, now).await?,
            });
        }
        Ok(SignIn::Session(self.finish_login(user, attempt, now).await?))
    }

    /// Starts the session of a sign-in whose every step was right.
    pub(crate) async fn finish_login(
        &self,
        user: &User,
        attempt: &LoginAttempt<'_>,
        now: OffsetDateTime,
    ) -> Result<Login, AppError> {
        self.store.clear_failed_logins(user.id).await?;
        let staff = Staff::of(user);
        let token = self
            .start_session(
                &staff,
                attempt.previous,
                &attempt.client.to_string(),
                attempt.agent,
                now,
            )
            .await?;
        self.audit(&Actor::Staff(staff.clone()), "user.login", &staff.email, "")
            .await?;
        Ok(Login { token, staff })
    }

    /// Stores a new session for `staff` in place of `previous`; returns
    /// its secret, for the cookie.
    async fn start_session(
        &self,
        staff: &Staff,
        previous: Option<&str>,
        address: &str,
        agent: &str,
        now: OffsetDateTime,
    ) -> Result<String, AppError> {
        let token = random_token(32)?;
        let csrf = random_token(32)?;
        let agent: String = agent.chars().filter(|c| !c.is_control()).take(200).collect();
        let previous = previous.map(digest);
        self.store
            .add_session(
                &NewSession {
                    digest: &digest(&token),
                    user_id: staff.id,
                    role: staff.role,
                    csrf: &csrf,
                    address,
                    agent: &agent,
                    now,
                    expires_at: now + time::Duration::days(SESSION_IDLE_DAYS),
                },
                previous.as_deref(),
            )
            .await?;
        Ok(token)
    }

    /// The session a browser's cookie names, if it is still good: not
    /// idle too long, not older than [`SESSION_MAX_DAYS`], its account
    /// enabled. A session issued under another role than the account has
    /// now is replaced by a new one (its secret in `rotated`).
    pub async fn session(&self, token: &str, client: IpAddr, now: OffsetDateTime) -> Result<Option<Session>, AppError> {
        if token.is_empty() || token.len() > 64 {
            return Ok(None);
        }
        let key = digest(token);
        let Some(stored) = self.store.session(&key, now).await? else {
            return Ok(None);
        };
        if now - stored.created_at >= time::Duration::days(SESSION_MAX_DAYS) {
            self.store.end_session(&key).await?;
            return Ok(None);
        }
        let Some(user) = self.store.user(stored.user_id).await? else {
            return Ok(None);
        };
        if user.disabled_at.is_some() || !user.has_password {
            self.store.end_session(&key).await?;
            return Ok(None);
        }
        let staff = Staff::of(&user);
        if stored.role != user.role.as_str() {
            let fresh = self
                .start_session(&staff, Some(token), &client.to_string(), "", now)
                .await?;
            let Some(renewed) = self.store.session(&digest(&fresh), now).await? else {
                return Ok(None);
            };
            return Ok(Some(Session {
                staff,
                csrf: renewed.csrf,
                rotated: Some(fresh),
            }));
        }
        if now - stored.seen_at >= TOUCH_EVERY {
            self.store
                .touch_session(&key, now, now + time::Duration::days(SESSION_IDLE_DAYS))
                .await?;
        }
        Ok(Some(Session {
            staff,
            csrf: stored.csrf,
            rotated: None,
        }))
    }

    /// Changes `staff`'s password, given the current one: every session
    /// of the account ends, and this browser gets a new one (its secret
    /// returned), replacing `current_session`.
    pub async fn change_password(
        &self,
        staff: &Staff,
        current: &str,
        new: &str,
        current_session: &str,
        client: IpAddr,
    ) -> Result<String, AppError> {
        let user = self
            .store
            .user(staff.id)
            .await?
            .ok_or_else(|| AppError::not_found("account", "address", staff.email.clone()))?;
        let hash = self.store.password_hash(user.id).await?.unwrap_or_default();
        if !self.password_holds(current, hash).await? {
            return Err(AppError::invalid("current", "is not your current password"));
        }
        validate_password(new, &user.email, &user.name).map_err(|m| AppError::invalid("password", m))?;
        let hash = self.new_hash(new).await?;
        let now = OffsetDateTime::now_utc();
        self.store.set_password_hash(user.id, &hash, now).await?;
        self.audit(&Actor::Staff(staff.clone()), "user.password", &user.email, "changed")
            .await?;
        self.start_session(staff, Some(current_session), &client.to_string(), "", now)
            .await
    }

    /// Ends the session `token` (signing out of this browser).
    pub async fn logout(&self, token: &str) -> Result<(), AppError> {
        self.store.end_session(&digest(token)).await?;
        Ok(())
    }

    /// Ends every session of `staff`'s account, this one included;
    /// returns how many.
    pub async fn logout_everywhere(&self, staff: &Staff) -> Result<u64, AppError> {
        let ended = self.store.end_sessions(staff.id).await?;
        self.audit(
            &Actor::Staff(staff.clone()),
            "user.logout-all",
            &staff.email,
            &ended.to_string(),
        )
        .await?;
        Ok(ended)
    }
}

impl App {
    /// What the dashboard shows `staff`.
    pub async fn overview(&self, staff: &Staff) -> Result<Overview, AppError> {
        let now = OffsetDateTime::now_utc();
        let (papers, trashed) = self.store.status_counts(now).await?;
        let pending_comments = if staff.role.may(Action::Moderate) {
            Some(self.store.count_comments(CommentStatus::Pending).await?)
        } else {
            None
        };
        Ok(Overview {
            papers,
            trashed,
            submitted: self.store.submitted_count().await?,
            pending_comments,
            sessions: self.store.count_sessions(staff.id, now).await?,
        })
    }

    /// Comments waiting for a moderator, for the admin's navigation.
    pub async fn pending_comments(&self) -> Result<u64, AppError> {
        Ok(self.store.count_comments(CommentStatus::Pending).await?)
    }

    /// A fresh value for the cookie that lets a browser post the forms
    /// it is shown before signing in (sign-in, set password).
    pub fn new_door_cookie(&self) -> Result<String, AppError> {
        random_token(32)
    }

    /// The anti-forgery token for the forms shown to the browser whose
    /// door cookie is `cookie`: another site cannot read the cookie, so it
    /// cannot make the token.
    pub async fn door_token(&self, cookie: &str) -> Result<String, AppError> {
        let signed = self.accounts_signer().await?.sign(&format!("door.{cookie}"));
        Ok(signed
            .rsplit_once('.')
            .map(|(_, mac)| mac.to_owned())
            .unwrap_or_default())
    }

    /// Whether `token` is the door token of `cookie` (checked in constant time).
    pub async fn door_token_valid(&self, cookie: &str, token: &str) -> Result<bool, AppError> {
        if cookie.is_empty() || cookie.len() > 64 || token.len() != 64 {
            return Ok(false);
        }
        let text = format!("door.{cookie}");
        let signer = self.accounts_signer().await?;
        Ok(signer.open(&format!("{text}.{token}")) == Some(text.as_str()))
    }
}

/// Whether two secrets are equal, in time that depends on their length
/// only.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// How long `user` must wait at `unix` (seconds) before another sign-in
/// attempt, after the failures counted in the database.
pub(crate) fn account_wait(user: &User, unix: i64) -> Option<Duration> {
    if user.failed_logins == 0 {
        return None;
    }
    let last = user.last_failed_at.map_or(0, |t| t.unix_timestamp());
    if unix.saturating_sub(last) >= i64::try_from(ACCOUNT_BACKOFF.forget_after.as_secs()).unwrap_or(i64::MAX) {
        return None;
    }
    let failures = u32::try_from(user.failed_logins).unwrap_or(u32::MAX);
    ACCOUNT_BACKOFF.wait(failures, last, unix)
}

/// The per-address backoff of sign-ins, for [`App`].
pub(crate) fn address_backoff() -> Backoff {
    Backoff::new(ADDRESS_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hashed_with_argon2id_and_checked() {
        let hash = Argon2::default()
            .hash_password(b"correct horse battery")
            .expect("hash")
            .to_string();
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert!(password_matches("correct horse battery", &hash));
        assert!(!password_matches("correct horse batterY", &hash));
        assert!(!password_matches("correct horse battery", "not a hash"));
        assert!(!password_matches("anything", decoy_hash()));
    }

    #[test]
    fn secrets_are_random_and_kept_as_digests() {
        let a = random_token(32).expect("random");
        let b = random_token(32).expect("random");
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "256 bits, unpadded base64url");
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(digest(&a).len(), 64);
        assert_ne!(digest(&a), a);
    }
}
