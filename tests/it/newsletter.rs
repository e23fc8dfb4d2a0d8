//! The newsletter end to end: sign-ups through the site's forms, the
//! confirmation link from a real SMTP exchange, campaigns built and
//! delivered by the mail sender, one-click unsubscribing, and delivery
//! through an SMTP server that fails in the ways real ones do. On SQLite,
//! and on PostgreSQL when QUIRE_TEST_POSTGRES_URL is set.

use crate::common;

use common::http::{Site, get, post_form, site_on_either, standard_papers};
use common::smtp::{Fault, SmtpServer, deliver_all, header, part, sender};
use quire_app::config::{Config, Secret};
use quire_core::domain::{CampaignKind, CampaignStatus, DeliveryStatus, SubscriberInput, SubscriberStatus};
use quire_mail::compose::{self, MailSite};
use quire_store::NewCampaign;
use time::OffsetDateTime;

fn config(smtp: &SmtpServer) -> Config {
    Config {
        mail: quire_app::config::MailConfig {
            smtp_url: Some(Secret::new(smtp.url())),
            from: "Policy Lab <news@example.org>".into(),
            retry_seconds: 0,
            ..Default::default()
        },
        ..Config::default()
    }
}

async fn queue_paper(site: &Site, slug: &str) -> i64 {
    let paper = site.store.get_paper(slug).await.expect("get").expect("paper");
    let config = site.state.config();
    let composed = compose::paper_campaign(&paper, &config.mail_site());
    let slugs: Vec<String> = paper.meta.topics.iter().map(|t| t.slug.clone()).collect();
    let topic_ids = site
        .store
        .topic_ids(&slugs)
        .await
        .expect("topics")
        .into_values()
        .collect();
    site.store
        .queue_campaign(
            &NewCampaign {
                kind: CampaignKind::Paper,
                paper_id: Some(paper.meta.id),
                topic_ids,
                topic_id: None,
                subject: composed.subject,
                html: composed.html,
                text: composed.text,
                send_at: OffsetDateTime::now_utc(),
                digest_until: None,
                on_publish: false,
            },
            OffsetDateTime::now_utc(),
        )
        .await
        .expect("queue")
}

/// The path and query of the first link in `text` that starts with
/// `base` and holds `needle`.
fn link(text: &str, base: &str, needle: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
        .find(|w| w.starts_with(base) && w.contains(needle))
        .unwrap_or_else(|| panic!("no link with {needle} in:\n{text}"))
        .trim_start_matches(base)
        .replace("&amp;", "&")
}

const BASE: &str = "http://127.0.0.1:8080";

/// Confirmed subscribers with these addresses (and no name), taking
/// `topics` (empty: everything).
async fn subscribe(site: &Site, emails: impl IntoIterator<Item = String>, topics: &[&str]) {
    let rows: Vec<SubscriberInput> = emails
        .into_iter()
        .map(|email| SubscriberInput {
            email,
            name: String::new(),
            topics: topics.iter().map(|t| t.to_string()).collect(),
        })
        .collect();
    site.store
        .import_subscribers(&rows, true, OffsetDateTime::now_utc(), &|_| {})
        .await
        .expect("import");
}

#[tokio::test]
async fn without_a_mail_server_the_sign_up_page_promises_no_email_on_its_way() {
    let site = site_on_either("newsletter_no_smtp", standard_papers(), Config::default()).await;
    let reply = post_form(&site.state, "/subscribe", "email=ada%40example.org&scope=all", &[]).await;
    assert_eq!(reply.status, 303);
    let page = get(&site.state, "/subscribe?sent=1").await.text();
    assert!(page.contains("A confirmation email will follow"), "{page}");
    assert!(
        !page.contains("on its way") && !page.contains("Check your inbox"),
        "{page}"
    );
}

#[tokio::test]
async fn sign_up_confirm_receive_and_unsubscribe_in_one_click() {
    let smtp = SmtpServer::start().await;
    let site = site_on_either("newsletter_flow", standard_papers(), config(&smtp)).await;
    let sender = sender(&site).await;

    // Every page's footer has the form; /subscribe has the topics.
    assert!(get(&site.state, "/").await.text().contains("action=\"/subscribe\""));
    let form = get(&site.state, "/subscribe").await;
    assert_eq!(form.status, 200);
    assert!(form.text().contains("name=\"topic\" value=\"trade\""));

    let reply = post_form(
        &site.state,
        "/subscribe",
        "email=Ada%40Example.org&name=Ada+Lovelace&scope=topics&topic=trade",
        &[],
    )
    .await;
    assert_eq!(reply.status, 303);
    assert_eq!(reply.headers["location"], "/subscribe?sent=1");
    assert!(
        get(&site.state, "/subscribe?sent=1")
            .await
            .text()
            .contains("Check your inbox")
    );
    // Nothing is a subscription before the link is opened.
    assert_eq!(
        site.store.subscriber_by_email("ada@example.org").await.expect("read"),
        None
    );
    // The confirmation waits as what it is about, written when it goes.
    let waiting = site.store.outbox_entries(None, 10).await.expect("outbox");
    assert_eq!(waiting.len(), 1);
    assert!(waiting[0].written_when_sent, "{waiting:?}");

    deliver_all(&sender, &site.store).await;
    let mail = smtp.messages();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, vec!["ada@example.org".to_owned()]);
    let confirm_text = part(&mail[0].data, "text/plain").expect("text part");
    // The typed name reaches no one: anyone can type any address.
    assert!(confirm_text.starts_with("Hello,"), "{confirm_text}");
    assert!(!mail[0].data.contains("Lovelace"), "{}", mail[0].data);
    let confirm = link(&confirm_text, BASE, "/subscribe/confirm");
    // Opening the link (as a mail scanner does) shows a button and
    // subscribes no one; the button's POST does.
    let opened = get(&site.state, &confirm).await;
    assert_eq!(opened.status, 200, "{}", opened.text());
    let button = opened.text();
    assert!(button.contains("Confirm my subscription"), "{button}");
    assert_eq!(
        site.store.subscriber_by_email("ada@example.org").await.expect("read"),
        None
    );
    let token = confirm.split_once("?t=").expect("token").1.to_owned();
    let token = form_urlencoded::parse(format!("t={token}").as_bytes())
        .next()
        .expect("t")
        .1
        .into_owned();
    assert!(
        button.contains("<input type=\"hidden\" name=\"t\" value=\""),
        "{button}"
    );
    let confirm_form = format!(
        "t={}",
        form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>()
    );
    let confirmed = post_form(&site.state, "/subscribe/confirm", &confirm_form, &[]).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text());
    assert!(confirmed.text().contains("You are subscribed"));
    let ada = site
        .store
        .subscriber_by_email("ada@example.org")
        .await
        .expect("read")
        .expect("subscribed");
    assert_eq!(ada.status, SubscriberStatus::Confirmed);
    assert_eq!(ada.name, "Ada Lovelace");
    assert_eq!(ada.topics, vec!["trade".to_owned()]);

    // Signing up again answers the same, and mails the preferences link.
    let again = post_form(
        &site.state,
        "/subscribe",
        "email=ada%40example.org&scope=everything",
        &[],
    )
    .await;
    assert_eq!(
        (again.status, again.headers["location"].clone()),
        (reply.status, reply.headers["location"].clone())
    );
    deliver_all(&sender, &site.store).await;
    let second = smtp.messages().pop().expect("second");
    assert!(
        header(&second.data, "Subject")
            .expect("subject")
            .contains("You are subscribed")
    );
    assert!(
        part(&second.data, "text/plain")
            .expect("text")
            .contains("/newsletter/preferences?id=")
    );

    // A campaign of a paper on her topic, with a non-ASCII title too.
    let campaign = queue_paper(&site, "ports").await;
    let hebrew = queue_paper(&site, "namal").await;
    deliver_all(&sender, &site.store).await;
    for id in [campaign, hebrew] {
        let c = site.store.campaign(id).await.expect("read").expect("campaign");
        assert_eq!((c.status, c.recipients, c.sent), (CampaignStatus::Sent, 1, 1));
    }
    let all = smtp.messages();
    let by_subject = |prefix: &str| {
        all.iter()
            .find(|m| header(&m.data, "Subject").is_some_and(|s| s.starts_with(prefix)))
            .unwrap_or_else(|| panic!("no message with the subject {prefix}"))
            .data
            .clone()
    };
    let data = &by_subject("Ports and Harbours");
    assert_eq!(header(data, "Subject").as_deref(), Some("Ports and Harbours"));
    assert!(header(data, "From").expect("from").contains("news@example.org"));
    assert!(header(data, "To").expect("to").contains("ada@example.org"));
    assert!(header(data, "Date").is_some());
    assert!(header(data, "Message-ID").expect("id").ends_with("@127.0.0.1>"));
    assert_eq!(header(data, "List-Id").as_deref(), Some("Quire <newsletter.127.0.0.1>"));
    assert_eq!(
        header(data, "List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let list_unsubscribe = header(data, "List-Unsubscribe").expect("list-unsubscribe");
    assert!(
        list_unsubscribe.starts_with(&format!("<{BASE}/newsletter/unsubscribe?id={}&sig=", ada.id))
            && list_unsubscribe.contains(">, <mailto:news@example.org?subject=unsubscribe"),
        "{list_unsubscribe}"
    );
    assert!(
        header(data, "Content-Type")
            .expect("type")
            .starts_with("multipart/alternative")
    );
    let text = part(data, "text/plain").expect("text");
    let html = part(data, "text/html").expect("html");
    assert!(text.starts_with("Dear Ada Lovelace,"), "{text}");
    assert!(
        text.contains(&format!("Read on the web: {BASE}/papers/ports/")),
        "{text}"
    );
    assert!(text.contains(&format!("PDF: {BASE}/papers/ports.pdf")), "{text}");
    assert!(html.contains("Dear Ada Lovelace,"));
    assert!(html.contains(&format!("href=\"{BASE}/papers/ports/\"")));
    assert!(html.contains(&format!("href=\"{BASE}/papers/ports.pdf\"")));
    assert!(html.contains("max-width:600px"));
    assert!(html.contains("prefers-color-scheme: dark"));
    assert!(!html.contains("<script"), "author markup stays out");
    // The Hebrew title travels encoded (RFC 2047).
    let hebrew_subject = header(&by_subject("=?utf-8?"), "Subject").expect("subject");
    assert_eq!(hebrew_subject, "=?utf-8?b?157Xk9eZ16DXmdeV16og16DXntec15nXnQ==?=");

    // The preferences link works, and saves topics and name.
    let preferences = link(&text, BASE, "/newsletter/preferences");
    let page = get(&site.state, &preferences).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("ada@example.org"));
    let saved = post_form(&site.state, &preferences, "name=Ada+L.&scope=everything", &[]).await;
    assert_eq!(saved.status, 200, "{}", saved.text());
    let ada = site.store.subscriber(ada.id).await.expect("read").expect("ada");
    assert_eq!((ada.name.as_str(), ada.topics.len()), ("Ada L.", 0));
    // The preferences link expires (an hour past `exp` is not written
    // in: the signature covers it), and opens nothing else.
    assert!(preferences.contains("&exp="), "{preferences}");
    let exp: i64 = preferences
        .split("&exp=")
        .nth(1)
        .and_then(|r| r.split('&').next())
        .and_then(|e| e.parse().ok())
        .expect("exp");
    let days = (exp - OffsetDateTime::now_utc().unix_timestamp()) / 86_400;
    assert!((29..=30).contains(&days), "{days} days");
    let later = preferences.replace(&format!("exp={exp}"), &format!("exp={}", exp + 86_400));
    assert_eq!(get(&site.state, &later).await.status, 404);
    let as_unsubscribe = preferences
        .replace("/newsletter/preferences", "/newsletter/unsubscribe")
        .replace(&format!("&exp={exp}"), "");
    assert_eq!(post_form(&site.state, &as_unsubscribe, "", &[]).await.status, 404);

    // A GET shows one button and changes nothing; the one-click POST,
    // from a mail provider's server (no Origin, no cookie), unsubscribes.
    let unsubscribe = list_unsubscribe
        .trim_start_matches('<')
        .split('>')
        .next()
        .expect("url")
        .trim_start_matches(BASE)
        .to_owned();
    let button = get(&site.state, &unsubscribe).await;
    assert_eq!(button.status, 200);
    assert!(button.text().contains("List-Unsubscribe"));
    assert_eq!(
        site.store.subscriber(ada.id).await.expect("read").expect("ada").status,
        SubscriberStatus::Confirmed
    );
    let done = post_form(&site.state, &unsubscribe, "List-Unsubscribe=One-Click", &[]).await;
    assert_eq!(done.status, 200);
    assert!(done.text().contains("You are unsubscribed"));
    assert_eq!(
        site.store.subscriber(ada.id).await.expect("read").expect("ada").status,
        SubscriberStatus::Unsubscribed
    );
    let after = queue_paper(&site, "old").await;
    let c = site.store.campaign(after).await.expect("read").expect("campaign");
    assert_eq!((c.recipients, c.status), (0, CampaignStatus::Sent));

    // Altered links do nothing.
    let forged = unsubscribe.replace("sig=", "sig=0");
    assert_eq!(post_form(&site.state, &forged, "", &[]).await.status, 404);
    let other = unsubscribe.replace(&format!("id={}", ada.id), &format!("id={}", ada.id + 1));
    assert_eq!(post_form(&site.state, &other, "", &[]).await.status, 404);
    let bad_confirm = confirm.replace("?t=c", "?t=d");
    assert_eq!(get(&site.state, &bad_confirm).await.status, 400);

    // The confirmation link worked once: sent again after leaving, it
    // subscribes no one.
    let replay = post_form(&site.state, "/subscribe/confirm", &confirm_form, &[]).await;
    assert_eq!(replay.status, 410, "{}", replay.text());
    assert!(replay.text().contains("This link has been used"));
    assert_eq!(
        site.store.subscriber(ada.id).await.expect("read").expect("ada").status,
        SubscriberStatus::Unsubscribed
    );
}

#[tokio::test]
async fn preferences_links_expire_and_links_can_be_revoked() {
    let smtp = SmtpServer::start().await;
    let site = site_on_either("newsletter_link_expiry", standard_papers(), config(&smtp)).await;
    let sender = sender(&site).await;
    subscribe(&site, ["ada@example.org".to_owned()], &[]).await;
    let ada = site
        .store
        .subscriber_by_email("ada@example.org")
        .await
        .expect("read")
        .expect("ada");
    let key = site.store.site_key(quire_mail::links::SITE_KEY).await.expect("key");
    let signer = quire_core::signing::Signer::new(&key);
    let holder = quire_mail::links::LinkHolder::from(&ada);
    let past = OffsetDateTime::now_utc() - time::Duration::hours(1);
    let old = quire_mail::links::preferences_url("", &signer, holder, past);
    let expired = get(&site.state, &old).await;
    assert_eq!(expired.status, 410);
    let page = expired.text();
    assert!(
        page.contains("This link has expired") && page.contains("Email me a new link"),
        "{page}"
    );
    assert!(!page.contains("ada@example.org"), "an expired link shows no address");
    // Asking for a new one mails it to the subscriber's own address.
    let action = old.replace("/newsletter/preferences?", "/newsletter/preferences/link?");
    let asked = post_form(&site.state, &action, "", &[]).await;
    assert_eq!(asked.status, 200, "{}", asked.text());
    deliver_all(&sender, &site.store).await;
    let mail = smtp.messages();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, vec!["ada@example.org".to_owned()]);
    let fresh = link(
        &part(&mail[0].data, "text/plain").expect("text"),
        BASE,
        "/newsletter/preferences",
    );
    assert_eq!(get(&site.state, &fresh).await.status, 200);
    // A forged link asks for nothing.
    let forged = action.replace("sig=", "sig=0");
    assert_eq!(post_form(&site.state, &forged, "", &[]).await.status, 404);

    // Revoking: every link sent so far stops working.
    let unsubscribe = format!(
        "/newsletter/unsubscribe?id={}&sig={}",
        ada.id,
        quire_mail::links::unsubscribe_sig(&signer, holder)
    );
    assert_eq!(get(&site.state, &unsubscribe).await.status, 200);
    assert!(
        site.store
            .revoke_subscriber_links("ada@example.org")
            .await
            .expect("revoke")
    );
    assert_eq!(get(&site.state, &fresh).await.status, 404);
    assert_eq!(post_form(&site.state, &unsubscribe, "", &[]).await.status, 404);
    assert_eq!(
        site.store.subscriber(ada.id).await.expect("read").expect("ada").status,
        SubscriberStatus::Confirmed
    );
}

#[tokio::test]
async fn hostile_sign_ups_store_nothing_and_send_nothing() {
    let smtp = SmtpServer::start().await;
    let site = site_on_either("newsletter_hostile", standard_papers(), {
        let mut c = config(&smtp);
        c.newsletter.rate_per_hour = 0;
        c
    })
    .await;
    let long = format!("{}%40example.org", "a".repeat(250));
    let cases: Vec<(String, &str)> = vec![
        ("email=".into(), "is required"),
        (
            "email=ada%40example.org%0D%0ABcc%3A+all%40example.org".into(),
            "line break",
        ),
        (
            "email=ada%40example.org&name=Ada%0D%0ABcc%3A+x%40y.z".into(),
            "line break",
        ),
        (format!("email={long}"), "at most 254"),
        ("email=%D0%B0da%40example.org".into(), "not a plain Latin letter"),
        ("email=ada%40%EF%BD%85xample.org".into(), "not a plain Latin letter"),
        ("email=%3Dcmd%7C%27%2Fc+calc%27%21A1%40example.org".into(), "formula"),
        ("email=ada%00%40example.org".into(), "control character"),
        ("email=not-an-address".into(), "is not an email address"),
        (
            format!("email=ada%40example.org&name={}", "n".repeat(101)),
            "at most 100",
        ),
        (
            "email=ada%40example.org&scope=topics&topic=no-such-topic".into(),
            "do not exist",
        ),
        (
            "email=%3Cscript%3Ealert(1)%3C%2Fscript%3E%40example.org".into(),
            "cannot hold",
        ),
    ];
    for (body, says) in &cases {
        let reply = post_form(&site.state, "/subscribe", body, &[]).await;
        assert_eq!(reply.status, 422, "{body}");
        let page = reply.text();
        assert!(page.contains(says), "{body}: {says} not in the page");
        assert!(page.contains("nothing was stored"), "{body}");
        assert!(!page.contains("<script>alert"), "{body}: typed text is escaped");
    }
    assert_eq!(
        site.store.outbox_counts(None).await.expect("counts"),
        Default::default(),
        "no mail was queued"
    );
    assert!(site.store.list_subscribers().await.expect("list").is_empty());

    // Other sites' pages cannot post the form; robots fill the honeypot.
    let cross = post_form(
        &site.state,
        "/subscribe",
        "email=ada%40example.org",
        &[("origin", "https://evil.example")],
    )
    .await;
    assert_eq!(cross.status, 403);
    let robot = post_form(
        &site.state,
        "/subscribe",
        "email=ada%40example.org&website_confirm=x",
        &[],
    )
    .await;
    assert_eq!(robot.status, 303);
    assert_eq!(site.store.outbox_counts(None).await.expect("counts").queued, 0);

    // A subscriber and a stranger get the same answer.
    subscribe(&site, ["known@example.org".to_owned()], &[]).await;
    let known = post_form(&site.state, "/subscribe", "email=known%40example.org", &[]).await;
    let stranger = post_form(&site.state, "/subscribe", "email=stranger%40example.org", &[]).await;
    assert_eq!(known.status, stranger.status);
    assert_eq!(known.headers.get("location"), stranger.headers.get("location"));
    assert_eq!(known.body, stranger.body);

    // Per address: past the day's limit the answer is the same and no
    // more mail goes out (3 a day by default; one was sent above).
    for _ in 0..4 {
        let r = post_form(&site.state, "/subscribe", "email=stranger%40example.org", &[]).await;
        assert_eq!(r.status, 303);
    }
    let counts = site.store.outbox_counts(None).await.expect("counts");
    assert_eq!(counts.queued, 4, "known once, stranger three times");
}

#[tokio::test]
async fn sign_ups_are_limited_per_connection() {
    let smtp = SmtpServer::start().await;
    let site = site_on_either("newsletter_rate", Vec::new(), {
        let mut c = config(&smtp);
        c.newsletter.rate_per_hour = 2;
        c
    })
    .await;
    for i in 0..2 {
        let r = post_form(&site.state, "/subscribe", &format!("email=r{i}%40example.org"), &[]).await;
        assert_eq!(r.status, 303);
    }
    let limited = post_form(&site.state, "/subscribe", "email=r9%40example.org", &[]).await;
    assert_eq!(limited.status, 429);
    assert!(limited.headers.contains_key("retry-after"));
    assert_eq!(site.store.outbox_counts(None).await.expect("counts").queued, 2);
}

#[tokio::test]
async fn behind_a_trusted_proxy_clients_are_told_apart() {
    let smtp = SmtpServer::start().await;
    let limited = |trusted: Vec<String>| {
        let mut c = config(&smtp);
        c.newsletter.rate_per_hour = 2;
        c.http.trusted_proxies = trusted;
        c
    };
    // The test client connects from 127.0.0.1, standing for the proxy.
    let site = site_on_either("newsletter_proxy", Vec::new(), limited(vec!["127.0.0.0/8".into()])).await;
    let sign_up = |n: usize, forwarded: String| {
        let state = site.state.clone();
        async move {
            post_form(
                &state,
                "/subscribe",
                &format!("email=p{n}%40example.org"),
                &[("x-forwarded-for", forwarded.as_str())],
            )
            .await
            .status
        }
    };
    // Ten readers behind the proxy: none is held back by the others.
    for n in 0..10 {
        assert_eq!(sign_up(n, format!("203.0.113.{n}")).await, 303, "reader {n}");
    }
    // One reader who writes their own header is still one reader: the
    // proxy's appended address is the one read.
    for n in 10..12 {
        assert_eq!(sign_up(n, format!("198.51.100.{n}, 192.0.2.1")).await, 303);
    }
    assert_eq!(sign_up(12, "198.51.100.99, 192.0.2.1".into()).await, 429);
    // IPv6 readers count by /64.
    assert_eq!(sign_up(13, "2001:db8:0:1::1".into()).await, 303);
    assert_eq!(sign_up(14, "2001:db8:0:1::2".into()).await, 303);
    assert_eq!(sign_up(15, "2001:db8:0:1:ffff::3".into()).await, 429);
    assert_eq!(sign_up(16, "2001:db8:0:2::1".into()).await, 303);

    // Without trusted proxies the header is never read: everyone is the
    // connecting address.
    let open = site_on_either("newsletter_no_proxy", Vec::new(), limited(Vec::new())).await;
    let statuses = {
        let mut out = Vec::new();
        for n in 0..3 {
            let r = post_form(
                &open.state,
                "/subscribe",
                &format!("email=q{n}%40example.org"),
                &[("x-forwarded-for", &format!("203.0.113.{n}"))],
            )
            .await;
            out.push(r.status.as_u16());
        }
        out
    };
    assert_eq!(statuses, [303, 303, 429]);
}

#[tokio::test]
async fn delivery_survives_4xx_5xx_and_dropped_connections() {
    // Recipient i: 1 → 451 twice; 2 → 550 always; 3 → dropped mid-DATA
    // once; 4 → 421 and hang-up once; others accepted.
    let smtp = SmtpServer::with_plan(|rcpt, attempt| {
        let i: u32 = rcpt
            .trim_start_matches("reader")
            .split('@')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        match (i % 8, attempt) {
            (1, 1 | 2) => Fault::Temp451,
            (2, _) => Fault::Reject550,
            (3, 1) => Fault::DropInData,
            (4, 1) => Fault::Close421,
            _ => Fault::Accept,
        }
    })
    .await;
    let site = site_on_either("newsletter_faults", standard_papers(), {
        let mut c = config(&smtp);
        c.mail.bounce_limit = 1;
        c
    })
    .await;
    let readers: Vec<SubscriberInput> = (0..40)
        .map(|i| SubscriberInput {
            email: format!("reader{i}@example.org"),
            name: format!("Reader {i}"),
            topics: Vec::new(),
        })
        .collect();
    site.store
        .import_subscribers(&readers, true, OffsetDateTime::now_utc(), &|_| {})
        .await
        .expect("import");
    let id = queue_paper(&site, "ports").await;
    let sender = sender(&site).await;
    deliver_all(&sender, &site.store).await;

    let c = site.store.campaign(id).await.expect("read").expect("campaign");
    assert_eq!(c.status, CampaignStatus::Sent);
    assert_eq!((c.recipients, c.sent, c.failed, c.queued), (40, 35, 5, 0));
    let counts = smtp.counts();
    for i in 0..40 {
        let address = format!("reader{i}@example.org");
        let got = counts.get(&address).copied().unwrap_or(0);
        if i % 8 == 2 {
            assert_eq!(got, 0, "{address} was refused for good");
        } else {
            assert_eq!(got, 1, "{address} has its message once");
        }
    }
    // Refused for good: recorded, and the subscriber is bounced.
    for s in site.store.list_subscribers().await.expect("list") {
        let i: u32 = s
            .email
            .trim_start_matches("reader")
            .split('@')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let want = if i % 8 == 2 {
            SubscriberStatus::Bounced
        } else {
            SubscriberStatus::Confirmed
        };
        assert_eq!(s.status, want, "{}", s.email);
    }
    // A second campaign skips the bounced.
    let next = queue_paper(&site, "namal").await;
    let c = site.store.campaign(next).await.expect("read").expect("campaign");
    assert_eq!(c.recipients, 35);
}

#[tokio::test]
async fn paused_campaigns_wait_and_scheduled_ones_start_on_time() {
    let smtp = SmtpServer::start().await;
    let site = site_on_either("newsletter_pause", standard_papers(), config(&smtp)).await;
    subscribe(&site, (0..5).map(|i| format!("p{i}@example.org")), &["trade"]).await;
    let id = queue_paper(&site, "ports").await;
    assert_eq!(
        site.store.pause_campaign(id, true).await.expect("pause"),
        Some(CampaignStatus::Paused)
    );
    let sender = sender(&site).await;
    assert_eq!(
        sender.round().await.expect("round"),
        0,
        "a paused campaign sends nothing"
    );
    assert!(smtp.messages().is_empty());
    site.store.pause_campaign(id, false).await.expect("resume");
    deliver_all(&sender, &site.store).await;
    assert_eq!(smtp.messages().len(), 5);

    // Scheduled: no recipients until its time, then everyone confirmed by then.
    let paper = site.store.get_paper("namal").await.expect("get").expect("paper");
    let composed = compose::paper_campaign(&paper, &MailSite::new("Quire", BASE));
    let later = OffsetDateTime::now_utc() + time::Duration::hours(1);
    let scheduled = site
        .store
        .queue_campaign(
            &NewCampaign {
                kind: CampaignKind::Paper,
                paper_id: Some(paper.meta.id),
                topic_ids: Vec::new(),
                topic_id: None,
                subject: composed.subject,
                html: composed.html,
                text: composed.text,
                send_at: later,
                digest_until: None,
                on_publish: false,
            },
            OffsetDateTime::now_utc(),
        )
        .await
        .expect("queue");
    assert!(
        site.store
            .start_due_campaigns(OffsetDateTime::now_utc())
            .await
            .expect("start")
            .is_empty()
    );
    let c = site.store.campaign(scheduled).await.expect("read").expect("c");
    assert_eq!((c.status, c.recipients), (CampaignStatus::Scheduled, 0));
    let started = site
        .store
        .start_due_campaigns(later + time::Duration::seconds(1))
        .await
        .expect("start");
    assert_eq!(started, vec![scheduled]);
    let c = site.store.campaign(scheduled).await.expect("read").expect("c");
    assert_eq!((c.status, c.recipients), (CampaignStatus::Sending, 5));
    // Starting twice (another server) writes no second set.
    assert!(
        site.store
            .start_due_campaigns(later + time::Duration::seconds(2))
            .await
            .expect("start")
            .is_empty()
    );
}

#[tokio::test]
async fn erasing_an_address_takes_its_mail_and_old_notices_are_purged() {
    let smtp = SmtpServer::start().await;
    let site = site_on_either("newsletter_erase", standard_papers(), config(&smtp)).await;
    subscribe(&site, ["ada@example.org".to_owned(), "bob@example.org".to_owned()], &[]).await;
    queue_paper(&site, "ports").await;
    let reply = post_form(&site.state, "/subscribe", "email=ada%40example.org", &[]).await;
    assert_eq!(reply.status, 303);
    assert_eq!(site.store.outbox_counts(None).await.expect("counts").queued, 3);

    assert!(site.store.erase_subscriber("ADA@example.org").await.expect("erase"));
    assert_eq!(
        site.store.outbox_counts(None).await.expect("counts").queued,
        1,
        "only Bob's copy is left"
    );
    assert!(
        site.store
            .subscriber_by_email("ada@example.org")
            .await
            .expect("read")
            .is_none()
    );

    assert!(
        site.store
            .unsubscribe_email("bob@example.org", OffsetDateTime::now_utc())
            .await
            .expect("unsubscribe")
    );
    assert!(
        !site
            .store
            .unsubscribe_email("bob@example.org", OffsetDateTime::now_utc())
            .await
            .expect("again")
    );

    // Confirmations and notices go after a while; campaign copies stay.
    post_form(&site.state, "/subscribe", "email=carol%40example.org", &[]).await;
    let sender = sender(&site).await;
    deliver_all(&sender, &site.store).await;
    let counts = site.store.outbox_counts(None).await.expect("counts");
    assert_eq!(
        (counts.sent, counts.skipped),
        (1, 1),
        "Carol's confirmation sent, Bob's copy skipped"
    );
    assert_eq!(
        site.store
            .purge_old_mail(OffsetDateTime::now_utc() - time::Duration::days(30))
            .await
            .expect("purge"),
        0
    );
    assert_eq!(
        site.store
            .purge_old_mail(OffsetDateTime::now_utc() + time::Duration::days(1))
            .await
            .expect("purge"),
        1
    );
    let counts = site.store.outbox_counts(None).await.expect("counts");
    assert_eq!((counts.sent, counts.skipped), (0, 1));
}

#[tokio::test]
async fn two_senders_share_a_campaign_without_sending_twice() {
    let smtp = SmtpServer::start().await;
    let site = site_on_either("newsletter_two_senders", standard_papers(), config(&smtp)).await;
    subscribe(&site, (0..300).map(|i| format!("s{i}@example.org")), &[]).await;
    let id = queue_paper(&site, "ports").await;
    // Two servers' senders, each with its own connections.
    let (a, b) = (sender(&site).await, sender(&site).await);
    let (sa, sb) = (site.store.clone(), site.store.clone());
    tokio::join!(deliver_all(&a, &sa), deliver_all(&b, &sb));
    let counts = smtp.counts();
    assert_eq!(counts.len(), 300);
    assert!(counts.values().all(|n| *n == 1), "each subscriber has exactly one copy");
    let c = site.store.campaign(id).await.expect("read").expect("campaign");
    assert_eq!((c.status, c.sent), (CampaignStatus::Sent, 300));
}

#[tokio::test]
async fn emails_are_signed_with_dkim_when_a_key_is_set() {
    let smtp = SmtpServer::start().await;
    let keys = tempfile::tempdir().expect("dir");
    std::fs::write(
        keys.path().join("dkim.key"),
        "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n",
    )
    .expect("key");
    std::fs::write(
        keys.path().join("pkcs8.pem"),
        "-----BEGIN PRIVATE KEY-----\nMC4CAQA=\n-----END PRIVATE KEY-----\n",
    )
    .expect("key");
    let signed = {
        let mut c = config(&smtp);
        c.mail.dkim_selector = "quire".into();
        c.mail.dkim_key_file = "dkim.key".into();
        c
    };
    let mailer = quire_mail::Mailer::from_settings(&signed.mailer_settings(), keys.path()).expect("mailer");
    let message = quire_mail::compose::build_message(
        &mailer.from,
        quire_mail::compose::Letter {
            to: "ada@example.org",
            to_name: "",
            subject: "Signed",
            parts: quire_mail::compose::Parts::Plain {
                html: "<p>Hi</p>".into(),
                text: "Hi".into(),
            },
            message_id: "<quire.1@example.org>",
        },
        None,
    )
    .expect("message");
    assert_eq!(mailer.send(message).await, quire_core::domain::AttemptResult::Delivered);
    let data = smtp.messages().pop().expect("received").data;
    let signature = header(&data, "DKIM-Signature").expect("signed");
    for part in ["a=ed25519-sha256", "d=example.org", "s=quire", "c=relaxed/relaxed"] {
        assert!(signature.contains(part), "{part} in {signature}");
    }
    let covered = signature
        .split("h=")
        .nth(1)
        .expect("h=")
        .split(';')
        .next()
        .expect("list")
        .to_ascii_lowercase();
    for h in [
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
    ] {
        assert!(covered.split(':').any(|c| c.trim() == h), "{h} is signed: {covered}");
    }

    // Keys that cannot be used say why and how to fix it.
    for (file, says) in [
        ("missing.key", "cannot read"),
        ("pkcs8.pem", "openssl rsa -in KEY -traditional"),
    ] {
        let bad = {
            let mut c = signed.clone();
            c.mail.dkim_key_file = file.into();
            c
        };
        let err = quire_mail::Mailer::from_settings(&bad.mailer_settings(), keys.path())
            .err()
            .expect("refused")
            .to_string();
        assert!(err.contains(says), "{file}: {err}");
    }
    let half = {
        let mut c = signed.clone();
        c.mail.dkim_key_file = String::new();
        c
    };
    assert!(half.validate().expect_err("half").contains("set both"));
}

#[tokio::test]
async fn a_sender_whose_lease_lapsed_records_nothing_over_the_next() {
    use quire_core::domain::AttemptResult;
    use quire_store::{Delivery, DeliveryResult, RetryPolicy};
    use std::time::Duration;
    let smtp = SmtpServer::start().await;
    let site = site_on_either("newsletter_lapsed_lease", standard_papers(), config(&smtp)).await;
    subscribe(&site, ["ada@example.org".to_owned()], &[]).await;
    let campaign = queue_paper(&site, "ports").await;
    let store = &site.store;
    let policy = RetryPolicy {
        max_attempts: 8,
        base: Duration::from_secs(60),
        bounce_limit: 1,
    };
    let t0 = OffsetDateTime::now_utc();
    // A slow sender claims the message; its lease lapses, and another
    // sender claims it again.
    let slow = store
        .claim_messages(10, t0, Duration::from_secs(1))
        .await
        .expect("claim");
    assert_eq!(slow.len(), 1);
    let t1 = t0 + time::Duration::seconds(5);
    let next = store
        .claim_messages(10, t1, Duration::from_secs(60))
        .await
        .expect("claim");
    assert_eq!(next.len(), 1, "the lapsed lease lets another sender claim");
    assert_eq!((slow[0].attempts, next[0].attempts), (1, 2));
    let result = |m: &quire_store::ClaimedMessage, r: AttemptResult| Delivery {
        id: m.id,
        subscriber_id: m.subscriber_id,
        attempts: u32::try_from(m.attempts).expect("attempts"),
        result: DeliveryResult::Attempt(r),
    };
    // The slow sender's failure comes in late: dropped, and no bounce.
    let late = store
        .record_deliveries(
            &[result(&slow[0], AttemptResult::Permanent("550 late".into()))],
            policy,
            t1,
        )
        .await
        .expect("record");
    assert_eq!(late, 0, "a claim that is no longer the sender's records nothing");
    let ada = store
        .subscriber_by_email("ada@example.org")
        .await
        .expect("read")
        .expect("ada");
    assert_eq!(ada.status, SubscriberStatus::Confirmed, "no bounce counted");
    // The sender that holds the claim records its delivery…
    let held = store
        .record_deliveries(&[result(&next[0], AttemptResult::Delivered)], policy, t1)
        .await
        .expect("record");
    assert_eq!(held, 1);
    // …and nothing recorded after it changes that.
    let after = store
        .record_deliveries(
            &[result(&slow[0], AttemptResult::Transient("421 late".into()))],
            policy,
            t1,
        )
        .await
        .expect("record");
    assert_eq!(after, 0);
    store.finish_campaigns(t1).await.expect("finish");
    let c = store.campaign(campaign).await.expect("read").expect("campaign");
    assert_eq!((c.status, c.sent, c.failed, c.queued), (CampaignStatus::Sent, 1, 0, 0));
}

#[tokio::test]
async fn notices_are_written_when_sent_and_stale_ones_are_skipped_with_the_reason() {
    let smtp = SmtpServer::start().await;
    let site = site_on_either("notices_when_sent", standard_papers(), config(&smtp)).await;
    let rows: Vec<SubscriberInput> = ["ada@example.org", "bob@example.org"]
        .into_iter()
        .map(|email| SubscriberInput {
            email: email.into(),
            name: String::new(),
            topics: Vec::new(),
        })
        .collect();
    site.store
        .import_subscribers(&rows, false, OffsetDateTime::now_utc(), &|_| {})
        .await
        .expect("import");
    assert_eq!(site.state.app.send_confirmations().await.expect("queue"), 2);
    // Bob leaves before his confirmation goes: it is not sent.
    site.state
        .app
        .unsubscribe_email("bob@example.org")
        .await
        .expect("leave");
    let sender = sender(&site).await;
    deliver_all(&sender, &site.store).await;
    let sent = smtp.messages();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to, ["ada@example.org"]);
    let entries = site.store.outbox_entries(None, 10).await.expect("outbox");
    let bob = entries.iter().find(|e| e.recipient == "bob@example.org").expect("bob");
    assert_eq!(bob.status, DeliveryStatus::Skipped);
    assert_eq!(
        bob.last_error.as_deref(),
        Some("the subscriber had confirmed or left by then")
    );
}
