//! Comments through HTTP, as a reader's browser posts them: the form, the
//! defences, moderation, the held-comment cookie and the thread.

use crate::common;

use axum::http::StatusCode;
use common::http::{Reply, Site, days_ago, get, post_form, request, site_on_either};
use quire_app::config::Config;
use quire_core::domain::{CommentStatus, CommentsMode};
use quire_store::CommentQuery;

/// A site with one open paper, `ports`, and these settings, on PostgreSQL
/// when QUIRE_TEST_POSTGRES_URL is set, else SQLite; `test` names the
/// PostgreSQL schema.
async fn site(test: &str, config: Config) -> Site {
    let mut ports = common::paper("ports", days_ago(2), &["ada"], &["trade"]);
    ports.title = "Ports".into();
    let mut closed = common::paper("closed", days_ago(2), &["ada"], &[]);
    closed.comments = CommentsMode::Closed;
    let mut hidden = common::paper("hidden", days_ago(2), &["ada"], &[]);
    hidden.comments = CommentsMode::Hidden;
    let old = common::paper("old", days_ago(40), &["ada"], &[]);
    site_on_either(test, vec![ports, closed, hidden, old], config).await
}

fn quick() -> Config {
    Config {
        comments: quire_app::config::CommentsConfig {
            min_seconds: 0,
            ..Default::default()
        },
        ..Config::default()
    }
}

/// The form token in a page.
fn token(page: &str) -> String {
    let at = page.find("name=\"token\" value=\"").expect("a token in the form") + 20;
    page[at..].split('"').next().expect("token").to_owned()
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Posts a comment on `slug` through its form.
async fn post(site: &Site, slug: &str, fields: &[(&str, &str)], headers: &[(&str, &str)]) -> Reply {
    let page = get(&site.state, &format!("/papers/{slug}/")).await.text();
    let mut body = format!("token={}", enc(&token(&page)));
    for (k, v) in fields {
        body.push_str(&format!("&{k}={}", enc(v)));
    }
    post_form(&site.state, &format!("/papers/{slug}/comments"), &body, headers).await
}

fn ada(text: &str) -> Vec<(&'static str, String)> {
    vec![
        ("author", "Ada Lovelace".into()),
        ("email", "ada@example.org".into()),
        ("url", "ada.example.org".into()),
        ("comment", text.into()),
    ]
}

fn fields<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn location(r: &Reply) -> String {
    r.headers["location"].to_str().expect("location").to_owned()
}

async fn statuses(site: &Site) -> Vec<CommentStatus> {
    let mut all = site.store.list_comments(&CommentQuery::default()).await.expect("list");
    all.reverse();
    all.into_iter().map(|c| c.status).collect()
}

#[tokio::test]
async fn a_first_comment_waits_for_moderation_then_appears() {
    let site = site("a_first_comment_waits_for_moderation_then_appears", quick()).await;
    let page = get(&site.state, "/papers/ports/").await.text();
    for words in [
        "Leave a Reply",
        "Your email address will not be published.",
        "Required fields are marked",
        "No comments yet",
        "name=\"author\"",
        "name=\"website_confirm\"",
    ] {
        assert!(page.contains(words), "{words}");
    }
    let r = post(
        &site,
        "ports",
        &fields(&ada("Harbours matter.\n\nSee https://example.org/report.")),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let id = site.store.list_comments(&CommentQuery::default()).await.expect("list")[0].id;
    assert_eq!(location(&r), format!("/papers/ports/#comment-{id}"));
    let cookie = r.headers["set-cookie"].to_str().expect("cookie").to_owned();
    assert!(
        cookie.starts_with("quire_held=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert_eq!(
        statuses(&site).await,
        [CommentStatus::Pending],
        "a first-time address waits"
    );

    let public = get(&site.state, "/papers/ports/").await.text();
    assert!(!public.contains("Harbours matter."), "others do not see a held comment");
    assert!(
        !get(&site.state, "/comments.atom")
            .await
            .text()
            .contains("Harbours matter."),
        "nor do feeds"
    );
    let pair = cookie.split(';').next().expect("pair").to_owned();
    let own = request(&site.state, "GET", "/papers/ports/", &[("cookie", &pair)]).await;
    assert_eq!(own.headers["cache-control"], "private, no-store");
    let own = own.text();
    assert!(
        own.contains("Harbours matter.") && own.contains("Your comment is awaiting moderation."),
        "{own}"
    );
    let forged = request(&site.state, "GET", "/papers/ports/", &[("cookie", "quire_held=h1.00")])
        .await
        .text();
    assert!(!forged.contains("Harbours matter."), "a forged cookie shows nothing");

    site.store
        .set_comment_status(&[id], CommentStatus::Approved)
        .await
        .expect("approve");
    site.state.cache.invalidate();
    let public = get(&site.state, "/papers/ports/").await.text();
    assert!(public.contains("1 comment"));
    assert!(public.contains(&format!("id=\"comment-{id}\"")));
    assert!(
        public.contains("<a href=\"https://ada.example.org\" rel=\"nofollow ugc\">Ada Lovelace</a>"),
        "{public}"
    );
    assert!(public.contains("<a href=\"https://example.org/report\" rel=\"nofollow ugc noopener\">"));
    assert!(
        !public.contains("ada@example.org"),
        "the address never leaves the server"
    );
    assert!(!public.contains("Your comment is awaiting moderation."));
    let feed = get(&site.state, "/papers/ports/comments.atom").await;
    assert_eq!(feed.headers["content-type"], "application/atom+xml; charset=utf-8");
    let feed = feed.text();
    assert!(
        feed.contains("<title>Comment on Ports: A subtitle by Ada Lovelace</title>"),
        "{feed}"
    );
    assert!(feed.contains(&format!("/papers/ports/#comment-{id}</id>")));
    assert!(!feed.contains("ada@example.org"), "no address in feeds");
    let site_feed = get(&site.state, "/comments.atom").await.text();
    assert!(site_feed.contains(&format!("#comment-{id}")));
    assert!(public.contains("<link rel=\"alternate\" type=\"application/atom+xml\" title=\"Comments on Ports\" href=\"/papers/ports/comments.atom\">"));
    let home = get(&site.state, "/").await.text();
    assert!(
        home.contains(&format!(
            "<bdi>Ada Lovelace</bdi> on <a href=\"/papers/ports/#comment-{id}\">Ports: A subtitle</a>"
        )),
        "recent comments on the home page"
    );
    let archive = get(&site.state, "/archive/").await.text();
    assert!(
        archive.contains("<a href=\"/papers/ports/#comments\">1 comment</a>"),
        "counts in lists"
    );
    let listed = site
        .store
        .list_papers(&quire_store::PaperQuery::all())
        .await
        .expect("list");
    assert_eq!(
        listed.iter().find(|p| p.slug == "ports").map(|p| p.comment_count),
        Some(1)
    );

    // Someone who knows the address but writes under another name waits
    // (WordPress matches name and address together)…
    let mut mallory = ada("I am Ada, trust me.");
    mallory[0].1 = "Mallory".into();
    let held = post(&site, "ports", &fields(&mallory), &[]).await;
    // …and the same name and address are approved at once from now on.
    let approved = post(&site, "ports", &fields(&ada("A second thought.")), &[]).await;
    assert_eq!(
        statuses(&site).await,
        [CommentStatus::Approved, CommentStatus::Pending, CommentStatus::Approved]
    );
    // Neither answer tells which it was: the same status, the same
    // headers, a cookie of the same form, a link to the comment.
    let names = |r: &Reply| {
        let mut names: Vec<String> = r.headers.keys().map(|k| k.to_string()).collect();
        names.sort_unstable();
        names
    };
    assert_eq!(names(&held), names(&approved));
    for r in [&held, &approved] {
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let cookie = r.headers["set-cookie"].to_str().expect("cookie");
        assert!(cookie.starts_with("quire_held=h"), "{cookie}");
        assert!(location(r).starts_with("/papers/ports/#comment-"));
    }
    let cookie_len = |r: &Reply| r.headers["set-cookie"].len();
    assert_eq!(cookie_len(&held), cookie_len(&approved));
}

#[tokio::test]
async fn mistakes_come_back_with_every_typed_value() {
    let site = site("mistakes_come_back_with_every_typed_value", quick()).await;
    let long_name = "N".repeat(300);
    let text = "My <b>long</b> & careful comment\nwith two lines.";
    let r = post(
        &site,
        "ports",
        &[
            ("author", &long_name),
            ("email", "not-an-address"),
            ("url", "javascript:alert(1)"),
            ("comment", text),
        ],
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.headers["cache-control"], "private, no-store");
    let page = r.text();
    assert!(
        page.contains("My &lt;b&gt;long&lt;/b&gt; &amp; careful comment\nwith two lines.</textarea>"),
        "the text is kept"
    );
    assert!(page.contains(&format!("value=\"{long_name}\"")), "the name is kept");
    assert!(page.contains("value=\"not-an-address\""));
    assert!(
        page.contains("value=\"javascript:alert(1)\""),
        "kept, as text in the field"
    );
    assert!(page.contains("Name is 300 characters long"));
    assert!(page.contains("Email is not an email address"));
    assert!(page.contains("Website is not a web address"));
    assert!(page.contains("aria-invalid=\"true\" aria-describedby=\"email-error\""));
    assert!(statuses(&site).await.is_empty(), "nothing stored");
}

#[tokio::test]
async fn forged_old_and_fast_forms_are_caught() {
    let site = site("forged_old_and_fast_forms_are_caught", Config::default()).await;
    let base = "author=Bob&email=bob%40example.org&comment=Hello";
    for (body, what, says) in [
        (base.to_owned(), "no token field", "arrived without the hidden check"),
        (
            format!("{base}&token=c1:1.00"),
            "a forged token",
            "does not belong to this paper",
        ),
    ] {
        let r = post_form(&site.state, "/papers/ports/comments", &body, &[]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}");
        assert!(
            r.text().contains(says) && r.text().contains(">Hello</textarea>"),
            "{what}: {}",
            r.text()
        );
        assert!(!r.text().contains("too old"), "{what}");
    }
    // A token made for another paper does not work here.
    let closed_page = get(&site.state, "/papers/old/").await.text();
    let other = token(&closed_page);
    let r = post_form(
        &site.state,
        "/papers/ports/comments",
        &format!("{base}&token={}", enc(&other)),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("does not belong to this paper"), "{}", r.text());
    assert!(statuses(&site).await.is_empty());

    // Posted at once (under comment_min_seconds): held, even for an
    // address approved before.
    let r = post(&site, "ports", &fields(&ada("Fast.")), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let id = site.store.list_comments(&CommentQuery::default()).await.expect("list")[0].id;
    site.store
        .set_comment_status(&[id], CommentStatus::Approved)
        .await
        .expect("approve");
    let r = post(&site, "ports", &fields(&ada("Fast again.")), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(statuses(&site).await, [CommentStatus::Approved, CommentStatus::Pending]);

    // The script's fresh token works.
    let fresh = get(&site.state, "/papers/ports/comments/token").await;
    assert_eq!(fresh.headers["cache-control"], "no-store");
    let fresh = fresh.text();
    let id = site
        .store
        .get_paper("ports")
        .await
        .expect("get")
        .expect("ports")
        .meta
        .id;
    assert!(fresh.starts_with(&format!("c{id}:")), "{fresh}");
    assert_eq!(
        get(&site.state, "/papers/closed/comments/token").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn robots_other_sites_and_floods_are_stopped() {
    let site = site("robots_other_sites_and_floods_are_stopped", {
        let mut c = quick();
        c.comments.rate_per_minute = 2;
        c
    })
    .await;
    let mut robot = ada("Buy now.");
    robot.push(("website_confirm", "https://spam.example".into()));
    let r = post(&site, "ports", &fields(&robot), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "a robot learns nothing");
    assert!(statuses(&site).await.is_empty(), "and nothing is kept");

    let r = post(
        &site,
        "ports",
        &fields(&ada("From elsewhere.")),
        &[("origin", "https://evil.example")],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = post(
        &site,
        "ports",
        &fields(&ada("From elsewhere.")),
        &[("sec-fetch-site", "cross-site")],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(statuses(&site).await.is_empty());

    // The honeypot post counted as one; one more passes, then 429.
    assert_eq!(
        post(&site, "ports", &fields(&ada("One.")), &[]).await.status,
        StatusCode::SEE_OTHER
    );
    let r = post(&site, "ports", &fields(&ada("Two, kept for later.")), &[]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers["retry-after"]
        .to_str()
        .expect("retry-after")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(
        r.text().contains(">Two, kept for later.</textarea>"),
        "the text is not lost"
    );
    assert_eq!(statuses(&site).await.len(), 1);
}

#[tokio::test]
async fn duplicates_closed_and_hidden_papers() {
    let site = site("duplicates_closed_and_hidden_papers", {
        let mut c = quick();
        c.comments.close_after_days = 30;
        c
    })
    .await;
    assert_eq!(
        post(&site, "ports", &fields(&ada("Only once.")), &[]).await.status,
        StatusCode::SEE_OTHER
    );
    let r = post(&site, "ports", &fields(&ada("Only once.")), &[]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("already said that") && r.text().contains(">Only once.</textarea>"));

    for slug in ["closed", "old"] {
        let page = get(&site.state, &format!("/papers/{slug}/")).await.text();
        assert!(
            page.contains("Comments are closed.") && !page.contains("Leave a Reply"),
            "{slug}"
        );
        let r = post_form(
            &site.state,
            &format!("/papers/{slug}/comments"),
            "author=A&email=a%40b.co&comment=Late+words",
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{slug}");
        assert!(
            r.text().contains("Comments are closed.") && r.text().contains("readonly>Late words</textarea>"),
            "the text is given back"
        );
    }
    let page = get(&site.state, "/papers/hidden/").await.text();
    assert!(!page.contains("id=\"comments\""), "hidden: no section at all");
    assert_eq!(
        get(&site.state, "/papers/hidden/comments.atom").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&site.state, "/papers/nope/comments.atom").await.status,
        StatusCode::NOT_FOUND
    );
    let r = post_form(
        &site.state,
        "/papers/hidden/comments",
        "author=A&email=a%40b.co&comment=x",
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(statuses(&site).await.len(), 1);
}

#[tokio::test]
async fn replies_thread_under_their_comment() {
    let site = site("replies_thread_under_their_comment", {
        let mut c = quick();
        c.comments.previously_approved = false;
        c
    })
    .await;
    let mut asks = ada("The first.");
    asks.push(("notify_replies", "1".into()));
    post(&site, "ports", &fields(&asks), &[]).await;
    let first = site.store.list_comments(&CommentQuery::default()).await.expect("list")[0].id;
    assert_eq!(
        site.store.reply_subscriber(first).await.expect("q").as_deref(),
        Some("ada@example.org"),
        "asked to hear of replies"
    );
    let reply_page = get(&site.state, &format!("/papers/ports/?replytocom={first}")).await;
    assert_eq!(reply_page.headers["cache-control"], "private, no-store");
    let reply_page = reply_page.text();
    assert!(reply_page.contains("Reply to <bdi>Ada Lovelace</bdi>"), "{reply_page}");
    assert!(reply_page.contains(&format!("name=\"comment_parent\" value=\"{first}\"")));
    let body = format!(
        "token={}&author=Bob&email=bob%40example.org&comment=I+agree.&comment_parent={first}",
        enc(&token(&reply_page))
    );
    let r = post_form(&site.state, "/papers/ports/comments", &body, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let reply = site.store.list_comments(&CommentQuery::default()).await.expect("list")[0].id;
    assert_eq!(
        site.store.reply_subscriber(reply).await.expect("q"),
        None,
        "did not ask"
    );
    site.state.cache.invalidate();
    let page = get(&site.state, "/papers/ports/").await.text();
    let thread = page
        .split(&format!("id=\"comment-{first}\""))
        .nth(1)
        .expect("first comment");
    assert!(
        thread.contains("<ol class=\"children\">") && thread.contains("I agree."),
        "{page}"
    );
    assert!(page.contains(&format!("href=\"/papers/ports/?replytocom={first}#respond\"")));
    // A reply to nothing is refused with the text kept.
    let body = format!(
        "token={}&author=Bob&email=bob%40example.org&comment=Lost+reply&comment_parent=99999",
        enc(&token(&page))
    );
    let r = post_form(&site.state, "/papers/ports/comments", &body, &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains(">Lost reply</textarea>"));
}

#[tokio::test]
async fn notices_reach_editors_and_answered_commenters_by_email() {
    let smtp = common::smtp::SmtpServer::start().await;
    let site = site("notices_by_email", {
        let mut c = quick();
        c.mail.notify = "Editors <editors@example.org>".into();
        c.mail.smtp_url = Some(quire_app::config::Secret::new(smtp.url()));
        c.mail.from = "news@example.org".into();
        c
    })
    .await;
    let queued = |n: i64| {
        let store = site.store.clone();
        async move {
            for _ in 0..100 {
                if store.outbox_counts(None).await.expect("counts").queued >= n {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            panic!("{n} notices were not queued");
        }
    };
    let mut asks = ada("Ports need <dredging> & money.");
    asks.push(("notify_replies", "1".into()));
    post(&site, "ports", &fields(&asks), &[]).await;
    queued(1).await;
    // A notice is written when it goes: one about a comment moderated by
    // then would be stale, and is not sent.
    let sender = common::smtp::sender(&site).await;
    common::smtp::deliver_all(&sender, &site.store).await;
    let first = site.store.list_comments(&CommentQuery::default()).await.expect("list")[0].id;
    site.store
        .set_comment_status(&[first], CommentStatus::Approved)
        .await
        .expect("approve");
    let page = get(&site.state, "/papers/ports/").await.text();
    let body = format!(
        "token={}&author=Bob&email=bob%40example.org&comment=Dredging+is+cheap.&comment_parent={first}",
        enc(&token(&page))
    );
    post_form(&site.state, "/papers/ports/comments", &body, &[]).await;
    queued(1).await;
    common::smtp::deliver_all(&sender, &site.store).await;
    let reply = site.store.list_comments(&CommentQuery::default()).await.expect("list")[0].id;
    site.store
        .set_comment_status(&[reply], CommentStatus::Approved)
        .await
        .expect("approve");
    let postbox = site.state.app.postbox().await.expect("postbox");
    let notices = quire_mail::notices::comment_notices(&postbox, reply, None)
        .await
        .expect("notices");
    assert_eq!(notices, 1);
    common::smtp::deliver_all(&sender, &site.store).await;
    let mail = smtp.messages();
    let to_editors: Vec<_> = mail.iter().filter(|m| m.to == ["editors@example.org"]).collect();
    assert_eq!(to_editors.len(), 2, "one notice per held comment");
    let held = common::smtp::part(&to_editors[0].data, "text/plain").expect("text");
    assert!(held.contains("> Ports need <dredging> & money."), "{held}");
    assert!(held.contains(&format!("quire comments approve {first}")), "{held}");
    let html = common::smtp::part(&to_editors[0].data, "text/html").expect("html");
    assert!(html.contains("Ports need &lt;dredging&gt; &amp; money."), "{html}");
    let to_ada: Vec<_> = mail.iter().filter(|m| m.to == ["ada@example.org"]).collect();
    assert_eq!(to_ada.len(), 1);
    let subject = common::smtp::header(&to_ada[0].data, "Subject").expect("subject");
    assert_eq!(subject, "Bob replied to your comment on \"Ports\"");
    let text = common::smtp::part(&to_ada[0].data, "text/plain").expect("text");
    assert!(
        text.contains(&format!("http://127.0.0.1:8080/papers/ports/#comment-{reply}")),
        "{text}"
    );
    assert!(!mail.iter().any(|m| m.to == ["bob@example.org"]), "Bob did not ask");
}

#[tokio::test]
async fn hostile_comments_are_stored_exactly_and_shown_inert() {
    let site = site("hostile_comments_are_stored_exactly_and_shown_inert", {
        let mut c = quick();
        c.comments.previously_approved = false;
        c
    })
    .await;
    let text = "<script>alert(1)</script><img src=x onerror=alert(2)> javascript:alert(3) \u{202e}evil";
    let name = "<svg onload=alert(4)>";
    let r = post(
        &site,
        "ports",
        &[("author", name), ("email", "x@example.org"), ("comment", text)],
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    site.state.cache.invalidate();
    let page = get(&site.state, "/papers/ports/").await.text();
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"),
        "{page}"
    );
    assert!(page.contains("&lt;svg onload=alert(4)&gt;"));
    assert!(!page.contains("<script>alert") && !page.contains("<svg onload") && !page.contains("<img src=x"));
    assert!(!page.contains('\u{202e}'), "bidi overrides are removed");
    // Invalid UTF-8 and NUL bytes in the body are taken safely.
    let page = get(&site.state, "/papers/ports/").await.text();
    let body = format!(
        "token={}&author=Z%FF%FE&email=z%40example.org&comment=A%00B%C3",
        enc(&token(&page))
    );
    let r = post_form(&site.state, "/papers/ports/comments", &body, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let stored = &site.store.list_comments(&CommentQuery::default()).await.expect("list")[0];
    assert_eq!(
        (stored.name.as_str(), stored.text.as_str()),
        ("Z\u{fffd}\u{fffd}", "AB\u{fffd}")
    );
}

#[tokio::test]
async fn old_ip_addresses_are_truncated_by_the_server() {
    let site = site("old_ip_addresses_are_truncated_by_the_server", quick()).await;
    let paper = site.store.get_paper("ports").await.expect("get").expect("ports");
    for (age, text) in [(40, "Old remark."), (1, "New remark.")] {
        let input = quire_core::domain::CommentInput {
            name: "Ada".into(),
            email: "ada@example.org".into(),
            url: None,
            text: text.into(),
            parent_id: None,
        };
        site.store
            .add_comment(&quire_store::NewComment {
                paper_id: paper.meta.id,
                input: &input,
                status: CommentStatus::Approved,
                ip: "198.51.100.77",
                user_agent: "test",
                notify_replies: false,
                now: days_ago(age),
            })
            .await
            .expect("comment");
    }
    let upkeep = quire_web::spawn_comment_upkeep(&site.state);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let all = site.store.list_comments(&CommentQuery::default()).await.expect("list");
        let ip = |text: &str| all.iter().find(|c| c.text == text).and_then(|c| c.ip.clone());
        if ip("Old remark.").as_deref() == Some("198.51.100.0") {
            assert_eq!(
                ip("New remark.").as_deref(),
                Some("198.51.100.77"),
                "kept within the retention period"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the old address was never truncated"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    upkeep.abort();
}

#[tokio::test]
async fn permalinks_find_the_page_of_their_comment() {
    let site = site("permalinks_find_the_page_of_their_comment", {
        let mut c = quick();
        c.comments.per_page = 2;
        c.comments.previously_approved = false;
        c
    })
    .await;
    for i in 1..=5 {
        let r = post(&site, "ports", &fields(&ada(&format!("Remark {i}."))), &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        if i == 5 {
            let id = site.store.list_comments(&CommentQuery::default()).await.expect("list")[0].id;
            assert_eq!(
                location(&r),
                format!("/papers/ports/?cpage=3#comment-{id}"),
                "the redirect names the page"
            );
            let page = get(&site.state, &format!("/papers/ports/comments/page?id={id}")).await;
            assert_eq!((page.status, page.text()), (StatusCode::OK, "3".to_owned()));
            let third = get(&site.state, "/papers/ports/?cpage=3").await.text();
            assert!(third.contains(&format!("id=\"comment-{id}\"")) && third.contains("Page 3 of 3"));
        }
    }
    for bad in ["?id=999999", "?id=abc", "", "?id=-1"] {
        let r = get(&site.state, &format!("/papers/ports/comments/page{bad}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad}");
    }
    let first = site
        .store
        .list_comments(&CommentQuery::default())
        .await
        .expect("list")
        .last()
        .expect("one")
        .id;
    assert_eq!(
        get(&site.state, &format!("/papers/ports/comments/page?id={first}"))
            .await
            .text(),
        "1"
    );
    assert_eq!(
        get(&site.state, &format!("/papers/hidden/comments/page?id={first}"))
            .await
            .status,
        StatusCode::NOT_FOUND,
        "not from another paper"
    );
}

#[tokio::test]
async fn hostile_query_strings_and_cookies_are_harmless() {
    let site = site("hostile_query_strings_and_cookies_are_harmless", quick()).await;
    for query in [
        "?cpage=-1",
        "?cpage=0",
        "?cpage=99999999999999999999",
        "?cpage=%3Cscript%3Ealert(1)%3C/script%3E",
        "?replytocom=abc",
        "?replytocom=-5",
        "?replytocom=999999",
        "?replytocom=%22%3E%3Cscript%3Ealert(1)%3C/script%3E",
        "?cpage=2&cpage=3&replytocom=1&replytocom=2",
    ] {
        let r = get(&site.state, &format!("/papers/ports/{query}")).await;
        assert_eq!(r.status, StatusCode::OK, "{query}");
        let page = r.text();
        assert!(!page.contains("<script>alert"), "{query} reflected input");
        assert!(
            page.contains("Leave a Reply"),
            "{query}: an unknown comment is no reply target"
        );
    }
    for cookie in [
        "quire_held=",
        "quire_held=h1-2-3",
        "quire_held=%00%FF",
        "quire_held=h1.zz; quire_held=x",
    ] {
        let r = request(&site.state, "GET", "/papers/ports/", &[("cookie", cookie)]).await;
        assert_eq!(r.status, StatusCode::OK, "{cookie}");
    }
    let huge = format!("author=A&email=a%40b.co&comment={}", "x".repeat(2 * 1024 * 1024));
    let r = post_form(&site.state, "/papers/ports/comments", &huge, &[]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(statuses(&site).await.is_empty());
}
