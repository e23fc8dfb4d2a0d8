//! The paper editor over HTTP: writing, saving, submitting, publishing and
//! scheduling by role; mistakes shown beside their fields with nothing
//! stored; saves over someone else's refused; the preview as the site's
//! own page; revisions compared and restored; hostile values. On SQLite,
//! and on PostgreSQL when QUIRE_TEST_POSTGRES_URL is set.

use super::{Browser, account, account_as, signed_in, site};
use axum::http::StatusCode;
use quire_app::accounts::Actor;
use quire_core::domain::{Role, Status};

/// The fields of a new paper, as the form sends them.
fn new_paper<'a>(csrf: &'a str, title: &'a str, body: &'a str, authors: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("base_revision", "0"),
        ("title", title),
        ("subtitle", ""),
        ("slug", ""),
        ("kind", "position paper"),
        ("summary", "What the paper says, briefly."),
        ("authors", authors),
        ("topics", "trade"),
        ("language", "en"),
        ("translation_of", ""),
        ("canonical_url", ""),
        ("comments", "open"),
        ("body", body),
        ("schedule_at", ""),
    ]
}

/// `fields` with `name` set to `value` (added when absent).
fn with<'a>(mut fields: Vec<(&'a str, &'a str)>, name: &'a str, value: &'a str) -> Vec<(&'a str, &'a str)> {
    match fields.iter_mut().find(|f| f.0 == name) {
        Some(f) => f.1 = value,
        None => fields.push((name, value)),
    }
    fields
}

/// The value of the hidden `base_revision` field of an editor page.
fn base_revision(html: &str) -> String {
    let at = html.find(r#"name="base_revision" value=""#).expect("a base revision")
        + r#"name="base_revision" value=""#.len();
    html[at..].split('"').next().expect("value").to_owned()
}

/// The whole form of the stored paper `slug`, as the editor page holds it,
/// for a browser to send back with changes.
async fn opened(browser: &mut Browser<'_>, slug: &str) -> (String, String) {
    let page = browser.get(&format!("/admin/papers/{slug}/edit")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let html = page.text();
    (super::csrf(&html), base_revision(&html))
}

const BODY: &str = "Ports matter.[^1]\n\n| Port | Tonnes |\n|---|---|\n| Haifa | 30 |\n\n[^1]: A note.\n";

#[tokio::test]
async fn a_contributor_submits_and_an_editor_publishes() {
    let site = site("editor_submit").await;
    account_as(&site, "cora@example.org", Role::Contributor, Some("alan")).await;
    account(&site, "ed@example.org", Role::Editor).await;
    let mut cora = signed_in(&site, "cora@example.org").await;
    let page = cora.get("/admin/papers/new").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(
        html.contains(r#"value="alan""#),
        "her author profile is the byline: {html}"
    );
    assert!(
        !html.contains(r#"value="publish""#),
        "a contributor is offered no Publish"
    );
    assert!(html.contains(r#"value="submit""#), "but Submit for review");
    let csrf = super::csrf(&html);

    // Saved as a draft: the paper, its first revision, a redirect to it.
    let reply = cora
        .post(
            "/admin/papers/save",
            &with(new_paper(&csrf, "Harbour Dues", BODY, "alan"), "intent", "save"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    assert_eq!(reply.headers["location"], "/admin/papers/harbour-dues/edit?saved=draft");
    let paper = site.state.app.paper("harbour-dues").await.expect("saved");
    assert_eq!(paper.meta.status, Status::Draft);
    assert_eq!(paper.body, BODY);
    assert_eq!(paper.meta.topics[0].slug, "trade");
    let shown = cora.get("/admin/papers/harbour-dues/edit?saved=draft").await.text();
    assert!(shown.contains("Draft saved."), "{shown}");
    assert_eq!(base_revision(&shown), "1");

    // She cannot publish it, even by posting the button's value herself.
    let (csrf, base) = opened(&mut cora, "harbour-dues").await;
    let fields = with(
        with(
            new_paper(&csrf, "Harbour Dues", BODY, "alan"),
            "original",
            "harbour-dues",
        ),
        "base_revision",
        &base,
    );
    let reply = cora
        .post("/admin/papers/save", &with(fields.clone(), "intent", "publish"))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
    assert_eq!(
        site.state.app.paper("harbour-dues").await.expect("paper").meta.status,
        Status::Draft
    );
    // She submits it for review.
    let reply = cora.post("/admin/papers/save", &with(fields, "intent", "submit")).await;
    assert_eq!(
        reply.headers["location"],
        "/admin/papers/harbour-dues/edit?saved=submitted",
        "{}",
        reply.text()
    );
    let state = site
        .state
        .store
        .edit_state("harbour-dues")
        .await
        .expect("state")
        .expect("paper");
    assert!(state.submitted_at.is_some(), "waiting for review");
    assert_eq!(state.revision, 2);

    // Editors find it waiting for review.
    let mut ed = signed_in(&site, "ed@example.org").await;
    let list = ed.get("/admin/papers").await.text();
    assert!(
        list.contains("Waiting for review <span class=\"admin-muted\">(1)</span>"),
        "{list}"
    );
    let waiting = ed.get("/admin/papers?status=review").await.text();
    assert_eq!(super::listed(&waiting), ["harbour-dues"]);
    assert!(
        waiting.contains(r#"href="/admin/papers/harbour-dues/edit""#),
        "the title opens the editor"
    );

    // The editor publishes it; readers see it at once.
    assert_eq!(
        crate::common::http::get(&site.state, "/papers/harbour-dues/")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let (csrf, base) = opened(&mut ed, "harbour-dues").await;
    let fields = with(
        with(
            new_paper(&csrf, "Harbour Dues", BODY, "alan"),
            "original",
            "harbour-dues",
        ),
        "base_revision",
        &base,
    );
    let reply = ed.post("/admin/papers/save", &with(fields, "intent", "publish")).await;
    assert_eq!(
        reply.headers["location"],
        "/admin/papers/harbour-dues/edit?saved=published",
        "{}",
        reply.text()
    );
    let state = site
        .state
        .store
        .edit_state("harbour-dues")
        .await
        .expect("state")
        .expect("paper");
    assert_eq!(
        (state.revision, state.submitted_at),
        (3, None),
        "publishing ends the review"
    );
    let page = crate::common::http::get(&site.state, "/papers/harbour-dues/").await;
    assert_eq!(page.status, StatusCode::OK);
    let page = page.text();
    assert!(page.contains("Harbour Dues"));
    assert!(page.contains("<table>"), "the table is rendered");
    assert!(
        page.contains("<li id=\"fn:1\"><p>A note. <a href=\"#fnref:1\""),
        "the footnote is numbered: {page}"
    );

    // Once it has gone out, it is out of the contributor's hands.
    assert_eq!(
        cora.get("/admin/papers/harbour-dues/edit").await.status,
        StatusCode::FORBIDDEN
    );
    // The audit log says who published it.
    let log = site
        .state
        .app
        .audit_log(&Actor::CommandLine, None, 50)
        .await
        .expect("audit");
    assert!(
        log.iter()
            .any(|r| r.action == "paper.publish" && r.subject == "harbour-dues" && r.actor.contains("ed@example.org")),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|r| r.action == "paper.submit" && r.actor.contains("cora@example.org"))
    );
}

#[tokio::test]
async fn mistakes_come_back_beside_their_fields_and_nothing_is_stored() {
    let site = site("editor_mistakes").await;
    account(&site, "ed@example.org", Role::Editor).await;
    let mut ed = signed_in(&site, "ed@example.org").await;
    let csrf = ed.token("/admin/papers/new").await;
    let v = site.state.store.content_version().await.expect("version");
    let fields = with(
        with(
            with(
                new_paper(&csrf, "   ", "Body <b>typed</b>", "ghost, ada"),
                "kind",
                "novel",
            ),
            "canonical_url",
            "javascript:alert(1)",
        ),
        "slug",
        "../etc/passwd",
    );
    let reply = ed.post("/admin/papers/save", &fields).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text());
    let html = reply.text();
    for (field, words) in [
        ("title", "must not be empty"),
        ("kind", "unknown kind"),
        ("canonical_url", ""),
        ("slug", ""),
    ] {
        assert!(
            html.contains(&format!(r#"id="paper-{field}-error""#)),
            "{field} marked: {html}"
        );
        assert!(html.contains(words), "{field}: {words}");
    }
    assert!(html.contains("Nothing was saved"));
    // What was typed is kept, escaped.
    assert!(html.contains("Body &lt;b&gt;typed&lt;/b&gt;"), "{html}");
    assert!(html.contains(r#"value="ghost, ada""#));
    assert_eq!(
        site.state.store.content_version().await.expect("version"),
        v,
        "nothing written"
    );

    // Only the database knows that an author is missing; that too is said.
    let reply = ed
        .post("/admin/papers/save", &new_paper(&csrf, "Fine Title", "Text.", "ghost"))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.text().contains("unknown author &quot;ghost&quot;"),
        "{}",
        reply.text()
    );
    // A slug taken by another paper.
    let reply = ed
        .post(
            "/admin/papers/save",
            &with(new_paper(&csrf, "Ports", "Text.", "ada"), "slug", "ports"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.text().contains("already exists"), "{}", reply.text());
    assert_eq!(
        site.state.app.paper("ports").await.expect("paper").meta.title,
        "Ports and Harbours"
    );
    // Scheduling without a time, or with one that is no time.
    for (at, words) in [("", "choose the date and time"), ("tomorrow", "is not a time")] {
        let fields = with(
            with(new_paper(&csrf, "Later", "Text.", "ada"), "intent", "schedule"),
            "schedule_at",
            at,
        );
        let reply = ed.post("/admin/papers/save", &fields).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.text().contains(words), "{at:?}: {}", reply.text());
    }
    assert_eq!(
        site.state.store.content_version().await.expect("version"),
        v,
        "nothing written"
    );
}

#[tokio::test]
async fn a_save_over_someone_elses_is_refused_and_keeps_what_was_typed() {
    let site = site("editor_conflict").await;
    account(&site, "ed@example.org", Role::Editor).await;
    account(&site, "eve@example.org", Role::Editor).await;
    let mut ed = signed_in(&site, "ed@example.org").await;
    let mut eve = signed_in(&site, "eve@example.org").await;
    let (ed_csrf, ed_base) = opened(&mut ed, "secret-draft").await;
    let (eve_csrf, eve_base) = opened(&mut eve, "secret-draft").await;
    assert_eq!(ed_base, eve_base);
    let ed_form = with(
        with(
            new_paper(&ed_csrf, "Secret Draft", "Ed's words.", "ada"),
            "original",
            "secret-draft",
        ),
        "base_revision",
        &ed_base,
    );
    let reply = ed.post("/admin/papers/save", &ed_form).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    let eve_form = with(
        with(
            new_paper(&eve_csrf, "Secret Draft", "Eve's words.", "ada"),
            "original",
            "secret-draft",
        ),
        "base_revision",
        &eve_base,
    );
    let reply = eve.post("/admin/papers/save", &eve_form).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
    let html = reply.text();
    assert!(html.contains("ed saved this paper"), "says who: {html}");
    assert!(html.contains("Nothing was saved"));
    assert!(html.contains("Eve&#39;s words."), "her text is kept: {html}");
    let paper = site.state.app.paper("secret-draft").await.expect("paper");
    assert_eq!(paper.body, "Ed's words.", "Ed's save stands");
    // A form that lost its revision is not taken as the latest either.
    let lost = with(eve_form, "base_revision", "x");
    assert_eq!(eve.post("/admin/papers/save", &lost).await.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn each_role_edits_and_publishes_only_what_it_may() {
    let site = site("editor_roles").await;
    account_as(&site, "ada@example.org", Role::Author, Some("ada")).await;
    account_as(&site, "cora@example.org", Role::Contributor, Some("alan")).await;
    account(&site, "nobody@example.org", Role::Author).await;
    // An author opens her own paper, not Alan's.
    let mut ada = signed_in(&site, "ada@example.org").await;
    assert_eq!(ada.get("/admin/papers/secret-draft/edit").await.status, StatusCode::OK);
    assert_eq!(ada.get("/admin/papers/old/edit").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        ada.get("/admin/papers/old/revisions").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        ada.get("/admin/papers/no-such/edit").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ada.get("/admin/papers/..%2F..%2Fetc/edit").await.status,
        StatusCode::NOT_FOUND
    );
    let csrf = ada.token("/admin/papers/new").await;
    // Saving over Alan's paper by naming it is refused, and changes nothing.
    let fields = with(
        with(new_paper(&csrf, "Taken Over", "Mine now.", "ada"), "original", "old"),
        "base_revision",
        "1",
    );
    assert_eq!(
        ada.post("/admin/papers/save", &fields).await.status,
        StatusCode::FORBIDDEN
    );
    assert_ne!(site.state.app.paper("old").await.expect("paper").body, "Mine now.");
    // A new paper must name her among its authors.
    let reply = ada
        .post("/admin/papers/save", &new_paper(&csrf, "Alan's Now", "Text.", "alan"))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.text().contains("name yourself"), "{}", reply.text());
    // She publishes her own.
    let (csrf, base) = opened(&mut ada, "secret-draft").await;
    let fields = with(
        with(
            new_paper(&csrf, "Secret Draft", "Out now.", "ada"),
            "original",
            "secret-draft",
        ),
        "base_revision",
        &base,
    );
    let reply = ada.post("/admin/papers/save", &with(fields, "intent", "publish")).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    assert_eq!(
        site.state.app.paper("secret-draft").await.expect("paper").meta.status,
        Status::Published
    );
    // An account that writes as no author cannot write a paper.
    let mut nobody = signed_in(&site, "nobody@example.org").await;
    let csrf = nobody.token("/admin/papers/new").await;
    let reply = nobody
        .post("/admin/papers/save", &new_paper(&csrf, "Orphan", "Text.", "ada"))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.text().contains("writes as no author"), "{}", reply.text());
    // Without a session, or without the token, nothing happens.
    let mut stranger = Browser::new(&site);
    let reply = stranger
        .post("/admin/papers/save", &new_paper("x", "Spam", "Text.", "ada"))
        .await;
    assert!(
        matches!(reply.status, StatusCode::SEE_OTHER | StatusCode::FORBIDDEN),
        "{:?}",
        reply.status
    );
    let mut cora = signed_in(&site, "cora@example.org").await;
    let reply = cora
        .post("/admin/papers/save", &new_paper("forged", "Spam", "Text.", "alan"))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(site.state.app.paper("spam").await.is_err());
}

#[tokio::test]
async fn scheduling_is_said_in_the_sites_clock_and_never_takes_a_live_paper_offline_by_surprise() {
    let site = site("editor_schedule").await;
    account(&site, "ed@example.org", Role::Editor).await;
    let mut ed = signed_in(&site, "ed@example.org").await;
    // A live paper scheduled for next year would vanish until then: refused.
    let (csrf, base) = opened(&mut ed, "ports").await;
    let fields = with(
        with(
            with(
                new_paper(&csrf, "Ports and Harbours", "Text.", "ada, alan"),
                "original",
                "ports",
            ),
            "base_revision",
            &base,
        ),
        "intent",
        "schedule",
    );
    let reply = ed
        .post("/admin/papers/save", &with(fields, "schedule_at", "2099-01-05T09:00"))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text());
    assert!(reply.text().contains("would take it offline"), "{}", reply.text());
    assert_eq!(
        site.state.app.paper("ports").await.expect("paper").meta.status,
        Status::Published
    );
    // A draft scheduled for then is scheduled, and the editor says when.
    let (csrf, base) = opened(&mut ed, "secret-draft").await;
    let fields = with(
        with(
            with(
                new_paper(&csrf, "Secret Draft", "Text.", "ada"),
                "original",
                "secret-draft",
            ),
            "base_revision",
            &base,
        ),
        "intent",
        "schedule",
    );
    let reply = ed
        .post("/admin/papers/save", &with(fields, "schedule_at", "2099-01-05T09:00"))
        .await;
    assert_eq!(
        reply.headers["location"],
        "/admin/papers/secret-draft/edit?saved=scheduled",
        "{}",
        reply.text()
    );
    let paper = site.state.app.paper("secret-draft").await.expect("paper");
    assert_eq!(paper.meta.status, Status::Scheduled);
    assert_eq!(
        paper.meta.published_at,
        Some(time::macros::datetime!(2099-01-05 09:00 UTC))
    );
    let shown = ed.get("/admin/papers/secret-draft/edit?saved=scheduled").await.text();
    assert!(
        shown.contains("Scheduled: readers see it from 2099-01-05 09:00 UTC."),
        "{shown}"
    );
    assert!(
        shown.contains(r#"value="2099-01-05T09:00""#),
        "the field shows the time"
    );
    // Unpublished, it is a draft again.
    let (csrf, base) = opened(&mut ed, "secret-draft").await;
    let fields = with(
        with(
            with(
                new_paper(&csrf, "Secret Draft", "Text.", "ada"),
                "original",
                "secret-draft",
            ),
            "base_revision",
            &base,
        ),
        "intent",
        "unpublish",
    );
    let reply = ed.post("/admin/papers/save", &fields).await;
    assert_eq!(
        reply.headers["location"],
        "/admin/papers/secret-draft/edit?saved=unpublished"
    );
    assert_eq!(
        site.state.app.paper("secret-draft").await.expect("paper").meta.status,
        Status::Draft
    );
}

#[tokio::test]
async fn the_preview_is_the_sites_own_page_and_saves_nothing() {
    let site = site("editor_preview").await;
    account(&site, "ed@example.org", Role::Editor).await;
    let mut ed = signed_in(&site, "ed@example.org").await;
    let csrf = ed.token("/admin/papers/new").await;
    let v = site.state.store.content_version().await.expect("version");
    let fields = with(
        with(
            new_paper(
                &csrf,
                "מדיניות נמלים",
                "נמלים.[^1]\n\n[^1]: הערה.\n\n<script>alert(1)</script>\n",
                "ada",
            ),
            "language",
            "he",
        ),
        "slug",
        "namal-preview",
    );
    let reply = ed.post("/admin/papers/preview", &fields).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let html = reply.text();
    assert!(
        html.contains(r#"lang="he""#) && html.contains(r#"dir="rtl""#),
        "right to left: {html}"
    );
    assert!(html.contains("הערה."), "the footnote");
    assert!(!html.contains("<script>alert(1)"), "raw script never passes");
    assert!(
        reply.headers["cache-control"]
            .to_str()
            .expect("ascii")
            .contains("no-store"),
        "never cached"
    );
    assert_eq!(
        site.state.store.content_version().await.expect("version"),
        v,
        "nothing saved"
    );
    assert!(site.state.app.paper("namal-preview").await.is_err());
    // A preview with a mistake says so as a save would.
    let reply = ed.post("/admin/papers/preview", &with(fields, "kind", "novel")).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.text().contains("unknown kind"));
}

#[tokio::test]
async fn revisions_are_compared_and_restored() {
    let site = site("editor_revisions").await;
    account(&site, "ed@example.org", Role::Editor).await;
    let mut ed = signed_in(&site, "ed@example.org").await;
    for body in ["First words.\n", "Second words.\n"] {
        let (csrf, base) = opened(&mut ed, "secret-draft").await;
        let fields = with(
            with(
                new_paper(&csrf, "Secret Draft", body, "ada"),
                "original",
                "secret-draft",
            ),
            "base_revision",
            &base,
        );
        assert_eq!(
            ed.post("/admin/papers/save", &fields).await.status,
            StatusCode::SEE_OTHER
        );
    }
    // Revision 1 came from the command line; 2 and 3 from Ed.
    let list = ed.get("/admin/papers/secret-draft/revisions").await;
    assert_eq!(list.status, StatusCode::OK);
    let html = list.text();
    assert!(html.contains("3 (current)"), "{html}");
    assert!(html.contains("command line") && html.contains(">ed<"), "{html}");
    let diff = ed.get("/admin/papers/secret-draft/revisions?old=2&new=3").await.text();
    assert!(diff.contains("- First words."), "{diff}");
    assert!(diff.contains("+ Second words."), "{diff}");
    let missing = ed.get("/admin/papers/secret-draft/revisions?old=2&new=99").await;
    assert_eq!(missing.status, StatusCode::OK);
    assert!(missing.text().contains("There is no revision 99"));
    // Restoring 2 makes its text current, as revision 4.
    let csrf = super::csrf(&html);
    let reply = ed
        .post(
            "/admin/papers/secret-draft/revisions/restore",
            &[("csrf", &csrf), ("number", "2"), ("base_revision", "3")],
        )
        .await;
    assert_eq!(
        reply.headers["location"],
        "/admin/papers/secret-draft/edit?saved=restored",
        "{}",
        reply.text()
    );
    let paper = site.state.app.paper("secret-draft").await.expect("paper");
    assert_eq!(paper.body, "First words.\n");
    assert_eq!(paper.meta.status, Status::Draft);
    assert_eq!(
        site.state
            .store
            .edit_state("secret-draft")
            .await
            .expect("s")
            .expect("p")
            .revision,
        4
    );
    // A restore from a stale page is refused.
    let reply = ed
        .post(
            "/admin/papers/secret-draft/revisions/restore",
            &[("csrf", &csrf), ("number", "1"), ("base_revision", "3")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
    assert_eq!(
        site.state.app.paper("secret-draft").await.expect("paper").body,
        "First words.\n"
    );
}

#[tokio::test]
async fn hostile_values_are_refused_or_kept_inert() {
    let site = site("editor_hostile").await;
    account(&site, "ed@example.org", Role::Editor).await;
    let mut ed = signed_in(&site, "ed@example.org").await;
    let csrf = ed.token("/admin/papers/new").await;
    let nul = "Title\u{0}with a NUL";
    let reply = ed
        .post("/admin/papers/save", &new_paper(&csrf, nul, "Text.", "ada"))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text());
    assert!(reply.text().contains("control characters"));
    // A title that would close the front matter stays a title.
    let fence = "Fence\n+++\nstatus = \"published\"\n+++";
    let reply = ed
        .post(
            "/admin/papers/save",
            &with(
                new_paper(&csrf, fence, "+++\ntitle = \"x\"\n+++\n", "ada"),
                "slug",
                "fence",
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    let paper = site.state.app.paper("fence").await.expect("paper");
    assert_eq!(paper.meta.status, Status::Draft, "nothing typed sets the status");
    assert_eq!(paper.body, "+++\ntitle = \"x\"\n+++\n");
    // An unknown intent saves, it does not publish.
    let reply = ed
        .post(
            "/admin/papers/save",
            &with(
                with(new_paper(&csrf, "Odd", "Text.", "ada"), "slug", "odd"),
                "intent",
                "publish\u{0}",
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(
        site.state.app.paper("odd").await.expect("paper").meta.status,
        Status::Draft
    );
    // A form larger than any paper is refused before it is read whole.
    let huge = "x".repeat(9 * 1024 * 1024);
    let reply = ed
        .post("/admin/papers/save", &new_paper(&csrf, "Huge", &huge, "ada"))
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Thousands of authors and topics are cut, not looped over without end.
    let many = vec!["ada"; 10_000].join(",");
    let reply = ed
        .post(
            "/admin/papers/save",
            &with(new_paper(&csrf, "Many", "Text.", &many), "slug", "many"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.text().contains("listed twice"));
}

#[tokio::test]
async fn images_are_uploaded_checked_by_content_and_described() {
    let site = site("editor_images").await;
    account(&site, "ed@example.org", Role::Editor).await;
    account_as(&site, "cora@example.org", Role::Contributor, Some("ada")).await;
    let mut ed = signed_in(&site, "ed@example.org").await;
    let (csrf, _) = opened(&mut ed, "secret-draft").await;
    let uri = "/admin/papers/secret-draft/images";
    let chart = crate::common::png(8, 6, [10, 20, 30]);
    let reply = ed
        .upload(
            uri,
            &[("csrf", &csrf), ("description", "A chart of harbour dues")],
            ("image", "chart.png", &chart),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let html = reply.text();
    assert!(html.contains("Image chart.png added"), "{html}");
    assert!(
        html.contains("![A chart of harbour dues](chart.png)"),
        "the Markdown to use: {html}"
    );
    assert!(html.contains("8 × 6"), "listed with its size");
    let paper = site.state.app.paper("secret-draft").await.expect("paper");
    assert_eq!(paper.media.len(), 1);
    assert_eq!(
        (paper.media[0].name.as_str(), paper.media[0].width),
        ("chart.png", Some(8))
    );

    // Names that climb out of the paper keep only their own name.
    let reply = ed
        .upload(
            uri,
            &[("csrf", &csrf), ("description", "Again")],
            ("image", "../../etc/chart2.png", &chart),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let names: Vec<String> = site
        .state
        .app
        .paper("secret-draft")
        .await
        .expect("paper")
        .media
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["chart.png", "chart2.png"]);

    // Checked by content, as `quire paper add` checks images: same words.
    let mut bomb = chart.clone();
    bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let polyglot = [b"GIF89a".as_slice(), b"<script>alert(1)</script>"].concat();
    let cases: [(&str, &[u8], &str); 6] = [
        ("text.png", b"<html><script>alert(1)</script>", "is not a PNG image"),
        (
            "drawing.png",
            crate::common::SVG.as_bytes(),
            "holds a SVG image: rename it to .svg",
        ),
        ("bomb.png", &bomb, "100000 × 100000 pixels"),
        ("polyglot.gif", &polyglot, "pixels"),
        ("notes.txt", b"plain", "PNG, JPEG, GIF, WebP and SVG"),
        ("", &chart, "choose an image file"),
    ];
    for (name, data, words) in cases {
        let reply = ed
            .upload(uri, &[("csrf", &csrf), ("description", "Bad")], ("image", name, data))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: {}",
            reply.text()
        );
        assert!(reply.text().contains(words), "{name}: {words}: {}", reply.text());
    }
    // A description is required, and plain.
    for description in ["", "   ", "a ](javascript:x) ["] {
        let reply = ed
            .upload(
                uri,
                &[("csrf", &csrf), ("description", description)],
                ("image", "x.png", &chart),
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{description:?}");
        assert!(reply.text().contains(r#"id="paper-description-error""#));
    }
    // Larger than any image kept: refused before it is read whole.
    let huge = vec![0u8; quire_core::domain::MAX_MEDIA_BYTES + 128 * 1024];
    let reply = ed
        .upload(
            uri,
            &[("csrf", &csrf), ("description", "Huge")],
            ("image", "huge.png", &huge),
        )
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", reply.text());
    // Without the token, or by a role that may not upload: nothing kept.
    let reply = ed
        .upload(
            uri,
            &[("csrf", "forged"), ("description", "X")],
            ("image", "forged.png", &chart),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let mut cora = signed_in(&site, "cora@example.org").await;
    let csrf = cora.token("/admin/papers/secret-draft/edit").await;
    let reply = cora
        .upload(
            uri,
            &[("csrf", &csrf), ("description", "X")],
            ("image", "cora.png", &chart),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
    assert_eq!(
        site.state.app.paper("secret-draft").await.expect("paper").media.len(),
        2
    );
}

#[tokio::test]
async fn images_in_the_text_need_a_description() {
    let site = site("editor_alt").await;
    account(&site, "ed@example.org", Role::Editor).await;
    let mut ed = signed_in(&site, "ed@example.org").await;
    let csrf = ed.token("/admin/papers/new").await;
    let reply = ed
        .post(
            "/admin/papers/save",
            &new_paper(&csrf, "Charts", "See ![](chart.png) and ![ ](map.svg).", "ada"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = reply.text();
    assert!(html.contains(r#"id="paper-body-error""#), "{html}");
    assert!(html.contains("2 images have no description"), "{html}");
    let reply = ed
        .post(
            "/admin/papers/save",
            &new_paper(&csrf, "Charts", "See ![A chart of dues](chart.png).", "ada"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
}

#[tokio::test]
async fn the_draft_pdf_is_typeset_as_it_will_be_published_for_those_who_may_edit_it() {
    let site = site("editor_pdf").await;
    account(&site, "ed@example.org", Role::Editor).await;
    account_as(&site, "alan@example.org", Role::Author, Some("alan")).await;
    let mut ed = signed_in(&site, "ed@example.org").await;
    let reply = ed.get("/admin/papers/secret-draft/pdf").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.headers["content-type"], "application/pdf");
    assert!(
        reply.headers["cache-control"]
            .to_str()
            .expect("ascii")
            .contains("no-store")
    );
    assert!(reply.body.starts_with(b"%PDF-"), "a PDF");
    // Readers still get nothing for the draft.
    assert_eq!(
        crate::common::http::get(&site.state, "/papers/secret-draft.pdf")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Alan may not edit Ada's draft, so he gets no PDF of it.
    let mut alan = signed_in(&site, "alan@example.org").await;
    assert_eq!(
        alan.get("/admin/papers/secret-draft/pdf").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        Browser::new(&site).get("/admin/papers/secret-draft/pdf").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn the_editors_script_saves_and_uploads_with_json_answers() {
    let site = site("editor_json").await;
    account(&site, "ed@example.org", Role::Editor).await;
    let mut ed = signed_in(&site, "ed@example.org").await;
    let json = [("accept", "application/json")];
    let page = ed.get("/admin/papers/new").await.text();
    assert!(
        page.contains("/assets/admin-editor."),
        "the editor loads its script: {page}"
    );
    let csrf = super::csrf(&page);
    // A new draft saved by the script: its slug and revision come back.
    let reply = ed
        .post_with(
            "/admin/papers/save",
            &new_paper(&csrf, "Autosaved Draft", "Text.", "ada"),
            &json,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.headers["content-type"], "application/json");
    let saved: serde_json::Value = serde_json::from_slice(&reply.body).expect("json");
    assert_eq!(saved["slug"], "autosaved-draft");
    assert_eq!(saved["revision"], 1);
    assert_eq!(saved["status"], "draft");
    // A stale save and a wrong field come back as codes and fields.
    let stale = with(
        with(
            new_paper(&csrf, "Autosaved Draft", "Other.", "ada"),
            "original",
            "autosaved-draft",
        ),
        "base_revision",
        "0",
    );
    let reply = ed.post_with("/admin/papers/save", &stale, &json).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    let error: serde_json::Value = serde_json::from_slice(&reply.body).expect("json");
    assert_eq!(error["error"]["code"], "edit_conflict");
    let wrong = with(with(stale, "base_revision", "1"), "kind", "novel");
    let reply = ed.post_with("/admin/papers/save", &wrong, &json).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let error: serde_json::Value = serde_json::from_slice(&reply.body).expect("json");
    assert_eq!(error["error"]["code"], "invalid_papers");
    assert_eq!(error["error"]["fields"][0]["field"], "kind");
    // An image dropped into the text: the Markdown to insert comes back.
    let chart = crate::common::png(4, 4, [1, 2, 3]);
    let reply = common_upload_json(&mut ed, &csrf, &chart).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let added: serde_json::Value = serde_json::from_slice(&reply.body).expect("json");
    assert_eq!(added["markdown"], "![A small chart](pasted.png)");
    // The preview may be framed by the admin itself, and only by it.
    let reply = ed
        .post("/admin/papers/preview", &new_paper(&csrf, "Framed", "Text.", "ada"))
        .await;
    assert_eq!(reply.headers["x-frame-options"], "SAMEORIGIN");
    assert!(
        reply.headers["content-security-policy"]
            .to_str()
            .expect("ascii")
            .contains("frame-ancestors 'self'")
    );
}

async fn common_upload_json(ed: &mut Browser<'_>, csrf: &str, chart: &[u8]) -> crate::common::http::Reply {
    let mut headers = ed.headers();
    headers.push(("accept", "application/json".to_owned()));
    let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    crate::common::http::post_multipart(
        &ed.site.state,
        "/admin/papers/autosaved-draft/images",
        &[("csrf", csrf), ("description", "A small chart")],
        ("image", "pasted.png", chart),
        &refs,
    )
    .await
}

/// What strangers put in forms (the comment checks' corpus, in short),
/// and Markdown built to be slow: deep nesting, long runs of emphasis and
/// brackets, many footnotes.
fn hostile_values() -> Vec<String> {
    let mut values: Vec<String> = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(2)>",
        "javascript:alert(3)",
        "'><script>alert(16)</script>",
        "\" onmouseover=\"alert(17)",
        "</textarea><script>alert(47)</script>",
        "</title><script>alert(48)</script>",
        "<svg/onload=alert(41)//",
        "{{constructor.constructor('alert(45)')()}}",
        "${alert(46)}",
        "\u{202e}\u{644}\u{627}\u{202d} gnp.exe <b>rtl override</b>",
        "NUL\u{0}byte<script>alert(55)</script>",
        "+++\nstatus = \"published\"\n+++",
        "\"\"\"\nslug = \"x\"\n\"\"\"",
        "../../etc/passwd",
        "%2e%2e%2f",
        "\u{feff}\u{200b}",
        "",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    values.push("A".repeat(64 * 1024));
    values.push(">".repeat(20_000) + " deep");
    values.push("[".repeat(20_000) + "x" + &"]".repeat(20_000));
    values.push("*a ".repeat(20_000));
    values.push("- ".repeat(5_000) + "nested");
    values.push(
        (1..=2_000)
            .map(|i| format!("x[^{i}]\n\n[^{i}]: n\n"))
            .collect::<String>(),
    );
    values
}

#[tokio::test]
async fn every_field_takes_the_hostile_corpus_and_shows_it_inert() {
    let site = site("editor_corpus").await;
    account(&site, "ed@example.org", Role::Editor).await;
    let mut ed = signed_in(&site, "ed@example.org").await;
    let csrf = ed.token("/admin/papers/new").await;
    let fields = [
        "title",
        "subtitle",
        "slug",
        "kind",
        "summary",
        "authors",
        "topics",
        "language",
        "translation_of",
        "canonical_url",
        "comments",
        "body",
        "schedule_at",
        "intent",
        "base_revision",
    ];
    let values = hostile_values();
    let mut saved = 0;
    for (n, value) in values.iter().enumerate() {
        for field in fields {
            let slug = format!("corpus-{n}-{field}").replace('_', "-");
            let mut form = with(new_paper(&csrf, "Corpus", "Text.", "ada"), "slug", &slug);
            if field != "slug" {
                form = with(form, field, value);
            } else {
                form = with(form, "slug", value);
            }
            let reply = ed.post("/admin/papers/save", &form).await;
            assert!(
                matches!(reply.status, StatusCode::SEE_OTHER | StatusCode::UNPROCESSABLE_ENTITY),
                "{field} = value {n}: {} {}",
                reply.status,
                reply.text().chars().take(400).collect::<String>()
            );
            let html = reply.text();
            assert!(!html.contains("<script>alert"), "{field} = value {n} is shown raw");
            if reply.status == StatusCode::SEE_OTHER {
                saved += 1;
                let location = reply.headers["location"].to_str().expect("ascii").to_owned();
                let page = ed.get(&location).await;
                assert_eq!(page.status, StatusCode::OK, "{location}");
                assert!(
                    !page.text().contains("<script>alert"),
                    "{field} = value {n} is shown raw in the editor"
                );
            }
        }
        // The body, previewed as the site's page: inert, and in time
        // proportional to its size (the test would not end otherwise).
        let reply = ed
            .post(
                "/admin/papers/preview",
                &with(new_paper(&csrf, "Corpus", value, "ada"), "slug", "corpus-preview"),
            )
            .await;
        assert!(
            matches!(reply.status, StatusCode::OK | StatusCode::UNPROCESSABLE_ENTITY),
            "preview of value {n}"
        );
        let page = reply.text();
        let main = page.find("<main").map_or(page.as_str(), |at| &page[at..]);
        assert!(
            !main.contains("<script>alert") && !main.contains("onerror=alert"),
            "value {n} previewed raw"
        );
    }
    assert!(
        saved > values.len(),
        "many values are fine where they are put ({saved} saved)"
    );
    // A paper's revisions compare in bounded time however they differ.
    let (csrf, base) = opened(&mut ed, "secret-draft").await;
    let a: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
    let b: String = (0..20_000).map(|i| format!("line {}\n", i * 7 % 20_001)).collect();
    for (body, base) in [(a.as_str(), base), (b.as_str(), "2".to_owned())] {
        let form = with(
            with(
                new_paper(&csrf, "Secret Draft", body, "ada"),
                "original",
                "secret-draft",
            ),
            "base_revision",
            &base,
        );
        assert_eq!(ed.post("/admin/papers/save", &form).await.status, StatusCode::SEE_OTHER);
    }
    let diff = ed.get("/admin/papers/secret-draft/revisions?old=2&new=3").await;
    assert_eq!(diff.status, StatusCode::OK);
    assert!(diff.text().contains("+ line 7"));
}
