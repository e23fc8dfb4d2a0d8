//! The `quire` binary as a user runs it: real processes, a real data
//! folder, real exit codes and messages.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common;

const QUIRE: &str = env!("CARGO_BIN_EXE_quire");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/papers")
        .join(name)
}

fn quire(dir: &Path, args: &[&str]) -> Output {
    quire_env(dir, args, &[])
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A new site holding the fixture paper `ports-harbours`.
fn site_with_ports() -> tempfile::TempDir {
    let dir = new_site();
    let file = fixture("ports.md").display().to_string();
    let out = quire(dir.path(), &["paper", "add", "--create-missing", &file]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    dir
}

fn new_site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = quire(dir.path(), &["init"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    dir
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).expect("write");
    p
}

fn list_json(dir: &Path, what: &str) -> Vec<serde_json::Value> {
    list_json_args(dir, &[what, "list", "--json"])
}

#[test]
fn init_writes_config_and_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let site = dir.path().join("site");
    let out = Command::new(QUIRE).arg("init").arg(&site).output().expect("run");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(site.join("quire.toml").exists() && site.join("quire.db").exists());
    std::fs::write(site.join("quire.toml"), "site_name = \"Mine\"\n").expect("edit");
    let out = Command::new(QUIRE).arg("init").arg(&site).output().expect("run");
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_to_string(site.join("quire.toml")).expect("read"),
        "site_name = \"Mine\"\n",
        "kept"
    );
}

#[test]
fn papers_are_added_and_listed_as_json() {
    let dir = new_site();
    let files = [fixture("ports.md"), fixture("water.md"), fixture("hebrew.md")];
    let mut args = vec!["paper", "add", "--create-missing"];
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    let out = quire(dir.path(), &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("3 papers added"));
    // What --create-missing made is said, with the name it was given.
    for line in [
        "Created author alan-turing, named \"alan-turing\" until you name it: quire author add --slug alan-turing --name \"…\"",
        "Created topic infrastructure, named \"infrastructure\"",
    ] {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
    assert_eq!(stdout.matches("Created author").count(), 2, "{stdout}");
    let papers = list_json(dir.path(), "paper");
    assert_eq!(papers.len(), 3);
    let ports = papers.iter().find(|p| p["slug"] == "ports-harbours").expect("ports");
    for key in [
        "slug",
        "title",
        "kind",
        "language",
        "status",
        "published_at",
        "authors",
        "topics",
    ] {
        assert!(ports.get(key).is_some(), "missing {key}");
    }
    assert_eq!(ports["kind"], "policy brief");
    assert_eq!(ports["status"], "published");
    assert_eq!(ports["published_at"], "2026-01-05T10:00:00Z");
    assert_eq!(ports["authors"][0]["slug"], "ada-lovelace");
    assert_eq!(ports["authors"][1]["name"], "alan-turing");
    assert_eq!(ports["topics"][1]["slug"], "infrastructure");
    let hebrew = papers.iter().find(|p| p["slug"] == "namal").expect("hebrew");
    assert_eq!(hebrew["direction"], "rtl");
    assert_eq!(hebrew["published_at"], "2025-11-01T06:00:00Z");
    let water = papers
        .iter()
        .find(|p| p["slug"] == "water-for-cities")
        .expect("derived slug");
    assert_eq!(water["status"], "draft");
    assert_eq!(water["published_at"], serde_json::Value::Null);
    let authors = list_json(dir.path(), "author");
    assert_eq!(authors.len(), 2);
    assert_eq!(authors[0]["name"], "ada-lovelace");
    // Named once told; adding papers again creates nothing.
    let out = quire(
        dir.path(),
        &["author", "add", "--slug", "ada-lovelace", "--name", "Ada Lovelace"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(list_json(dir.path(), "author")[0]["name"], "Ada Lovelace");
    let again = quire(
        dir.path(),
        &["paper", "add", "--create-missing", "--replace", &names[0]],
    );
    assert!(!text(&again.stdout).contains("Created"), "{}", text(&again.stdout));
    let topics = list_json(dir.path(), "topic");
    assert_eq!(
        topics
            .iter()
            .map(|t| t["slug"].as_str().unwrap_or(""))
            .collect::<Vec<_>>(),
        ["infrastructure", "trade"]
    );
    let human = text(&quire(dir.path(), &["paper", "list"]).stdout);
    assert!(human.contains("ports-harbours") && human.contains("draft"));
    let drafts = quire(dir.path(), &["paper", "list", "--json", "--status", "draft"]);
    assert_eq!(
        serde_json::from_slice::<Vec<serde_json::Value>>(&drafts.stdout)
            .expect("json")
            .len(),
        1
    );
}

#[test]
fn unknown_authors_need_create_missing() {
    let dir = new_site();
    let out = quire(
        dir.path(),
        &["paper", "add", &fixture("ports.md").display().to_string()],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("ports.md:7: field `authors`: unknown author \"ada-lovelace\""),
        "{err}"
    );
    assert!(
        err.contains("ports.md:8: field `topics`: unknown topic \"trade\""),
        "{err}"
    );
    assert!(err.contains("nothing was added"), "{err}");
    assert!(list_json(dir.path(), "paper").is_empty());
    assert!(list_json(dir.path(), "author").is_empty(), "no author created either");
    // Once the authors and topics exist, the same file goes in.
    for (slug, name) in [("ada-lovelace", "Ada Lovelace"), ("alan-turing", "Alan Turing")] {
        let out = quire(
            dir.path(),
            &[
                "author",
                "add",
                "--slug",
                slug,
                "--name",
                name,
                "--affiliation",
                "Analytical Society",
                "--link",
                "Site=https://example.org",
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    for t in ["trade", "infrastructure"] {
        assert!(quire(dir.path(), &["topic", "add", "--name", t]).status.success());
    }
    let out = quire(
        dir.path(),
        &["paper", "add", &fixture("ports.md").display().to_string()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(list_json(dir.path(), "author")[0]["affiliation"], "Analytical Society");
}

#[test]
fn a_bad_file_stops_the_whole_batch() {
    let dir = new_site();
    let bad = write(
        dir.path(),
        "bad.md",
        "+++\ntitle = \"Bad\"\nkind = \"report\"\nsummary = \"S\"\nauthors = [\"a\"]\nstatus = \"published\"\npublished_at = \"last week\"\n+++\nBody\n",
    );
    let out = quire(
        dir.path(),
        &[
            "paper",
            "add",
            "--create-missing",
            &fixture("ports.md").display().to_string(),
            &bad.display().to_string(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("bad.md:7: field `published_at`"), "{err}");
    assert!(
        list_json(dir.path(), "paper").is_empty(),
        "the good file was not added either"
    );
}

#[test]
fn front_matter_mistakes_name_file_line_and_field() {
    let dir = new_site();
    let cases = [
        (
            "+++\ntitle = \"T\"\nkind = \"report\"\nauthors = [\"a\"]\n+++\n",
            "missing.md:1: field `summary`",
        ),
        (
            "+++\ntitle = \"T\"\nkind = 7\nsummary = \"S\"\nauthors = [\"a\"]\n+++\n",
            "type.md:3: field `kind`",
        ),
        (
            "+++\ntitle = \"T\"\nkind = \"essay\"\nsummary = \"S\"\nauthors = [\"a\"]\n+++\n",
            "kind.md:3: field `kind`: unknown kind \"essay\"",
        ),
        (
            "+++\ntitle = \"T\"\nkind = \"report\"\nsummary = \"S\"\nauthors = [\"a\"]\ncolour = \"red\"\n+++\n",
            "unknown.md:6: field `colour`",
        ),
        (
            "title: T\n---\nBody",
            "nofence.md:1: the file must start with a `+++` line",
        ),
        (
            "+++\ntitle = \"T\"\nkind = \"report\"\nsummary = \"S\"\nauthors = [\"a\"]\npublished_at = 2026-13-45T00:00:00Z\n+++\n",
            "date.md:6",
        ),
    ];
    for (content, expected) in cases {
        let name = expected.split(':').next().expect("name");
        let file = write(dir.path(), name, content);
        let out = quire(
            dir.path(),
            &["paper", "add", "--create-missing", &file.display().to_string()],
        );
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = text(&out.stderr);
        assert!(err.contains(expected), "{name}: {err}");
    }
    let binary = dir.path().join("binary.md");
    std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x2b]).expect("write");
    let out = quire(dir.path(), &["paper", "add", &binary.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("binary.md:1: is not UTF-8"),
        "{}",
        text(&out.stderr)
    );
    let out = quire(dir.path(), &["paper", "add", "/no/such/file.md"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/no/such/file.md:1: cannot be read"));
    assert!(list_json(dir.path(), "paper").is_empty());
}

#[test]
fn every_problem_of_every_file_is_reported_in_one_run() {
    let dir = new_site();
    let first = write(
        dir.path(),
        "first.md",
        "+++\ntitle = \"Ports\"\nslug = \"Ports and Harbours\"\nkind = \"blog\"\nsummary = \"S\"\npublished_at = 2026-02-30T10:00:00Z\n+++\nBody\n",
    );
    let second = write(
        dir.path(),
        "second.md",
        "+++\ntitle = \"Roads\"\nkind = \"report\"\nsummary = \"S\"\nauthor = [\"ada\"]\n+++\nBody\n",
    );
    let out = quire(
        dir.path(),
        &[
            "paper",
            "add",
            &first.display().to_string(),
            &second.display().to_string(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    for expected in [
        "first.md:1: field `authors`",
        "first.md:3: field `slug`",
        "first.md:4: field `kind`: unknown kind \"blog\"",
        "first.md:6: field `published_at`",
        "second.md:1: field `authors`",
        "second.md:5: field `author`: unknown key: did you mean `authors`?",
    ] {
        assert!(err.contains(expected), "{expected}: {err}");
    }
    assert!(err.contains("6 problems found; nothing was added"), "{err}");
}

#[test]
fn duplicate_slugs_are_refused_unless_replacing() {
    let dir = new_site();
    let ports = fixture("ports.md").display().to_string();
    assert!(
        quire(dir.path(), &["paper", "add", "--create-missing", &ports])
            .status
            .success()
    );
    let out = quire(dir.path(), &["paper", "add", "--create-missing", &ports]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("ports.md:4: field `slug`: a paper with the slug \"ports-harbours\" already exists"),
        "{}",
        text(&out.stderr)
    );
    let copy = write(
        dir.path(),
        "copy.md",
        &std::fs::read_to_string(fixture("ports.md")).expect("read"),
    );
    let out = quire(
        dir.path(),
        &[
            "paper",
            "add",
            "--create-missing",
            "--replace",
            &copy.display().to_string(),
            &copy.display().to_string(),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "the same slug twice in one batch");
    assert!(text(&out.stderr).contains("is also the slug of"));
    let out = quire(
        dir.path(),
        &[
            "paper",
            "add",
            "--create-missing",
            "--replace",
            &copy.display().to_string(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn publish_unpublish_and_schedule() {
    let dir = new_site();
    assert!(
        quire(
            dir.path(),
            &[
                "paper",
                "add",
                "--create-missing",
                &fixture("water.md").display().to_string()
            ]
        )
        .status
        .success()
    );
    let status = |dir: &Path| list_json(dir, "paper")[0]["status"].as_str().unwrap_or("").to_owned();
    assert_eq!(status(dir.path()), "draft");
    assert!(
        quire(dir.path(), &["paper", "publish", "water-for-cities"])
            .status
            .success()
    );
    assert_eq!(status(dir.path()), "published");
    let published_at = list_json(dir.path(), "paper")[0]["published_at"].clone();
    assert!(published_at.is_string());
    assert!(
        quire(dir.path(), &["paper", "unpublish", "water-for-cities"])
            .status
            .success()
    );
    assert_eq!(status(dir.path()), "draft");
    assert!(
        quire(dir.path(), &["paper", "publish", "water-for-cities"])
            .status
            .success()
    );
    assert_eq!(
        list_json(dir.path(), "paper")[0]["published_at"],
        published_at,
        "first date kept"
    );
    // Scheduling a live paper would take it offline: refused unless asked.
    let out = quire(
        dir.path(),
        &["paper", "publish", "water-for-cities", "--at", "2099-01-01T09:00:00Z"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("water-for-cities is live")
            && err.contains("Nothing was changed")
            && err.contains("--unpublish-until"),
        "{err}"
    );
    assert_eq!(status(dir.path()), "published");
    assert_eq!(http_status_of_paper(dir.path(), "water-for-cities"), 200);
    let out = quire(
        dir.path(),
        &[
            "paper",
            "publish",
            "water-for-cities",
            "--at",
            "2099-01-01T09:00:00Z",
            "--unpublish-until",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Took water-for-cities offline")
            && text(&out.stdout).contains("2099-01-01 09:00 UTC"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(status(dir.path()), "scheduled");
    assert_eq!(http_status_of_paper(dir.path(), "water-for-cities"), 404);
    for args in [
        &["paper", "publish", "no-such-paper"][..],
        &["paper", "unpublish", "no-such-paper"],
        &["paper", "publish", "water-for-cities", "--at", "tomorrow"],
        &["paper", "list", "--status", "live"],
        &["author", "add", "--name", "X", "--link", "no-equals-sign"],
        &["author", "add", "--name", "X", "--link", "Evil=javascript:alert(1)"],
        &["topic", "add", "--name", "!!!"],
        &["paper", "frobnicate"],
    ] {
        let out = quire(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(!text(&out.stderr).is_empty());
    }
}

/// The HTTP status a server over `dir` answers for a paper's page.
fn http_status_of_paper(dir: &Path, slug: &str) -> u16 {
    let server = serve(dir);
    http_get(&server.addr, &format!("/papers/{slug}/")).0
}

#[test]
fn status_is_what_readers_see_and_times_are_on_the_site_clock() {
    let dir = new_site();
    let mut config = std::fs::read_to_string(dir.path().join("quire.toml")).expect("config");
    config = config.replace("time_zone = \"UTC\"", "time_zone = \"Europe/Paris\"");
    std::fs::write(dir.path().join("quire.toml"), config).expect("write");
    // A paper scheduled for a time that has come is published.
    let due = write(
        dir.path(),
        "due.md",
        "+++\ntitle = \"Due\"\nkind = \"report\"\nsummary = \"S\"\nauthors = [\"ada\"]\nstatus = \"scheduled\"\npublished_at = 2026-01-05T10:00:00Z\n+++\nBody\n",
    );
    let later = write(
        dir.path(),
        "later.md",
        "+++\ntitle = \"Later\"\nkind = \"report\"\nsummary = \"S\"\nauthors = [\"ada\"]\n+++\nBody\n",
    );
    let out = quire(
        dir.path(),
        &[
            "paper",
            "add",
            "--create-missing",
            &due.display().to_string(),
            &later.display().to_string(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let papers = list_json(dir.path(), "paper");
    let status_of = |slug: &str| papers.iter().find(|p| p["slug"] == slug).map(|p| p["status"].clone());
    assert_eq!(status_of("due"), Some("published".into()));
    let published = list_json_args(dir.path(), &["paper", "list", "--json", "--status", "published"]);
    assert_eq!(published.iter().map(|p| p["slug"].clone()).collect::<Vec<_>>(), ["due"]);
    let scheduled = list_json_args(dir.path(), &["paper", "list", "--json", "--status", "scheduled"]);
    assert!(scheduled.is_empty(), "{scheduled:?}");
    let out = quire(dir.path(), &["paper", "list"]);
    assert!(
        text(&out.stdout)
            .lines()
            .any(|l| l.starts_with("published") && l.contains("due")),
        "{}",
        text(&out.stdout)
    );

    // Times people type are on the site's clock, and echoed on both.
    for typed in ["2099-12-03 09:00", "2099-12-03T09:00"] {
        let out = quire(dir.path(), &["paper", "publish", "later", "--at", typed]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("readers see it from 2099-12-03 09:00 Europe/Paris (08:00 UTC)"),
            "{}",
            text(&out.stdout)
        );
        let papers = list_json(dir.path(), "paper");
        let later = papers.iter().find(|p| p["slug"] == "later").expect("later");
        assert_eq!(later["published_at"], "2099-12-03T08:00:00Z");
        assert_eq!(later["status"], "scheduled");
    }
    let out = quire(dir.path(), &["paper", "publish", "later", "--at", "2099-03-29 02:30"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("does not happen in Europe/Paris"),
        "{}",
        text(&out.stderr)
    );
    let out = quire(dir.path(), &["paper", "publish", "later", "--at", "next week"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("such as 2026-12-03 09:00"),
        "{}",
        text(&out.stderr)
    );
    let out = quire_env(dir.path(), &["paper", "list"], &[("QUIRE_TIME_ZONE", "Mars/Olympus")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("key `time_zone`"), "{}", text(&out.stderr));
}

#[test]
fn every_absolute_link_starts_with_one_base_url() {
    let dir = site_with_ports();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let served = format!("http://127.0.0.1:{port}");
    let config = std::fs::read_to_string(dir.path().join("quire.toml")).expect("config");
    let config = config.replace("addr = \"127.0.0.1:8080\"", &format!("addr = \"127.0.0.1:{port}\""));
    std::fs::write(dir.path().join("quire.toml"), &config).expect("write");
    let mut child = Command::new(QUIRE)
        .args(["--data-dir", &dir.path().display().to_string(), "serve"])
        .env("QUIRE_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("serve");
    let mut banner = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut banner)
        .expect("banner");
    let server = Server {
        child,
        addr: format!("127.0.0.1:{port}"),
    };
    let feed = http_get(&server.addr, "/feed.atom").1;
    assert!(feed.contains(&format!("{served}/papers/ports-harbours/")), "{feed}");
    let listed = list_json(dir.path(), "paper");
    assert_eq!(listed[0]["url"], format!("{served}/papers/ports-harbours/"));
    // Links made away from the server point at the same address, and say
    // that readers elsewhere may not reach it.
    let pdf = dir.path().join("ports.pdf").display().to_string();
    let out = quire(dir.path(), &["pdf", "ports-harbours", "-o", &pdf]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&format!("warning: base_url is not set, so links point to {served}")),
        "{}",
        text(&out.stderr)
    );
    drop(server);
    std::fs::write(
        dir.path().join("quire.toml"),
        format!("base_url = \"https://papers.example.org/\"\n{config}"),
    )
    .expect("write");
    let out = quire(dir.path(), &["pdf", "ports-harbours", "-o", &pdf]);
    assert!(out.status.success());
    assert!(!text(&out.stderr).contains("warning"), "{}", text(&out.stderr));
    assert_eq!(
        list_json(dir.path(), "paper")[0]["url"],
        "https://papers.example.org/papers/ports-harbours/"
    );
}

#[test]
fn without_a_mail_server_queueing_commands_say_nothing_leaves() {
    let dir = site_with_ports();
    let csv = write(dir.path(), "list.csv", "email\nreader@example.org\n");
    let out = quire(
        dir.path(),
        &["subscribers", "import", "--with-consent", &csv.display().to_string()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = quire(dir.path(), &["newsletter", "send", "--paper", "ports-harbours"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("nothing will be delivered until smtp_url is set"),
        "{}",
        text(&out.stderr)
    );
    let out = quire(dir.path(), &["newsletter", "status"]);
    assert!(
        text(&out.stdout).contains("waiting: no mail server set"),
        "{}",
        text(&out.stdout)
    );
    assert!(!text(&out.stdout).contains("sending"), "{}", text(&out.stdout));
    let out = quire(dir.path(), &["newsletter", "status", "1"]);
    let shown = text(&out.stdout);
    assert!(
        shown.contains("waiting: no mail server set") && shown.contains("copy frozen"),
        "{shown}"
    );

    // The outbox says what waits and why, and lets an editor act on it.
    let out = quire(dir.path(), &["outbox", "list", "--json"]);
    let entries: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["recipient"], "reader@example.org");
    assert_eq!(entries[0]["status"], "queued");
    let id = entries[0]["id"].to_string();
    let out = quire(dir.path(), &["outbox", "list"]);
    assert!(
        text(&out.stdout).contains("[waiting: no mail server set]"),
        "{}",
        text(&out.stdout)
    );
    let out = quire(dir.path(), &["outbox", "show", &id]);
    assert!(
        text(&out.stdout).contains("to:       reader@example.org"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stdout).contains("waiting:  no mail server set"),
        "{}",
        text(&out.stdout)
    );
    let out = quire(dir.path(), &["outbox", "retry", &id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = quire(dir.path(), &["outbox", "discard", &id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Discarded 1 message"),
        "{}",
        text(&out.stdout)
    );
    let out = quire(dir.path(), &["outbox", "retry", &id]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is skipped already"),
        "{}",
        text(&out.stderr)
    );
    let out = quire(dir.path(), &["outbox", "show", "99999"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no message has the id"),
        "{}",
        text(&out.stderr)
    );
    let out = quire(dir.path(), &["outbox", "list", "--status", "lost"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn every_flag_says_what_it_is_for() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = quire(dir.path(), &["topic", "add", "--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for flag in ["--name <NAME>", "--slug <SLUG>", "--description <DESCRIPTION>"] {
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with(flag))
            .unwrap_or_else(|| panic!("{flag}: {help}"));
        assert!(line.trim().len() > flag.len() + 10, "{flag} has no help: {line:?}");
    }
    let out = quire(dir.path(), &["paper", "publish", "--help"]);
    assert!(text(&out.stdout).contains("--unpublish-until"), "{}", text(&out.stdout));
}

#[test]
fn broken_themes_stop_serve_with_the_file_and_line() {
    let dir = new_site();
    let theme = dir.path().join("theme");
    std::fs::create_dir_all(theme.join("templates")).expect("theme");
    write(
        &theme.join("templates"),
        "home.html",
        "{% extends \"base.html\" %}\n{% block main %}{% endblock",
    );
    let theme_arg = theme.display().to_string();
    let out = quire(dir.path(), &["serve", "--addr", "127.0.0.1:0", "--theme", &theme_arg]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("home.html") && err.contains("line 2"), "{err}");
    std::fs::write(dir.path().join("quire.toml"), "theme_dir = \"no-such-folder\"\n").expect("write");
    let out = quire(dir.path(), &["serve", "--addr", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no-such-folder"), "{}", text(&out.stderr));
}

#[test]
fn bad_settings_are_explained() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("quire.toml"),
        "site_name = \"X\"\nbase_ur1 = \"https://x\"\n",
    )
    .expect("write");
    let out = quire(dir.path(), &["paper", "list"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("unknown key `base_ur1`"),
        "{}",
        text(&out.stderr)
    );
    std::fs::write(dir.path().join("quire.toml"), "").expect("write");
    let out = Command::new(QUIRE)
        .args(["--data-dir", &dir.path().display().to_string(), "paper", "list"])
        .env("QUIRE_PAPERS_PER_PAGE", "lots")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("QUIRE_PAPERS_PER_PAGE"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn settings_are_checked_and_shown_with_where_they_came_from() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("quire.toml"),
        "site_name = \"A\"\nsite_name = \"B\"\nsite_nmae = \"C\"\n[comments]\ndepth = 0\n",
    )
    .expect("write");
    let out = quire(dir.path(), &["config", "check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("line 2: `site_name` is set twice"), "{err}");
    assert!(
        err.contains("unknown key `site_nmae`: did you mean `site_name`?"),
        "{err}"
    );
    assert!(err.contains("key `comments.depth`"), "{err}");
    std::fs::write(
        dir.path().join("quire.toml"),
        "site_name = \"A\"\ncomment_depth = 3\n[mail]\nsmtp_url = \"smtps://u:hunter2@mail.example.org\"\nfrom = \"A <a@example.org>\"\n",
    )
    .expect("write");
    let out = quire(dir.path(), &["config", "check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Settings are valid"),
        "{}",
        text(&out.stdout)
    );
    let out = quire_env(
        dir.path(),
        &["config", "show", "--json"],
        &[("QUIRE_PAPERS_PER_PAGE", "7")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json");
    let setting = |key: &str| {
        shown
            .iter()
            .find(|s| s["key"] == key)
            .unwrap_or_else(|| panic!("{key}"))
            .clone()
    };
    let file = dir.path().join("quire.toml").display().to_string();
    assert_eq!(setting("site_name")["value"], "\"A\"");
    assert_eq!(setting("site_name")["origin"], file);
    assert_eq!(
        setting("comments.depth")["origin"],
        format!("{file} (as `comment_depth`)")
    );
    assert_eq!(setting("pages.papers_per_page")["value"], "7");
    assert_eq!(
        setting("pages.papers_per_page")["origin"],
        "environment variable QUIRE_PAPERS_PER_PAGE"
    );
    assert_eq!(setting("feeds.items")["origin"], "default");
    assert_eq!(setting("mail.smtp_url")["value"], "\"smtps://u:***@mail.example.org\"");
    let out = quire(dir.path(), &["config", "show"]);
    assert!(!text(&out.stdout).contains("hunter2"));
    assert!(text(&out.stdout).contains("comments.depth"), "{}", text(&out.stdout));
}

#[test]
fn unreachable_database_fails_fast_without_the_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let out = quire(
        dir.path(),
        &[
            "--database-url",
            "postgres://editor:s3cret-pw@127.0.0.1:1/quire",
            "paper",
            "list",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("postgres://editor:***@127.0.0.1:1/quire"), "{err}");
    assert!(!err.contains("s3cret-pw"), "{err}");
    // Timing is reported, not asserted (shared machine); the bound itself is
    // `store::CONNECT_TIMEOUT`, checked in the store's unit tests.
    println!("refused connection reported after {:?}", started.elapsed());
    let out = quire(dir.path(), &["--database-url", "mysql://x", "paper", "list"]);
    assert_eq!(out.status.code(), Some(2));
}

/// A running `quire serve`, stopped when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path) -> Server {
    serve_with(dir, &[])
}

fn serve_with(dir: &Path, env: &[(&str, &str)]) -> Server {
    started(server_command(dir, env).spawn().expect("serve"))
}

/// `quire serve` on a free port of this machine, its banner on a pipe.
fn server_command(dir: &Path, env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(QUIRE);
    command
        .args([
            "--data-dir",
            &dir.display().to_string(),
            "serve",
            "--addr",
            "127.0.0.1:0",
        ])
        .env("QUIRE_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::piped());
    command
}

/// The server `child` once its banner names the address it serves.
fn started(mut child: Child) -> Server {
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("banner");
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .expect("address in banner")
        .to_owned();
    Server { child, addr }
}

fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("send");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).expect("read");
    let buf = String::from_utf8_lossy(&buf).into_owned();
    let code = buf.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, buf)
}

/// Whether the server has closed `s`: a read ends (0 bytes, or an error
/// other than a timeout) within `within`.
fn closed_within(s: &mut std::net::TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).expect("timeout");
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            // A 408 the server sends before closing is still a close.
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return false;
            }
            Err(_) => return true,
        }
    }
}

#[test]
fn slow_clients_are_cut_off_while_others_are_served() {
    let dir = new_site();
    let server = serve_with(
        dir.path(),
        &[
            ("QUIRE_HTTP_HEADER_TIMEOUT_SECONDS", "1"),
            ("QUIRE_HTTP_IDLE_TIMEOUT_SECONDS", "2"),
            ("QUIRE_HTTP_BODY_TIMEOUT_SECONDS", "1"),
        ],
    );
    // Slowloris: forty connections that send a request head a few bytes
    // at a time and never finish it.
    let mut slow: Vec<std::net::TcpStream> = (0..40)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(&server.addr).expect("connect");
            s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").expect("send");
            s
        })
        .collect();
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(300));
        for s in &mut slow {
            let _ = s.write_all(b"X-a: b\r\n");
        }
    }
    // A reader is served meanwhile.
    let (code, _) = http_get(&server.addr, "/");
    assert_eq!(code, 200);
    // The first may take the whole timeout; by then the rest are closed too.
    let open = slow
        .iter_mut()
        .enumerate()
        .map(|(i, s)| closed_within(s, Duration::from_secs(if i == 0 { 10 } else { 2 })))
        .filter(|closed| !closed)
        .count();
    assert_eq!(open, 0, "connections holding a half-sent head are closed");
    // An idle connection is closed too, and a body sent too slowly.
    let mut idle = std::net::TcpStream::connect(&server.addr).expect("connect");
    assert!(
        closed_within(&mut idle, Duration::from_secs(10)),
        "idle connection closed"
    );
    let mut body = std::net::TcpStream::connect(&server.addr).expect("connect");
    body.write_all(
        b"POST /subscribe HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
          Content-Length: 1000\r\n\r\nemail=",
    )
    .expect("send");
    body.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let mut answer = String::new();
    let _ = body.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[test]
fn a_long_render_leaves_the_async_workers_free() {
    let dir = new_site();
    // Long enough that rendering it (Markdown with thousands of headings
    // and notes, the template, compression) takes a second or more in a
    // test build.
    let body: String = (0..8_000)
        .map(|n| {
            format!(
                "## Part {n}\n\nRegional *ports* carry [trade](https://example.org/) and freight; their \
                 finances depend on **long contracts** with shipping lines.[^{n}]\n\n[^{n}]: Note {n}.\n\n"
            )
        })
        .collect();
    let paper = write(
        dir.path(),
        "long.md",
        &format!(
            "+++\ntitle = \"Long\"\nslug = \"long\"\nkind = \"report\"\nsummary = \"S.\"\n\
             authors = [\"ada\"]\nstatus = \"published\"\npublished_at = 2026-01-05T10:00:00Z\n+++\n{body}"
        ),
    );
    let out = quire(
        dir.path(),
        &["paper", "add", "--create-missing", &paper.display().to_string()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // One async worker: a render on it would leave none for /healthz.
    let server = serve_with(dir.path(), &[("TOKIO_WORKER_THREADS", "1")]);
    let addr = server.addr.clone();
    let long = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(&addr).expect("connect");
        write!(
            s,
            "GET /papers/long/ HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .expect("send");
        let mut page = vec![0u8; 1];
        s.read_exact(&mut page).expect("first byte");
        let first_byte = std::time::Instant::now();
        s.read_to_end(&mut page).expect("read");
        (first_byte, String::from_utf8_lossy(&page).into_owned())
    });
    std::thread::sleep(Duration::from_millis(300));
    let (code, _) = http_get(&server.addr, "/healthz");
    let answered = std::time::Instant::now();
    assert_eq!(code, 200);
    let (first_byte, page) = long.join().expect("long page");
    assert!(
        page.starts_with("HTTP/1.1 200") && page.contains("long contracts"),
        "the page is whole"
    );
    // Had the render held the worker, /healthz would have been answered
    // only after it, moments after the page's first byte.
    assert!(
        first_byte > answered + Duration::from_millis(200),
        "/healthz was answered {:?} after the long page began: the render held the async worker",
        answered.saturating_duration_since(first_byte)
    );
}

#[test]
fn connections_past_the_cap_wait_their_turn() {
    let dir = new_site();
    let server = serve_with(
        dir.path(),
        &[
            ("QUIRE_HTTP_MAX_CONNECTIONS", "4"),
            ("QUIRE_HTTP_IDLE_TIMEOUT_SECONDS", "60"),
        ],
    );
    let mut held: Vec<std::net::TcpStream> = (0..4)
        .map(|_| std::net::TcpStream::connect(&server.addr).expect("connect"))
        .collect();
    // Each held connection is taken (it answers a request), and stays.
    for s in &mut held {
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").expect("send");
        let mut buf = [0u8; 1024];
        s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        assert!(s.read(&mut buf).expect("answer") > 0);
    }
    // A fifth waits in the queue: no answer while four are open…
    let mut fifth = std::net::TcpStream::connect(&server.addr).expect("connect");
    fifth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("send");
    fifth
        .set_read_timeout(Some(Duration::from_millis(1500)))
        .expect("timeout");
    let mut buf = [0u8; 1024];
    assert!(fifth.read(&mut buf).is_err(), "served past the cap");
    // …and is served once one of them closes.
    drop(held.pop());
    fifth.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let n = fifth.read(&mut buf).expect("answer after a close");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
}

#[test]
fn a_running_server_shows_papers_added_by_another_process() {
    let dir = new_site();
    let server = serve(dir.path());
    let (code, home) = http_get(&server.addr, "/");
    assert_eq!(code, 200);
    assert!(home.contains("Nothing has been published yet."));
    let (code, _) = http_get(&server.addr, "/papers/ports-harbours/");
    assert_eq!(code, 404);
    let out = quire(
        dir.path(),
        &[
            "paper",
            "add",
            "--create-missing",
            &fixture("ports.md").display().to_string(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let added = Instant::now();
    loop {
        let (code, page) = http_get(&server.addr, "/papers/ports-harbours/");
        if code == 200 {
            assert!(page.contains("Ports and Harbours"));
            println!("the paper showed {:?} after the write", added.elapsed());
            break;
        }
        assert!(added.elapsed() < Duration::from_secs(10), "never showed");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        quire(dir.path(), &["paper", "unpublish", "ports-harbours"])
            .status
            .success()
    );
    let removed = Instant::now();
    while http_get(&server.addr, "/papers/ports-harbours/").0 != 404 {
        assert!(removed.elapsed() < Duration::from_secs(10), "never went away");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_server_refuses_a_taken_port_clearly() {
    let dir = new_site();
    let server = serve(dir.path());
    let out = quire(dir.path(), &["serve", "--addr", &server.addr]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(&format!("cannot listen on {}", server.addr)),
        "{}",
        text(&out.stderr)
    );
    let out = quire(dir.path(), &["serve", "--addr", "not-an-address"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_server_will_not_send_a_mail_login_unencrypted() {
    let dir = new_site();
    for url in [
        "smtp://news:secret@mail.example.org:25",
        "smtp://news:secret@mail.example.org:587?tls=opportunistic",
    ] {
        let out = quire_exits(
            dir.path(),
            &["serve", "--addr", "127.0.0.1:0"],
            &[("QUIRE_SMTP_URL", url)],
        );
        assert_eq!(out.status.code(), Some(2), "{url}: {}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(
            err.contains("the login would travel unencrypted to mail.example.org"),
            "{err}"
        );
        assert!(err.contains("tls=starttls"), "{err}");
        assert!(!err.contains("secret"), "the password stays out of messages: {err}");
    }
}

#[test]
fn exported_papers_add_back_unchanged() {
    let dir = new_site();
    let files: Vec<String> = ["ports.md", "water.md", "hebrew.md"]
        .iter()
        .map(|f| fixture(f).display().to_string())
        .collect();
    let mut args = vec!["paper", "add", "--create-missing"];
    args.extend(files.iter().map(String::as_str));
    assert!(quire(dir.path(), &args).status.success());
    let out_dir = dir.path().join("export");
    let out = quire(
        dir.path(),
        &["paper", "export", "--out", &out_dir.display().to_string()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Exported 3 papers"));
    let other = new_site();
    let exported: Vec<String> = std::fs::read_dir(&out_dir)
        .expect("dir")
        .map(|e| e.expect("entry").path().display().to_string())
        .collect();
    assert_eq!(exported.len(), 3);
    let mut args = vec!["paper", "add", "--create-missing"];
    args.extend(exported.iter().map(String::as_str));
    let out = quire(other.path(), &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let strip = |mut v: Vec<serde_json::Value>| {
        for p in &mut v {
            let o = p.as_object_mut().expect("object");
            o.remove("id");
            o.remove("updated_at");
            for a in o.get_mut("authors").and_then(|a| a.as_array_mut()).expect("authors") {
                a.as_object_mut().expect("author").remove("affiliation");
            }
        }
        v.sort_by_key(|p| p["slug"].as_str().unwrap_or("").to_owned());
        v
    };
    assert_eq!(
        strip(list_json(dir.path(), "paper")),
        strip(list_json(other.path(), "paper"))
    );
    let out = quire(
        dir.path(),
        &[
            "paper",
            "export",
            "--out",
            &out_dir.display().to_string(),
            "no-such-paper",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn settings_from_file_and_environment_reach_the_pages() {
    let dir = new_site();
    std::fs::write(
        dir.path().join("quire.toml"),
        "site_name = \"Harbour Institute\"\nkinds = [\"brief\", \"policy brief\"]\nlanguage = \"fr\"\n",
    )
    .expect("config");
    assert!(
        quire(
            dir.path(),
            &[
                "paper",
                "add",
                "--create-missing",
                &fixture("ports.md").display().to_string()
            ]
        )
        .status
        .success()
    );
    let server = serve_with(
        dir.path(),
        &[
            ("QUIRE_BASE_URL", "https://papers.example.org/"),
            ("QUIRE_SITE_DESCRIPTION", "Ports & trade"),
        ],
    );
    let (code, home) = http_get(&server.addr, "/");
    assert_eq!(code, 200);
    assert!(home.contains("<html lang=\"fr\" dir=\"ltr\">"), "site language");
    assert!(home.contains("<title>Harbour Institute</title>"));
    assert!(home.contains("Ports &amp; trade"));
    assert!(home.contains("<link rel=\"canonical\" href=\"https://papers.example.org/\">"));
    let (_, paper) = http_get(&server.addr, "/papers/ports-harbours/");
    assert!(
        paper.contains("<html lang=\"en\" dir=\"ltr\">"),
        "the paper's own language"
    );
    assert!(
        paper.contains("<link rel=\"canonical\" href=\"https://example.org/ports\">"),
        "the paper's canonical URL wins"
    );
}

#[test]
fn pdf_typesets_a_paper_to_a_file() {
    let dir = new_site();
    let files = [fixture("ports.md"), fixture("hebrew.md")];
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let mut args = vec!["paper", "add", "--create-missing"];
    args.extend(names.iter().map(String::as_str));
    let out = quire(dir.path(), &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for slug in ["ports-harbours", "namal"] {
        let path = dir.path().join(format!("{slug}.pdf"));
        let out = quire(dir.path(), &["pdf", slug, "-o", &path.display().to_string()]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).starts_with(&format!("Wrote {}", path.display())),
            "{}",
            text(&out.stdout)
        );
        let bytes = std::fs::read(&path).expect("pdf written");
        assert!(bytes.starts_with(b"%PDF-"), "{slug}");
        assert!(String::from_utf8_lossy(&bytes).contains("/Outlines") || slug == "namal");
    }
    let out = quire(dir.path(), &["pdf", "no-such-paper"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no paper has the slug \"no-such-paper\""),
        "{}",
        text(&out.stderr)
    );
    // A theme's template is used, and a broken one is reported, not a crash.
    std::fs::create_dir_all(dir.path().join("theme/pdf")).expect("theme");
    std::fs::write(
        dir.path().join("theme/pdf/paper.typ"),
        "#let paper(..args, doc) = { oops( }\n",
    )
    .expect("template");
    let config = std::fs::read_to_string(dir.path().join("quire.toml")).expect("config");
    std::fs::write(
        dir.path().join("quire.toml"),
        format!("theme_dir = \"theme\"\n{config}"),
    )
    .expect("config");
    let out = quire(dir.path(), &["pdf", "ports-harbours", "-o", "/dev/null"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("PDF template did not compile: pdf/paper.typ, line 1:"),
        "{}",
        text(&out.stderr)
    );
}

/// A paper file `name` in `folder` whose body shows `images`.
fn paper_with_images(folder: &Path, name: &str, slug: &str, images: &[&str]) -> PathBuf {
    let mut body = String::from("Figures follow.\n\n");
    for (i, image) in images.iter().enumerate() {
        body.push_str(&format!("![Figure {}]({image})\n\n", i + 1));
    }
    let text = format!(
        "+++\ntitle = \"Charts {slug}\"\nslug = \"{slug}\"\nkind = \"report\"\nsummary = \"Charts.\"\n\
         authors = [\"ada-lovelace\"]\nstatus = \"published\"\npublished_at = 2026-03-05T09:00:00Z\n+++\n{body}"
    );
    write(folder, name, &text)
}

#[test]
fn images_beside_a_paper_file_are_stored_served_typeset_and_exported() {
    let dir = new_site();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("figures")).expect("folders");
    let chart = common::png(120, 60, [20, 80, 160]);
    std::fs::write(src.join("figures/chart.png"), &chart).expect("png");
    std::fs::write(src.join("flow.svg"), common::SVG).expect("svg");
    let file = paper_with_images(
        &src,
        "charts.md",
        "charts",
        &["figures/chart.png", "./flow.svg", "https://example.org/remote.png"],
    );
    let out = quire(
        dir.path(),
        &["paper", "add", "--create-missing", &file.display().to_string()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("line 16: image \"https://example.org/remote.png\" is on the web"),
        "web images are noted: {}",
        text(&out.stderr)
    );

    let server = serve(dir.path());
    let (code, response) = http_get(&server.addr, "/papers/charts/figures/chart.png");
    assert_eq!(code, 200, "{response}");
    assert!(response.contains("content-type: image/png"), "{response}");
    let (_, page) = http_get(&server.addr, "/papers/charts/");
    assert!(
        page.contains("src=\"/papers/charts/figures/chart.png\" alt=\"Figure 1\" width=\"120\" height=\"60\""),
        "{page}"
    );
    assert!(
        page.contains("src=\"/papers/charts/flow.svg\" alt=\"Figure 2\" width=\"30\" height=\"10\""),
        "an SVG's own size"
    );
    drop(server);

    let pdf_path = dir.path().join("charts.pdf");
    let out = quire(dir.path(), &["pdf", "charts", "-o", &pdf_path.display().to_string()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let pdf = String::from_utf8_lossy(&std::fs::read(&pdf_path).expect("pdf")).replace("/Subtype /", "/Subtype/");
    assert!(
        pdf.contains("/Subtype/Image") && pdf.contains("/Width 120"),
        "the chart is embedded"
    );

    // Exported as a folder with its images, and added back whole.
    let export = dir.path().join("export");
    let out = quire(dir.path(), &["paper", "export", "--out", &export.display().to_string()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read(export.join("charts/figures/chart.png")).expect("exported image"),
        chart
    );
    assert_eq!(
        std::fs::read_to_string(export.join("charts/flow.svg")).expect("exported svg"),
        common::SVG
    );
    let other = new_site();
    let out = quire(
        other.path(),
        &[
            "paper",
            "add",
            "--create-missing",
            &export.join("charts/charts.md").display().to_string(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = quire(
        other.path(),
        &["pdf", "charts", "-o", &other.path().join("c.pdf").display().to_string()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn drawings_with_text_are_checked_without_font_noise() {
    let dir = new_site();
    let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"120\" height=\"40\">\
        <text x=\"4\" y=\"14\" font-family=\"sans-serif\">Exports</text>\
        <text x=\"4\" y=\"30\" font-family=\"Helvetica, Arial\" font-weight=\"bold\">2026 نمو</text>\
        <text x=\"60\" y=\"30\" font-family=\"monospace\">1.5%</text></svg>";
    write(dir.path(), "chart.svg", svg);
    let file = paper_with_images(dir.path(), "charts.md", "charts", &["chart.svg"]);
    let out = quire_env(
        dir.path(),
        &["paper", "add", "--create-missing", &file.display().to_string()],
        &[("QUIRE_LOG", "warn")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(!err.contains("No match") && !err.contains("usvg"), "{err}");
    // Emails link the drawing as PNG, which the server draws.
    let server = serve(dir.path());
    let mut s = std::net::TcpStream::connect(&server.addr).expect("connect");
    s.write_all(b"GET /papers/charts/chart.svg.png HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut reply = Vec::new();
    std::io::Read::read_to_end(&mut s, &mut reply).expect("read");
    let head_end = reply.windows(4).position(|w| w == b"\r\n\r\n").expect("headers") + 4;
    let head = String::from_utf8_lossy(&reply[..head_end]).to_ascii_lowercase();
    assert!(
        head.starts_with("http/1.1 200") && head.contains("content-type: image/png"),
        "{head}"
    );
    assert!(reply[head_end..].starts_with(b"\x89PNG"), "a PNG body");
    assert_eq!(http_get(&server.addr, "/papers/charts/missing.svg.png").0, 404);
    assert_eq!(http_get(&server.addr, "/papers/charts/..%2fchart.svg.png").0, 404);
}

#[test]
fn bad_images_stop_the_batch_with_file_and_line() {
    let dir = new_site();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).expect("folder");
    let chart = common::png(8, 8, [1, 2, 3]);
    std::fs::write(dir.path().join("outside.png"), &chart).expect("outside");
    std::fs::write(src.join("good.png"), &chart).expect("good");
    std::fs::write(src.join("text.png"), "<html><script>alert(1)</script>").expect("text");
    std::fs::write(src.join("drawing.png"), common::SVG).expect("svg as png");
    let mut broken = chart.clone();
    broken.truncate(chart.len() - 20);
    std::fs::write(src.join("broken.png"), &broken).expect("broken");
    let mut bomb = chart.clone();
    bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    std::fs::write(src.join("bomb.png"), &bomb).expect("bomb");
    let huge = std::fs::File::create(src.join("huge.png")).expect("huge");
    huge.set_len(26 * 1024 * 1024).expect("sparse file");
    std::fs::write(src.join("bad.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\"><g>").expect("bad svg");
    std::os::unix::fs::symlink(dir.path().join("outside.png"), src.join("link.png")).expect("symlink");
    std::os::unix::fs::symlink("/etc/passwd", src.join("passwd.png")).expect("symlink");
    std::fs::create_dir_all(src.join("folder.png")).expect("folder named like an image");
    std::fs::write(
        src.join("linking.svg"),
        common::SVG.replace("<rect", "<image href=\"/etc/hostname\" width=\"5\" height=\"5\"/><rect"),
    )
    .expect("linking svg");
    let cases: [(&str, &str); 14] = [
        ("../outside.png", "points outside the paper's folder"),
        ("%2e%2e/outside.png", "points outside the paper's folder"),
        ("missing.png", "cannot be read from"),
        ("text.png", "is not a PNG image"),
        ("drawing.png", "holds a SVG image: rename it to .svg"),
        ("broken.png", "cannot be used: the image cannot be decoded"),
        ("bomb.png", "100000 × 100000 pixels"),
        ("huge.png", "Quire keeps images up to 25 MB"),
        ("bad.svg", "cannot be used: the SVG cannot be read"),
        ("link.png", "a link to a file outside the paper's folder"),
        ("passwd.png", "a link to a file outside the paper's folder"),
        ("folder.png", "is not a file"),
        ("notes.txt", "PNG, JPEG, GIF, WebP and SVG"),
        ("linking.svg", "the SVG links to the file \"/etc/hostname\""),
    ];
    let mut files = vec![
        paper_with_images(&src, "fine.md", "fine", &["good.png"])
            .display()
            .to_string(),
    ];
    for (i, (image, _)) in cases.iter().enumerate() {
        let file = paper_with_images(&src, &format!("bad{i}.md"), &format!("bad{i}"), &["good.png", image]);
        files.push(file.display().to_string());
    }
    let mut args = vec!["paper", "add", "--create-missing"];
    args.extend(files.iter().map(String::as_str));
    let out = quire(dir.path(), &args);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    for (i, (image, says)) in cases.iter().enumerate() {
        let file = src.join(format!("bad{i}.md"));
        let line = stderr
            .lines()
            .find(|l| l.starts_with(&format!("{}:14: ", file.display())))
            .unwrap_or_else(|| panic!("{image}: no error at its line: {stderr}"));
        assert!(line.contains(says), "{image}: {line}");
    }
    assert!(stderr.contains("14 problems found; nothing was added"), "{stderr}");
    assert!(!stderr.contains("root:"), "nothing of /etc/passwd is shown");
    assert!(list_json(dir.path(), "paper").is_empty(), "not even the good paper");
}

/// Polls `path` on a running server until it answers `status` (changes
/// reach a running server within a second or so).
fn until_status(addr: &str, path: &str, status: u16) -> (u16, String) {
    let mut last = http_get(addr, path);
    for _ in 0..50 {
        if last.0 == status {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        last = http_get(addr, path);
    }
    last
}

#[test]
fn deleted_papers_go_to_a_trash_and_come_back_whole() {
    use quire_core::domain::CommentStatus as C;
    let dir = new_site();
    let chart = common::png(8, 8, [1, 2, 3]);
    std::fs::write(dir.path().join("chart.png"), &chart).expect("chart");
    let file = paper_with_images(dir.path(), "charts.md", "charts", &["chart.png"]);
    let out = quire(
        dir.path(),
        &["paper", "add", "--create-missing", &file.display().to_string()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    add_comments(
        dir.path(),
        "charts",
        &[("Ada", "ada@example.org", "A kept remark.", C::Approved)],
    );
    let server = serve(dir.path());
    let (status, page) = http_get(&server.addr, "/papers/charts/");
    assert_eq!(status, 200);
    assert!(page.contains("A kept remark."));

    let out = quire(dir.path(), &["paper", "delete", "charts", "no-such-paper"]);
    assert_eq!(out.status.code(), Some(2), "all or none");
    assert_eq!(http_get(&server.addr, "/papers/charts/").0, 200);
    let out = quire(dir.path(), &["paper", "delete", "charts"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Moved 1 paper to the trash"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(until_status(&server.addr, "/papers/charts/", 404).0, 404);
    assert_eq!(http_get(&server.addr, "/papers/charts/pdf").0, 404);
    assert!(!http_get(&server.addr, "/feed.atom").1.contains("/papers/charts/"));
    assert!(!http_get(&server.addr, "/").1.contains("/papers/charts/"));
    assert!(list_json(dir.path(), "paper").is_empty(), "not listed with the others");
    let trashed = list_json_args(dir.path(), &["paper", "list", "--json", "--trashed"]);
    assert_eq!(trashed.len(), 1);
    assert!(trashed[0]["trashed_at"].is_string());
    let out = quire(dir.path(), &["paper", "restore", "charts"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (status, page) = until_status(&server.addr, "/papers/charts/", 200);
    assert_eq!(status, 200);
    assert!(page.contains("A kept remark."), "its comments came back");
    assert_eq!(list_json(dir.path(), "paper")[0]["status"], "published");
    let image = page
        .split("src=\"")
        .find(|s| s.starts_with("/papers/charts/"))
        .and_then(|s| s.split('"').next());
    assert_eq!(
        http_get(&server.addr, image.expect("image link")).0,
        200,
        "its images too"
    );
    let out = quire(dir.path(), &["paper", "restore", "charts"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not in the trash"), "{}", text(&out.stderr));

    // Purging deletes only what has been in the trash long enough.
    assert!(quire(dir.path(), &["paper", "delete", "charts"]).status.success());
    let out = quire(dir.path(), &["paper", "purge", "--older-than", "30d"]);
    assert!(text(&out.stdout).contains("Deleted 0 papers"), "{}", text(&out.stdout));
    let out = quire(dir.path(), &["paper", "purge", "--older-than", "0m"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Deleted charts"), "{}", text(&out.stdout));
    assert!(list_json_args(dir.path(), &["paper", "list", "--json", "--trashed"]).is_empty());
    assert!(
        list_json_args(dir.path(), &["comments", "list", "--json"]).is_empty(),
        "its comments went with it"
    );
    let out = quire(dir.path(), &["paper", "purge", "--older-than", "soon"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Comments written straight into a site's database, as the comment form
/// will write them.
fn add_comments(
    dir: &Path,
    slug: &str,
    comments: &[(&str, &str, &str, quire_core::domain::CommentStatus)],
) -> Vec<i64> {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let store = quire_store::Store::connect(&format!("sqlite://{}", dir.join("quire.db").display()))
            .await
            .expect("store");
        let paper = store.get_paper(slug).await.expect("get").expect("paper");
        let mut ids = Vec::new();
        for (name, email, text, status) in comments {
            let input = quire_core::domain::CommentInput {
                name: (*name).into(),
                email: (*email).into(),
                url: None,
                text: (*text).into(),
                parent_id: None,
            };
            let id = store
                .add_comment(&quire_store::NewComment {
                    paper_id: paper.meta.id,
                    input: &input,
                    status: *status,
                    ip: "198.51.100.4",
                    user_agent: "test",
                    notify_replies: false,
                    now: time::OffsetDateTime::now_utc(),
                })
                .await
                .expect("comment");
            ids.push(id);
        }
        store.close().await;
        ids
    })
}

#[test]
fn comments_are_listed_moderated_purged_exported_and_erased() {
    use quire_core::domain::CommentStatus as C;
    let dir = site_with_ports();
    let ids = add_comments(
        dir.path(),
        "ports-harbours",
        &[
            ("Ada", "ada@example.org", "Approved remark.", C::Approved),
            ("Bob", "bob@example.org", "Waiting remark.", C::Pending),
            ("Spammer", "spam@example.org", "Buy now.", C::Spam),
        ],
    );
    let (ada, bob, spam) = (ids[0].to_string(), ids[1].to_string(), ids[2].to_string());
    let status_of = |id: &str| -> String {
        let all = list_json_args(dir.path(), &["comments", "list", "--json"]);
        all.iter()
            .find(|c| c["id"].as_i64().map(|n| n.to_string()).as_deref() == Some(id))
            .map(|c| c["status"].as_str().unwrap_or("").to_owned())
            .unwrap_or_default()
    };

    let all = list_json_args(dir.path(), &["comments", "list", "--json"]);
    assert_eq!(all.len(), 3);
    for key in ["id", "paper", "status", "name", "created_at"] {
        assert!(all.iter().all(|c| c.get(key).is_some()), "every object has {key}");
    }
    assert_eq!(all[0]["paper"], "ports-harbours");
    let out = quire(dir.path(), &["comments", "list", "--status", "pending"]);
    assert!(out.status.success());
    let listing = text(&out.stdout);
    assert_eq!(listing.lines().count(), 1, "{listing}");
    assert!(
        listing.contains("Bob") && listing.contains("Waiting remark."),
        "{listing}"
    );
    for (args, says) in [
        (
            vec!["comments", "list", "--status", "deleted"],
            "is not a comment status",
        ),
        (
            vec!["comments", "list", "--paper", "nope"],
            "no paper has the slug \"nope\"",
        ),
        (vec!["comments", "approve", "99999"], "no comment has the id 99999"),
        (vec!["comments", "purge", "--older-than", "30x"], "has no unit"),
        (
            vec!["comments", "purge", "--older-than", "d"],
            "is not a length of time",
        ),
        (
            vec!["comments", "purge", "--older-than", "1d", "--status", "approved"],
            "does not take approved",
        ),
    ] {
        let out = quire(dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out.stderr).contains(says), "{args:?}: {}", text(&out.stderr));
    }
    let out = quire(dir.path(), &["comments", "approve", &bob, "99999"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(status_of(&bob), "pending", "all or nothing");

    assert!(quire(dir.path(), &["comments", "approve", &bob]).status.success());
    assert_eq!(status_of(&bob), "approved");
    let out = quire(dir.path(), &["comments", "trash", &ada, &bob]);
    assert!(
        text(&out.stdout).contains("2 comments moved to the trash"),
        "{}",
        text(&out.stdout)
    );
    assert!(quire(dir.path(), &["comments", "restore", &ada]).status.success());
    assert_eq!(status_of(&ada), "approved", "restored to where it was");

    let out = quire(dir.path(), &["comments", "purge", "--older-than", "1d"]);
    assert!(text(&out.stdout).contains("Deleted 0 comments"), "too recent");
    let out = quire(
        dir.path(),
        &["comments", "purge", "--older-than", "0m", "--status", "spam"],
    );
    assert!(text(&out.stdout).contains("Deleted 1 comment"), "{}", text(&out.stdout));
    assert_eq!(status_of(&spam), "", "gone");
    assert_eq!(status_of(&bob), "trash", "only the statuses named");

    let exported = list_json_args(dir.path(), &["comments", "export", "--email", "ADA@example.org"]);
    assert_eq!(exported.len(), 1);
    assert_eq!(exported[0]["email"], "ada@example.org");
    assert_eq!(exported[0]["ip"], "198.51.100.4");
    let out = quire(dir.path(), &["comments", "erase", "--email", "ada@example.org"]);
    assert!(text(&out.stdout).contains("from 1 comment"), "{}", text(&out.stdout));
    assert!(list_json_args(dir.path(), &["comments", "export", "--email", "ada@example.org"]).is_empty());
    let all = list_json_args(dir.path(), &["comments", "list", "--json"]);
    let erased = all.iter().find(|c| c["id"].as_i64() == Some(ids[0])).expect("kept");
    assert_eq!(
        (erased["name"].as_str(), erased["ip"].as_str()),
        (Some("Anonymous"), None)
    );
    assert_eq!(erased["text"], "Approved remark.");
}

fn list_json_args(dir: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    let out = quire(dir, args);
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).expect("one JSON array")
}

/// One HTTP request on a new connection: the status and the whole reply,
/// or None when the server is gone.
fn http_exchange(addr: &str, request: &str) -> Option<(u16, String)> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(request.as_bytes()).ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let buf = String::from_utf8_lossy(&buf).into_owned();
    let code = buf.get(9..12).and_then(|c| c.parse().ok())?;
    Some((code, buf))
}

/// Posts comments one after another until the server stops answering;
/// sends each one the server accepted (303), as (id, text).
fn post_until_gone(addr: String, round: usize, accepted: std::sync::mpsc::Sender<(i64, String)>) {
    for n in 0.. {
        let get =
            format!("GET /papers/ports-harbours/comments/token HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        let Some((200, reply)) = http_exchange(&addr, &get) else {
            return;
        };
        let token = reply.rsplit("\r\n\r\n").next().unwrap_or("").trim().to_owned();
        let text = format!("Round {round}, comment {n}: durable words.");
        let body = format!(
            "token={}&author=Durable&email=durable%40example.org&comment={}",
            token.replace(':', "%3A"),
            text.replace(' ', "+").replace(',', "%2C").replace(':', "%3A")
        );
        let post = format!(
            "POST /papers/ports-harbours/comments HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        match http_exchange(&addr, &post) {
            Some((303, reply)) => {
                let id = reply
                    .split("#comment-")
                    .nth(1)
                    .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
                    .and_then(|id| id.parse().ok())
                    .expect("the redirect names the comment");
                if accepted.send((id, text)).is_err() {
                    return;
                }
            }
            Some((status, reply)) => panic!("comment refused with {status}: {reply}"),
            None => return,
        }
    }
}

#[test]
fn every_accepted_comment_survives_the_server_being_killed() {
    let dir = site_with_ports();
    let env = [
        ("QUIRE_COMMENT_RATE_PER_MINUTE", "0"),
        ("QUIRE_COMMENT_RATE_PER_HOUR", "0"),
        ("QUIRE_COMMENT_MIN_SECONDS", "0"),
    ];
    let (tx, rx) = std::sync::mpsc::channel();
    for round in 0..3 {
        let mut server = serve_with(dir.path(), &env);
        let poster = {
            let (addr, tx) = (server.addr.clone(), tx.clone());
            std::thread::spawn(move || post_until_gone(addr, round, tx))
        };
        std::thread::sleep(Duration::from_millis(700 + 300 * round as u64));
        // SIGKILL: no shutdown, no flushing, mid-request.
        server.child.kill().expect("kill -9");
        server.child.wait().expect("reaped");
        poster.join().expect("poster");
    }
    drop(tx);
    let accepted: Vec<(i64, String)> = rx.iter().collect();
    assert!(accepted.len() >= 3, "some comments were posted: {}", accepted.len());
    let stored = list_json_args(dir.path(), &["comments", "list", "--json"]);
    for (id, text) in &accepted {
        assert!(
            stored
                .iter()
                .any(|c| c["id"].as_i64() == Some(*id) && c["text"].as_str() == Some(text)),
            "comment {id} was accepted but is gone after the kill"
        );
    }
    println!(
        "{} comments accepted over 3 kills with SIGKILL; all {} found after restart ({} stored in all)",
        accepted.len(),
        accepted.len(),
        stored.len()
    );
}

#[test]
fn a_list_of_a_hundred_thousand_bad_rows_is_checked_in_linear_time() {
    let dir = new_site();
    let mut csv = String::from("email,name,topics\n");
    for n in 0..100_000 {
        csv.push_str(&format!("not-an-address-{n},Name {n},\n"));
    }
    let file = dir.path().join("bad.csv");
    std::fs::write(&file, &csv).expect("csv");
    // Each bad row's line was counted from the start of the file: about
    // 10^11 byte comparisons for this one.
    let out = quire_exits(dir.path(), &["subscribers", "import", &file.display().to_string()], &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("bad.csv:100001: field `email`"),
        "{}",
        &stderr[stderr.len().saturating_sub(2000)..]
    );
    assert!(stderr.contains("100000 bad rows; nothing was imported"));
}

#[test]
fn subscriber_lists_import_whole_export_and_erase() {
    let dir = new_site();
    assert!(quire(dir.path(), &["topic", "add", "--name", "Trade"]).status.success());
    let mut csv = String::from("\u{feff}Email,Name,Topics\n");
    csv.push_str("ada@example.org,Ada Lovelace,trade\n"); // line 2
    csv.push_str("alan@example.org,\"Turing, Alan\",\n"); // line 3
    csv.push_str("not-an-address,Nobody,\n"); // line 4
    csv.push_str("\"eve@example.org\r\nBcc: all@example.org\",Eve,\n"); // line 5
    csv.push_str("grace@exаmple.org,Look-alike,\n"); // line 7 (a Cyrillic а)
    csv.push_str("ADA@example.org,Ada again,\n"); // line 8
    csv.push_str("bob@example.org,\"Bob\nBcc: x@y.z\",\n"); // line 9
    csv.push_str("carol@example.org,Carol,nope\n"); // line 11
    csv.push_str("dan@example.org,Dan,bad slug!\n"); // line 12
    let mut bytes = csv.into_bytes();
    bytes.extend_from_slice(b"fred@example.org,Fr\xffd,\n"); // line 13
    bytes.extend_from_slice(b"\n=cmd@example.org,Formula,\n"); // line 15
    bytes.extend_from_slice(b"ok@example.org,=HYPERLINK(\"http://x\"),\n"); // line 16
    let file = dir.path().join("list.csv");
    std::fs::write(&file, &bytes).expect("csv");
    let path = file.display().to_string();

    let out = quire(dir.path(), &["subscribers", "import", &path]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    for (line, says) in [
        (4, "field `email`: \"not-an-address\" is not an email address"),
        (5, "field `email`"),
        (7, "not a plain Latin letter"),
        (8, "ada@example.org is also on line 2"),
        (9, "field `name`: has a line break"),
        (11, "unknown topic \"nope\""),
        (12, "field `topics`"),
        (13, "is not UTF-8 text"),
        (15, "read as a formula"),
    ] {
        assert!(
            stderr.contains(&format!("{path}:{line}: ")) && stderr.contains(says),
            "line {line} {says:?}: {stderr}"
        );
    }
    assert!(stderr.contains("9 bad rows; nothing was imported"), "{stderr}");
    let exported = text(&quire(dir.path(), &["subscribers", "export"]).stdout);
    assert_eq!(exported.lines().count(), 1, "only the header: {exported}");

    let out = quire(dir.path(), &["subscribers", "import", "--skip-bad", &path]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Imported 3 subscribers (0 already on the list, 9 bad rows skipped)"),
        "{}",
        text(&out.stdout)
    );
    assert!(text(&out.stdout).contains("must each confirm"));
    let exported = text(&quire(dir.path(), &["subscribers", "export"]).stdout);
    assert!(
        exported.starts_with("email,name,status,consent,topics,created_at,confirmed_at\n"),
        "{exported}"
    );
    assert!(
        exported.contains("ada@example.org,Ada Lovelace,pending,imported,trade,"),
        "{exported}"
    );
    assert!(
        exported.contains("alan@example.org,\"Turing, Alan\",pending,imported,,"),
        "{exported}"
    );
    assert!(!exported.contains("=cmd"), "{exported}");
    assert!(
        exported.contains("ok@example.org,\"'=HYPERLINK(\"\"http://x\"\")\""),
        "a formula name is kept as text: {exported}"
    );

    std::fs::write(&file, "email\nada@example.org\nzoe@example.org\n").expect("csv");
    let out = quire(dir.path(), &["subscribers", "import", "--with-consent", &path]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Imported 1 subscriber (1 already on the list)."),
        "{}",
        text(&out.stdout)
    );
    let exported = text(&quire(dir.path(), &["subscribers", "export"]).stdout);
    assert!(
        exported.contains("zoe@example.org,,confirmed,imported-with-consent,,"),
        "{exported}"
    );
    assert!(
        exported.contains("ada@example.org,Ada Lovelace,pending,"),
        "consent is not given to those already listed"
    );

    assert!(
        quire(dir.path(), &["subscribers", "erase", "ZOE@example.org"])
            .status
            .success()
    );
    let out = quire(dir.path(), &["subscribers", "erase", "zoe@example.org"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no subscriber has the address"));
    assert!(!text(&quire(dir.path(), &["subscribers", "export"]).stdout).contains("zoe@"));
    std::fs::write(&file, "name\nAda\n").expect("csv");
    let out = quire(dir.path(), &["subscribers", "import", &path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(":1: no `email` column"),
        "{}",
        text(&out.stderr)
    );
}

/// `quire subscribers import --with-consent` of `count` generated readers.
fn import_readers(dir: &Path, count: usize) {
    let mut csv = String::from("email,name\n");
    for i in 0..count {
        csv.push_str(&format!("reader{i}@example.org,Reader {i}\n"));
    }
    let file = write(dir, "readers.csv", &csv);
    let out = quire(
        dir,
        &["subscribers", "import", "--with-consent", &file.display().to_string()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// `quire` with these environment variables set.
fn quire_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(QUIRE)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("QUIRE_DATABASE_URL")
        .env("QUIRE_LOG", "warn")
        .envs(env.iter().copied())
        .output()
        .expect("run quire")
}

/// Runs a command that must exit by itself (a server that must refuse
/// to start, a check that must not take long); fails the test, stopping
/// it, if it is still running after 30 seconds.
fn quire_exits(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(QUIRE)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("QUIRE_DATABASE_URL")
        .env("QUIRE_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run quire");
    // Read both pipes meanwhile: a command that writes more than a pipe
    // holds would otherwise wait on us forever.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut out = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut out);
            }
            out
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("quire {args:?} was still running after 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().expect("stdout"),
        stderr: stderr.join().expect("stderr"),
    }
}

#[test]
fn newsletter_commands_queue_send_follow_and_explain_mistakes() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let smtp = rt.block_on(common::smtp::SmtpServer::start());
    let url = smtp.url();
    let env = [
        ("QUIRE_SMTP_URL", url.as_str()),
        ("QUIRE_MAIL_FROM", "Policy Lab <news@example.org>"),
    ];
    let dir = site_with_ports();
    let d = dir.path();
    import_readers(d, 25);

    // Mistakes are explained and queue nothing.
    let no_smtp = quire(d, &["newsletter", "send", "--paper", "ports-harbours", "--wait"]);
    assert_eq!(no_smtp.status.code(), Some(2));
    assert!(
        text(&no_smtp.stderr).contains("no SMTP server is set"),
        "{}",
        text(&no_smtp.stderr)
    );
    let status = quire(d, &["newsletter", "status", "--json"]);
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&status.stdout).expect("json");
    assert_eq!(listed.len(), 1, "the campaign was queued before --wait found no server");
    for (args, says) in [
        (
            vec!["newsletter", "send", "--paper", "nope"],
            "no paper has the slug \"nope\"",
        ),
        (vec!["newsletter", "send", "--paper", "ports-harbours"], "pass --again"),
        (
            vec![
                "newsletter",
                "send",
                "--paper",
                "ports-harbours",
                "--again",
                "--topic",
                "nope",
            ],
            "no topic has the slug \"nope\"",
        ),
        (
            vec![
                "newsletter",
                "send",
                "--paper",
                "ports-harbours",
                "--again",
                "--at",
                "tomorrow",
            ],
            "is not a time",
        ),
        (
            vec![
                "newsletter",
                "send",
                "--paper",
                "ports-harbours",
                "--again",
                "--subject",
                "a\u{7}b",
            ],
            "--subject",
        ),
        (
            vec!["newsletter", "test", "--to", "ada@example.org\r\nBcc: x@y.z"],
            "--to",
        ),
        (vec!["newsletter", "pause", "99"], "no campaign has the id 99"),
        (vec!["newsletter", "status", "99"], "no campaign has the id 99"),
    ] {
        let out = quire_env(d, &args, &env);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(says), "{args:?}: {}", text(&out.stderr));
    }
    let bad_url = quire_env(
        d,
        &["newsletter", "status"],
        &[("QUIRE_SMTP_URL", "smtp://u:hunter2@mail.example.org?tls=maybe")],
    );
    assert_eq!(bad_url.status.code(), Some(2));
    assert!(text(&bad_url.stderr).contains("smtp_url"));
    assert!(!text(&bad_url.stderr).contains("hunter2"), "{}", text(&bad_url.stderr));

    // The queued campaign goes out with resume --wait.
    let resumed = quire_env(d, &["newsletter", "resume", "1", "--wait"], &env);
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    assert!(
        text(&resumed.stdout).contains("25 recipients: 25 sent, 0 failed"),
        "{}",
        text(&resumed.stdout)
    );
    assert_eq!(smtp.counts().len(), 25);

    // A test copy goes to one address, now, marked as a test.
    let test = quire_env(
        d,
        &[
            "newsletter",
            "test",
            "--to",
            "editor@example.org",
            "--paper",
            "ports-harbours",
        ],
        &env,
    );
    assert!(test.status.success(), "{}", text(&test.stderr));
    assert!(
        text(&test.stdout).contains("The mail server answered: 250 2.0.0 Queued"),
        "{}",
        text(&test.stdout)
    );
    let copy = smtp
        .messages()
        .into_iter()
        .find(|m| m.to == ["editor@example.org"])
        .expect("test copy");
    assert_eq!(
        common::smtp::header(&copy.data, "Subject").as_deref(),
        Some("[Test] Ports and Harbours")
    );

    // A digest of what was published since; the next has nothing new.
    let digest = quire_env(
        d,
        &["newsletter", "digest", "--since", "2026-01-01T00:00:00Z", "--wait"],
        &env,
    );
    assert!(digest.status.success(), "{}", text(&digest.stderr));
    assert!(
        text(&digest.stdout).contains("The digest holds 1 paper"),
        "{}",
        text(&digest.stdout)
    );
    let empty = quire_env(d, &["newsletter", "digest"], &env);
    assert!(empty.status.success());
    assert!(
        text(&empty.stdout).contains("nothing to send"),
        "{}",
        text(&empty.stdout)
    );

    // Scheduled, paused, resumed.
    let later = quire_env(
        d,
        &[
            "newsletter",
            "send",
            "--paper",
            "ports-harbours",
            "--again",
            "--at",
            "2099-01-01T00:00:00Z",
        ],
        &env,
    );
    assert!(
        text(&later.stdout).contains("scheduled for 2099-01-01 00:00 UTC"),
        "{}",
        text(&later.stdout)
    );
    let now = quire_env(d, &["newsletter", "send", "--paper", "ports-harbours", "--again"], &env);
    assert!(
        text(&now.stdout).contains("queued for 25 recipients"),
        "{}",
        text(&now.stdout)
    );
    let paused = quire_env(d, &["newsletter", "pause", "4"], &env);
    assert!(paused.status.success(), "{}", text(&paused.stderr));
    let listing = text(&quire_env(d, &["newsletter", "status"], &env).stdout);
    assert!(listing.contains("    4  paused"), "{listing}");
    assert!(listing.contains("    3  scheduled"), "{listing}");
    let later = listing.lines().find(|l| l.starts_with("    3  ")).expect("campaign 3");
    assert!(
        later.contains("2099-01-01 00:00 UTC  recipients chosen when it starts"),
        "{listing}"
    );
    let out = quire_env(d, &["newsletter", "resume", "4", "--wait"], &env);
    assert!(text(&out.stdout).contains("25 sent"), "{}", text(&out.stdout));

    // A mailto unsubscribe request, acted on by hand.
    let out = quire(d, &["subscribers", "unsubscribe", "Reader3@example.org"]);
    assert!(
        text(&out.stdout).contains("Unsubscribed reader3@example.org"),
        "{}",
        text(&out.stderr)
    );
    let again = quire(d, &["subscribers", "unsubscribe", "reader3@example.org"]);
    assert_eq!(again.status.code(), Some(2));
    let out = quire_env(d, &["newsletter", "send", "--paper", "ports-harbours", "--again"], &env);
    assert!(
        text(&out.stdout).contains("queued for 24 recipients"),
        "{}",
        text(&out.stdout)
    );
}

#[cfg(unix)]
#[test]
fn a_sender_killed_mid_campaign_resumes_without_losing_anyone() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let smtp = rt.block_on(common::smtp::SmtpServer::start());
    let url = smtp.url();
    let env = [
        ("QUIRE_SMTP_URL", url.as_str()),
        ("QUIRE_MAIL_FROM", "news@example.org"),
        ("QUIRE_MAIL_CLAIM_SECONDS", "2"),
        ("QUIRE_MAIL_RATE_PER_SECOND", "500"),
    ];
    let dir = site_with_ports();
    let d = dir.path();
    let readers = 2000;
    import_readers(d, readers);
    let mut child = Command::new(QUIRE)
        .arg("--data-dir")
        .arg(d)
        .args(["newsletter", "send", "--paper", "ports-harbours", "--wait"])
        .env_remove("QUIRE_DATABASE_URL")
        .env("QUIRE_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .spawn()
        .expect("send");
    let deadline = Instant::now() + Duration::from_secs(60);
    while smtp.messages().len() < readers / 3 {
        assert!(Instant::now() < deadline, "the campaign did not get going");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let at_kill = smtp.messages().len();
    let store = rt
        .block_on(quire_store::Store::connect(&format!(
            "sqlite://{}",
            d.join("quire.db").display()
        )))
        .expect("store");
    let in_flight = rt
        .block_on(store.messages_in_flight(time::OffsetDateTime::now_utc()))
        .expect("in flight");
    rt.block_on(store.close());

    let resumed = quire_env(d, &["newsletter", "resume", "1", "--wait"], &env);
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    let counts = smtp.counts();
    let total: usize = counts.values().sum();
    let duplicates = total - counts.len();
    eprintln!(
        "crash test: {readers} subscribers, {at_kill} received before SIGKILL, {in_flight} in flight at the kill, \
         {total} received in all, {duplicates} duplicates"
    );
    assert_eq!(counts.len(), readers, "every subscriber has the message");
    assert!(
        duplicates as i64 <= in_flight,
        "{duplicates} duplicates, but only {in_flight} were in flight"
    );
    assert!(text(&resumed.stdout).contains(&format!("{readers} recipients: {readers} sent, 0 failed")));
}

#[test]
fn imported_subscribers_confirm_from_an_emailed_link() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let smtp = rt.block_on(common::smtp::SmtpServer::start());
    let url = smtp.url();
    let dir = site_with_ports();
    let d = dir.path();
    let list = write(
        d,
        "list.csv",
        "email,name,topics\nada@example.org,Ada,trade\nbob@example.org,,\n",
    );
    let out = quire(d, &["subscribers", "import", &list.display().to_string()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = quire(d, &["subscribers", "send-confirmations"]);
    assert!(
        text(&out.stdout).contains("Queued 2 confirmation emails"),
        "{}",
        text(&out.stdout)
    );
    let out = quire(d, &["outbox", "show", "1"]);
    assert!(
        text(&out.stdout).contains("written:  when it is sent"),
        "{}",
        text(&out.stdout)
    );
    // The site is renamed while they wait: they are written when they go.
    let config = std::fs::read_to_string(d.join("quire.toml")).expect("config");
    let config = config.replace("site_name = \"Quire\"", "site_name = \"Harbour Institute\"");
    std::fs::write(d.join("quire.toml"), config).expect("rename");

    // The site's server sends them.
    let server = serve_with(d, &[("QUIRE_SMTP_URL", &url), ("QUIRE_MAIL_FROM", "news@example.org")]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while smtp.messages().len() < 2 {
        assert!(Instant::now() < deadline, "the confirmations were not sent");
        std::thread::sleep(Duration::from_millis(50));
    }
    let to_ada = smtp
        .messages()
        .into_iter()
        .find(|m| m.to == ["ada@example.org"])
        .expect("Ada's confirmation");
    let body = common::smtp::part(&to_ada.data, "text/plain").expect("text");
    assert!(body.starts_with("Dear Ada,"), "{body}");
    assert!(body.contains("new papers from Harbour Institute"), "{body}");
    assert!(!body.contains("Quire"), "{body}");
    let subject = common::smtp::header(&to_ada.data, "Subject").expect("subject");
    assert_eq!(subject, "Confirm your subscription to Harbour Institute");
    let link = body
        .split_whitespace()
        .find(|w| w.contains("/subscribe/confirm?t="))
        .expect("a confirmation link");
    // The link is to the address the server answers on, not the one
    // configured when the message was queued.
    assert!(link.starts_with(&format!("http://{}/", server.addr)), "{link}");
    let path = &link[link.find("/subscribe/").expect("path")..];
    let (status, page) = http_get(&server.addr, path);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Confirm my subscription"), "{page}");
    // The button posts the link's token.
    let token = path.split_once("?t=").expect("token").1;
    let body = format!("t={token}");
    let post = format!(
        "POST /subscribe/confirm HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        server.addr,
        body.len()
    );
    let (status, page) = http_exchange(&server.addr, &post).expect("answer");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("You are subscribed"));
    drop(server);

    let export = text(&quire(d, &["subscribers", "export"]).stdout);
    assert!(export.contains("ada@example.org,Ada,confirmed,form,trade"), "{export}");
    assert!(export.contains("bob@example.org,,pending,imported"), "{export}");
    let again = quire(d, &["subscribers", "send-confirmations"]);
    assert!(
        text(&again.stdout).contains("Queued 1 confirmation email;"),
        "{}",
        text(&again.stdout)
    );
}

/// A paper file with `topics`, published (or scheduled) at `at`.
fn paper_at(dir: &Path, slug: &str, status: &str, at: time::OffsetDateTime, topics: &[&str]) -> String {
    let at = at
        .replace_nanosecond(0)
        .expect("whole seconds")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("time");
    let topics = topics.iter().map(|t| format!("{t:?}")).collect::<Vec<_>>().join(", ");
    let text = format!(
        "+++\ntitle = \"Paper {slug}\"\nslug = \"{slug}\"\nkind = \"report\"\nsummary = \"About {slug}.\"\n\
         authors = [\"ada\"]\ntopics = [{topics}]\nstatus = \"{status}\"\npublished_at = {at}\n+++\nThe text of {slug}.\n"
    );
    write(dir, &format!("{slug}.md"), &text).display().to_string()
}

#[test]
fn papers_going_public_are_emailed_after_a_grace_period_that_unpublishing_cancels() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let smtp = rt.block_on(common::smtp::SmtpServer::start());
    let url = smtp.url();
    let dir = new_site();
    let d = dir.path();
    // Off by default, and the sign-up page does not promise it.
    let server = serve(d);
    let (_, page) = http_get(&server.addr, "/subscribe");
    assert!(page.contains("when the editors send them"), "{page}");
    assert!(!page.contains("as they are published"), "{page}");
    drop(server);
    let config = std::fs::read_to_string(d.join("quire.toml")).expect("config");
    assert!(config.contains("on_publish = false"), "{config}");
    let config = config
        .replace("on_publish = false", "on_publish = true")
        .replace("publish_delay = \"10m\"", "publish_delay = \"3s\"");
    std::fs::write(d.join("quire.toml"), config).expect("settings");
    for topic in ["trade", "water"] {
        let out = quire(d, &["topic", "add", "--slug", topic, "--name", topic]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let list = write(
        d,
        "list.csv",
        "email,name,topics\nada@example.org,Ada,trade\nbob@example.org,Bob,water\ncy@example.org,Cy,\n",
    );
    let out = quire(
        d,
        &["subscribers", "import", "--with-consent", &list.display().to_string()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let now = time::OffsetDateTime::now_utc();
    let files = [
        paper_at(d, "fresh", "published", now, &["trade"]),
        paper_at(d, "oops", "published", now, &["trade"]),
        paper_at(d, "soon", "scheduled", now + time::Duration::seconds(2), &["water"]),
        paper_at(d, "archive", "published", now - time::Duration::days(400), &["trade"]),
        paper_at(d, "draft", "draft", now, &["trade"]),
    ];
    let mut args = vec!["paper", "add", "--create-missing"];
    args.extend(files.iter().map(String::as_str));
    let out = quire(d, &args);
    let said = text(&out.stdout);
    assert!(out.status.success(), "{said}{}", text(&out.stderr));
    assert!(said.contains("Emailing fresh to its topics' subscribers at"), "{said}");
    assert!(said.contains("Emailing soon to its topics' subscribers at"), "{said}");
    assert!(said.contains("Not emailing archive: it is dated"), "{said}");
    assert!(!said.contains("Emailing draft"), "{said}");
    // The grace period: unpublishing cancels the email.
    let out = quire(d, &["paper", "unpublish", "oops"]);
    assert!(
        text(&out.stdout).contains("Cancelled the email announcing oops"),
        "{}",
        text(&out.stdout)
    );
    let status = text(&quire(d, &["newsletter", "status"]).stdout);
    assert_eq!(status.matches("on publish").count(), 2, "{status}");
    let server = serve_with(d, &[("QUIRE_SMTP_URL", &url), ("QUIRE_MAIL_FROM", "news@example.org")]);
    let (_, page) = http_get(&server.addr, "/subscribe");
    assert!(page.contains("as they are published"), "{page}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while smtp.messages().len() < 4 {
        assert!(Instant::now() < deadline, "sent: {:?}", smtp.messages());
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    let mut sent: Vec<(String, String)> = smtp
        .messages()
        .iter()
        .map(|m| {
            let subject = common::smtp::header(&m.data, "Subject").expect("subject");
            (m.to.join(","), subject)
        })
        .collect();
    sent.sort();
    let want = |to: &str, subject: &str| (to.to_owned(), subject.to_owned());
    assert_eq!(
        sent,
        [
            want("ada@example.org", "Paper fresh"),
            want("bob@example.org", "Paper soon"),
            want("cy@example.org", "Paper fresh"),
            want("cy@example.org", "Paper soon"),
        ],
        "the paper to its topic's subscribers and those who take everything, once"
    );
    drop(server);
    // Going public again is not news: nothing is sent twice on its own.
    assert!(quire(d, &["paper", "unpublish", "fresh"]).status.success());
    let out = quire(d, &["paper", "publish", "fresh"]);
    assert!(
        text(&out.stdout).contains("Not emailing fresh: it was emailed before"),
        "{}",
        text(&out.stdout)
    );
}

/// A server started as `serve` starts one, its log (at `info`) kept as it
/// comes.
fn serve_logged(dir: &Path) -> (Server, std::sync::Arc<std::sync::Mutex<String>>) {
    let mut child = server_command(dir, &[("QUIRE_LOG", "info,tower_http=warn")])
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let stderr = child.stderr.take().expect("stderr");
    let keep = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let mut log = keep.lock().expect("log");
            log.push_str(&line);
            log.push('\n');
        }
    });
    (started(child), log)
}

/// Waits until `log` holds `needle`, and returns it.
fn until_logged(log: &std::sync::Mutex<String>, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = log.lock().expect("log").clone();
        if now.contains(needle) {
            return now;
        }
        assert!(Instant::now() < deadline, "{needle:?} is not in the log:\n{now}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_running_server_takes_settings_changes_and_says_which() {
    let dir = site_with_ports();
    let d = dir.path();
    let shown = text(&quire(d, &["config", "show"]).stdout);
    let marked = |key: &str| {
        shown
            .lines()
            .find(|l| l.starts_with(&format!("{key} ")))
            .is_some_and(|l| l.ends_with("[restart to change]"))
    };
    assert!(marked("http.addr") && marked("database_url"), "{shown}");
    assert!(!marked("site_name") && !marked("mail.smtp_url"), "{shown}");

    // A confirmation waits, with no mail server set.
    let list = write(d, "list.csv", "email,name,topics\nada@example.org,Ada,\n");
    assert!(
        quire(d, &["subscribers", "import", &list.display().to_string()])
            .status
            .success()
    );
    assert!(quire(d, &["subscribers", "send-confirmations"]).status.success());

    let (server, log) = serve_logged(d);
    let (_, home) = http_get(&server.addr, "/");
    assert!(home.contains("Quire"), "{home}");
    let (_, paper) = http_get(&server.addr, "/papers/ports-harbours/");
    assert!(!paper.contains("Harbour Institute"), "{paper}");

    let file = d.join("quire.toml");
    let config = std::fs::read_to_string(&file).expect("config");
    let changed = config
        .replace("site_name = \"Quire\"", "site_name = \"Harbour Institute\"")
        .replace("page_cache_mb = 64", "page_cache_mb = 32");
    assert_ne!(changed, config);
    std::fs::write(&file, &changed).expect("edit");
    let said = until_logged(&log, "reloaded settings from");
    assert!(said.contains(": site_name"), "{said}");
    let said = until_logged(&log, "restart `quire serve` to apply");
    assert!(
        said.contains("http.page_cache_mb changed, but a running server reads it only at start"),
        "{said}"
    );
    // --addr stands over the file's http.addr, which has not changed.
    assert!(!said.contains("http.addr"), "{said}");
    // Pages made before are made again with the new settings.
    let (_, paper) = http_get(&server.addr, "/papers/ports-harbours/");
    assert!(paper.contains("Harbour Institute"), "{paper}");
    let (_, home) = http_get(&server.addr, "/");
    assert!(home.contains("Harbour Institute"), "{home}");

    // A file with a mistake is reported, and changes nothing.
    std::fs::write(
        &file,
        changed.replace("site_name = \"Harbour Institute\"", "site_name = 7"),
    )
    .expect("break");
    let said = until_logged(&log, "was not reloaded");
    assert!(said.contains("site_name"), "{said}");
    let (status, home) = http_get(&server.addr, "/");
    assert_eq!(status, 200);
    assert!(home.contains("Harbour Institute"), "{home}");

    // A mail server set while it runs: the waiting mail goes, written
    // with the settings of now.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let smtp = rt.block_on(common::smtp::SmtpServer::start());
    let with_mail: String = changed
        .lines()
        .map(|l| {
            if l.starts_with("# smtp_url =") {
                format!("smtp_url = \"{}\"", smtp.url())
            } else if l.starts_with("# from =") {
                "from = \"news@example.org\"".to_owned()
            } else {
                l.to_owned()
            }
        })
        .map(|l| l + "\n")
        .collect();
    std::fs::write(&file, &with_mail).expect("mail server");
    let said = until_logged(&log, "mail.smtp_url");
    assert!(said.contains("mail.from"), "{said}");
    let deadline = Instant::now() + Duration::from_secs(15);
    while smtp.messages().is_empty() {
        assert!(Instant::now() < deadline, "the confirmation was not sent:\n{said}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let mail = &smtp.messages()[0];
    assert_eq!(mail.to, ["ada@example.org"]);
    let subject = common::smtp::header(&mail.data, "Subject").expect("subject");
    assert_eq!(subject, "Confirm your subscription to Harbour Institute");
}

#[test]
fn approving_a_reply_says_its_notice_waits_for_a_mail_server() {
    use quire_core::domain::CommentStatus;
    let dir = site_with_ports();
    let d = dir.path();
    let reply = tokio::runtime::Runtime::new().expect("runtime").block_on(async {
        let store = quire_store::Store::connect(&format!("sqlite://{}", d.join("quire.db").display()))
            .await
            .expect("store");
        let paper = store.get_paper("ports-harbours").await.expect("get").expect("paper");
        let mut ids = Vec::new();
        for (name, email, parent, status, notify, said) in [
            (
                "Ada",
                "ada@example.org",
                None,
                CommentStatus::Approved,
                true,
                "Ports need dredging.",
            ),
            (
                "Bob",
                "bob@example.org",
                Some(0),
                CommentStatus::Pending,
                false,
                "Dredging is cheap.",
            ),
        ] {
            let input = quire_core::domain::CommentInput {
                name: name.into(),
                email: email.into(),
                url: None,
                text: said.into(),
                parent_id: parent.map(|i: usize| ids[i]),
            };
            let id = store
                .add_comment(&quire_store::NewComment {
                    paper_id: paper.meta.id,
                    input: &input,
                    status,
                    ip: "198.51.100.4",
                    user_agent: "test",
                    notify_replies: notify,
                    now: time::OffsetDateTime::now_utc(),
                })
                .await
                .expect("comment");
            ids.push(id);
        }
        ids[1]
    });
    let out = quire(d, &["comments", "approve", &reply.to_string()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Queued 1 reply notice"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("nothing will be delivered until smtp_url is set"),
        "{}",
        text(&out.stderr)
    );
    let waiting = text(&quire(d, &["outbox", "list"]).stdout);
    assert!(waiting.contains("ada@example.org"), "{waiting}");
}

#[test]
fn a_back_catalogue_moving_in_is_not_emailed_and_says_so_briefly() {
    let dir = new_site();
    let d = dir.path();
    let long_ago = time::OffsetDateTime::now_utc() - time::Duration::days(900);
    let files: Vec<String> = (0..7)
        .map(|i| paper_at(d, &format!("old-{i}"), "published", long_ago, &["trade"]))
        .collect();
    let mut args = vec!["paper", "add", "--create-missing"];
    args.extend(files.iter().map(String::as_str));
    let out = quire_env(d, &args, &[("QUIRE_NEWSLETTER_ON_PUBLISH", "true")]);
    let said = text(&out.stdout);
    assert!(out.status.success(), "{said}{}", text(&out.stderr));
    assert_eq!(said.matches("Not emailing old-").count(), 3, "{said}");
    assert!(said.contains("…and 4 more papers not emailed on their own"), "{said}");
    assert!(!said.contains("Emailing old-"), "{said}");
    let status = text(&quire(d, &["newsletter", "status"]).stdout);
    assert!(status.contains("No campaigns yet"), "{status}");
}

#[test]
fn emails_keep_list_numbers_and_send_drawings_as_png() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let smtp = rt.block_on(common::smtp::SmtpServer::start());
    let url = smtp.url();
    let dir = new_site();
    let d = dir.path();
    std::fs::write(d.join("flow.svg"), common::SVG).expect("svg");
    let text_of_paper = "+++\ntitle = \"Steps\"\nslug = \"steps\"\nkind = \"report\"\nsummary = \"Steps.\"\n\
                         authors = [\"ada\"]\nstatus = \"published\"\npublished_at = 2026-03-05T09:00:00Z\n+++\n\
                         Do this:\n\n1. Measure the harbour.\n2. Dredge it.\n3. Measure again.\n\n\
                         ![The flow of goods](flow.svg)\n";
    let file = write(d, "steps.md", text_of_paper);
    let out = quire(d, &["paper", "add", "--create-missing", &file.display().to_string()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let env = [
        ("QUIRE_SMTP_URL", url.as_str()),
        ("QUIRE_MAIL_FROM", "news@example.org"),
    ];
    let out = quire_env(
        d,
        &["newsletter", "test", "--to", "editor@example.org", "--paper", "steps"],
        &env,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let copy = smtp.messages().pop().expect("the test copy");
    let plain = common::smtp::part(&copy.data, "text/plain").expect("text part");
    for step in ["1. Measure the harbour.", "2. Dredge it.", "3. Measure again."] {
        assert!(plain.contains(step), "{plain}");
    }
    let html = common::smtp::part(&copy.data, "text/html").expect("html part");
    assert!(html.contains("/papers/steps/flow.svg.png"), "{html}");
    assert!(!html.contains("flow.svg\""), "{html}");
}

#[test]
fn authors_and_topics_added_twice_are_merged_into_one() {
    let dir = site_with_ports();
    let d = dir.path();
    let out = quire(d, &["author", "add", "--name", "A. Lovelace", "--slug", "lovelace"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file = paper_at(d, "dues", "published", time::OffsetDateTime::now_utc(), &["ports"]);
    let file = std::fs::read_to_string(&file)
        .expect("paper")
        .replace("authors = [\"ada\"]", "authors = [\"lovelace\", \"alan-turing\"]");
    let file = write(d, "dues.md", &file);
    let out = quire(d, &["paper", "add", "--create-missing", &file.display().to_string()]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = quire(d, &["author", "merge", "lovelace", "ada-lovelace"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Merged author lovelace into ada-lovelace: 1 paper now names ada-lovelace"),
        "{}",
        text(&out.stdout)
    );
    let authors = list_json(d, "author");
    assert!(!authors.iter().any(|a| a["slug"] == "lovelace"), "{authors:?}");
    let papers = list_json(d, "paper");
    let dues = papers.iter().find(|p| p["slug"] == "dues").expect("dues");
    let byline: Vec<&str> = dues["authors"]
        .as_array()
        .expect("authors")
        .iter()
        .filter_map(|a| a["slug"].as_str())
        .collect();
    assert_eq!(byline, ["ada-lovelace", "alan-turing"]);

    let out = quire(d, &["topic", "merge", "ports", "infrastructure"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("1 paper moved"), "{}", text(&out.stdout));
    for (args, says) in [
        (vec!["topic", "merge", "trade", "trade"], "cannot be merged into itself"),
        (
            vec!["author", "merge", "nobody", "ada-lovelace"],
            "no author has the slug \"nobody\"",
        ),
    ] {
        let out = quire(d, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(says), "{args:?}: {}", text(&out.stderr));
    }
}

#[test]
fn authors_carry_an_orcid_id_checked_by_its_digit() {
    let dir = site_with_ports();
    let d = dir.path();
    let with_orcid = |orcid: &str| {
        let args = [
            "author",
            "add",
            "--slug",
            "ada-lovelace",
            "--name",
            "Ada Lovelace",
            "--orcid",
            orcid,
        ];
        quire(d, &args)
    };
    let out = with_orcid("0000-0002-1825-0098");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--orcid:"), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("should be 7"), "{}", text(&out.stderr));
    let out = with_orcid("https://orcid.org/0000-0002-1825-0097");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let authors = list_json(d, "author");
    let ada = authors.iter().find(|a| a["slug"] == "ada-lovelace").expect("ada");
    assert_eq!(ada["orcid"], "0000-0002-1825-0097");
    let server = serve(d);
    let (_, page) = http_get(&server.addr, "/authors/ada-lovelace/");
    assert!(
        page.contains("<a href=\"https://orcid.org/0000-0002-1825-0097\" rel=\"me noopener\">"),
        "{page}"
    );
}

#[test]
fn the_first_account_is_made_from_the_command_line_with_a_link_to_the_admin() {
    let site = new_site();
    let dir = site.path();
    let out = quire(
        dir,
        &[
            "user",
            "add",
            "Ada@Example.org",
            "--name",
            "Ada Lovelace",
            "--role",
            "administrator",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("Added Ada Lovelace <ada@example.org> (administrator)."),
        "{said}"
    );
    assert!(said.contains("it works once, until"), "{said}");
    let url = said
        .split_whitespace()
        .find(|w| w.contains("/admin/password?token="))
        .expect("a link")
        .to_owned();
    // Mistakes are refused with what to do, and nothing is added.
    for (args, says) in [
        (
            vec!["user", "add", "ada@example.org", "--name", "Ada", "--role", "editor"],
            "already exists: change its role with `quire user role ada@example.org ROLE`",
        ),
        (
            vec!["user", "add", "not-an-address", "--name", "Ada", "--role", "editor"],
            "the address is not an email address",
        ),
        (
            vec!["user", "add", "b@example.org", "--name", "B", "--role", "owner"],
            "is not a role",
        ),
        (
            vec![
                "user",
                "add",
                "b@example.org",
                "--name",
                "B",
                "--role",
                "author",
                "--author",
                "ghost",
            ],
            "unknown author \"ghost\"",
        ),
        (
            vec!["user", "role", "nobody@example.org", "editor"],
            "see `quire user list`",
        ),
        (vec!["user", "role", "ada@example.org", "editor"], "only administrator"),
        (vec!["user", "disable", "ada@example.org"], "only administrator"),
    ] {
        let out = quire(dir, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out.stderr).contains(says), "{args:?}: {}", text(&out.stderr));
    }
    let users = list_json_args(dir, &["user", "list", "--json"]);
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["role"], "administrator");
    assert_eq!(users[0]["has_password"], false);
    assert!(users[0].get("password_hash").is_none());

    // The printed link opens the page that sets the password.
    let server = serve(dir);
    let path = &url[url.find("/admin/").expect("path")..];
    let (status, page) = http_get(&server.addr, path);
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Set your password") && page.contains("ada@example.org"),
        "{page}"
    );
    let (status, _) = http_get(&server.addr, "/admin/");
    assert_eq!(status, 303, "the admin asks to sign in");

    // The other commands.
    let out = quire(
        dir,
        &["user", "add", "ed@example.org", "--name", "Ed", "--role", "editor"],
    );
    assert!(out.status.success());
    let out = quire(dir, &["user", "role", "ed@example.org", "author"]);
    assert_eq!(text(&out.stdout).trim(), "ed@example.org is now author.");
    let out = quire(dir, &["user", "list"]);
    let listed = text(&out.stdout);
    assert!(
        listed.contains("ed@example.org") && listed.contains("invited"),
        "{listed}"
    );
    let out = quire(dir, &["user", "reset-password", "ed@example.org"]);
    assert!(text(&out.stdout).contains("/admin/password?token="));
    let out = quire(dir, &["user", "disable", "ed@example.org"]);
    assert!(text(&out.stdout).contains("Disabled ed@example.org"));
    let out = quire(dir, &["user", "reset-password", "ed@example.org"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("is disabled: enable it first"));
    let out = quire(dir, &["user", "enable", "ed@example.org"]);
    assert!(
        text(&out.stdout).contains("It has no password yet"),
        "{}",
        text(&out.stdout)
    );
}
