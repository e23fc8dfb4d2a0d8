//! The admin's doors and accounts over HTTP, as a browser and as an
//! attacker use them: setting a password from a link, signing in and out,
//! sessions (rotation, fixation, sign-out everywhere), anti-forgery
//! tokens, guessing slowed per account and per address, and which role
//! reaches which screen. On SQLite, and on PostgreSQL when
//! QUIRE_TEST_POSTGRES_URL is set.

use crate::common;

mod editor;

use axum::http::StatusCode;
use common::http::{Reply, Site, post_form, request, site_on_either, standard_papers};
use common::smtp::{SmtpServer, part};
use quire_app::AppError;
use quire_app::accounts::{AccountInput, Actor, LoginAttempt};
use quire_app::config::{Config, Secret};
use quire_core::domain::{Role, Status};
use std::collections::BTreeMap;
use std::net::IpAddr;
use time::OffsetDateTime;

const PASSWORD: &str = "correct horse battery staple";

async fn site(test: &str) -> Site {
    site_on_either(test, standard_papers(), Config::default()).await
}

/// A browser: keeps the cookies the site sets, sends them back, and may
/// come from an address of its own (through a trusted proxy).
struct Browser<'a> {
    site: &'a Site,
    cookies: BTreeMap<String, String>,
    from: Option<String>,
}

impl<'a> Browser<'a> {
    fn new(site: &'a Site) -> Browser<'a> {
        Browser {
            site,
            cookies: BTreeMap::new(),
            from: None,
        }
    }

    fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = Vec::new();
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            headers.push(("cookie", jar.join("; ")));
        }
        if let Some(ip) = &self.from {
            headers.push(("x-forwarded-for", ip.clone()));
        }
        headers
    }

    fn keep(&mut self, reply: &Reply) {
        for set in reply.headers.get_all("set-cookie") {
            let set = set.to_str().expect("ascii");
            let pair = set.split(';').next().expect("pair");
            let (name, value) = pair.split_once('=').expect("name=value");
            if value.is_empty() || set.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    async fn get(&mut self, uri: &str) -> Reply {
        let headers = self.headers();
        let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = request(&self.site.state, "GET", uri, &refs).await;
        self.keep(&reply);
        reply
    }

    async fn post(&mut self, uri: &str, fields: &[(&str, &str)]) -> Reply {
        self.post_with(uri, fields, &[]).await
    }

    async fn post_with(&mut self, uri: &str, fields: &[(&str, &str)], extra: &[(&str, &str)]) -> Reply {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let headers = self.headers();
        let mut refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        refs.extend_from_slice(extra);
        let reply = post_form(&self.site.state, uri, &body, &refs).await;
        self.keep(&reply);
        reply
    }

    /// Sends a file with the form at `uri`, as a browser's upload does.
    async fn upload(&mut self, uri: &str, fields: &[(&str, &str)], file: (&str, &str, &[u8])) -> Reply {
        let headers = self.headers();
        let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = common::http::post_multipart(&self.site.state, uri, fields, file, &refs).await;
        self.keep(&reply);
        reply
    }

    fn session(&self) -> Option<String> {
        self.cookies.get("quire_session").cloned()
    }

    /// Signs in with the form, as a person does.
    async fn sign_in(&mut self, email: &str, password: &str) -> Reply {
        let form = self.get("/admin/login").await;
        let csrf = csrf(&form.text());
        self.post(
            "/admin/login",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await
    }

    /// The anti-forgery token of the page at `uri`.
    async fn token(&mut self, uri: &str) -> String {
        let page = self.get(uri).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}: {}", page.text());
        csrf(&page.text())
    }
}

/// The first `csrf` field's value in a page.
fn csrf(html: &str) -> String {
    let at = html.find(r#"name="csrf" value=""#).expect("a csrf field") + r#"name="csrf" value=""#.len();
    html[at..].split('"').next().expect("value").to_owned()
}

/// The token of a set-password link.
fn token_of(url: &str) -> String {
    url.split_once("token=").expect("token").1.to_owned()
}

/// Adds an account with `role` and sets its password, as the command
/// line and the link do.
async fn account(site: &Site, email: &str, role: Role) {
    account_as(site, email, role, None).await;
}

/// [`account`], writing as the author `author`.
async fn account_as(site: &Site, email: &str, role: Role, author: Option<&str>) {
    let input = AccountInput {
        email: email.into(),
        name: email.split('@').next().expect("name").into(),
        role: Some(role),
        author: author.map(str::to_owned),
    };
    let (_, link) = site.state.app.add_user(&Actor::CommandLine, &input).await.expect("add");
    site.state
        .app
        .set_password(&token_of(&link.url), PASSWORD)
        .await
        .expect("password");
}

async fn signed_in<'a>(site: &'a Site, email: &str) -> Browser<'a> {
    let mut browser = Browser::new(site);
    let reply = browser.sign_in(email, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    browser
}

#[tokio::test]
async fn the_first_account_sets_its_password_from_the_printed_link_and_signs_in() {
    let site = site("admin_first_account").await;
    let input = AccountInput {
        email: "Ada@Example.org".into(),
        name: "Ada Lovelace".into(),
        role: Some(Role::Administrator),
        author: Some("ada".into()),
    };
    let (user, link) = site.state.app.add_user(&Actor::CommandLine, &input).await.expect("add");
    assert_eq!(user.email, "ada@example.org");
    assert_eq!(user.author.as_deref(), Some("ada"));
    assert!(
        link.url.starts_with("http://127.0.0.1:8080/admin/password?token="),
        "{}",
        link.url
    );
    let hours = (link.expires_at - OffsetDateTime::now_utc()).whole_hours();
    assert!((23..=24).contains(&hours), "a day: {hours}");
    let path = link.url.trim_start_matches("http://127.0.0.1:8080");

    let mut browser = Browser::new(&site);
    let page = browser.get(path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(page.text().contains("Set your password"));
    assert!(page.text().contains("Ada Lovelace"));
    assert_eq!(
        page.headers["referrer-policy"], "same-origin",
        "the token goes to no other site"
    );
    assert_eq!(page.headers["x-frame-options"], "DENY");
    assert!(
        page.headers["cache-control"]
            .to_str()
            .expect("ascii")
            .contains("no-store")
    );
    let csrf = csrf(&page.text());
    let token = token_of(&link.url);

    // Mistakes keep the link working.
    let short = browser
        .post(
            "/admin/password",
            &[
                ("csrf", &csrf),
                ("token", &token),
                ("password", "short"),
                ("repeat", "short"),
            ],
        )
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.text().contains("at least 10"), "{}", short.text());
    let differ = browser
        .post(
            "/admin/password",
            &[
                ("csrf", &csrf),
                ("token", &token),
                ("password", PASSWORD),
                ("repeat", "other words entirely"),
            ],
        )
        .await;
    assert_eq!(differ.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(differ.text().contains("not the same"));

    let set = browser
        .post(
            "/admin/password",
            &[
                ("csrf", &csrf),
                ("token", &token),
                ("password", PASSWORD),
                ("repeat", PASSWORD),
            ],
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.text());
    assert_eq!(set.headers["location"], "/admin/?welcome=1");
    let cookie = set
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().expect("ascii").to_owned())
        .find(|c| c.starts_with("quire_session="))
        .expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/admin"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "the site is served over plain HTTP here");
    let home = browser.get("/admin/?welcome=1").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text().contains("Your password is set"));
    assert!(home.text().contains("Ada Lovelace"));

    // The link works once.
    let again = Browser::new(&site).get(path).await;
    assert_eq!(again.status, StatusCode::GONE);
    assert!(again.text().contains("has been used"));
    let hash = site.store.password_hash(user.id).await.expect("read").expect("set");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
}

#[tokio::test]
async fn set_password_links_refuse_forgeries_and_end_with_a_new_password() {
    let site = site("admin_links").await;
    let input = AccountInput {
        email: "ed@example.org".into(),
        name: "Ed".into(),
        role: Some(Role::Editor),
        author: None,
    };
    let (_, first) = site.state.app.add_user(&Actor::CommandLine, &input).await.expect("add");
    let (_, second) = site
        .state
        .app
        .reset_password(&Actor::CommandLine, "ed@example.org")
        .await
        .expect("reset");
    let first = token_of(&first.url);
    let second = token_of(&second.url);
    for forged in [
        format!(
            "{}{}",
            &first[..first.len() - 1],
            if first.ends_with('0') { '1' } else { '0' }
        ),
        first.replacen("1.", "2.", 1),
        first.split('.').take(3).collect::<Vec<_>>().join("."),
        String::new(),
        "../../etc/passwd".into(),
        "1.99999999999.x.".to_owned() + &"0".repeat(64),
    ] {
        let uri = format!("/admin/password?token={}", urlencode(&forged));
        let page = Browser::new(&site).get(&uri).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{forged:?}: {}", page.text());
        assert!(page.text().contains("does not work"));
        assert!(matches!(
            site.state.app.set_password(&forged, PASSWORD).await,
            Err(AppError::LinkInvalid)
        ));
    }
    // Setting a password through one link ends the other.
    site.state.app.set_password(&second, PASSWORD).await.expect("set");
    assert!(matches!(
        site.state.app.set_password(&second, PASSWORD).await,
        Err(AppError::LinkUsed)
    ));
    assert!(
        matches!(
            site.state.app.set_password(&first, PASSWORD).await,
            Err(AppError::LinkInvalid)
        ),
        "revoked with the new password"
    );
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_sign_in_and_their_posts_refused() {
    let site = site("admin_anonymous").await;
    account(&site, "ada@example.org", Role::Administrator).await;
    let mut anonymous = Browser::new(&site);
    for page in ["/admin/", "/admin/users", "/admin/audit"] {
        let reply = anonymous.get(page).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{page}");
        let location = reply.headers["location"].to_str().expect("ascii");
        assert!(location.starts_with("/admin/login?next="), "{location}");
    }
    assert_eq!(anonymous.get("/admin").await.headers["location"], "/admin/");
    for (action, fields) in [
        (
            "/admin/users/invite",
            vec![("email", "eve@example.org"), ("name", "Eve"), ("role", "administrator")],
        ),
        (
            "/admin/users/role",
            vec![("email", "ada@example.org"), ("role", "contributor")],
        ),
        ("/admin/users/disable", vec![("email", "ada@example.org")]),
        ("/admin/logout-everywhere", vec![]),
    ] {
        let reply = anonymous.post(action, &fields).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{action}");
    }
    let users = site.state.app.users(&Actor::CommandLine).await.expect("users");
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].role, Role::Administrator);
    // A session cookie made up by a stranger is nobody's.
    anonymous.cookies.insert("quire_session".into(), "A".repeat(43));
    assert_eq!(anonymous.get("/admin/").await.status, StatusCode::SEE_OTHER);
    anonymous.cookies.insert("quire_session".into(), "x".repeat(100_000));
    assert_eq!(anonymous.get("/admin/").await.status, StatusCode::SEE_OTHER);
    // After signing in, the page asked for.
    let mut ada = Browser::new(&site);
    let form = ada.get("/admin/login?next=%2Fadmin%2Faudit").await;
    let reply = ada
        .post(
            "/admin/login",
            &[
                ("csrf", &csrf(&form.text())),
                ("email", "ada@example.org"),
                ("password", PASSWORD),
                ("next", "/admin/audit"),
            ],
        )
        .await;
    assert_eq!(reply.headers["location"], "/admin/audit");
    let reply = ada
        .post(
            "/admin/login",
            &[
                ("csrf", &csrf(&form.text())),
                ("email", "ada@example.org"),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(reply.headers["location"], "/admin/", "never another site");
}

#[tokio::test]
async fn each_role_reaches_only_its_screens() {
    let site = site("admin_roles").await;
    account(&site, "ada@example.org", Role::Administrator).await;
    for (email, role) in [
        ("ed@example.org", Role::Editor),
        ("au@example.org", Role::Author),
        ("co@example.org", Role::Contributor),
    ] {
        account(&site, email, role).await;
        let mut browser = signed_in(&site, email).await;
        let home = browser.get("/admin/").await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(
            !home.text().contains("href=\"/admin/users\""),
            "{role:?} is not offered accounts"
        );
        for page in ["/admin/users", "/admin/audit"] {
            let reply = browser.get(page).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{role:?} {page}");
            assert!(reply.text().contains("does not allow you"), "{}", reply.text());
        }
        let csrf = browser.token("/admin/").await;
        for (action, fields) in [
            (
                "/admin/users/invite",
                vec![("email", "eve@example.org"), ("name", "Eve"), ("role", "administrator")],
            ),
            ("/admin/users/role", vec![("email", email), ("role", "administrator")]),
            ("/admin/users/disable", vec![("email", "ada@example.org")]),
            ("/admin/users/reset", vec![("email", "ada@example.org")]),
        ] {
            let mut fields = fields.clone();
            fields.push(("csrf", &csrf));
            let reply = browser.post(action, &fields).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{role:?} {action}: {}",
                reply.text()
            );
        }
    }
    let users = site.state.app.users(&Actor::CommandLine).await.expect("users");
    assert_eq!(users.len(), 4, "nobody invited Eve");
    assert!(users.iter().all(|u| u.disabled_at.is_none()));
    assert_eq!(
        users.iter().filter(|u| u.role == Role::Administrator).count(),
        1,
        "nobody promoted themselves"
    );
    let mut ada = signed_in(&site, "ada@example.org").await;
    let home = ada.get("/admin/").await;
    assert!(home.text().contains("href=\"/admin/users\""));
    assert_eq!(ada.get("/admin/users").await.status, StatusCode::OK);
    assert_eq!(ada.get("/admin/audit").await.status, StatusCode::OK);
}

#[tokio::test]
async fn posts_without_the_session_token_or_from_another_site_are_refused() {
    let site = site("admin_csrf").await;
    account(&site, "ada@example.org", Role::Administrator).await;
    account(&site, "ed@example.org", Role::Editor).await;
    let mut ada = signed_in(&site, "ada@example.org").await;
    let mut ed = signed_in(&site, "ed@example.org").await;
    let own = ada.token("/admin/users").await;
    let foreign = ed.token("/admin/").await;
    let role = |csrf: &str| {
        vec![
            ("email", "ed@example.org".to_owned()),
            ("role", "contributor".to_owned()),
            ("csrf", csrf.to_owned()),
        ]
    };
    for (what, fields) in [
        (
            "no token",
            vec![
                ("email", "ed@example.org".to_owned()),
                ("role", "contributor".to_owned()),
            ],
        ),
        ("another session's token", role(&foreign)),
        ("an empty token", role("")),
        ("a token one character short", role(&own[..own.len() - 1])),
        ("a huge token", role(&"A".repeat(4000))),
    ] {
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = ada.post("/admin/users/role", &pairs).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{what}");
        assert!(reply.text().contains("nothing was done"), "{what}: {}", reply.text());
    }
    let fields = role(&own);
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let cross = ada
        .post_with("/admin/users/role", &pairs, &[("origin", "https://evil.example")])
        .await;
    assert_eq!(
        cross.status,
        StatusCode::FORBIDDEN,
        "the right token, from another site's page"
    );
    let user = site
        .state
        .app
        .user(&Actor::CommandLine, "ed@example.org")
        .await
        .expect("ed");
    assert_eq!(user.role, Role::Editor, "nothing changed");
    let done = ada.post("/admin/users/role", &pairs).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    let user = site
        .state
        .app
        .user(&Actor::CommandLine, "ed@example.org")
        .await
        .expect("ed");
    assert_eq!(user.role, Role::Contributor);

    // The sign-in form too: its token belongs to the browser it was shown to.
    let mut visitor = Browser::new(&site);
    let shown = visitor.token("/admin/login").await;
    for (what, keep_cookie, token) in [
        ("no door cookie", false, shown.clone()),
        ("no token", true, String::new()),
        ("a token for another cookie", true, "0".repeat(64)),
    ] {
        let mut browser = Browser::new(&site);
        if keep_cookie {
            browser.cookies = visitor.cookies.clone();
        }
        let reply = browser
            .post(
                "/admin/login",
                &[("csrf", &token), ("email", "ada@example.org"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{what}");
        assert!(browser.session().is_none());
    }
    let reply = visitor
        .post(
            "/admin/login",
            &[("csrf", &shown), ("email", "ada@example.org"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "the shown token in its browser");
}

#[tokio::test]
async fn signing_in_replaces_any_session_the_browser_had() {
    let site = site("admin_fixation").await;
    account(&site, "ada@example.org", Role::Administrator).await;
    account(&site, "mallory@example.org", Role::Contributor).await;
    // Mallory signs in, and plants her session in Ada's browser.
    let mallory = signed_in(&site, "mallory@example.org").await;
    let planted = mallory.session().expect("session");
    let mut ada = Browser::new(&site);
    let csrf = ada.token("/admin/login").await;
    ada.cookies.insert("quire_session".into(), planted.clone());
    let reply = ada
        .post(
            "/admin/login",
            &[("csrf", &csrf), ("email", "ada@example.org"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let fresh = ada.session().expect("session");
    assert_ne!(fresh, planted, "a new session id at sign-in");
    let mut mallory_again = Browser::new(&site);
    mallory_again.cookies.insert("quire_session".into(), planted);
    assert_eq!(
        mallory_again.get("/admin/").await.status,
        StatusCode::SEE_OTHER,
        "the planted session ended: it never becomes Ada's"
    );
    let home = ada.get("/admin/").await;
    assert!(home.text().contains("ada@example.org"));
    // A made-up id is never adopted either.
    let mut browser = Browser::new(&site);
    browser
        .cookies
        .insert("quire_session".into(), "chosen-by-attacker".into());
    let reply = browser.sign_in("ada@example.org", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_ne!(browser.session().as_deref(), Some("chosen-by-attacker"));
}

#[tokio::test]
async fn a_role_change_rotates_the_session_and_sign_out_ends_it() {
    let site = site("admin_rotation").await;
    account(&site, "ada@example.org", Role::Administrator).await;
    account(&site, "ed@example.org", Role::Editor).await;
    let mut ed = signed_in(&site, "ed@example.org").await;
    let before = ed.session().expect("session");
    site.state
        .app
        .set_role(&Actor::CommandLine, "ed@example.org", Role::Administrator)
        .await
        .expect("role");
    let home = ed.get("/admin/").await;
    assert_eq!(home.status, StatusCode::OK);
    let after = ed.session().expect("session");
    assert_ne!(before, after, "a new session under the new role");
    assert!(
        home.text().contains("href=\"/admin/users\""),
        "with the new role's screens"
    );
    let mut old = Browser::new(&site);
    old.cookies.insert("quire_session".into(), before);
    assert_eq!(
        old.get("/admin/").await.status,
        StatusCode::SEE_OTHER,
        "the old id is gone"
    );

    // Signing out of one browser leaves the others; everywhere ends all.
    let mut second = signed_in(&site, "ed@example.org").await;
    let csrf = ed.token("/admin/").await;
    let out = ed.post("/admin/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.headers["location"], "/admin/login?out=1");
    assert!(ed.session().is_none(), "the cookie is cleared");
    assert!(ed.get("/admin/login?out=1").await.text().contains("You are signed out"));
    assert_eq!(second.get("/admin/").await.status, StatusCode::OK);
    let mut third = signed_in(&site, "ed@example.org").await;
    let csrf = second.token("/admin/").await;
    second.post("/admin/logout-everywhere", &[("csrf", &csrf)]).await;
    assert_eq!(third.get("/admin/").await.status, StatusCode::SEE_OTHER);
    assert_eq!(second.get("/admin/").await.status, StatusCode::SEE_OTHER);
    let log = site
        .state
        .app
        .audit_log(&Actor::CommandLine, None, 50)
        .await
        .expect("log");
    assert!(
        log.iter()
            .any(|r| r.action == "user.role" && r.detail == "editor → administrator")
    );
    assert!(log.iter().any(|r| r.action == "user.logout-all"));
}

#[tokio::test]
async fn disabled_accounts_are_signed_out_and_cannot_sign_in() {
    let site = site("admin_disable").await;
    account(&site, "ada@example.org", Role::Administrator).await;
    account(&site, "ed@example.org", Role::Editor).await;
    let mut ed = signed_in(&site, "ed@example.org").await;
    let mut ada = signed_in(&site, "ada@example.org").await;
    let csrf = ada.token("/admin/users").await;
    let reply = ada
        .post("/admin/users/disable", &[("csrf", &csrf), ("email", "ed@example.org")])
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    assert_eq!(
        ed.get("/admin/").await.status,
        StatusCode::SEE_OTHER,
        "signed out at once"
    );
    let refused = Browser::new(&site).sign_in("ed@example.org", PASSWORD).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.text().contains("The address or the password is wrong"));
    // The last administrator can neither disable nor demote themselves away.
    let own = ada
        .post("/admin/users/disable", &[("csrf", &csrf), ("email", "ada@example.org")])
        .await;
    assert_eq!(own.status, StatusCode::CONFLICT);
    let demote = ada
        .post(
            "/admin/users/role",
            &[("csrf", &csrf), ("email", "ada@example.org"), ("role", "editor")],
        )
        .await;
    assert_eq!(demote.status, StatusCode::CONFLICT);
    assert!(demote.text().contains("only administrator"), "{}", demote.text());
    ada.post("/admin/users/enable", &[("csrf", &csrf), ("email", "ed@example.org")])
        .await;
    assert_eq!(
        Browser::new(&site).sign_in("ed@example.org", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let audit = ada.get("/admin/audit").await.text();
    assert!(
        audit.contains("user.disable") && audit.contains("user.enable"),
        "{audit}"
    );
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

#[tokio::test]
async fn guessing_is_slowed_per_account_and_per_address_with_a_growing_delay() {
    let site = site("admin_guessing").await;
    account(&site, "ada@example.org", Role::Administrator).await;
    account(&site, "ed@example.org", Role::Editor).await;
    let app = &site.state.app;
    let t0 = OffsetDateTime::now_utc();
    let at = |s: i64| t0 + time::Duration::seconds(s);
    let attempt = |email: &'static str, password: &'static str, client: &'static str| LoginAttempt {
        email,
        password,
        client: ip(client),
        agent: "test",
        previous: None,
    };
    // Three wrong guesses cost nothing; each after waits twice as long,
    // whichever address it comes from.
    for n in 0..3 {
        let address: &'static str = ["192.0.2.1", "192.0.2.2", "192.0.2.3"][n];
        assert!(matches!(
            app.login(&attempt("ada@example.org", "wrong guess", address), at(0))
                .await,
            Err(AppError::LoginFailed)
        ));
    }
    let mut waits = Vec::new();
    let mut now = 0;
    for n in 0..4 {
        let address: &'static str = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"][n];
        match app.login(&attempt("ada@example.org", PASSWORD, address), at(now)).await {
            Err(AppError::RateLimited { retry_after }) => waits.push(retry_after.as_secs()),
            other => panic!("locked, even with the right password: {other:?}"),
        }
        now += i64::try_from(waits[n]).expect("secs");
        let guess = app
            .login(&attempt("ada@example.org", "wrong guess", address), at(now))
            .await;
        assert!(matches!(guess, Err(AppError::LoginFailed)), "{guess:?}");
    }
    assert_eq!(waits, [1, 2, 4, 8], "the delay doubles");
    // Ed's account is not Ada's.
    assert!(
        app.login(&attempt("ed@example.org", PASSWORD, "203.0.113.9"), at(now))
            .await
            .is_ok()
    );
    // Waited out, the right password works, and the count starts again.
    let later = now + 16;
    assert!(
        app.login(&attempt("ada@example.org", PASSWORD, "203.0.113.10"), at(later))
            .await
            .is_ok()
    );
    assert!(matches!(
        app.login(&attempt("ada@example.org", "wrong guess", "203.0.113.10"), at(later))
            .await,
        Err(AppError::LoginFailed)
    ));

    // One address guessing across many accounts (real or not) is slowed
    // on its own, for every account, and not other addresses.
    for n in 0..10 {
        let email: &'static str = Box::leak(format!("nobody{n}@example.org").into_boxed_str());
        let r = app
            .login(&attempt(email, "wrong guess", "2001:db8:1:2::1"), at(later))
            .await;
        assert!(matches!(r, Err(AppError::LoginFailed)), "{n}: {r:?}");
    }
    let blocked = app
        .login(&attempt("ed@example.org", PASSWORD, "2001:db8:1:2::ffff"), at(later))
        .await;
    assert!(
        matches!(blocked, Err(AppError::RateLimited { .. })),
        "the same /64: {blocked:?}"
    );
    assert!(
        app.login(&attempt("ed@example.org", PASSWORD, "2001:db8:1:3::1"), at(later))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn the_sign_in_form_says_when_to_try_again() {
    let config = Config {
        http: quire_app::config::HttpConfig {
            trusted_proxies: vec!["127.0.0.1".into()],
            ..Default::default()
        },
        ..Config::default()
    };
    let site = site_on_either("admin_guess_form", standard_papers(), config).await;
    account(&site, "ada@example.org", Role::Administrator).await;
    let mut browser = Browser::new(&site);
    browser.from = Some("192.0.2.44".into());
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(browser.sign_in("ada@example.org", "wrong guess").await.status);
    }
    assert_eq!(statuses[..3], [StatusCode::UNAUTHORIZED; 3]);
    let last = browser.sign_in("ada@example.org", PASSWORD).await;
    assert_eq!(last.status, StatusCode::TOO_MANY_REQUESTS, "{}", last.text());
    assert!(last.headers.contains_key("retry-after"));
    assert!(
        last.text().contains("Too many failed attempts: wait"),
        "{}",
        last.text()
    );
    assert!(last.text().contains("value=\"ada@example.org\""), "the address is kept");
    // Hostile sign-ins are answered like any failure, and store nothing.
    let huge = "p".repeat(7000);
    for (email, password) in [
        ("<script>alert(1)</script>@example.org", "x"),
        ("ada@example.org\r\nBcc: all@example.org", PASSWORD),
        ("\u{202e}ada@example.org", PASSWORD),
        ("", ""),
        ("nobody@example.org", huge.as_str()),
    ] {
        let mut stranger = Browser::new(&site);
        stranger.from = Some("198.51.100.200".into());
        let reply = stranger.sign_in(email, password).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{email:?}");
        assert!(!reply.text().contains("<script>alert"), "escaped");
    }
    let too_big = "p".repeat(9000);
    let mut stranger = Browser::new(&site);
    let csrf = stranger.token("/admin/login").await;
    let reply = stranger
        .post(
            "/admin/login",
            &[("csrf", &csrf), ("email", "ada@example.org"), ("password", &too_big)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn invitations_and_resets_arrive_by_email_with_links_that_work() {
    let smtp = SmtpServer::start().await;
    let config = Config {
        mail: quire_app::config::MailConfig {
            smtp_url: Some(Secret::new(smtp.url())),
            from: "Policy Lab <admin@example.org>".into(),
            retry_seconds: 0,
            ..Default::default()
        },
        ..Config::default()
    };
    let site = site_on_either("admin_invite", standard_papers(), config).await;
    let mailer = site.state.app.mailer().expect("mailer");
    let sender = site.state.app.sender(Some(mailer)).await.expect("sender");
    account(&site, "ada@example.org", Role::Administrator).await;
    let mut ada = signed_in(&site, "ada@example.org").await;
    let csrf = ada.token("/admin/users").await;

    // A hostile name and address are refused with what to fix, and keep
    // the form; nothing is stored.
    let hostile = ada
        .post(
            "/admin/users/invite",
            &[
                ("csrf", &csrf),
                ("email", "<svg onload=alert(4)>"),
                ("name", "Eve\r\nBcc: x@y.z"),
                ("role", "editor"),
            ],
        )
        .await;
    assert_eq!(hostile.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = hostile.text();
    assert!(
        text.contains("&lt;svg onload=alert(4)&gt;") && !text.contains("<svg onload"),
        "{text}"
    );
    assert!(text.contains("line break"));
    assert_eq!(site.state.app.users(&Actor::CommandLine).await.expect("users").len(), 1);

    let reply = ada
        .post(
            "/admin/users/invite",
            &[
                ("csrf", &csrf),
                ("email", "Ed@Example.org"),
                ("name", "Ed Editor"),
                ("role", "editor"),
                ("author", "alan"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    let listed = ada.get(reply.headers["location"].to_str().expect("ascii")).await;
    assert!(listed.text().contains("Invitation queued for ed@example.org"));
    assert!(listed.text().contains("Invited (no password yet)"));
    let again = ada
        .post(
            "/admin/users/invite",
            &[
                ("csrf", &csrf),
                ("email", "ed@example.org"),
                ("name", "Ed"),
                ("role", "editor"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.text().contains("already exists"));
    // The outbox holds what the email is about, never the link.
    let waiting = site.store.outbox_entries(None, 10).await.expect("outbox");
    assert_eq!(waiting.len(), 1);
    assert!(!format!("{waiting:?}").contains("token="), "{waiting:?}");

    common::smtp::deliver_all(&sender, &site.store).await;
    let mail = smtp.messages();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, ["ed@example.org"]);
    let text = part(&mail[0].data, "text/plain").expect("text part");
    assert!(text.contains("as editor"), "{text}");
    let url = text
        .split_whitespace()
        .find(|w| w.contains("/admin/password?token="))
        .expect("a link");
    let mut ed = Browser::new(&site);
    let path = url.trim_start_matches("http://127.0.0.1:8080");
    let form = ed.get(path).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text());
    let token = token_of(url);
    let set = ed
        .post(
            "/admin/password",
            &[
                ("csrf", &csrf_of(&form)),
                ("token", &token),
                ("password", PASSWORD),
                ("repeat", PASSWORD),
            ],
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER);
    assert!(ed.get("/admin/").await.text().contains("Ed Editor"));

    // Forgotten passwords: the same answer for every address; mail only
    // for an account's.
    let mut stranger = Browser::new(&site);
    let mut answers = Vec::new();
    for email in ["ed@example.org", "nobody@example.org"] {
        let csrf = stranger.token("/admin/forgot").await;
        let reply = stranger
            .post("/admin/forgot", &[("csrf", &csrf), ("email", email)])
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        answers.push(reply.text().replace(email, "ADDRESS"));
    }
    assert_eq!(answers[0], answers[1], "nothing tells the two apart");
    common::smtp::deliver_all(&sender, &site.store).await;
    let mail = smtp.messages();
    assert_eq!(mail.len(), 2, "one reset, for the account only");
    assert_eq!(mail[1].to, ["ed@example.org"]);
    let text = part(&mail[1].data, "text/plain").expect("text");
    assert!(
        text.contains("Someone, probably you, asked for a new password"),
        "{text}"
    );
    let audit = ada.get("/admin/audit").await.text();
    assert!(
        audit.contains("user.add") && audit.contains("user.forgot-password"),
        "{audit}"
    );
}

fn csrf_of(reply: &Reply) -> String {
    csrf(&reply.text())
}

/// The code an authenticator app shows for `secret` (base32, spaces
/// allowed) at `at`.
fn app_code(secret: &str, at: OffsetDateTime) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret.replace(' ', "")).expect("base32");
    let totp = totp_rs::Builder::new().with_secret(secret).build().expect("totp");
    totp.generate(u64::try_from(at.unix_timestamp()).expect("time"))
        .to_string()
}

/// The text of the `<code class="admin-key">` on the page.
fn key_on(html: &str) -> String {
    let at = html.find(r#"<code class="admin-key">"#).expect("a key") + r#"<code class="admin-key">"#.len();
    html[at..].split('<').next().expect("key").to_owned()
}

fn field_value(html: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let at = html.find(&marker).expect(name) + marker.len();
    html[at..].split('"').next().expect("value").to_owned()
}

#[tokio::test]
async fn the_second_step_takes_each_code_once_and_recovery_codes_stand_in() {
    let site = site("admin_two_step").await;
    account(&site, "ada@example.org", Role::Administrator).await;
    let mut ada = signed_in(&site, "ada@example.org").await;
    let account_page = ada.get("/admin/account").await;
    assert!(account_page.text().contains("Turn on two-step verification"));
    let enrol = ada.get("/admin/account/two-step").await;
    assert_eq!(enrol.status, StatusCode::OK);
    let html = enrol.text();
    assert!(html.contains(r#"src="data:image/svg+xml,%3Csvg"#), "a QR code");
    let key = key_on(&html);
    let ticket = field_value(&html, "ticket");
    let token = csrf(&html);
    let wrong = ada
        .post(
            "/admin/account/two-step",
            &[("csrf", &token), ("ticket", &ticket), ("code", "000000")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(key_on(&wrong.text()), key, "the same key again");
    // Another account's ticket is refused.
    account(&site, "ed@example.org", Role::Editor).await;
    let ed_staff = site
        .state
        .app
        .user(&Actor::CommandLine, "ed@example.org")
        .await
        .expect("ed");
    let now = OffsetDateTime::now_utc();
    let on = ada
        .post(
            "/admin/account/two-step",
            &[("csrf", &token), ("ticket", &ticket), ("code", &app_code(&key, now))],
        )
        .await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.text());
    let codes: Vec<String> = on
        .text()
        .split("<li><code>")
        .skip(1)
        .map(|c| c.split('<').next().expect("code").to_owned())
        .collect();
    assert_eq!(codes.len(), 10, "{}", on.text());
    assert!(!ed_staff.two_step);

    // Signing in now takes a code; the password alone makes no session.
    let mut browser = Browser::new(&site);
    let reply = browser.sign_in("ada@example.org", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(
        reply.headers["location"]
            .to_str()
            .expect("ascii")
            .starts_with("/admin/login/code")
    );
    assert!(browser.session().is_none());
    assert!(browser.cookies.contains_key("quire_step"));
    let form = browser.get("/admin/login/code").await;
    let token = csrf(&form.text());
    // The code used to turn it on was taken: it does not work again.
    let replay = browser
        .post("/admin/login/code", &[("csrf", &token), ("code", &app_code(&key, now))])
        .await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED, "{}", replay.text());
    assert!(replay.text().contains("used already"));
    let recovery = browser
        .post(
            "/admin/login/code",
            &[("csrf", &token), ("code", &codes[0].to_uppercase())],
        )
        .await;
    assert_eq!(recovery.status, StatusCode::SEE_OTHER, "{}", recovery.text());
    assert!(browser.session().is_some());
    assert!(
        browser
            .get("/admin/account")
            .await
            .text()
            .contains("9 recovery codes left")
    );
    // A recovery code works once.
    let mut again = Browser::new(&site);
    again.sign_in("ada@example.org", PASSWORD).await;
    let csrf = again.token("/admin/login/code").await;
    let reused = again
        .post("/admin/login/code", &[("csrf", &csrf), ("code", &codes[0])])
        .await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);

    // Wrong codes slow the account down like wrong passwords, and the
    // right password does not reset the count.
    let mut guesser = Browser::new(&site);
    let mut statuses = Vec::new();
    for guess in ["111111", "222222", "333333"] {
        guesser.sign_in("ada@example.org", PASSWORD).await;
        let csrf = guesser.token("/admin/login/code").await;
        statuses.push(
            guesser
                .post("/admin/login/code", &[("csrf", &csrf), ("code", guess)])
                .await
                .status,
        );
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ],
        "with the reused recovery code, three wrong codes cost nothing; the fourth waits"
    );
    let locked = guesser.sign_in("ada@example.org", PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "{}", locked.text());

    // A pending sign-in that is forged or not this site's is refused.
    let mut forger = Browser::new(&site);
    let csrf = forger.token("/admin/login").await;
    forger.cookies.insert(
        "quire_step".into(),
        format!("step.{}.9999999999.x.{}", ed_staff.id, "0".repeat(64)),
    );
    let forged = forger
        .post("/admin/login/code", &[("csrf", &csrf), ("code", "123456")])
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    assert!(forged.text().contains("give your password again"), "{}", forged.text());
    assert!(forger.session().is_none());

    // An administrator turns it off from the command line (a lost phone).
    let off = site
        .state
        .app
        .turn_off_two_step(&Actor::CommandLine, "ada@example.org", None)
        .await
        .expect("off");
    assert_eq!(off.email, "ada@example.org");
    let user = site
        .state
        .app
        .user(&Actor::CommandLine, "ada@example.org")
        .await
        .expect("ada");
    assert!(!user.two_step);
    let log = site
        .state
        .app
        .audit_log(&Actor::CommandLine, None, 100)
        .await
        .expect("log");
    assert!(log.iter().any(|r| r.action == "user.two-step-on"));
    assert!(
        log.iter()
            .any(|r| r.action == "user.two-step-off" && r.actor == "command line")
    );
}

#[tokio::test]
async fn changing_the_password_signs_out_every_other_browser() {
    let site = site("admin_change_password").await;
    account(&site, "ada@example.org", Role::Editor).await;
    let mut here = signed_in(&site, "ada@example.org").await;
    let mut there = signed_in(&site, "ada@example.org").await;
    let csrf = here.token("/admin/account").await;
    let new = "a brand new passphrase";
    let wrong = here
        .post(
            "/admin/account/password",
            &[
                ("csrf", &csrf),
                ("current", "not it at all"),
                ("password", new),
                ("repeat", new),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.text().contains("is not your current password"));
    let done = here
        .post(
            "/admin/account/password",
            &[
                ("csrf", &csrf),
                ("current", PASSWORD),
                ("password", new),
                ("repeat", new),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    assert_eq!(
        here.get("/admin/account?done=password").await.status,
        StatusCode::OK,
        "this browser stays in"
    );
    assert_eq!(
        there.get("/admin/").await.status,
        StatusCode::SEE_OTHER,
        "the other is out"
    );
    assert_eq!(
        Browser::new(&site).sign_in("ada@example.org", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        Browser::new(&site).sign_in("ada@example.org", new).await.status,
        StatusCode::SEE_OTHER
    );
}

/// The slugs of the papers a list page shows, in order.
fn listed(html: &str) -> Vec<String> {
    html.split(r#"<th scope="row"><a href=""#)
        .skip(1)
        .map(|rest| {
            let href = rest.split('"').next().expect("href");
            let rest = href
                .strip_prefix("/admin/papers/")
                .or_else(|| href.strip_prefix("/papers/"))
                .expect("a paper's address");
            rest.split('/').next().expect("slug").to_owned()
        })
        .collect()
}

#[tokio::test]
async fn the_papers_list_filters_searches_sorts_and_pages() {
    let mut papers = standard_papers();
    for n in 0..60 {
        let mut p = common::paper(&format!("bulk-{n:02}"), common::http::days_ago(100 + n), &["alan"], &[]);
        p.title = format!("Bulk paper {n:02}");
        papers.push(p);
    }
    let site = site_on_either("admin_paper_list", papers, Config::default()).await;
    account(&site, "ed@example.org", Role::Editor).await;
    let mut ed = signed_in(&site, "ed@example.org").await;
    let all = ed.get("/admin/papers").await;
    assert_eq!(all.status, StatusCode::OK);
    let html = all.text();
    assert!(html.contains("65 papers, page 1 of 2"), "{html}");
    assert!(
        html.contains("Draft <span class=\"admin-muted\">(1)</span>"),
        "a count per status"
    );
    assert!(html.contains("Scheduled <span class=\"admin-muted\">(1)</span>"));
    assert_eq!(listed(&html).len(), 50);
    assert_eq!(
        listed(&html)[0],
        "future",
        "newest first: the scheduled paper's date is ahead"
    );
    assert!(html.contains(r#"rel="next""#));
    let second = ed.get("/admin/papers?page=2").await.text();
    assert_eq!(listed(&second).len(), 15);

    let drafts = ed.get("/admin/papers?status=draft").await.text();
    assert_eq!(listed(&drafts), ["secret-draft"]);
    let by_ada = ed.get("/admin/papers?author=ada&sort=title").await.text();
    assert_eq!(
        listed(&by_ada),
        ["future", "ports", "secret-draft", "namal"],
        "by title: {by_ada}"
    );
    let on_trade = ed.get("/admin/papers?topic=trade&status=published").await.text();
    assert_eq!(listed(&on_trade), ["ports", "namal"]);
    let found = ed.get("/admin/papers?q=harbours").await.text();
    assert_eq!(listed(&found), ["ports"], "the site's search, drafts included");
    let found_draft = ed.get("/admin/papers?q=secret").await.text();
    assert_eq!(listed(&found_draft), ["secret-draft"]);
    let oldest = ed.get("/admin/papers?sort=oldest").await.text();
    assert_eq!(listed(&oldest)[0], "old");
    assert!(
        ed.get("/admin/papers?status=trash")
            .await
            .text()
            .contains("No papers match.")
    );

    // Hostile query strings answer a page, never a failure.
    for hostile in [
        "/admin/papers?page=-1",
        "/admin/papers?page=99999999999999999999",
        "/admin/papers?page=1e9",
        "/admin/papers?sort=../../etc",
        "/admin/papers?status=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/admin/papers?kind=%00%FF&author=%27%20OR%201%3D1--",
        "/admin/papers?author=a%00b&q=x%00y",
        "/admin/papers?q=%22%22%22%20NEAR(%20*%20OR%20",
        "/admin/papers?topic=\u{202e}x&status=trash&status=draft",
    ] {
        let reply = ed.get(hostile).await;
        assert_eq!(reply.status, StatusCode::OK, "{hostile}");
        assert!(!reply.text().contains("<script>alert"), "{hostile}");
    }
    let deep = ed.get("/admin/papers?page=500").await.text();
    assert!(
        deep.contains("page 500 of 2") || deep.contains("No papers match"),
        "a page past the end is empty"
    );
}

#[tokio::test]
async fn bulk_actions_do_what_each_role_may_and_leave_the_rest() {
    let site = site("admin_bulk").await;
    account_as(&site, "ada@example.org", Role::Author, Some("ada")).await;
    account_as(&site, "cora@example.org", Role::Contributor, Some("alan")).await;
    account(&site, "ed@example.org", Role::Editor).await;

    // An author publishes her own draft; not Alan's paper.
    let mut ada = signed_in(&site, "ada@example.org").await;
    let list = ada.get("/admin/papers").await.text();
    assert!(list.contains(r#"value="secret-draft""#), "her papers can be chosen");
    assert!(!list.contains(r#"value="old""#), "Alan's cannot");
    let csrf = ada.token("/admin/papers").await;
    let reply = ada
        .post(
            "/admin/papers/bulk",
            &[
                ("csrf", &csrf),
                ("action", "publish"),
                ("slug", "secret-draft"),
                ("slug", "old"),
                ("back", "/admin/papers?status=draft"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    assert_eq!(reply.headers["location"], "/admin/papers?status=draft&done=1&refused=1");
    let shown = ada.get("/admin/papers?status=draft&done=1&refused=1").await.text();
    assert!(shown.contains("Done: 1 paper; 1 paper left as they were"), "{shown}");
    let draft = site.state.app.paper("secret-draft").await.expect("paper");
    assert_eq!(draft.meta.status, Status::Published);
    let old = site.state.app.paper("old").await.expect("paper");
    assert_eq!(old.meta.status, Status::Published, "untouched");

    // A contributor cannot publish or unpublish even her own.
    let mut cora = signed_in(&site, "cora@example.org").await;
    let csrf = cora.token("/admin/papers").await;
    cora.post(
        "/admin/papers/bulk",
        &[("csrf", &csrf), ("action", "unpublish"), ("slug", "old")],
    )
    .await;
    assert_eq!(
        site.state.app.paper("old").await.expect("paper").meta.status,
        Status::Published
    );
    // Nor change her own once it is out (it names her author profile).
    cora.post(
        "/admin/papers/bulk",
        &[("csrf", &csrf), ("action", "trash"), ("slug", "old")],
    )
    .await;
    assert!(
        site.state
            .app
            .paper("old")
            .await
            .expect("paper")
            .meta
            .trashed_at
            .is_none()
    );
    // Her author may: Ada's account trashes nothing of Alan's, the editor does.
    let mut ed_first = signed_in(&site, "ed@example.org").await;
    let token = ed_first.token("/admin/papers").await;
    ed_first
        .post(
            "/admin/papers/bulk",
            &[("csrf", &token), ("action", "trash"), ("slug", "old")],
        )
        .await;
    assert!(
        site.state
            .app
            .paper("old")
            .await
            .expect("paper")
            .meta
            .trashed_at
            .is_some()
    );

    // An editor acts on anyone's, and restores from the trash.
    let mut ed = signed_in(&site, "ed@example.org").await;
    let csrf = ed.token("/admin/papers?status=trash").await;
    let restore = ed
        .post(
            "/admin/papers/bulk",
            &[
                ("csrf", &csrf),
                ("action", "restore"),
                ("slug", "old"),
                ("slug", "no-such-paper"),
            ],
        )
        .await;
    assert_eq!(restore.headers["location"], "/admin/papers?done=1&refused=1");
    assert!(
        site.state
            .app
            .paper("old")
            .await
            .expect("paper")
            .meta
            .trashed_at
            .is_none()
    );
    ed.post(
        "/admin/papers/bulk",
        &[("csrf", &csrf), ("action", "unpublish"), ("slug", "ports")],
    )
    .await;
    assert_eq!(
        site.state.app.paper("ports").await.expect("paper").meta.status,
        Status::Draft
    );
    // Nonsense is refused whole.
    let junk = ed
        .post(
            "/admin/papers/bulk",
            &[("csrf", &csrf), ("action", "delete-everything"), ("slug", "ports")],
        )
        .await;
    assert_eq!(junk.status, StatusCode::CONFLICT);
    let too_many: Vec<(&str, &str)> = std::iter::repeat_n(("slug", "ports"), 501)
        .chain([("csrf", csrf.as_str()), ("action", "trash")])
        .collect();
    let flood = ed.post("/admin/papers/bulk", &too_many).await;
    assert_eq!(flood.status, StatusCode::CONFLICT, "{}", flood.text());
    assert!(
        site.state
            .app
            .paper("ports")
            .await
            .expect("paper")
            .meta
            .trashed_at
            .is_none()
    );
    // Without the token, nothing.
    ed.post("/admin/papers/bulk", &[("action", "trash"), ("slug", "ports")])
        .await;
    assert!(
        site.state
            .app
            .paper("ports")
            .await
            .expect("paper")
            .meta
            .trashed_at
            .is_none()
    );

    let log = site
        .state
        .app
        .audit_log(&Actor::CommandLine, None, 100)
        .await
        .expect("log");
    let said: Vec<(String, String, String)> = log
        .iter()
        .filter(|r| r.action.starts_with("paper."))
        .map(|r| (r.action.clone(), r.subject.clone(), r.actor.clone()))
        .collect();
    assert_eq!(
        said,
        [
            (
                "paper.unpublish".to_owned(),
                "ports".to_owned(),
                "ed <ed@example.org>".to_owned()
            ),
            (
                "paper.restore".to_owned(),
                "old".to_owned(),
                "ed <ed@example.org>".to_owned()
            ),
            (
                "paper.delete".to_owned(),
                "old".to_owned(),
                "ed <ed@example.org>".to_owned()
            ),
            (
                "paper.publish".to_owned(),
                "secret-draft".to_owned(),
                "ada <ada@example.org>".to_owned()
            ),
        ]
    );
}

async fn comment(site: &Site, name: &str, email: &str, text: &str, status: quire_core::domain::CommentStatus) -> i64 {
    let paper = site.store.get_paper("ports").await.expect("get").expect("ports");
    let input = quire_core::domain::CommentInput {
        name: name.into(),
        email: email.into(),
        url: None,
        text: text.into(),
        parent_id: None,
    };
    site.store
        .add_comment(&quire_store::NewComment {
            paper_id: paper.meta.id,
            input: &input,
            status,
            ip: "198.51.100.7",
            user_agent: "test",
            notify_replies: false,
            now: OffsetDateTime::now_utc(),
        })
        .await
        .expect("comment")
}

#[tokio::test]
async fn comments_are_moderated_from_the_queue_by_the_roles_that_moderate() {
    use quire_core::domain::CommentStatus::{Approved, Pending, Spam, Trash};
    let site = site("admin_moderation").await;
    account(&site, "ed@example.org", Role::Editor).await;
    account_as(&site, "ada@example.org", Role::Author, Some("ada")).await;
    let hostile = "<script>alert(1)</script> \u{202e}evil <img src=x onerror=alert(2)>";
    let first = comment(&site, "Grace", "grace@example.org", "Dredge the ports.", Pending).await;
    let second = comment(&site, "<svg onload=alert(3)>", "eve@example.org", hostile, Pending).await;
    let third = comment(&site, "Grace", "grace@example.org", "An older approved one.", Approved).await;

    // Authors do not moderate: no queue, no badge, no action.
    let mut ada = signed_in(&site, "ada@example.org").await;
    let home = ada.get("/admin/").await.text();
    assert!(!home.contains("href=\"/admin/comments\""));
    assert_eq!(ada.get("/admin/comments").await.status, StatusCode::FORBIDDEN);
    let token = ada.token("/admin/").await;
    let refused = ada
        .post(
            "/admin/comments/moderate",
            &[("csrf", &token), ("only", &format!("{first}:approve"))],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let mut ed = signed_in(&site, "ed@example.org").await;
    let home = ed.get("/admin/").await.text();
    assert!(
        home.contains(r#"<span class="admin-count">2<span class="visually-hidden"> waiting for moderation</span>"#),
        "the badge: {home}"
    );
    let queue = ed.get("/admin/comments").await;
    assert_eq!(queue.status, StatusCode::OK);
    let html = queue.text();
    assert!(
        html.contains("Dredge the ports.") && !html.contains("An older approved one."),
        "pending first"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !html.contains("<script>alert"));
    assert!(!html.contains("<svg onload") && !html.contains("<img src=x"));
    let token = csrf(&html);
    // One row's button.
    let one = ed
        .post(
            "/admin/comments/moderate",
            &[
                ("csrf", &token),
                ("only", &format!("{first}:approve")),
                ("back", "/admin/comments"),
            ],
        )
        .await;
    assert_eq!(one.status, StatusCode::SEE_OTHER, "{}", one.text());
    assert_eq!(one.headers["location"], "/admin/comments?done=1");
    // Many at once; an id that is not a number is dropped, not a failure.
    let many = ed
        .post(
            "/admin/comments/moderate",
            &[
                ("csrf", &token),
                ("action", "spam"),
                ("id", &second.to_string()),
                ("id", &third.to_string()),
                ("id", "1 OR 1=1"),
            ],
        )
        .await;
    assert_eq!(many.status, StatusCode::SEE_OTHER);
    let status = |id: i64| {
        let store = site.store.clone();
        async move { store.get_comment(id).await.expect("get").expect("comment").status }
    };
    assert_eq!(
        (status(first).await, status(second).await, status(third).await),
        (Approved, Spam, Spam)
    );
    ed.post(
        "/admin/comments/moderate",
        &[("csrf", &token), ("only", &format!("{third}:restore"))],
    )
    .await;
    assert_eq!(status(third).await, Approved, "back to where it was");
    ed.post(
        "/admin/comments/moderate",
        &[("csrf", &token), ("only", &format!("{second}:trash"))],
    )
    .await;
    assert_eq!(status(second).await, Trash);
    let spam_tab = ed.get("/admin/comments?status=trash").await.text();
    assert!(spam_tab.contains("&lt;svg onload=alert(3)&gt;"));
    // A commenter's other comments, whatever their status.
    let grace = ed.get("/admin/comments?email=GRACE%40example.org").await.text();
    assert!(
        grace.contains("Dredge the ports.") && grace.contains("An older approved one."),
        "{grace}"
    );
    assert!(!grace.contains("&lt;svg"));
    // Nothing chosen, or nonsense: refused with what to do.
    let empty = ed
        .post("/admin/comments/moderate", &[("csrf", &token), ("action", "approve")])
        .await;
    assert_eq!(empty.status, StatusCode::CONFLICT);
    assert!(empty.text().contains("No comment was chosen"), "{}", empty.text());
    let junk = ed
        .post("/admin/comments/moderate", &[("csrf", &token), ("only", "1:delete")])
        .await;
    assert_eq!(junk.status, StatusCode::CONFLICT);
    for hostile_query in [
        "/admin/comments?status=%3Cx%3E&page=-5",
        "/admin/comments?email=%00%FF&page=99999999999",
    ] {
        assert_eq!(ed.get(hostile_query).await.status, StatusCode::OK, "{hostile_query}");
    }
    let log = site
        .state
        .app
        .audit_log(&Actor::CommandLine, None, 100)
        .await
        .expect("log");
    assert!(
        log.iter()
            .any(|r| r.action == "comment.approve" && r.subject == first.to_string())
    );
    assert!(log.iter().any(|r| r.action == "comment.spam"));
}

#[tokio::test]
async fn editors_add_edit_and_merge_authors_and_topics() {
    let site = site("admin_bylines").await;
    account(&site, "ed@example.org", Role::Editor).await;
    account_as(&site, "ada@example.org", Role::Author, Some("ada")).await;
    // Authors do not manage bylines.
    let mut ada = signed_in(&site, "ada@example.org").await;
    assert_eq!(ada.get("/admin/authors").await.status, StatusCode::FORBIDDEN);
    let token = ada.token("/admin/").await;
    let refused = ada
        .post("/admin/authors/save", &[("csrf", &token), ("name", "Mallory")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let merge = ada
        .post(
            "/admin/authors/merge",
            &[("csrf", &token), ("from", "alan"), ("into", "ada")],
        )
        .await;
    assert_eq!(merge.status, StatusCode::FORBIDDEN);

    let mut ed = signed_in(&site, "ed@example.org").await;
    let list = ed.get("/admin/authors").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.text().contains("Alan Turing"));
    let token = csrf(&list.text());
    let added = ed
        .post(
            "/admin/authors/save",
            &[
                ("csrf", &token),
                ("name", "Grace Hopper"),
                ("affiliation", "Navy <script>alert(1)</script>"),
                ("orcid", "https://orcid.org/0000-0002-1825-0097"),
                ("bio", "Wrote *compilers*."),
                ("links", "Website=https://example.org/grace?a=b\n\n"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text());
    let grace = site
        .store
        .get_author("grace-hopper", quire_store::Visibility::All)
        .await
        .expect("get")
        .expect("grace");
    assert_eq!(grace.orcid.as_deref(), Some("0000-0002-1825-0097"));
    assert_eq!(grace.links[0].url, "https://example.org/grace?a=b");
    let shown = ed.get("/admin/authors?done=added&who=Grace%20Hopper").await.text();
    assert!(
        shown.contains("Added Grace Hopper.") && shown.contains("Navy &lt;script&gt;"),
        "{shown}"
    );
    // Mistakes come back with what was typed.
    for (field, value, says) in [
        ("orcid", "0000-0002-1825-0098", "its last character should be"),
        ("links", "no equals sign here", "is not Label=URL"),
        ("links", "Site=javascript:alert(1)", "http"),
    ] {
        let reply = ed
            .post(
                "/admin/authors/save",
                &[("csrf", &token), ("name", "Grace Hopper"), (field, value)],
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}={value}");
        assert!(reply.text().contains(says), "{field}={value}: {}", reply.text());
    }
    let edit = ed.get("/admin/authors?edit=grace-hopper").await.text();
    assert!(edit.contains("Edit Grace Hopper") && edit.contains("Website=https://example.org/grace?a=b"));
    // Merge Grace into Ada: her papers (none) move, and she is gone.
    let merged = ed
        .post(
            "/admin/authors/merge",
            &[("csrf", &token), ("from", "alan"), ("into", "ada")],
        )
        .await;
    assert_eq!(merged.status, StatusCode::SEE_OTHER, "{}", merged.text());
    let old = site.state.app.paper("old").await.expect("old");
    assert_eq!(
        old.meta.authors.iter().map(|a| a.slug.as_str()).collect::<Vec<_>>(),
        ["ada"]
    );
    let into_itself = ed
        .post(
            "/admin/authors/merge",
            &[("csrf", &token), ("from", "ada"), ("into", "ada")],
        )
        .await;
    assert_eq!(into_itself.status, StatusCode::CONFLICT);
    let unknown = ed
        .post(
            "/admin/authors/merge",
            &[("csrf", &token), ("from", "ghost"), ("into", "ada")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text());

    // Topics the same way.
    let saved = ed
        .post(
            "/admin/topics/save",
            &[
                ("csrf", &token),
                ("name", "Energy"),
                ("description", "Power and grids."),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert!(ed.get("/admin/topics").await.text().contains("Power and grids."));
    let bad = ed.post("/admin/topics/save", &[("csrf", &token), ("name", "  ")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    ed.post(
        "/admin/topics/merge",
        &[("csrf", &token), ("from", "energy"), ("into", "trade")],
    )
    .await;
    assert!(
        site.store
            .get_topic("energy", quire_store::Visibility::All)
            .await
            .expect("get")
            .is_none()
    );
    let log = site
        .state
        .app
        .audit_log(&Actor::CommandLine, None, 100)
        .await
        .expect("log");
    for action in ["author.save", "author.merge", "topic.save", "topic.merge"] {
        assert!(log.iter().any(|r| r.action == action), "{action}");
    }
}
