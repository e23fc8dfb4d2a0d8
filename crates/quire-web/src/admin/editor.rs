//! The paper editor: a new paper or an existing one as a form over
//! `App::save_paper` (save, submit for review, publish, schedule,
//! unpublish), the preview of what the form holds as the site's own page,
//! and the paper's revisions, compared and restored. A form that cannot
//! be saved comes back as typed, each problem beside its field.

use super::papers::status_label;
use super::session::{SignedIn, StaffForm};
use super::users::refused;
use super::{admin_page, chrome, failed};
use crate::AppState;
use crate::forms::{Form, FormKind};
use crate::plumbing::see_other;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{Response, StatusCode};
use quire_app::AppError;
use quire_app::accounts::Actor;
use quire_app::editing::{EditorPaper, PaperEdit, SaveIntent, Saved};
use quire_core::domain::{CommentsMode, PaperInput, Status, validate_slug};
use quire_render::admin::{
    Choice, DiffLineView, EditorFields, EditorView, FieldProblem, ImageRow, RevisionRow, RevisionsView,
};

/// The editor's form: a whole paper, so a long one (a 200,000-word report
/// is about 1.5 MB, and encoding may triple it).
pub(crate) struct EditorFormKind;
impl FormKind for EditorFormKind {
    const MAX_BYTES: usize = 8 * 1024 * 1024;
    const WHAT: &'static str = "paper";
}

/// The restore form: a revision number.
pub(crate) struct RestoreForm;
impl FormKind for RestoreForm {
    const MAX_BYTES: usize = 4 * 1024;
    const WHAT: &'static str = "form";
}

/// Most authors a byline takes from the form (more is a mistake).
const MAX_AUTHORS: usize = 100;

fn fields_from_form(form: &Form<EditorFormKind>) -> EditorFields {
    EditorFields {
        title: form.field("title").to_owned(),
        subtitle: form.field("subtitle").to_owned(),
        slug: form.field("slug").trim().to_owned(),
        kind: form.field("kind").to_owned(),
        summary: form.field("summary").to_owned(),
        authors: form.field("authors").to_owned(),
        topics: form.all("topics"),
        language: form.field("language").trim().to_owned(),
        translation_of: form.field("translation_of").trim().to_owned(),
        canonical_url: form.field("canonical_url").trim().to_owned(),
        comments: form.field("comments").to_owned(),
        // Browsers send lines ending in CR LF; the paper keeps LF.
        body: form.field("body").replace("\r\n", "\n"),
        schedule_at: form.field("schedule_at").trim().to_owned(),
    }
}

/// The typed fields as a paper to check; its status and date are the
/// operation's to set.
fn input_from_fields(f: &EditorFields, default_language: &str) -> PaperInput {
    let optional = |s: &str| {
        let s = s.trim();
        (!s.is_empty()).then(|| s.to_owned())
    };
    PaperInput {
        slug: f.slug.clone(),
        title: f.title.clone(),
        subtitle: optional(&f.subtitle),
        kind: f.kind.trim().to_owned(),
        summary: f.summary.replace("\r\n", "\n"),
        body: f.body.clone(),
        authors: f
            .authors
            .split([',', '\n'])
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .take(MAX_AUTHORS)
            .map(str::to_owned)
            .collect(),
        topics: f.topics.iter().take(MAX_AUTHORS).cloned().collect(),
        language: optional(&f.language).unwrap_or_else(|| default_language.to_owned()),
        status: Status::Draft,
        published_at: None,
        canonical_url: optional(&f.canonical_url),
        translation_of: optional(&f.translation_of),
        comments: f.comments.parse().unwrap_or(CommentsMode::Open),
        media: Vec::new(),
    }
}

fn fields_from_paper(e: &EditorPaper, state: &AppState) -> EditorFields {
    let m = &e.paper.meta;
    let zone = state.config().zone();
    EditorFields {
        title: m.title.clone(),
        subtitle: m.subtitle.clone().unwrap_or_default(),
        slug: m.slug.clone(),
        kind: m.kind.clone(),
        summary: m.summary.clone(),
        authors: m.authors.iter().map(|a| a.slug.as_str()).collect::<Vec<_>>().join(", "),
        topics: m.topics.iter().map(|t| t.slug.clone()).collect(),
        language: m.language.clone(),
        translation_of: m.translation_of.clone().unwrap_or_default(),
        canonical_url: m.canonical_url.clone().unwrap_or_default(),
        comments: m.comments.as_str().to_owned(),
        body: e.paper.body.clone(),
        schedule_at: m.published_at.map(|t| zone.local_input(t)).unwrap_or_default(),
    }
}

/// The editor page for `view`, with its choices filled in.
async fn editor_page(
    state: &AppState,
    signed: &SignedIn,
    status: StatusCode,
    mut view: EditorView,
    notice: Option<String>,
) -> Response<Body> {
    let built = async {
        let config = state.config();
        let choice = |(value, label): &(String, String)| Choice {
            value: value.clone(),
            label: label.clone(),
        };
        view.kinds = config
            .kinds
            .iter()
            .map(|k| Choice {
                value: k.clone(),
                label: k.clone(),
            })
            .collect();
        view.authors = state.store.author_names().await?.iter().map(choice).collect();
        view.topics = state.store.topic_names().await?.iter().map(choice).collect();
        view.zone = config.zone().name().to_owned();
        view.may_upload = view.original.is_some() && signed.staff().role.may(quire_core::domain::Action::UploadImages);
        if view.fields.comments.is_empty() {
            view.fields.comments = "open".into();
        }
        let mut chrome = chrome(state, Some(signed), "/admin/papers").await?;
        chrome.notice = notice;
        chrome.scripts = vec![state.admin.editor_js_url().to_owned()];
        Ok::<_, AppError>(state.admin.editor(&chrome, &view))
    };
    match built.await {
        Ok(Ok(html)) => admin_page(status, html),
        Ok(Err(e)) => state.error_page(&e.into()),
        Err(e) => failed(state, e),
    }
}

/// The view of the stored paper `e`.
fn stored_view(state: &AppState, e: &EditorPaper) -> EditorView {
    let m = &e.paper.meta;
    let zone = state.config().zone();
    let now = time::OffsetDateTime::now_utc();
    EditorView {
        original: Some(m.slug.clone()),
        base_revision: e.revision,
        fields: fields_from_paper(e, state),
        status: m.status.as_str().to_owned(),
        status_label: status_label(m.status).to_owned(),
        date: m.published_at.map(|t| zone.describe(t)).unwrap_or_default(),
        submitted: e.submitted_at.is_some(),
        may_publish: e.may_publish,
        public_href: m.is_public_at(now).then(|| quire_render::paths::paper(&m.slug)),
        revisions_href: Some(revisions_href(&m.slug)),
        pdf_href: Some(format!("/admin/papers/{}/pdf", m.slug)),
        images: e
            .paper
            .media
            .iter()
            .map(|i| ImageRow {
                name: i.name.clone(),
                size: match (i.width, i.height) {
                    (Some(w), Some(h)) => format!("{w} × {h}, {} kB", i.byte_size.div_ceil(1024)),
                    _ => format!("{} kB", i.byte_size.div_ceil(1024)),
                },
                markdown: format!("![Describe the image]({})", quire_core::domain::media_path(&i.name)),
            })
            .collect(),
        ..EditorView::default()
    }
}

fn revisions_href(slug: &str) -> String {
    format!("/admin/papers/{slug}/revisions")
}

fn edit_href(slug: &str) -> String {
    format!("/admin/papers/{slug}/edit")
}

/// `GET /admin/papers/new`.
pub(crate) async fn new_paper(State(state): State<AppState>, signed: SignedIn) -> Response<Body> {
    let staff = signed.staff();
    let config = state.config();
    let view = EditorView {
        fields: EditorFields {
            authors: staff.author.clone().unwrap_or_default(),
            language: config.language.clone(),
            kind: config.kinds.first().cloned().unwrap_or_default(),
            ..EditorFields::default()
        },
        may_publish: staff.role.may(quire_core::domain::Action::Publish),
        ..EditorView::default()
    };
    editor_page(&state, &signed, StatusCode::OK, view, None).await
}

fn slug_or_404(slug: &str) -> Result<(), AppError> {
    validate_slug(slug).map_err(|_| AppError::NotFound {
        what: "paper",
        key: "slug",
        value: slug.to_owned(),
    })
}

/// `GET /admin/papers/{slug}/edit`.
pub(crate) async fn edit_paper(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(slug): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response<Body> {
    let actor = Actor::Staff(signed.staff().clone());
    let found = async {
        slug_or_404(&slug)?;
        state.app.editor_paper(&actor, &slug).await
    };
    match found.await {
        Ok(e) => {
            let notice = query_value(raw.as_deref(), "saved").and_then(|done| saved_notice(&state, &e, &done));
            editor_page(&state, &signed, StatusCode::OK, stored_view(&state, &e), notice).await
        }
        Err(e) => refused(&state, &signed, e).await,
    }
}

/// What the editor says after `done` was done to `e`.
fn saved_notice(state: &AppState, e: &EditorPaper, done: &str) -> Option<String> {
    let zone = state.config().zone();
    let m = &e.paper.meta;
    Some(match done {
        "draft" => "Draft saved.".to_owned(),
        "saved" => "Changes saved.".to_owned(),
        "submitted" => "Submitted for review: editors see it waiting in the papers list.".to_owned(),
        "published" => "Published: readers see it now.".to_owned(),
        "scheduled" => format!(
            "Scheduled: readers see it from {}.",
            m.published_at.map(|t| zone.describe(t)).unwrap_or_default()
        ),
        "unpublished" => "Unpublished: it is a draft again, and readers no longer see it.".to_owned(),
        "restored" => "Revision restored as the latest one.".to_owned(),
        _ => return None,
    })
}

fn query_value(raw: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.chars().take(32).collect())
}

/// What the form asked for, or the problem with its time.
fn intent(state: &AppState, form: &Form<EditorFormKind>) -> Result<SaveIntent, FieldProblem> {
    Ok(match form.field("intent") {
        "submit" => SaveIntent::Submit,
        "publish" => SaveIntent::Publish,
        "unpublish" => SaveIntent::Unpublish,
        "schedule" => {
            let text = form.field("schedule_at");
            if text.trim().is_empty() {
                return Err(FieldProblem {
                    field: "schedule_at".into(),
                    message: "choose the date and time it goes out".into(),
                });
            }
            let at = state.config().zone().parse(text).map_err(|message| FieldProblem {
                field: "schedule_at".into(),
                message,
            })?;
            SaveIntent::Schedule(at)
        }
        // The first button, which Enter in a field presses too.
        _ => SaveIntent::Save,
    })
}

/// The edit as the form sends it.
fn edit_from(state: &AppState, form: &Form<EditorFormKind>, intent: SaveIntent) -> PaperEdit {
    let fields = fields_from_form(form);
    let original = Some(form.field("original").trim().to_owned()).filter(|s| !s.is_empty());
    PaperEdit {
        original,
        base_revision: form.field("base_revision").trim().parse().unwrap_or(-1),
        paper: input_from_fields(&fields, &state.config().language),
        intent,
    }
}

/// The problems an error holds for the form's fields, or `None` when it
/// is not about them.
fn field_problems(error: &AppError, zone: &quire_app::clock::SiteZone) -> Option<Vec<FieldProblem>> {
    Some(match error {
        AppError::Papers(problems) => problems
            .iter()
            .map(|p| FieldProblem {
                field: p.problem.field.clone().unwrap_or_default(),
                message: p.problem.message.clone(),
            })
            .collect(),
        AppError::Invalid { field, message } => vec![FieldProblem {
            field: (*field).to_owned(),
            message: message.clone(),
        }],
        AppError::WouldGoOffline { live_since, at, .. } => vec![FieldProblem {
            field: "schedule_at".into(),
            message: format!(
                "readers have seen this paper since {}: scheduling it for {} would take it offline until then. \
                 Unpublish it first if that is what you want",
                zone.describe(*live_since),
                zone.describe(*at)
            ),
        }],
        AppError::WrongState(message) => vec![FieldProblem {
            field: String::new(),
            message: message.clone(),
        }],
        _ => return None,
    })
}

/// The form again, as typed, with what stopped it.
async fn form_again(
    state: &AppState,
    signed: &SignedIn,
    form: &Form<EditorFormKind>,
    status: StatusCode,
    problems: Vec<FieldProblem>,
    conflict: Option<String>,
) -> Response<Body> {
    let actor = Actor::Staff(signed.staff().clone());
    let original = Some(form.field("original").trim().to_owned()).filter(|s| !s.is_empty());
    let mut view = match &original {
        Some(slug) => match state.app.editor_paper(&actor, slug).await {
            Ok(e) => stored_view(state, &e),
            Err(e) => return refused(state, signed, e).await,
        },
        None => EditorView {
            may_publish: signed.staff().role.may(quire_core::domain::Action::Publish),
            ..EditorView::default()
        },
    };
    view.fields = fields_from_form(form);
    view.base_revision = form.field("base_revision").trim().parse().unwrap_or(view.base_revision);
    view.problems = problems;
    view.conflict = conflict;
    editor_page(state, signed, status, view, None).await
}

/// Whether the request is the editor's script, which wants JSON back.
fn wants_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// A JSON answer for the editor's script.
fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let mut response = Response::new(Body::from(value.to_string()));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    h.insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("private, no-store"),
    );
    response
}

/// An error as the editor's script reads it: its stable code, its
/// message, and the fields it concerns.
fn json_error(status: StatusCode, code: &str, message: &str, fields: &[FieldProblem]) -> Response<Body> {
    let fields: Vec<serde_json::Value> = fields
        .iter()
        .map(|f| serde_json::json!({ "field": f.field, "message": f.message }))
        .collect();
    json(
        status,
        &serde_json::json!({ "error": { "code": code, "message": message, "fields": fields } }),
    )
}

/// The JSON answer to a save the editor's script made.
fn saved_json(result: Result<Saved, AppError>, zone: &quire_app::clock::SiteZone) -> Response<Body> {
    match result {
        Ok(saved) => json(
            StatusCode::OK,
            &serde_json::json!({
                "slug": saved.slug,
                "revision": saved.revision,
                "status": saved.status.as_str(),
                "submitted": saved.submitted,
            }),
        ),
        Err(e) => {
            let status = match &e {
                AppError::EditConflict { .. } => StatusCode::CONFLICT,
                AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
                AppError::NotFound { .. } => StatusCode::NOT_FOUND,
                e if e.is_bad_input() => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            let fields = field_problems(&e, zone).unwrap_or_default();
            let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
                tracing::error!(error = %e, "saving a paper failed");
                "the site could not save it; try again".to_owned()
            } else {
                e.to_string()
            };
            json_error(status, e.code(), &message, &fields)
        }
    }
}

/// `POST /admin/papers/save`.
pub(crate) async fn save(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    posted: StaffForm<EditorFormKind>,
) -> Response<Body> {
    let StaffForm { signed, form } = posted;
    let as_json = wants_json(&headers);
    let intent = match intent(&state, &form) {
        Ok(i) => i,
        Err(problem) if as_json => {
            return json_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                &problem.message,
                std::slice::from_ref(&problem),
            );
        }
        Err(problem) => {
            return form_again(
                &state,
                &signed,
                &form,
                StatusCode::UNPROCESSABLE_ENTITY,
                vec![problem],
                None,
            )
            .await;
        }
    };
    let actor = Actor::Staff(signed.staff().clone());
    let edit = edit_from(&state, &form, intent);
    let was_new = edit.original.is_none();
    let result = state.app.save_paper(&actor, edit).await;
    if result.is_ok() {
        // This server's readers see the change at once; other servers
        // hear of it through the store's change watch.
        state.cache.invalidate();
    }
    if as_json {
        return saved_json(result, &state.config().zone());
    }
    match result {
        Ok(saved) => see_other(&format!(
            "{}?saved={}",
            edit_href(&saved.slug),
            done_word(intent, &saved, was_new)
        )),
        Err(AppError::EditConflict {
            revision,
            saved_by,
            saved_at,
            ..
        }) => {
            let zone = state.config().zone();
            let who = saved_by.unwrap_or_else(|| "someone on the command line".to_owned());
            let when = saved_at
                .map(|t| format!(" at {}", zone.describe(t)))
                .unwrap_or_default();
            let message = format!(
                "{who} saved this paper{when} (revision {revision}) after you opened it, so your save would undo their changes. Nothing was saved."
            );
            form_again(&state, &signed, &form, StatusCode::CONFLICT, Vec::new(), Some(message)).await
        }
        Err(e) => match field_problems(&e, &state.config().zone()) {
            Some(problems) => {
                form_again(&state, &signed, &form, StatusCode::UNPROCESSABLE_ENTITY, problems, None).await
            }
            None => refused(&state, &signed, e).await,
        },
    }
}

fn done_word(intent: SaveIntent, saved: &Saved, was_new: bool) -> &'static str {
    match intent {
        SaveIntent::Submit => "submitted",
        SaveIntent::Publish => "published",
        SaveIntent::Schedule(_) if saved.status == Status::Scheduled => "scheduled",
        SaveIntent::Schedule(_) => "published",
        SaveIntent::Unpublish => "unpublished",
        SaveIntent::Save if was_new || saved.status == Status::Draft => "draft",
        SaveIntent::Save => "saved",
    }
}

/// `POST /admin/papers/preview`: the page readers would see, from the
/// form as typed; nothing is saved.
pub(crate) async fn preview(State(state): State<AppState>, posted: StaffForm<EditorFormKind>) -> Response<Body> {
    let StaffForm { signed, form } = posted;
    let actor = Actor::Staff(signed.staff().clone());
    let edit = edit_from(&state, &form, SaveIntent::Save);
    match state.app.preview_paper(&actor, edit).await {
        Ok(paper) => match crate::pages::render_paper_preview(&state, &paper).await {
            Ok(html) => {
                // Shown beside the text in the editor's own frame.
                let mut response = admin_page(StatusCode::OK, html);
                response.headers_mut().insert(
                    axum::http::header::X_FRAME_OPTIONS,
                    axum::http::HeaderValue::from_static("SAMEORIGIN"),
                );
                response
            }
            Err(e) => state.error_page(&e),
        },
        Err(e) => match field_problems(&e, &state.config().zone()) {
            Some(problems) => {
                form_again(&state, &signed, &form, StatusCode::UNPROCESSABLE_ENTITY, problems, None).await
            }
            None => refused(&state, &signed, e).await,
        },
    }
}

/// `GET /admin/papers/{slug}/revisions[?old=N&new=M]`.
pub(crate) async fn revisions(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(slug): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response<Body> {
    let actor = Actor::Staff(signed.staff().clone());
    let number = |name| query_value(raw.as_deref(), name).and_then(|v| v.trim().parse::<i64>().ok());
    let (old, new) = (number("old"), number("new"));
    let built = async {
        slug_or_404(&slug)?;
        let e = state.app.editor_paper(&actor, &slug).await?;
        let list = state.app.paper_revisions(&actor, &slug).await?;
        let zone = state.config().zone();
        let latest = list.first().map_or(0, |r| r.number);
        let mut view = RevisionsView {
            slug: slug.clone(),
            title: e.paper.meta.title.clone(),
            edit_href: edit_href(&slug),
            compare_action: revisions_href(&slug),
            restore_action: format!("{}/restore", revisions_href(&slug)),
            revision: e.revision,
            old: old.unwrap_or_else(|| list.get(1).map_or(latest, |r| r.number)),
            new: new.unwrap_or(latest),
            rows: list
                .iter()
                .map(|r| RevisionRow {
                    number: r.number,
                    saved_at: zone.describe(r.saved_at),
                    saved_at_iso: r
                        .saved_at
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default(),
                    saved_by: r.saved_by.clone().unwrap_or_else(|| "command line".to_owned()),
                    latest: r.number == e.revision,
                })
                .collect(),
            ..RevisionsView::default()
        };
        if let (Some(a), Some(b)) = (old, new) {
            match state.app.compare_revisions(&actor, &slug, a, b).await {
                Ok(diff) => {
                    view.compared = true;
                    view.groups = diff
                        .groups
                        .into_iter()
                        .map(|g| {
                            g.into_iter()
                                .map(|l| DiffLineView {
                                    change: l.change.to_owned(),
                                    text: l.text,
                                })
                                .collect()
                        })
                        .collect();
                }
                Err(AppError::NotFound { value, .. }) => {
                    view.problem = Some(format!("There is no revision {value} of this paper."));
                }
                Err(e) => return Err(e),
            }
        }
        let chrome = chrome(&state, Some(&signed), "/admin/papers").await?;
        Ok(state.admin.revisions(&chrome, &view))
    };
    match built.await {
        Ok(Ok(html)) => admin_page(StatusCode::OK, html),
        Ok(Err(e)) => state.error_page(&e.into()),
        Err(e) => refused(&state, &signed, e).await,
    }
}

/// `POST /admin/papers/{slug}/revisions/restore`.
pub(crate) async fn restore(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    posted: StaffForm<RestoreForm>,
) -> Response<Body> {
    let actor = Actor::Staff(posted.signed.staff().clone());
    let number: i64 = posted.form.field("number").trim().parse().unwrap_or(-1);
    let base: i64 = posted.form.field("base_revision").trim().parse().unwrap_or(-1);
    let restored = async {
        slug_or_404(&slug)?;
        state.app.restore_revision(&actor, &slug, number, base).await
    };
    match restored.await {
        Ok(saved) => {
            state.cache.invalidate();
            see_other(&format!("{}?saved=restored", edit_href(&saved.slug)))
        }
        Err(e) => refused(&state, &posted.signed, e).await,
    }
}

/// Largest upload taken: the largest image kept, and room for the form's
/// other fields and the multipart framing.
pub(crate) const MAX_UPLOAD_BYTES: usize = quire_core::domain::MAX_MEDIA_BYTES + 64 * 1024;

/// What an upload form holds.
#[derive(Default)]
struct Upload {
    csrf: String,
    description: String,
    file_name: String,
    data: Vec<u8>,
}

/// Reads the upload form: its few known fields, each within its size;
/// anything else is refused.
async fn read_upload(mut multipart: axum::extract::Multipart) -> Result<Upload, (StatusCode, String)> {
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        // Past the body's limit, whichever layer's error carries it.
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        let (mut too_large, mut too_slow) = (false, false);
        while let Some(err) = source {
            too_large |= err.is::<http_body_util::LengthLimitError>();
            too_slow |= err.is::<crate::server::BodyTimeout>();
            source = err.source();
        }
        if too_slow {
            return (
                StatusCode::REQUEST_TIMEOUT,
                "The upload took too long to arrive. Send it again.".to_owned(),
            );
        }
        let status = if too_large {
            StatusCode::PAYLOAD_TOO_LARGE
        } else {
            e.status()
        };
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            (
                status,
                format!(
                    "The upload is too large: Quire keeps images up to {} MB. Save it smaller or at a lower resolution.",
                    quire_core::domain::MAX_MEDIA_BYTES / 1_048_576
                ),
            )
        } else {
            (status, format!("The upload could not be read ({e}). Send it again."))
        }
    };
    let refuse = |message: &str| (StatusCode::BAD_REQUEST, message.to_owned());
    let mut upload = Upload::default();
    let mut fields = 0;
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        fields += 1;
        if fields > 8 {
            return Err(refuse("The upload has more fields than its form."));
        }
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "image" => {
                upload.file_name = field.file_name().unwrap_or("").to_owned();
                upload.data = field.bytes().await.map_err(unreadable)?.to_vec();
            }
            "csrf" | "description" => {
                let text = field.text().await.map_err(unreadable)?;
                if text.len() > 2000 {
                    return Err(refuse("A field of the upload is longer than its form allows."));
                }
                if name == "csrf" {
                    upload.csrf = text;
                } else {
                    upload.description = text;
                }
            }
            _ => return Err(refuse("The upload has a field its form does not.")),
        }
    }
    Ok(upload)
}

/// `POST /admin/papers/{slug}/images`: an image for the paper, with what
/// it shows; the editor again with the Markdown that shows it.
pub(crate) async fn upload_image(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(slug): Path<String>,
    headers: axum::http::HeaderMap,
    multipart: axum::extract::Multipart,
) -> Response<Body> {
    if !crate::plumbing::same_site(&headers, &state.site().base_url) {
        return super::forged();
    }
    let upload = match read_upload(multipart).await {
        Ok(u) => u,
        Err((status, message)) => return super::refusal(status, &message),
    };
    if !quire_app::accounts::same_secret(&upload.csrf, signed.csrf()) {
        return super::forged();
    }
    let actor = Actor::Staff(signed.staff().clone());
    let e = match async {
        slug_or_404(&slug)?;
        state.app.editor_paper(&actor, &slug).await
    }
    .await
    {
        Ok(e) => e,
        Err(e) => return refused(&state, &signed, e).await,
    };
    let description = upload.description.trim().to_owned();
    let problem = |field: &str, message: String| FieldProblem {
        field: field.to_owned(),
        message,
    };
    let outcome = if description.is_empty() {
        Err(problem(
            "description",
            "say what the image shows, for readers who cannot see it".into(),
        ))
    } else if description.chars().any(|c| c.is_control() || c == '[' || c == ']') {
        Err(problem(
            "description",
            "write the description as plain text, without brackets or control characters".into(),
        ))
    } else {
        match state
            .app
            .add_paper_image(&actor, &slug, &upload.file_name, upload.data)
            .await
        {
            Ok(name) => Ok(name),
            Err(AppError::Invalid { message, .. }) => Err(problem("image", message)),
            Err(other) => return refused(&state, &signed, other).await,
        }
    };
    if wants_json(&headers) {
        return match outcome {
            Ok(name) => {
                state.cache.invalidate();
                let markdown = format!("![{description}]({})", quire_core::domain::media_path(&name));
                json(
                    StatusCode::OK,
                    &serde_json::json!({ "name": name, "markdown": markdown }),
                )
            }
            Err(p) => json_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                &p.message,
                std::slice::from_ref(&p),
            ),
        };
    }
    match outcome {
        Ok(name) => {
            state.cache.invalidate();
            let e = match state.app.editor_paper(&actor, &slug).await {
                Ok(e) => e,
                Err(err) => return refused(&state, &signed, err).await,
            };
            let markdown = format!("![{description}]({})", quire_core::domain::media_path(&name));
            let notice = format!("Image {name} added. Put it in the text where it belongs with: {markdown}");
            editor_page(&state, &signed, StatusCode::OK, stored_view(&state, &e), Some(notice)).await
        }
        Err(p) => {
            let mut view = stored_view(&state, &e);
            view.problems = vec![p];
            editor_page(&state, &signed, StatusCode::UNPROCESSABLE_ENTITY, view, None).await
        }
    }
}

/// `GET /admin/papers/{slug}/pdf`: the saved paper typeset exactly as it
/// will be published, for those who may edit it; never cached.
pub(crate) async fn draft_pdf(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(slug): Path<String>,
) -> Response<Body> {
    let actor = Actor::Staff(signed.staff().clone());
    let paper = match async {
        slug_or_404(&slug)?;
        state.app.paper_as_published(&actor, &slug).await
    }
    .await
    {
        Ok(p) => p,
        Err(e) => return refused(&state, &signed, e).await,
    };
    let store = state.store.clone();
    let id = paper.meta.id;
    match state
        .pdf
        .pdf(
            &paper,
            &state.site(),
            || async move { Ok(store.media_files(id).await?) },
        )
        .await
    {
        Ok(bytes) => {
            let mut response = Response::new(Body::from(bytes));
            let h = response.headers_mut();
            h.insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/pdf"),
            );
            h.insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("private, no-store"),
            );
            if let Ok(v) = axum::http::HeaderValue::from_str(&format!("inline; filename=\"{slug}-draft.pdf\"")) {
                h.insert(axum::http::header::CONTENT_DISPOSITION, v);
            }
            response
        }
        Err(e) => state.error_page(&e),
    }
}
