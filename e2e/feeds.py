"""Every feed of a running Quire site parses with feedparser, without the
bozo flag, with the number of entries the site's papers call for.

feedparser (6.0.14, the newest on PyPI) reads Atom and RSS but has no JSON
Feed parser, so JSON Feeds are checked here against the JSON Feed 1.1
specification's rules instead, and must list the same entries as the Atom
feed beside them.

Usage: QUIRE_E2E_URL=http://127.0.0.1:18400 QUIRE_E2E_PAPERS=papers.json \
       QUIRE_E2E_FEED_ITEMS=20 python3 feeds.py
"""

import json
import os
import sys
import urllib.request
from datetime import datetime, timezone

import feedparser

base = os.environ.get("QUIRE_E2E_URL", "http://127.0.0.1:18400").rstrip("/")
per_feed = int(os.environ.get("QUIRE_E2E_FEED_ITEMS", "20"))
with open(os.environ.get("QUIRE_E2E_PAPERS", "papers.json"), encoding="utf-8") as f:
    papers = json.load(f)

now = datetime.now(timezone.utc)
listed = [
    p
    for p in papers
    if p["status"] in ("published", "scheduled")
    and p.get("published_at")
    and datetime.fromisoformat(p["published_at"].replace("Z", "+00:00")) <= now
]

scopes = [("site", "", listed)]
for kind, key in (("topic", "topics"), ("author", "authors")):
    slugs = sorted({ref["slug"] for p in listed for ref in p[key]})
    for slug in slugs:
        mine = [p for p in listed if any(ref["slug"] == slug for ref in p[key])]
        scopes.append((f"{kind} {slug}", f"/{key}/{slug}", mine))

def parse_json_feed(body):
    """A feedparser-like result for a JSON Feed 1.1 document, with bozo set
    and the reason when the document breaks the specification."""
    result = {"bozo": 0, "bozo_exception": None, "entries": []}

    def broken(reason):
        result["bozo"] = 1
        result["bozo_exception"] = reason

    try:
        feed = json.loads(body)
    except ValueError as e:
        broken(f"not JSON: {e}")
        return result
    if feed.get("version") != "https://jsonfeed.org/version/1.1":
        broken(f"version is {feed.get('version')!r}")
    for key in ("title", "home_page_url", "feed_url"):
        if not isinstance(feed.get(key), str) or not feed[key]:
            broken(f"top-level {key} missing")
    items = feed.get("items")
    if not isinstance(items, list):
        broken("items is not a list")
        return result
    for item in items:
        if not isinstance(item.get("id"), str) or not item["id"]:
            broken("an item has no id")
        if "content_html" not in item and "content_text" not in item:
            broken(f"item {item.get('id')} has neither content_html nor content_text")
        for key in ("date_published", "date_modified"):
            try:
                datetime.fromisoformat(item[key].replace("Z", "+00:00"))
            except (KeyError, ValueError, AttributeError):
                broken(f"item {item.get('id')} {key} is not RFC 3339")
        for author in item.get("authors", []):
            if not author.get("name"):
                broken(f"item {item.get('id')} has an author without a name")
        result["entries"].append(
            {"link": item.get("url", ""), "published_parsed": item.get("date_published"), "id": item.get("id")}
        )
    return result


failures = 0
checked = 0
for name, prefix, mine in scopes:
    expected = min(per_feed, len(mine))
    for ext in ("atom", "rss", "json"):
        url = f"{base}{prefix}/feed.{ext}"
        with urllib.request.urlopen(url) as response:
            body = response.read()
            etag = response.headers.get("ETag")
            content_type = response.headers.get("Content-Type", "")
        if ext == "json":
            parsed = parse_json_feed(body)
        else:
            parsed = feedparser.parse(body, response_headers={"content-type": content_type})
        checked += 1
        problems = []
        if parsed["bozo"]:
            problems.append(f"bozo: {parsed['bozo_exception']!r}")
        entries = parsed["entries"]
        if len(entries) != expected:
            problems.append(f"{len(entries)} entries, expected {expected}")
        links = [e.get("link") for e in entries]
        if ext == "atom":
            atom_links = links
        elif links != atom_links:
            problems.append("entries differ from the Atom feed's")
        for entry in entries:
            if not entry.get("link", "").startswith(base + "/papers/"):
                problems.append(f"entry link {entry.get('link')!r}")
            if not entry.get("published_parsed"):
                problems.append(f"entry {entry.get('link')} has no publication date")
        # A second fetch with the ETag is answered 304 Not Modified.
        request = urllib.request.Request(url, headers={"If-None-Match": etag or ""})
        try:
            urllib.request.urlopen(request)
            problems.append("a conditional request with the ETag did not get 304")
        except urllib.error.HTTPError as e:
            if e.code != 304:
                problems.append(f"conditional request got {e.code}")
        if problems:
            failures += 1
            print(f"FAIL {url}: " + "; ".join(problems))
    if name == "site" or failures:
        print(f"  {name:30} atom, rss, json: {expected} entries each")

# The comment feeds (after e2e/comments.mjs has posted comments): the site's
# and one paper's, each parsed, each entry a comment permalink.
for url in [f"{base}/comments.atom"] + [f"{base}/papers/{urllib.parse.quote(p['slug'])}/comments.atom" for p in listed[:3]]:
    with urllib.request.urlopen(url) as response:
        body = response.read()
        content_type = response.headers.get("Content-Type", "")
    parsed = feedparser.parse(body, response_headers={"content-type": content_type})
    checked += 1
    problems = []
    if parsed["bozo"]:
        problems.append(f"bozo: {parsed['bozo_exception']!r}")
    for entry in parsed["entries"]:
        if "#comment-" not in entry.get("link", ""):
            problems.append(f"entry link {entry.get('link')!r}")
        if "@" in entry.get("author", ""):
            problems.append("an entry shows an email address")
    if problems:
        failures += 1
        print(f"FAIL {url}: " + "; ".join(problems))
    else:
        print(f"  {url.replace(base, ''):60} {len(parsed['entries'])} comments")

print(f"feedparser {feedparser.__version__}: {checked} feeds checked, {failures} failed")
sys.exit(1 if failures else 0)
