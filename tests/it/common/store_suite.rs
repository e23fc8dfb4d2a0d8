//! The Store API suite, written once and run on each back end by
//! `store_sqlite` and `store_postgres` through `store_suite!`.

/// Defines one test per case; `$open` is an async expression yielding
/// `Option<(Store, Guard)>` (None: back end not available, test skipped).
#[macro_export]
macro_rules! store_suite {
    ($open:expr) => {
        use quire_core::domain::Status;
        use quire_store::{AddOptions, PaperQuery, SlugTable, StoreError, Visibility};
        use std::time::Duration;
        use time::OffsetDateTime;
        use time::macros::datetime;

        fn t(days_ago: i64) -> OffsetDateTime {
            quire_store::db_time(OffsetDateTime::now_utc() - time::Duration::days(days_ago))
        }

        #[tokio::test]
        async fn adds_and_reads_papers_with_ordered_bylines() {
            let Some((store, _guard)) = $open("adds_and_reads") .await else { return };
            store.upsert_author(&common::author("ada", "Ada Lovelace")).await.expect("author");
            store.upsert_author(&common::author("alan", "Alan Turing")).await.expect("author");
            store.upsert_topic(&common::topic("trade", "Trade")).await.expect("topic");
            let mut p = common::paper("ports", t(3), &["alan", "ada"], &["trade"]);
            p.canonical_url = Some("https://example.org/ports".into());
            p.language = "he".into();
            store.add_papers(&[p.clone()], AddOptions::default()).await.expect("add");
            let got = store.get_paper("ports").await.expect("get").expect("exists");
            assert_eq!(got.meta.title, p.title);
            assert_eq!(got.meta.subtitle, p.subtitle);
            assert_eq!(got.body, p.body);
            assert_eq!(got.meta.language, "he");
            assert_eq!(got.meta.direction().as_str(), "rtl");
            assert_eq!(got.meta.canonical_url.as_deref(), Some("https://example.org/ports"));
            assert_eq!(got.meta.published_at, p.published_at);
            assert_eq!(Some(got.meta.updated_at), p.published_at, "a paper added with a past date was not updated since");
            assert_eq!(got.meta.status, Status::Published);
            let names: Vec<_> = got.meta.authors.iter().map(|a| a.name.as_str()).collect();
            assert_eq!(names, ["Alan Turing", "Ada Lovelace"], "byline order kept");
            assert_eq!(got.meta.authors[0].affiliation.as_deref(), Some("Institute of Tests"));
            assert_eq!(got.meta.topics[0].name, "Trade");
            let bios = store.authors_by_slugs(&["alan".into(), "ada".into(), "nobody".into()]).await.expect("authors");
            assert_eq!(bios.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["Alan Turing", "Ada Lovelace"]);
            assert_eq!(bios[1].bio, "Writes *tests*.");
            assert!(got.meta.word_count >= 4);
            assert!(store.get_paper("nope").await.expect("get").is_none());
        }

        #[tokio::test]
        async fn images_are_stored_with_their_paper() {
            let Some((store, _guard)) = $open("images").await else { return };
            store.upsert_author(&common::author("ada", "Ada")).await.expect("author");
            let chart = common::png(3, 2, [200, 30, 30]);
            let mut p = common::paper("charts", t(1), &["ada"], &[]);
            p.media = vec![common::media("figures/chart one.png", &chart), common::media("رسم.svg", common::SVG.as_bytes())];
            store.add_papers(std::slice::from_ref(&p), AddOptions::default()).await.expect("add");
            let got = store.get_paper("charts").await.expect("get").expect("exists");
            let mut names: Vec<&str> = got.media.iter().map(|m| m.name.as_str()).collect();
            names.sort();
            assert_eq!(names, ["figures/chart one.png", "رسم.svg"]);
            let meta = got.media.iter().find(|m| m.name == "figures/chart one.png").expect("chart");
            assert_eq!((meta.kind, meta.width, meta.height, meta.byte_size), (quire_core::domain::MediaKind::Png, Some(3), Some(2), chart.len() as u64));
            assert_eq!(meta.sha256.len(), 64);
            let file = store.media_file(got.meta.id, "figures/chart one.png").await.expect("read").expect("stored");
            assert_eq!(file.data, chart, "bytes come back exactly");
            assert!(store.media_file(got.meta.id, "other.png").await.expect("read").is_none());
            assert!(store.media_file(got.meta.id + 1, "figures/chart one.png").await.expect("read").is_none(), "images belong to one paper");

            // Replacing the paper replaces its images.
            let bigger = common::png(4, 4, [0, 0, 200]);
            p.media = vec![common::media("figures/chart one.png", &bigger)];
            store.add_papers(std::slice::from_ref(&p), AddOptions { create_missing: false, replace: true, ..AddOptions::default() }).await.expect("replace");
            let files = store.media_files(got.meta.id).await.expect("files");
            assert_eq!(files.len(), 1);
            assert_eq!((files[0].data.as_slice(), files[0].meta.width), (bigger.as_slice(), Some(4)));

            // A failed batch leaves them as they were.
            let mut emptied = p.clone();
            emptied.media.clear();
            let err = store
                .add_papers(&[emptied, common::paper("x", t(1), &["ghost"], &[])], AddOptions { create_missing: false, replace: true, ..AddOptions::default() })
                .await
                .expect_err("unknown author");
            assert!(matches!(err, StoreError::UnknownReference { .. }), "{err}");
            assert_eq!(store.media_files(got.meta.id).await.expect("files").len(), 1, "nothing half-written");
        }

        #[tokio::test]
        async fn comments_are_added_threaded_and_moderated() {
            use quire_core::domain::{CommentInput, CommentStatus as C};
            use quire_store::{CommentQuery, NewComment};
            let Some((store, _guard)) = $open("comments").await else { return };
            store.upsert_author(&common::author("ada", "Ada")).await.expect("author");
            store
                .add_papers(&[common::paper("ports", t(3), &["ada"], &[]), common::paper("water", t(2), &["ada"], &[])], AddOptions::default())
                .await
                .expect("papers");
            let ports = store.get_paper("ports").await.expect("get").expect("ports").meta.id;
            let water = store.get_paper("water").await.expect("get").expect("water").meta.id;
            let input = |name: &str, email: &str, text: &str, parent: Option<i64>| CommentInput {
                name: name.into(),
                email: email.into(),
                url: Some("https://example.org/".into()),
                text: text.into(),
                parent_id: parent,
            };
            let now = OffsetDateTime::now_utc();
            let add = |paper_id: i64, input: CommentInput, status: C| {
                let store = store.clone();
                async move {
                    store
                        .add_comment(&NewComment { paper_id, input: &input, status, ip: "203.0.113.9", user_agent: "test", notify_replies: false, now })
                        .await
                }
            };
            let v0 = store.content_version().await.expect("version");
            let first = add(ports, input("Ada", "ada@example.org", "Harbours <b>matter</b> — \"quoted\" & שלום", None), C::Approved).await.expect("first");
            assert!(store.content_version().await.expect("version") > v0, "an approved comment changes the pages");
            assert!(store.approved_before("Ada", "ada@example.org").await.expect("q"));
            assert!(store.approved_before("Ada", "ADA@example.org").await.expect("q"), "addresses in any case");
            assert!(!store.approved_before("Mallory", "ada@example.org").await.expect("q"), "the address alone is not enough");
            assert!(!store.approved_before("Ada", "bob@example.org").await.expect("q"));
            let reply = add(ports, input("Bob", "bob@example.org", "A reply.", Some(first)), C::Pending).await.expect("reply");
            for parent in [reply, 99_999] {
                let err = add(ports, input("Eve", "eve@example.org", &format!("to {parent}"), Some(parent)), C::Approved).await.expect_err("bad parent");
                assert!(matches!(err, StoreError::BadReply(p) if p == parent), "{err}");
            }
            let err = add(water, input("Eve", "eve@example.org", "across papers", Some(first)), C::Approved).await.expect_err("other paper");
            assert!(matches!(err, StoreError::BadReply(_)), "{err}");
            let err = add(ports, input("Other", "o@example.org", "A reply.", None), C::Pending).await.expect_err("duplicate");
            assert!(matches!(err, StoreError::DuplicateComment), "{err}");
            let on_water = add(water, input("Bob", "bob@example.org", "A reply.", None), C::Approved).await.expect("same text, other paper");

            let thread = store.paper_comments(ports, &[]).await.expect("thread");
            assert_eq!(thread.iter().map(|c| c.id).collect::<Vec<_>>(), [first]);
            assert_eq!(thread[0].text, "Harbours <b>matter</b> — \"quoted\" & שלום", "text kept exactly");
            assert_eq!(thread[0].paper, "ports");
            let with_own = store.paper_comments(ports, &[reply, on_water]).await.expect("thread");
            assert_eq!(with_own.iter().map(|c| c.id).collect::<Vec<_>>(), [first, reply], "a pending comment only for its writer, only on its paper");
            assert_eq!(with_own[1].parent_id, Some(first));
            let counts = store.comment_counts(&[ports, water]).await.expect("counts");
            assert_eq!((counts[&ports], counts[&water]), (1, 1));

            let pending = store.list_comments(&CommentQuery { status: Some(C::Pending), ..CommentQuery::default() }).await.expect("list");
            assert_eq!(pending.iter().map(|c| c.id).collect::<Vec<_>>(), [reply]);
            let water_list = store.list_comments(&CommentQuery { paper: Some("water".into()), ..CommentQuery::default() }).await.expect("list");
            assert_eq!(water_list.iter().map(|c| c.id).collect::<Vec<_>>(), [on_water]);
            assert_eq!(store.list_comments(&CommentQuery::default()).await.expect("all").len(), 3);

            let err = store.set_comment_status(&[reply, 99_999], C::Approved).await.expect_err("unknown id");
            assert!(matches!(err, StoreError::CommentNotFound(99_999)), "{err}");
            assert_eq!(store.get_comment(reply).await.expect("get").expect("there").status, C::Pending, "all or nothing");
            store.set_comment_status(&[reply], C::Approved).await.expect("approve");
            assert_eq!(store.comment_counts(&[ports]).await.expect("counts")[&ports], 2);
            store.set_comment_status(&[first], C::Spam).await.expect("spam");
            store.set_comment_status(&[first], C::Trash).await.expect("then trash");
            store.restore_comments(&[first]).await.expect("restore");
            assert_eq!(store.get_comment(first).await.expect("get").expect("there").status, C::Approved, "back where it was before spam");

            store.set_comment_status(&[on_water], C::Trash).await.expect("trash");
            assert_eq!(store.purge_comments(&[C::Spam, C::Trash], now - time::Duration::hours(1)).await.expect("purge"), 0, "too recent");
            assert_eq!(store.purge_comments(&[C::Spam, C::Trash], now + time::Duration::hours(1)).await.expect("purge"), 1);
            assert!(store.get_comment(on_water).await.expect("get").is_none());
            assert!(store.get_comment(first).await.expect("get").is_some(), "approved ones stay");

            assert_eq!(store.truncate_comment_ips(now + time::Duration::seconds(5)).await.expect("truncate"), 2);
            assert_eq!(store.get_comment(first).await.expect("get").expect("there").ip.as_deref(), Some("203.0.113.0"));
            assert_eq!(store.truncate_comment_ips(now + time::Duration::seconds(5)).await.expect("again"), 0, "once only");

            assert_eq!(store.comments_by_email("BOB@example.org").await.expect("export").len(), 1);
            assert_eq!(store.erase_comments_by_email("bob@example.org").await.expect("erase"), 1);
            let erased = store.get_comment(reply).await.expect("get").expect("kept");
            assert_eq!((erased.name.as_str(), erased.email.as_str(), erased.url.as_deref(), erased.ip.as_deref()), ("Anonymous", "erased@invalid", None, None));
            assert_eq!(erased.text, "A reply.", "the thread still reads");
            assert!(store.comments_by_email("bob@example.org").await.expect("export").is_empty());
        }

        #[tokio::test]
        async fn concurrent_comments_all_land() {
            use quire_core::domain::{CommentInput, CommentStatus as C};
            use quire_store::NewComment;
            let Some((store, _guard)) = $open("concurrent_comments").await else { return };
            store.upsert_author(&common::author("ada", "Ada")).await.expect("author");
            store.add_papers(&[common::paper("ports", t(3), &["ada"], &[])], AddOptions::default()).await.expect("paper");
            let paper = store.get_paper("ports").await.expect("get").expect("ports").meta.id;
            // Each transaction reads before it writes: with deferred
            // transactions SQLite would refuse some with "database is locked".
            let tasks: Vec<_> = (0..40)
                .map(|i| {
                    let store = store.clone();
                    tokio::spawn(async move {
                        let input = CommentInput {
                            name: format!("Reader {i}"),
                            email: format!("r{i}@example.org"),
                            url: None,
                            text: format!("Comment {i}"),
                            parent_id: None,
                        };
                        let status = if i % 2 == 0 { C::Approved } else { C::Pending };
                        store
                            .add_comment(&NewComment { paper_id: paper, input: &input, status, ip: "", user_agent: "", notify_replies: false, now: OffsetDateTime::now_utc() })
                            .await
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("task").expect("every comment lands");
            }
            assert_eq!(store.list_comments(&quire_store::CommentQuery::default()).await.expect("list").len(), 40);
        }

        #[tokio::test]
        async fn subscriber_lists_import_whole_or_not_at_all() {
            use quire_core::domain::{Consent, SubscriberInput, SubscriberStatus};
            let Some((store, _guard)) = $open("subscribers").await else { return };
            store.upsert_topic(&common::topic("trade", "Trade")).await.expect("topic");
            let row = |email: &str, topics: &[&str]| SubscriberInput {
                email: email.into(),
                name: format!("Name of {email}"),
                topics: topics.iter().map(|t| t.to_string()).collect(),
            };
            let now = OffsetDateTime::now_utc();
            let seen = std::sync::Mutex::new(0usize);
            let report = store
                .import_subscribers(&[row("a@example.org", &[]), row("b@example.org", &["trade"])], false, now, &|n| *seen.lock().expect("lock") = n)
                .await
                .expect("import");
            assert_eq!((report.added, report.existing), (2, 0));
            assert_eq!(*seen.lock().expect("lock"), 2, "progress reaches the end");
            let all = store.list_subscribers().await.expect("list");
            assert_eq!(all.iter().map(|s| (s.email.as_str(), s.status, s.consent)).collect::<Vec<_>>(), [
                ("a@example.org", SubscriberStatus::Pending, Consent::Imported),
                ("b@example.org", SubscriberStatus::Pending, Consent::Imported),
            ], "without declared consent they wait to confirm");
            assert_eq!(all[1].topics, ["trade"]);
            assert!(all[0].topics.is_empty(), "no topics: everything");

            let report = store
                .import_subscribers(&[row("a@example.org", &[]), row("c@example.org", &[])], true, now, &|_| {})
                .await
                .expect("import");
            assert_eq!((report.added, report.existing), (1, 1));
            let all = store.list_subscribers().await.expect("list");
            assert_eq!(all[0].status, SubscriberStatus::Pending, "an existing subscriber is left as they were");
            assert_eq!((all[2].status, all[2].consent), (SubscriberStatus::Confirmed, Consent::ImportedWithConsent));
            assert!(all[2].confirmed_at.is_some());

            let err = store
                .import_subscribers(&[row("d@example.org", &[]), row("e@example.org", &["nope"])], true, now, &|_| {})
                .await
                .expect_err("unknown topic");
            assert!(matches!(err, StoreError::UnknownReference { what: "topic", .. }), "{err}");
            assert_eq!(store.list_subscribers().await.expect("list").len(), 3, "nothing of a failed import stays");

            assert!(store.erase_subscriber("B@example.org").await.expect("erase"));
            assert!(!store.erase_subscriber("b@example.org").await.expect("again"));
            assert_eq!(store.list_subscribers().await.expect("list").len(), 2);
        }

        #[tokio::test]
        async fn site_keys_are_made_once_and_shared() {
            let Some((store, guard)) = $open("site_keys").await else { return };
            let key = store.site_key("comments").await.expect("key");
            assert_eq!(key.len(), 32);
            assert_eq!(store.site_key("comments").await.expect("again"), key, "made once");
            let other = guard.second_store().await;
            assert_eq!(other.site_key("comments").await.expect("other server"), key, "every server signs alike");
            other.close().await;
            assert_ne!(store.site_key("cookies").await.expect("another"), key);
        }

        #[tokio::test]
        async fn batches_are_all_or_nothing() {
            let Some((store, _guard)) = $open("all_or_nothing").await else { return };
            store.upsert_author(&common::author("ada", "Ada")).await.expect("author");
            let good = common::paper("good", t(1), &["ada"], &[]);
            let bad = common::paper("bad", t(1), &["ghost"], &[]);
            let err = store.add_papers(&[good.clone(), bad], AddOptions::default()).await.expect_err("unknown author");
            assert!(matches!(err, StoreError::UnknownReference { what: "author", .. }), "{err}");
            assert_eq!(store.count_papers(&PaperQuery::all()).await.expect("count"), 0, "nothing written");
            // The failed batch holds no locks: another connection can write
            // the same paper at once.
            let other = _guard.second_store().await;
            tokio::time::timeout(Duration::from_secs(5), other.add_papers(std::slice::from_ref(&good), AddOptions::default()))
                .await
                .expect("not blocked by the failed batch")
                .expect("add");
            other.close().await;
            store.set_status("good", Status::Published, good.published_at).await.expect("still writable");
            let v = store.content_version().await.expect("version");
            let err = store.add_papers(&[common::paper("other", t(1), &["ada"], &[]), good.clone()], AddOptions::default()).await.expect_err("dup");
            assert!(matches!(err, StoreError::DuplicatePaper(ref s) if s == "good"), "{err}");
            assert_eq!(store.count_papers(&PaperQuery::all()).await.expect("count"), 1);
            assert_eq!(store.content_version().await.expect("version"), v, "failed write changes nothing");
        }

        #[tokio::test]
        async fn create_missing_and_replace() {
            let Some((store, _guard)) = $open("create_missing").await else { return };
            let p = common::paper("p1", t(1), &["grace-hopper"], &["public-finance"]);
            store.add_papers(std::slice::from_ref(&p), AddOptions { create_missing: true, replace: false, ..AddOptions::default() }).await.expect("add");
            let authors = store.list_authors(Visibility::All).await.expect("authors");
            assert_eq!(authors.len(), 1);
            assert_eq!(authors[0].name, "grace-hopper");
            let topics = store.list_topics(Visibility::All).await.expect("topics");
            assert_eq!(topics[0].name, "public-finance");
            let mut edited = p.clone();
            edited.title = "Edited".into();
            edited.authors = vec![];
            store.add_papers(&[edited], AddOptions { create_missing: false, replace: true, ..AddOptions::default() }).await.expect("replace");
            let got = store.get_paper("p1").await.expect("get").expect("exists");
            assert_eq!(got.meta.title, "Edited");
            assert!(got.meta.updated_at > t(1), "an edit moves updated_at");
            assert!(got.meta.authors.is_empty());
            assert_eq!(got.meta.topics.len(), 1, "topics re-set from input");
        }

        #[tokio::test]
        async fn every_save_is_a_revision_and_stale_saves_are_refused() {
            let Some((store, _guard)) = $open("revisions").await else { return };
            store.upsert_author(&common::author("ada", "Ada")).await.expect("author");
            let mut p = common::paper("rev", t(1), &["ada"], &[]);
            p.status = Status::Draft;
            p.media = vec![quire_app::papers::check_image("chart.png", common::png(4, 3, [10, 20, 30])).expect("png")];
            store.add_papers(std::slice::from_ref(&p), AddOptions::default()).await.expect("add");
            let state = store.edit_state("rev").await.expect("state").expect("exists");
            assert_eq!((state.revision, state.submitted_at), (1, None));
            let v = store.content_version().await.expect("version");
            // A save from revision 1 while the paper is at 1 goes in, keeping
            // the images when asked to.
            let mut edited = p.clone();
            edited.title = "Second".into();
            edited.media.clear();
            let at_one = AddOptions { replace: true, keep_media: true, expected_revision: Some(1), ..AddOptions::default() };
            store.add_papers(std::slice::from_ref(&edited), at_one).await.expect("save");
            let got = store.get_paper("rev").await.expect("get").expect("exists");
            assert_eq!(got.meta.title, "Second");
            assert_eq!(got.media.len(), 1, "images kept");
            // Another save from revision 1 is refused, and changes nothing.
            let mut stale = p.clone();
            stale.title = "Stale".into();
            let v2 = store.content_version().await.expect("version");
            assert!(v2 > v);
            match store.add_papers(&[stale], at_one).await {
                Err(StoreError::StaleRevision { slug, current }) => assert_eq!((slug.as_str(), current), ("rev", 2)),
                other => panic!("expected a stale revision, got {other:?}"),
            }
            assert_eq!(store.content_version().await.expect("version"), v2);
            assert_eq!(store.get_paper("rev").await.expect("get").expect("exists").meta.title, "Second");
            // Both revisions are kept as paper files, newest first.
            let list = store.revisions(state.paper_id).await.expect("revisions");
            assert_eq!(list.iter().map(|r| r.number).collect::<Vec<_>>(), [2, 1]);
            assert_eq!(list[0].saved_by, None, "saved from the command line");
            let first = store.revision(state.paper_id, 1).await.expect("read").expect("exists");
            assert!(first.source.contains(&format!("title = {:?}", p.title)), "{}", first.source);
            assert!(first.source.ends_with(&p.body));
            assert_eq!(store.revision(state.paper_id, 9).await.expect("read"), None);
            // Submitted for review while a draft; publishing clears the mark.
            store.set_submitted("rev", Some(t(0))).await.expect("submit");
            assert_eq!(store.submitted_count().await.expect("count"), 1);
            let mut published = edited.clone();
            published.status = Status::Published;
            store
                .add_papers(&[published], AddOptions { replace: true, keep_media: true, ..AddOptions::default() })
                .await
                .expect("publish");
            let state = store.edit_state("rev").await.expect("state").expect("exists");
            assert_eq!((state.revision, state.submitted_at), (3, None));
            assert_eq!(store.submitted_count().await.expect("count"), 0);
            store.set_submitted("rev", Some(t(0))).await.expect("a published paper is left alone");
            assert_eq!(store.submitted_count().await.expect("count"), 0);
            assert!(matches!(
                store.set_submitted("nope", None).await,
                Err(StoreError::NotFound { .. })
            ));
        }

        #[tokio::test]
        async fn listing_hides_drafts_and_future_papers() {
            let Some((store, _guard)) = $open("listing").await else { return };
            store.upsert_author(&common::author("ada", "Ada")).await.expect("author");
            store.upsert_topic(&common::topic("trade", "Trade")).await.expect("topic");
            let mut draft = common::paper("draft", t(1), &["ada"], &["trade"]);
            draft.status = Status::Draft;
            let mut future = common::paper("future", t(-2), &["ada"], &["trade"]);
            future.status = Status::Scheduled;
            let mut due = common::paper("due", t(2), &["ada"], &["trade"]);
            due.status = Status::Scheduled;
            let mut archived = common::paper("archived", t(5), &["ada"], &["trade"]);
            archived.status = Status::Archived;
            let old = common::paper("old", t(400), &["ada"], &["trade"]);
            let new = common::paper("new", t(0), &["ada"], &[]);
            store.add_papers(&[draft, future, due, archived, old, new], AddOptions::default()).await.expect("add");
            let now = OffsetDateTime::now_utc();
            let listed = store.list_papers(&PaperQuery::listed_at(now)).await.expect("list");
            let slugs: Vec<_> = listed.iter().map(|p| p.slug.as_str()).collect();
            assert_eq!(slugs, ["new", "due", "old"], "newest first, only what readers see");
            assert_eq!(store.count_papers(&PaperQuery::listed_at(now)).await.expect("count"), 3);
            assert_eq!(store.count_papers(&PaperQuery::all()).await.expect("count"), 6);
            let by_topic = store.list_papers(&PaperQuery { topic: Some("trade".into()), ..PaperQuery::listed_at(now) }).await.expect("list");
            assert_eq!(by_topic.len(), 2);
            let by_author = store.list_papers(&PaperQuery { author: Some("ada".into()), limit: Some(1), offset: 1, ..PaperQuery::listed_at(now) }).await.expect("list");
            assert_eq!(by_author.iter().map(|p| p.slug.as_str()).collect::<Vec<_>>(), ["due"]);
            let this_year = store.count_papers(&PaperQuery { year: Some(t(400).year()), ..PaperQuery::listed_at(now) }).await.expect("count");
            assert!(this_year >= 1);
            let drafts = store.list_papers(&PaperQuery { status: Some((Status::Draft, now)), ..PaperQuery::all() }).await.expect("list");
            assert_eq!(drafts.len(), 1);
            // Status as readers see it: `due` was scheduled and its time came.
            let slugs_with = |status: Status| {
                let store = store.clone();
                async move {
                    let q = PaperQuery { status: Some((status, now)), ..PaperQuery::all() };
                    store.list_papers(&q).await.expect("list").into_iter().map(|p| p.slug).collect::<Vec<_>>()
                }
            };
            assert_eq!(slugs_with(Status::Published).await, ["new", "due", "old"]);
            assert_eq!(slugs_with(Status::Scheduled).await, ["future"]);
            assert_eq!(slugs_with(Status::Archived).await, ["archived"]);
            let next = store.next_publication_after(now).await.expect("next").expect("one waiting");
            assert!(next > now && next <= now + time::Duration::days(3));
            let ada = store.get_author("ada", Visibility::ListedAt(now)).await.expect("get").expect("ada");
            assert_eq!(ada.paper_count, 3);
            let trade = store.get_topic("trade", Visibility::ListedAt(now)).await.expect("get").expect("trade");
            assert_eq!(trade.paper_count, 2);
            assert!(store.get_topic("nope", Visibility::All).await.expect("get").is_none());
        }

        #[tokio::test]
        async fn status_changes_and_versions() {
            let Some((store, _guard)) = $open("status").await else { return };
            store.upsert_author(&common::author("ada", "Ada")).await.expect("author");
            store.add_papers(&[common::paper("p", t(1), &["ada"], &[])], AddOptions::default()).await.expect("add");
            let v1 = store.content_version().await.expect("v");
            store.set_status("p", Status::Draft, None).await.expect("unpublish");
            assert!(store.content_version().await.expect("v") > v1);
            let got = store.get_paper("p").await.expect("get").expect("p");
            assert_eq!(got.meta.status, Status::Draft);
            assert_eq!(got.meta.published_at, None);
            let err = store.set_status("missing", Status::Published, None).await.expect_err("missing");
            assert!(matches!(err, StoreError::NotFound { .. }));
            let at = datetime!(2030-01-01 00:00 UTC);
            store.set_status("p", Status::Scheduled, Some(at)).await.expect("schedule");
            assert_eq!(store.get_paper("p").await.expect("get").expect("p").meta.published_at, Some(at));
        }

        #[tokio::test]
        async fn the_trash_hides_keeps_restores_and_purges() {
            let Some((store, _guard)) = $open("trash").await else { return };
            store.upsert_author(&common::author("ada", "Ada")).await.expect("author");
            let mut p = common::paper("p", t(1), &["ada"], &[]);
            p.body = "Harbour dredging costs.".into();
            store.add_papers(&[p, common::paper("q", t(2), &["ada"], &[])], AddOptions::default()).await.expect("add");
            let now = OffsetDateTime::now_utc();
            let found = |store: Store| async move {
                let q = quire_store::SearchQuery {
                    terms: quire_store::SearchTerms::parse("dredging"),
                    filter: PaperQuery { limit: Some(10), ..PaperQuery::listed_at(OffsetDateTime::now_utc()) },
                };
                store.search(&q).await.expect("search").hits.len()
            };
            assert_eq!(found(store.clone()).await, 1);
            let v1 = store.content_version().await.expect("v");
            let err = store.set_trashed(&["p".into(), "missing".into()], Some(now)).await.expect_err("all or none");
            assert!(matches!(err, StoreError::NotFound { .. }));
            assert!(store.get_paper("p").await.expect("get").expect("p").meta.trashed_at.is_none());
            store.set_trashed(&["p".into()], Some(now)).await.expect("trash");
            assert!(store.content_version().await.expect("v") > v1);
            let listed: Vec<_> = store.list_papers(&PaperQuery::listed_at(now)).await.expect("list").into_iter().map(|p| p.slug).collect();
            assert_eq!(listed, ["q"]);
            assert_eq!(store.list_papers(&PaperQuery::all()).await.expect("all").len(), 1, "the trash is apart");
            let trashed = store.list_papers(&PaperQuery { trashed: true, ..PaperQuery::all() }).await.expect("trash");
            assert_eq!(trashed[0].slug, "p");
            assert!(!store.get_paper("p").await.expect("get").expect("kept").meta.is_public_at(now));
            assert_eq!(found(store.clone()).await, 0, "not found by search");
            store.set_trashed(&["p".into()], None).await.expect("restore");
            assert_eq!(found(store.clone()).await, 1);
            assert!(store.get_paper("p").await.expect("get").expect("p").meta.is_public_at(now));
            store.set_trashed(&["p".into()], Some(now - time::Duration::days(40))).await.expect("trash");
            assert!(store.purge_trash(now - time::Duration::days(50)).await.expect("purge").is_empty());
            assert_eq!(store.purge_trash(now - time::Duration::days(30)).await.expect("purge"), ["p"]);
            assert!(store.get_paper("p").await.expect("get").is_none());
            assert!(store.get_paper("q").await.expect("get").is_some(), "only the trash is purged");
        }

        #[tokio::test]
        async fn merging_authors_and_topics_moves_everything_they_held() {
            let Some((store, _guard)) = $open("merge").await else { return };
            for (slug, name) in [("ada", "Ada Lovelace"), ("lovelace", "A. Lovelace"), ("alan", "Alan Turing")] {
                store.upsert_author(&common::author(slug, name)).await.expect("author");
            }
            for (slug, name) in [("trade", "Trade"), ("commerce", "Commerce")] {
                store.upsert_topic(&common::topic(slug, name)).await.expect("topic");
            }
            let mut papers = vec![
                common::paper("p1", t(3), &["lovelace", "alan"], &["commerce"]),
                common::paper("p2", t(2), &["ada", "lovelace"], &["trade", "commerce"]),
                common::paper("p3", t(1), &["alan"], &["trade"]),
            ];
            for p in &mut papers {
                p.body = "Harbour dredging.".into();
            }
            store.add_papers(&papers, AddOptions::default()).await.expect("add");
            let rows: Vec<quire_core::domain::SubscriberInput> = [("s1@example.org", vec!["commerce"]), ("s2@example.org", vec!["trade", "commerce"])]
                .into_iter()
                .map(|(email, topics)| quire_core::domain::SubscriberInput {
                    email: email.into(),
                    name: String::new(),
                    topics: topics.into_iter().map(str::to_owned).collect(),
                })
                .collect();
            store.import_subscribers(&rows, true, OffsetDateTime::now_utc(), &|_| {}).await.expect("subscribers");

            let err = store.merge_authors("nobody", "ada").await.expect_err("no such author");
            assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
            let v1 = store.content_version().await.expect("v");
            assert_eq!(store.merge_authors("lovelace", "ada").await.expect("merge"), 2);
            assert!(store.content_version().await.expect("v") > v1, "servers hear of it");
            let byline = |p: quire_core::domain::Paper| p.meta.authors.iter().map(|a| a.slug.clone()).collect::<Vec<_>>();
            assert_eq!(byline(store.get_paper("p1").await.expect("get").expect("p1")), ["ada", "alan"], "in the merged one's place");
            assert_eq!(byline(store.get_paper("p2").await.expect("get").expect("p2")), ["ada"], "named once");
            assert!(store.get_author("lovelace", Visibility::All).await.expect("get").is_none());
            let mut q = search_for("harbour");
            q.filter.author = Some("ada".into());
            let mut found = slugs(&store.search(&q).await.expect("search")).into_iter().map(str::to_owned).collect::<Vec<_>>();
            found.sort();
            assert_eq!(found, ["p1", "p2"], "the search filter follows");

            assert_eq!(store.merge_topics("commerce", "trade").await.expect("merge"), 2);
            let topics = |p: quire_core::domain::Paper| p.meta.topics.iter().map(|t| t.slug.clone()).collect::<Vec<_>>();
            assert_eq!(topics(store.get_paper("p1").await.expect("get").expect("p1")), ["trade"]);
            assert_eq!(topics(store.get_paper("p2").await.expect("get").expect("p2")), ["trade"]);
            for email in ["s1@example.org", "s2@example.org"] {
                let s = store.subscriber_by_email(email).await.expect("get").expect("subscriber");
                assert_eq!(s.topics, ["trade"], "{email} follows the topic that stays");
            }
            let mut q = search_for("harbour");
            q.filter.topic = Some("trade".into());
            assert_eq!(store.search(&q).await.expect("search").total, 3);
        }

        #[tokio::test]
        async fn hostile_text_round_trips_exactly() {
            let Some((store, _guard)) = $open("hostile").await else { return };
            store.upsert_author(&common::author("ada", "Ada'); DROP TABLE papers; --")).await.expect("author");
            let mut p = common::paper("x", t(1), &["ada"], &[]);
            p.title = "Robert'); DROP TABLE papers;-- \u{202e} \"quotes\" <b>".into();
            p.body = "emoji 🚢, RTL \u{05d0}\u{05d1}, zero-width \u{200b}, big ".to_string() + &"x".repeat(200_000);
            store.add_papers(&[p.clone()], AddOptions::default()).await.expect("add");
            let got = store.get_paper("x").await.expect("get").expect("x");
            assert_eq!(got.meta.title, p.title);
            assert_eq!(got.body, p.body);
            assert_eq!(got.meta.authors[0].name, "Ada'); DROP TABLE papers; --");
            assert_eq!(store.existing_slugs(SlugTable::Papers, &["x".into(), "y".into()]).await.expect("slugs"), ["x"]);
        }

        #[tokio::test]
        async fn upserts_update_in_place() {
            let Some((store, _guard)) = $open("upserts").await else { return };
            assert!(store.upsert_author(&common::author("ada", "Ada")).await.expect("new"));
            let mut a = common::author("ada", "Ada King");
            a.links = vec![quire_core::domain::AuthorLink { label: "Site".into(), url: "https://example.org".into() }];
            assert!(!store.upsert_author(&a).await.expect("update"));
            let got = store.get_author("ada", Visibility::All).await.expect("get").expect("ada");
            assert_eq!(got.name, "Ada King");
            assert_eq!(got.links, a.links);
            assert!(store.upsert_topic(&common::topic("t", "T")).await.expect("new"));
            assert!(!store.upsert_topic(&common::topic("t", "Topic")).await.expect("update"));
            assert_eq!(store.list_topics(Visibility::All).await.expect("list")[0].name, "Topic");
        }

        #[tokio::test]
        async fn large_lists_load_bylines_in_chunks() {
            let Some((store, _guard)) = $open("large").await else { return };
            store.upsert_author(&common::author("ada", "Ada")).await.expect("author");
            let papers: Vec<_> = (0..1200).map(|i| common::paper(&format!("p{i}"), t(i % 300), &["ada"], &["t"])).collect();
            store.add_papers(&papers, AddOptions { create_missing: true, replace: false, ..AddOptions::default() }).await.expect("add");
            let all = store.list_papers(&PaperQuery::all()).await.expect("list");
            assert_eq!(all.len(), 1200);
            assert!(all.iter().all(|p| p.authors.len() == 1 && p.topics.len() == 1));
        }

        #[tokio::test]
        async fn another_connection_sees_changes() {
            let Some((store, guard)) = $open("changes").await else { return };
            let other = guard.second_store().await;
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let watcher = store.watch_changes(Duration::from_millis(100), move || {
                let _ = tx.send(());
            });
            tokio::time::sleep(Duration::from_millis(300)).await;
            while rx.try_recv().is_ok() {}
            other.upsert_topic(&common::topic("new", "New")).await.expect("write from elsewhere");
            tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("change seen").expect("open");
            watcher.abort();
        }

        /// Three papers on water, ports and both, for search tests.
        async fn search_corpus(store: &quire_store::Store) {
            store.upsert_author(&common::author("ada", "Ada Lovelace")).await.expect("author");
            store.upsert_author(&common::author("alan", "Alan Turing")).await.expect("author");
            store.upsert_topic(&common::topic("trade", "Trade")).await.expect("topic");
            store.upsert_topic(&common::topic("water", "Water")).await.expect("topic");
            let mut ports = common::paper("ports", t(3), &["ada"], &["trade"]);
            ports.title = "Harbour governance".into();
            ports.summary = "How small harbours are run.".into();
            ports.body = "## Background\n\nThe harbour authorities measured **container** traffic across the supply chain.[^1]\n\n[^1]: A note about tariffs.\n".into();
            let mut water = common::paper("water", t(400), &["alan"], &["water"]);
            water.title = "Water rights".into();
            water.kind = "policy brief".into();
            water.body = "Rivers cross borders; water agreements need a harbour of trust. Chains of supply matter less here.".into();
            let mut both = common::paper("both", t(10), &["ada", "alan"], &["trade", "water"]);
            both.title = "Ports on rivers".into();
            both.body = "Inland harbours depend on water levels and on the supply of barges.".into();
            let mut draft = common::paper("draft", t(1), &["ada"], &["trade"]);
            draft.status = Status::Draft;
            draft.title = "Harbour secrets".into();
            store.add_papers(&[ports, water, both, draft], AddOptions::default()).await.expect("add");
        }

        fn search_for(q: &str) -> quire_store::SearchQuery {
            quire_store::SearchQuery {
                terms: quire_store::SearchTerms::parse(q),
                filter: PaperQuery { limit: Some(10), ..PaperQuery::listed_at(OffsetDateTime::now_utc()) },
            }
        }

        fn slugs(page: &quire_store::SearchPage) -> Vec<&str> {
            page.hits.iter().map(|h| h.paper.slug.as_str()).collect()
        }

        #[tokio::test]
        async fn search_ranks_titles_first_and_marks_matches() {
            let Some((store, _guard)) = $open("search_ranks").await else { return };
            search_corpus(&store).await;
            let found = store.search(&search_for("harbour")).await.expect("search");
            assert_eq!(found.total, 3, "the draft is not found");
            assert_eq!(slugs(&found)[0], "ports", "a title match ranks first: {:?}", slugs(&found));
            let hit = &found.hits[0];
            assert_eq!(hit.paper.authors[0].name, "Ada Lovelace", "hits carry bylines");
            assert!(hit.snippet.iter().any(|p| p.hit && p.text.to_lowercase().starts_with("harbour")), "{:?}", hit.snippet);
            assert!(!hit.snippet.iter().any(|p| p.text.contains("**")), "snippets are plain text: {:?}", hit.snippet);
            // Stemming: "harbours" finds "harbour"; words may come in any order.
            assert_eq!(store.search(&search_for("HARBOURS")).await.expect("search").total, 3);
            assert_eq!(store.search(&search_for("supply harbour")).await.expect("search").total, 3);
            // A phrase must appear as written.
            let phrase = store.search(&search_for("\"supply chain\"")).await.expect("search");
            assert_eq!(slugs(&phrase), ["ports"]);
            // Footnotes are searchable text too.
            assert_eq!(slugs(&store.search(&search_for("tariffs")).await.expect("search")), ["ports"]);
            assert_eq!(store.search(&search_for("nothingmatches")).await.expect("search").total, 0);
        }

        #[tokio::test]
        async fn search_filters_and_pages() {
            let Some((store, _guard)) = $open("search_filters").await else { return };
            search_corpus(&store).await;
            let mut q = search_for("harbour");
            q.filter.kind = Some("policy brief".into());
            assert_eq!(slugs(&store.search(&q).await.expect("search")), ["water"]);
            let mut q = search_for("harbour");
            q.filter.author = Some("alan".into());
            let mut by_alan = slugs(&store.search(&q).await.expect("search")).into_iter().map(str::to_owned).collect::<Vec<_>>();
            by_alan.sort();
            assert_eq!(by_alan, ["both", "water"]);
            let mut q = search_for("harbour");
            q.filter.topic = Some("water".into());
            q.filter.year = Some(t(400).year());
            assert_eq!(slugs(&store.search(&q).await.expect("search")), ["water"]);
            let mut q = search_for("harbour");
            q.filter.limit = Some(2);
            let first = store.search(&q).await.expect("page 1");
            q.filter.offset = 2;
            let second = store.search(&q).await.expect("page 2");
            assert_eq!((first.total, first.hits.len(), second.total, second.hits.len()), (3, 2, 3, 1));
            assert!(!slugs(&first).contains(&slugs(&second)[0]));
        }

        #[tokio::test]
        async fn hostile_searches_never_fail() {
            let Some((store, _guard)) = $open("hostile_search").await else { return };
            search_corpus(&store).await;
            let long = "harbour ".repeat(1300);
            for q in [
                "\"", "\"\"", "*", "harbour*", "title:harbour", "harbour OR water", "NOT harbour", "NEAR(harbour water)",
                "harbour AND", "'; DROP TABLE papers; --", "x' | 'y' & !z:*", "(((", "\u{0}\u{1}harbour", "\u{202E}harbour",
                "^harbour", "-harbour", "harbour:*", "<script>", "🙂", "the", "\"the of\"", "harbour \"of the\"",
                "\"supply \" chain\"", long.as_str(),
            ] {
                let found = store.search(&search_for(q)).await;
                assert!(found.is_ok(), "{q:?}: {found:?}");
            }
            let or = store.search(&search_for("harbour OR water")).await.expect("search").total;
            assert!(or <= 2, "OR is a word, not an operator that widens the search: {or}");
            assert_eq!(store.search(&search_for("\u{0}harbour")).await.expect("search").total, 3);
        }

        #[tokio::test]
        async fn translations_are_found_from_either_side() {
            let Some((store, _guard)) = $open("translations").await else { return };
            store.upsert_author(&common::author("ada", "Ada Lovelace")).await.expect("author");
            let original = common::paper("ports", t(3), &["ada"], &[]);
            let mut hebrew = common::paper("namal", t(2), &["ada"], &[]);
            hebrew.language = "he".into();
            hebrew.translation_of = Some("ports".into());
            let mut french = common::paper("ports-fr", t(1), &["ada"], &[]);
            french.language = "fr".into();
            french.translation_of = Some("ports".into());
            french.status = Status::Draft;
            store.add_papers(&[original, hebrew, french], AddOptions::default()).await.expect("add");
            let now = OffsetDateTime::now_utc();
            let from_original = store.translations("ports", None, now).await.expect("translations");
            let langs: Vec<_> = from_original.iter().map(|t| t.language.as_str()).collect();
            assert_eq!(langs, ["en", "he"], "drafts stay hidden");
            let got = store.get_paper("namal").await.expect("get").expect("exists");
            assert_eq!(got.meta.translation_of.as_deref(), Some("ports"));
            let from_translation = store.translations("namal", Some("ports"), now).await.expect("translations");
            assert_eq!(from_translation, from_original);
        }

        #[tokio::test]
        async fn drafts_added_later_do_not_hide_older_matches() {
            let Some((store, _guard)) = $open("drafts_crowd").await else { return };
            store.upsert_author(&common::author("ada", "Ada Lovelace")).await.expect("author");
            let matching = |slug: String, draft: bool| {
                let mut p = common::paper(&slug, t(5), &["ada"], &[]);
                p.body = "The lighthouse log.".into();
                if draft {
                    p.status = Status::Draft;
                    p.published_at = None;
                }
                p
            };
            let old: Vec<_> = (0..3).map(|i| matching(format!("old{i}"), false)).collect();
            store.add_papers(&old, AddOptions::default()).await.expect("add");
            let drafts: Vec<_> = (0..quire_store::RANK_POOL as usize + 5)
                .map(|i| matching(format!("draft{i}"), true))
                .collect();
            store.add_papers(&drafts, AddOptions::default()).await.expect("add");
            let found = store.search(&search_for("lighthouse")).await.expect("search");
            assert_eq!((found.total, found.total_is_exact), (3, true));
            assert_eq!(slugs(&found), ["old2", "old1", "old0"]);
        }

        #[tokio::test]
        async fn broad_searches_rank_the_newest_matches_and_say_so() {
            let Some((store, _guard)) = $open("broad_search").await else { return };
            store.upsert_author(&common::author("ada", "Ada Lovelace")).await.expect("author");
            let pool = quire_store::RANK_POOL as usize;
            let papers: Vec<_> = (0..pool + 5)
                .map(|i| {
                    let mut p = common::paper(&format!("p{i}"), t(1000 - i as i64 % 900), &["ada"], &[]);
                    p.body = format!("Common words in paper {i}.");
                    p
                })
                .collect();
            store.add_papers(&papers, AddOptions::default()).await.expect("add");
            let found = store.search(&search_for("common words")).await.expect("search");
            assert!(!found.total_is_exact);
            assert_eq!(found.total, quire_store::RANK_POOL);
            assert_eq!(found.hits.len(), 10);
            let mut q = search_for("common");
            q.filter.offset = (quire_store::RANK_POOL - 3) as u32;
            assert_eq!(store.search(&q).await.expect("last page").hits.len(), 3, "pages end with the pool");
            let narrow = store.search(&search_for("p7")).await.expect("search");
            assert!(narrow.total_is_exact);
        }

        #[tokio::test]
        async fn phrases_match_their_words_in_order_only() {
            let Some((store, _guard)) = $open("phrase_order").await else { return };
            store.upsert_author(&common::author("ada", "Ada Lovelace")).await.expect("author");
            let mut papers = Vec::new();
            for (slug, body) in [
                ("ordered", "The cost of capital rose while long-term contracts held."),
                ("reversed", "Capital cost fell."),
                ("apart", "The cost rose; capital stayed."),
                ("three", "Supply chain risk grew."),
                ("scattered", "Supply chain gaps widened; chain risk eased."),
                ("future", "The cost of capital will rise, and supply chain risk with it."),
            ] {
                let mut p = common::paper(slug, t(2), &["ada"], &[]);
                p.title = format!("Paper {slug}");
                p.summary = "A summary.".into();
                p.body = body.into();
                if slug == "future" {
                    p.status = Status::Scheduled;
                    p.published_at = Some(OffsetDateTime::now_utc() + time::Duration::days(5));
                }
                papers.push(p);
            }
            store.add_papers(&papers, AddOptions::default()).await.expect("add");
            for (q, expected) in [
                ("\"cost of capital\"", vec!["ordered"]),
                ("\"capital cost\"", vec!["reversed"]),
                // Words that stand apart in every paper are no phrase.
                ("\"cost capital\"", vec![]),
                ("\"supply chain risk\"", vec!["three"]),
                ("\"chain gaps\" \"chain risk\"", vec!["scattered"]),
                ("\"long term contracts\"", vec!["ordered"]),
                ("\"contracts long\"", vec![]),
            ] {
                let found = store.search(&search_for(q)).await.expect("search");
                assert_eq!(slugs(&found), expected, "{q}");
            }
            // The scheduled paper turns up once its time has come.
            let mut later = search_for("\"cost of capital\"");
            later.filter.visibility = quire_store::Visibility::ListedAt(OffsetDateTime::now_utc() + time::Duration::days(6));
            let mut found = slugs(&store.search(&later).await.expect("search")).into_iter().map(str::to_owned).collect::<Vec<_>>();
            found.sort();
            assert_eq!(found, ["future", "ordered"]);
        }

        #[tokio::test]
        async fn publishing_moves_a_paper_into_its_year_filter() {
            let Some((store, _guard)) = $open("publish_facets").await else { return };
            search_corpus(&store).await;
            let published = t(0);
            // Built after each change: the query's "now" must not precede it.
            let this_year = || {
                let mut q = search_for("harbour");
                q.filter.year = Some(published.year());
                q
            };
            let before = store.search(&this_year()).await.expect("search").total;
            store.set_status("draft", Status::Published, Some(published)).await.expect("publish");
            let after = store.search(&this_year()).await.expect("search");
            assert_eq!(after.total, before + 1, "the published draft joins this year's results");
            assert!(slugs(&after).contains(&"draft"));
            store.set_status("draft", Status::Draft, None).await.expect("unpublish");
            assert_eq!(store.search(&this_year()).await.expect("search").total, before);
            assert!(store.set_status("nope", Status::Draft, None).await.is_err());
        }
        #[tokio::test]
        async fn accounts_sessions_and_links_keep_their_rules() {
            use quire_core::domain::Role;
            use quire_store::{LinkPurpose, LinkUse, NewSession, NewUser, MAX_SESSIONS_PER_USER};
            let Some((store, _guard)) = $open("accounts").await else { return };
            store.upsert_author(&common::author("ada", "Ada Lovelace")).await.expect("author");
            let now = t(0);
            let new = |email: &str, role| NewUser { email: email.into(), name: "Someone".into(), role, author: None };
            let ada = store
                .add_user(&NewUser { author: Some("ada".into()), ..new("ada@example.org", Role::Editor) }, now)
                .await
                .expect("add");
            assert_eq!((ada.role, ada.author.as_deref(), ada.has_password), (Role::Editor, Some("ada"), false));
            assert!(matches!(
                store.add_user(&new("ada@example.org", Role::Author), now).await,
                Err(StoreError::DuplicateUser(_))
            ));
            assert!(matches!(
                store.add_user(&NewUser { author: Some("ghost".into()), ..new("g@example.org", Role::Author) }, now).await,
                Err(StoreError::UnknownReference { .. })
            ));
            store.add_user(&new("root@example.org", Role::Administrator), now).await.expect("add");
            let listed: Vec<String> = store.users().await.expect("users").into_iter().map(|u| u.email).collect();
            assert_eq!(listed, ["root@example.org", "ada@example.org"], "administrators first");

            // Links: good once, then used; expired; unknown.
            let soon = now + time::Duration::hours(1);
            store.add_account_link("d1", ada.id, LinkPurpose::Invite, now, soon).await.expect("link");
            assert!(matches!(store.account_link_open("d1", now).await.expect("open"), LinkUse::Taken { .. }));
            assert_eq!(
                store.use_account_link("d1", now).await.expect("use"),
                LinkUse::Taken { user_id: ada.id, purpose: LinkPurpose::Invite }
            );
            assert_eq!(store.use_account_link("d1", now).await.expect("use"), LinkUse::Used);
            store.add_account_link("d2", ada.id, LinkPurpose::Reset, now, soon).await.expect("link");
            assert_eq!(store.use_account_link("d2", soon).await.expect("use"), LinkUse::Expired);
            assert_eq!(store.use_account_link("nope", now).await.expect("use"), LinkUse::Unknown);

            // Sessions: found until they expire; a new one replaces the
            // one named; an account keeps a bounded number.
            let session = |digest: &'static str, at: OffsetDateTime| NewSession {
                digest,
                user_id: ada.id,
                role: Role::Editor,
                csrf: "c",
                address: "192.0.2.1",
                agent: "test",
                now: at,
                expires_at: at + time::Duration::days(1),
            };
            store.add_session(&session("s1", now), None).await.expect("session");
            assert_eq!(store.session("s1", now).await.expect("read").map(|s| s.user_id), Some(ada.id));
            assert_eq!(store.session("s1", now + time::Duration::days(1)).await.expect("read"), None, "expired");
            store.add_session(&session("s2", now), Some("s1")).await.expect("rotate");
            assert_eq!(store.session("s1", now).await.expect("read"), None, "replaced");
            for n in 0..(MAX_SESSIONS_PER_USER + 5) {
                let digest: &'static str = Box::leak(format!("many{n}").into_boxed_str());
                store.add_session(&session(digest, now + time::Duration::seconds(n)), None).await.expect("session");
            }
            assert_eq!(store.count_sessions(ada.id, now).await.expect("count"), MAX_SESSIONS_PER_USER);
            assert!(store.session("many0", now).await.expect("read").is_none(), "the oldest went first");

            // A new password ends every session and open link.
            store.add_account_link("d3", ada.id, LinkPurpose::Reset, now, soon).await.expect("link");
            store.set_password_hash(ada.id, "$argon2id$v=19$x", now).await.expect("hash");
            assert_eq!(store.count_sessions(ada.id, now).await.expect("count"), 0);
            assert_eq!(store.use_account_link("d3", now).await.expect("use"), LinkUse::Unknown);
            assert_eq!(store.use_account_link("d1", now).await.expect("use"), LinkUse::Used, "used ones still say so");
            assert_eq!(store.password_hash(ada.id).await.expect("hash").as_deref(), Some("$argon2id$v=19$x"));

            // Failed sign-ins count, are forgotten after a while, and clear.
            assert_eq!(store.record_failed_login(ada.id, now, now - time::Duration::days(1)).await.expect("fail"), 1);
            assert_eq!(store.record_failed_login(ada.id, now, now - time::Duration::days(1)).await.expect("fail"), 2);
            let much_later = now + time::Duration::days(2);
            assert_eq!(
                store.record_failed_login(ada.id, much_later, much_later - time::Duration::days(1)).await.expect("fail"),
                1,
                "old failures are forgotten"
            );
            store.clear_failed_logins(ada.id).await.expect("clear");
            assert_eq!(store.user(ada.id).await.expect("read").expect("ada").failed_logins, 0);

            // Disabling ends sessions; deleting the author unlinks it.
            store.add_session(&session("s9", now), None).await.expect("session");
            store.set_disabled(ada.id, Some(now)).await.expect("disable");
            assert_eq!(store.count_sessions(ada.id, now).await.expect("count"), 0);
            store.set_role(ada.id, Role::Contributor, now).await.expect("role");
            store.set_user_author(ada.id, None, now).await.expect("unlink");
            let ada = store.user_by_email("ada@example.org").await.expect("read").expect("ada");
            assert_eq!((ada.role, ada.author, ada.disabled_at.is_some()), (Role::Contributor, None, true));
        }

        #[tokio::test]
        async fn the_audit_log_reads_newest_first_in_pages() {
            use quire_store::AuditEntry;
            let Some((store, _guard)) = $open("audit").await else { return };
            for n in 0..5 {
                let subject = format!("paper-{n}");
                store
                    .audit(&AuditEntry {
                        user_id: None,
                        actor: "command line",
                        action: "paper.publish",
                        subject: &subject,
                        detail: "",
                        at: t(0),
                    })
                    .await
                    .expect("audit");
            }
            let first = store.audit_log(None, 2).await.expect("log");
            assert_eq!(first.iter().map(|r| r.subject.as_str()).collect::<Vec<_>>(), ["paper-4", "paper-3"]);
            let next = store.audit_log(Some(first[1].id), 10).await.expect("log");
            assert_eq!(next.iter().map(|r| r.subject.as_str()).collect::<Vec<_>>(), ["paper-2", "paper-1", "paper-0"]);
        }
};
}
