//! The admin's pages: their own embedded templates (a site's theme
//! restyles what readers see, never the admin), with the theme's asset
//! URLs for the admin's stylesheet and scripts. Functions from view
//! models to HTML, like every page of the site.

use super::{Assets, RenderError, html_formatter};
use minijinja::Environment;
use minijinja::value::{Serde, Value};
use serde::Serialize;

const TEMPLATES: &[(&str, &str)] = &[
    ("admin/layout.html", include_str!("../templates/admin/layout.html")),
    ("admin/login.html", include_str!("../templates/admin/login.html")),
    ("admin/password.html", include_str!("../templates/admin/password.html")),
    ("admin/message.html", include_str!("../templates/admin/message.html")),
    (
        "admin/dashboard.html",
        include_str!("../templates/admin/dashboard.html"),
    ),
    ("admin/users.html", include_str!("../templates/admin/users.html")),
    ("admin/audit.html", include_str!("../templates/admin/audit.html")),
    ("admin/forgot.html", include_str!("../templates/admin/forgot.html")),
    ("admin/code.html", include_str!("../templates/admin/code.html")),
    ("admin/papers.html", include_str!("../templates/admin/papers.html")),
    ("admin/comments.html", include_str!("../templates/admin/comments.html")),
    ("admin/bylines.html", include_str!("../templates/admin/bylines.html")),
    ("admin/account.html", include_str!("../templates/admin/account.html")),
    ("admin/editor.html", include_str!("../templates/admin/editor.html")),
    (
        "admin/revisions.html",
        include_str!("../templates/admin/revisions.html"),
    ),
];

/// The admin's templates, compiled once.
pub struct AdminPages {
    env: Environment<'static>,
    css_url: String,
    editor_js_url: String,
}

/// Who is signed in, as the admin's frame shows them.
#[derive(Clone, Debug, Serialize)]
pub struct StaffView {
    pub name: String,
    pub email: String,
    pub role_label: &'static str,
    pub author: Option<String>,
}

/// One entry of the admin's navigation.
#[derive(Clone, Debug, Serialize)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
    /// Things waiting there (pending comments), shown as a badge.
    pub count: u64,
    pub count_label: &'static str,
}

/// What every admin page shows around its content.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Chrome {
    pub site_name: String,
    pub language: String,
    pub dir: &'static str,
    pub css_url: String,
    /// None on the pages before signing in.
    pub staff: Option<StaffView>,
    /// The session's anti-forgery token, for the forms of the frame.
    pub csrf: String,
    pub nav: Vec<NavItem>,
    /// A line saying what the last action did.
    pub notice: Option<String>,
    /// Scripts the page is better with (it works without them).
    pub scripts: Vec<String>,
}

/// The sign-in form.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LoginView {
    pub csrf: String,
    pub email: String,
    /// Where to go once signed in (an admin path).
    pub next: String,
    pub problem: Option<String>,
}

/// The form that sets a password from a link.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PasswordView {
    pub heading: &'static str,
    pub csrf: String,
    pub token: String,
    pub name: String,
    pub email: String,
    pub min_chars: usize,
    pub problem: Option<String>,
}

/// A link on a message page.
#[derive(Clone, Debug, Serialize)]
pub struct LinkView {
    pub href: String,
    pub label: String,
}

/// A page that only says something (a link that no longer works).
#[derive(Clone, Debug, Default, Serialize)]
pub struct MessageView {
    pub heading: String,
    pub message: String,
    pub link: Option<LinkView>,
}

/// One number of the dashboard.
#[derive(Clone, Debug, Serialize)]
pub struct GlanceItem {
    pub count: u64,
    pub label: String,
    pub href: Option<String>,
}

/// The dashboard.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DashboardView {
    pub glance: Vec<GlanceItem>,
    /// Browsers the account is signed in on.
    pub sessions: i64,
}

/// A choice of a `<select>`.
#[derive(Clone, Debug, Serialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// An author an account may write as.
#[derive(Clone, Debug, Serialize)]
pub struct AuthorChoice {
    pub slug: String,
    pub name: String,
}

/// One account in the list.
#[derive(Clone, Debug, Serialize)]
pub struct UserRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: &'static str,
    /// "Active", "Invited (no password yet)", "Disabled".
    pub standing: &'static str,
    pub disabled: bool,
    pub has_password: bool,
    pub author: Option<String>,
    /// The signed-in account itself (which cannot disable itself).
    pub is_you: bool,
}

/// What the invitation form holds (again, after a mistake).
#[derive(Clone, Debug, Default, Serialize)]
pub struct InviteForm {
    pub email: String,
    pub name: String,
    pub role: String,
    pub author: String,
}

/// The invitation form's mistakes, by field.
#[derive(Clone, Debug, Default, Serialize)]
pub struct InviteErrors {
    pub email: Option<String>,
    pub name: Option<String>,
}

/// The accounts screen.
#[derive(Clone, Debug, Default, Serialize)]
pub struct UsersView {
    pub users: Vec<UserRow>,
    pub roles: Vec<Choice>,
    pub authors: Vec<AuthorChoice>,
    pub form: InviteForm,
    pub errors: InviteErrors,
    pub problem: Option<String>,
    /// Whether a mail server is set, so that invitations leave at once.
    pub mail_ready: bool,
}

/// One line of the audit log.
#[derive(Clone, Debug, Serialize)]
pub struct AuditRow {
    pub at: String,
    pub at_iso: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

/// The audit log screen.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AuditView {
    pub records: Vec<AuditRow>,
    /// The link to the page of older lines.
    pub older: Option<String>,
    /// The site's time zone, which the times are in.
    pub zone: String,
}

/// The forgotten-password form, and what it says once sent.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ForgotView {
    pub csrf: String,
    pub email: String,
    pub sent: bool,
    pub problem: Option<String>,
}

/// A status tab of the papers list.
#[derive(Clone, Debug, Serialize)]
pub struct TabView {
    pub href: String,
    pub label: String,
    pub count: u64,
    pub current: bool,
}

/// One paper's line in the list.
#[derive(Clone, Debug, Serialize)]
pub struct PaperRowView {
    pub slug: String,
    pub title: String,
    /// Where the title leads: the editor, for those who may edit it.
    pub href: String,
    /// The page readers see, once they can.
    pub public_href: Option<String>,
    /// The paper's language, when it is not the site's.
    pub lang: Option<String>,
    pub dir: &'static str,
    pub authors: String,
    pub kind: String,
    pub topics: String,
    pub status: &'static str,
    pub status_label: String,
    pub date: String,
    pub date_iso: String,
    pub own: bool,
    pub may_edit: bool,
}

/// A link of a pager: none for the page shown.
#[derive(Clone, Debug, Serialize)]
pub struct PagerLink {
    pub label: String,
    pub href: Option<String>,
    pub rel: Option<&'static str>,
}

/// The papers list.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PapersView {
    pub tabs: Vec<TabView>,
    pub statuses: Vec<Choice>,
    pub kinds: Vec<Choice>,
    pub authors: Vec<Choice>,
    pub topics: Vec<Choice>,
    pub sorts: Vec<Choice>,
    pub status: String,
    pub kind: String,
    pub author: String,
    pub topic: String,
    pub sort: String,
    pub search: String,
    pub trashed: bool,
    /// Whether any filter is set.
    pub filtered: bool,
    /// "12 papers, page 1 of 1".
    pub summary: String,
    pub papers: Vec<PaperRowView>,
    pub pager: Vec<PagerLink>,
    /// This page's address, to come back to after a bulk action.
    pub here: String,
}

/// One comment in the moderation queue (commenters' addresses stay in
/// the admin).
#[derive(Clone, Debug, Serialize)]
pub struct CommentRowView {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub url: Option<String>,
    pub ip: Option<String>,
    pub status: &'static str,
    pub status_label: &'static str,
    pub paper: String,
    pub paper_href: String,
    pub parent_id: Option<i64>,
    pub text: String,
    pub at: String,
    pub at_iso: String,
    /// The queue of this commenter's comments.
    pub others_href: String,
}

/// The moderation queue.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CommentsView {
    pub tabs: Vec<TabView>,
    pub comments: Vec<CommentRowView>,
    /// One commenter's comments, when shown.
    pub email: Option<String>,
    pub pager: Vec<PagerLink>,
    pub here: String,
}

/// One author or topic in its list.
#[derive(Clone, Debug, Serialize)]
pub struct BylineRow {
    pub slug: String,
    pub name: String,
    /// The affiliation of an author, the description of a topic.
    pub detail: String,
    pub papers: i64,
    pub public_href: String,
    pub edit_href: String,
}

/// What the add or edit form holds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BylineForm {
    pub slug: String,
    pub name: String,
    pub affiliation: String,
    pub orcid: String,
    /// The biography or the description.
    pub text: String,
    /// `Label=URL` lines.
    pub links: String,
}

/// The authors or the topics screen.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BylinesView {
    /// "authors" or "topics".
    pub kind: &'static str,
    pub one: &'static str,
    pub heading: &'static str,
    pub rows: Vec<BylineRow>,
    pub form: BylineForm,
    pub editing: bool,
    pub action: &'static str,
    pub merge_action: &'static str,
    pub list_href: &'static str,
    pub problem: Option<String>,
}

/// The second step of signing in: the code form.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CodeView {
    pub csrf: String,
    pub next: String,
    pub problem: Option<String>,
}

/// The signed-in account's own page.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AccountView {
    pub two_step: bool,
    pub recovery_left: i64,
    /// Set while turning the second step on: the key to scan or type.
    pub enrol: Option<EnrolView>,
    /// Shown once, right after the second step is turned on.
    pub recovery_codes: Vec<String>,
    pub problem: Option<String>,
    pub min_chars: usize,
}

/// A new key for an authenticator app.
#[derive(Clone, Debug, Default, Serialize)]
pub struct EnrolView {
    /// The key, in groups of four, to type in.
    pub secret: String,
    /// The `otpauth://` address as a QR code (a `data:` URL of an SVG).
    pub qr: String,
    pub ticket: String,
}

/// What the editor's form holds: the paper's fields as typed.
#[derive(Clone, Debug, Default, Serialize)]
pub struct EditorFields {
    pub title: String,
    pub subtitle: String,
    pub slug: String,
    pub kind: String,
    pub summary: String,
    /// Author slugs in byline order, separated by commas.
    pub authors: String,
    pub topics: Vec<String>,
    pub language: String,
    pub translation_of: String,
    pub canonical_url: String,
    pub comments: String,
    pub body: String,
    /// `YYYY-MM-DDTHH:MM` in the site's zone, for scheduling.
    pub schedule_at: String,
}

/// A problem with one field of the editor's form.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FieldProblem {
    /// The form field's name (`title`, `authors`…), or empty for the
    /// whole paper.
    pub field: String,
    pub message: String,
}

/// The paper editor.
#[derive(Clone, Debug, Default, Serialize)]
pub struct EditorView {
    /// `None` for a new paper.
    pub original: Option<String>,
    pub base_revision: i64,
    pub fields: EditorFields,
    pub kinds: Vec<Choice>,
    pub topics: Vec<Choice>,
    pub authors: Vec<Choice>,
    /// "draft", "scheduled", "published" or "archived"; empty when new.
    pub status: String,
    pub status_label: String,
    /// When it goes or went out, as the site's clock says it.
    pub date: String,
    pub submitted: bool,
    pub may_publish: bool,
    /// The public address, once readers can see it.
    pub public_href: Option<String>,
    pub problems: Vec<FieldProblem>,
    /// Someone saved meanwhile: what to say, and where to compare.
    pub conflict: Option<String>,
    pub revisions_href: Option<String>,
    pub zone: String,
    /// The paper's images, and whether the account may add more.
    pub images: Vec<ImageRow>,
    pub may_upload: bool,
    /// Where the saved paper's PDF is typeset as it will be published.
    pub pdf_href: Option<String>,
}

/// An image stored with a paper, and the Markdown that shows it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ImageRow {
    pub name: String,
    pub size: String,
    pub markdown: String,
}

/// One revision in a paper's history.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RevisionRow {
    pub number: i64,
    pub saved_at: String,
    pub saved_at_iso: String,
    pub saved_by: String,
    pub latest: bool,
}

/// A paper's revisions, and a comparison of two of them when asked.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RevisionsView {
    pub slug: String,
    pub title: String,
    pub edit_href: String,
    /// Where the comparison form goes (GET) and restoring posts.
    pub compare_action: String,
    pub restore_action: String,
    pub rows: Vec<RevisionRow>,
    pub revision: i64,
    pub old: i64,
    pub new: i64,
    /// Groups of changed lines with context: (change, text) pairs, where
    /// change is "same", "removed" or "added".
    pub groups: Vec<Vec<DiffLineView>>,
    pub compared: bool,
    pub problem: Option<String>,
}

/// One line of a comparison.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DiffLineView {
    pub change: String,
    pub text: String,
}

/// `text` as a QR code: a `data:` URL of an SVG image, black on white.
pub fn qr_data_url(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    let svg = svg.split_once("?>").map_or(svg.as_str(), |(_, rest)| rest);
    // Percent-encoded whole: a URL may not hold `<`, `>`, `"` or spaces.
    let mut url = String::with_capacity(svg.len() * 2);
    url.push_str("data:image/svg+xml,");
    for byte in svg.bytes() {
        if byte.is_ascii_alphanumeric() || b".-_/=:;,".contains(&byte) {
            url.push(char::from(byte));
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    Some(url)
}

impl AdminPages {
    /// The admin's templates, linking the admin's files in `assets`.
    pub fn new(assets: &Assets) -> Result<AdminPages, RenderError> {
        let mut env = Environment::new();
        env.set_formatter(html_formatter);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .map_err(|source| RenderError { template: name, source })?;
        }
        Ok(AdminPages {
            env,
            css_url: assets.url("admin.css"),
            editor_js_url: assets.url("admin-editor.js"),
        })
    }

    /// The editor's script's URL, for [`Chrome::scripts`].
    pub fn editor_js_url(&self) -> &str {
        &self.editor_js_url
    }

    /// The admin stylesheet's URL, for [`Chrome::css_url`].
    pub fn css_url(&self) -> &str {
        &self.css_url
    }

    fn render<T: Serialize>(
        &self,
        template: &'static str,
        title: &str,
        chrome: &Chrome,
        view: &T,
    ) -> Result<String, RenderError> {
        let wrap = |source| RenderError { template, source };
        self.env
            .get_template(template)
            .map_err(wrap)?
            .render(minijinja::context! {
                title => title,
                chrome => Value::from(Serde(chrome)),
                view => Value::from(Serde(view)),
            })
            .map_err(wrap)
    }

    pub fn login(&self, chrome: &Chrome, view: &LoginView) -> Result<String, RenderError> {
        self.render("admin/login.html", "Sign in", chrome, view)
    }

    pub fn password(&self, chrome: &Chrome, view: &PasswordView) -> Result<String, RenderError> {
        self.render("admin/password.html", view.heading, chrome, view)
    }

    pub fn message(&self, chrome: &Chrome, view: &MessageView) -> Result<String, RenderError> {
        self.render("admin/message.html", &view.heading, chrome, view)
    }

    pub fn dashboard(&self, chrome: &Chrome, view: &DashboardView) -> Result<String, RenderError> {
        self.render("admin/dashboard.html", "Dashboard", chrome, view)
    }

    pub fn users(&self, chrome: &Chrome, view: &UsersView) -> Result<String, RenderError> {
        self.render("admin/users.html", "Accounts", chrome, view)
    }

    pub fn audit(&self, chrome: &Chrome, view: &AuditView) -> Result<String, RenderError> {
        self.render("admin/audit.html", "Audit log", chrome, view)
    }

    pub fn papers(&self, chrome: &Chrome, view: &PapersView) -> Result<String, RenderError> {
        self.render("admin/papers.html", "Papers", chrome, view)
    }

    pub fn comments(&self, chrome: &Chrome, view: &CommentsView) -> Result<String, RenderError> {
        self.render("admin/comments.html", "Comments", chrome, view)
    }

    pub fn bylines(&self, chrome: &Chrome, view: &BylinesView) -> Result<String, RenderError> {
        self.render("admin/bylines.html", view.heading, chrome, view)
    }

    pub fn code(&self, chrome: &Chrome, view: &CodeView) -> Result<String, RenderError> {
        self.render("admin/code.html", "Two-step verification", chrome, view)
    }

    pub fn account(&self, chrome: &Chrome, view: &AccountView) -> Result<String, RenderError> {
        self.render("admin/account.html", "Your account", chrome, view)
    }

    pub fn forgot(&self, chrome: &Chrome, view: &ForgotView) -> Result<String, RenderError> {
        self.render("admin/forgot.html", "Forgotten password", chrome, view)
    }

    pub fn editor(&self, chrome: &Chrome, view: &EditorView) -> Result<String, RenderError> {
        let title = if view.original.is_some() {
            "Edit paper"
        } else {
            "New paper"
        };
        self.render("admin/editor.html", title, chrome, view)
    }

    pub fn revisions(&self, chrome: &Chrome, view: &RevisionsView) -> Result<String, RenderError> {
        self.render("admin/revisions.html", "Revisions", chrome, view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrome(staff: bool) -> Chrome {
        Chrome {
            site_name: "Harbour <Institute>".into(),
            language: "en".into(),
            dir: "ltr",
            css_url: "/assets/admin.x.css".into(),
            staff: staff.then(|| StaffView {
                name: "Ada <b>Lovelace</b>".into(),
                email: "ada@example.org".into(),
                role_label: "Administrator",
                author: None,
            }),
            csrf: "tok\"en".into(),
            nav: vec![NavItem {
                href: "/admin/",
                label: "Dashboard",
                current: true,
                count: 0,
                count_label: "",
            }],
            notice: None,
            scripts: Vec::new(),
        }
    }

    #[test]
    fn admin_pages_escape_what_they_print_and_carry_their_tokens() {
        let pages = AdminPages::new(&Assets::embedded()).expect("templates");
        assert!(pages.css_url().starts_with("/assets/admin.") && pages.css_url().ends_with(".css"));
        let html = pages
            .login(
                &chrome(false),
                &LoginView {
                    csrf: "c1".into(),
                    email: "\"><script>x</script>".into(),
                    next: "/admin/".into(),
                    problem: Some("The address or the password is wrong.".into()),
                },
            )
            .expect("login");
        assert!(html.contains("Harbour &lt;Institute&gt;"));
        assert!(!html.contains("<script>x"), "the typed address is escaped");
        assert!(html.contains(r#"name="csrf" value="c1""#));
        assert!(html.contains(r#"role="alert""#));
        assert!(!html.contains("Sign out"), "no account before signing in");
        let html = pages
            .dashboard(&chrome(true), &DashboardView::default())
            .expect("dashboard");
        assert!(html.contains("Ada &lt;b&gt;Lovelace&lt;/b&gt;"));
        assert!(
            html.contains(r#"value="tok&quot;en""#),
            "the frame's forms carry the token"
        );
        assert!(html.contains(r#"aria-current="page""#));
    }

    #[test]
    fn every_admin_screen_renders() {
        let pages = AdminPages::new(&Assets::embedded()).expect("templates");
        let users = UsersView {
            users: vec![UserRow {
                id: 1,
                name: "Ada".into(),
                email: "ada@example.org".into(),
                role: "administrator",
                standing: "Active",
                disabled: false,
                has_password: true,
                author: None,
                is_you: true,
            }],
            roles: vec![Choice {
                value: "editor".into(),
                label: "Editor".into(),
            }],
            authors: vec![AuthorChoice {
                slug: "ada".into(),
                name: "Ada".into(),
            }],
            errors: InviteErrors {
                email: Some("is wrong".into()),
                name: None,
            },
            ..UsersView::default()
        };
        let html = pages.users(&chrome(true), &users).expect("users");
        assert!(html.contains("The address is wrong"));
        let audit = AuditView {
            records: vec![AuditRow {
                at: "2026-12-04 10:00 UTC".into(),
                at_iso: "2026-12-04T10:00:00Z".into(),
                actor: "command line".into(),
                action: "user.add".into(),
                subject: "ada@example.org".into(),
                detail: "administrator".into(),
            }],
            older: Some("/admin/audit?before=1".into()),
            zone: "UTC".into(),
        };
        assert!(pages.audit(&chrome(true), &audit).expect("audit").contains("user.add"));
        assert!(
            pages
                .forgot(&chrome(false), &ForgotView::default())
                .expect("forgot")
                .contains("Send me a link")
        );
        let message = MessageView {
            heading: "Gone".into(),
            message: "It is gone.".into(),
            link: Some(LinkView {
                href: "/admin/login".into(),
                label: "Sign in".into(),
            }),
        };
        assert!(
            pages
                .message(&chrome(false), &message)
                .expect("message")
                .contains("It is gone.")
        );
    }
}
