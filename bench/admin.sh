#!/usr/bin/env bash
# The admin's papers list on a site of 10,000 papers, side by side with
# its reference in one run: the site's own search page over the same
# papers (a reader's dynamic page: the same engine and lists, never
# cached). wrk loads each in turn, in alternating rounds, at 4
# connections, as a signed-in editor (the list) and as a reader (the
# search). Prints each round's p50 and p99, then the medians and the
# ratio of p50s (admin list / reader search: what an editor's page of 50
# papers with every count and filter costs over a reader's page of 10
# results), and how long a paper published from the list takes to be
# served on the site. Then the editor's preview of a 5,000-word paper
# with 40 footnotes (the whole form posted, checked and rendered as the
# site's page), side by side with its reference: the same paper's public
# page rendered afresh for a reader (`?replytocom=`, which the cache never
# keeps); and how long a paper published from the editor takes to be
# served. Targets: list p50 under 100 ms at 10,000 papers; preview p50
# within 1.5 times a fresh render of the page; published papers served
# within a second.
#
# Needs: wrk (the Debian package); installs it if missing and apt-get is
# available.
# Usage: bench/admin.sh [DURATION] [ROUNDS] [PAPERS]   (defaults: 5s, 3, 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-5s}
rounds=${2:-3}
papers=${3:-10000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/quire-target}

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

if [ -n "${QUIRE_BIN:-}" ]; then
  quire=$QUIRE_BIN
else
  cargo build --release --quiet
  quire="$CARGO_TARGET_DIR/release/quire"
fi
work=$(mktemp -d)
port=18090
base="http://127.0.0.1:$port"
cleanup() {
  [ -n "${quire_pid:-}" ] && kill "$quire_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "making a demo site of $papers papers..."
QUIRE_LOG=warn "$quire" --data-dir "$work" demo --papers "$papers" --addr 127.0.0.1:$port >"$work/quire.log" 2>&1 &
quire_pid=$!
for _ in $(seq 1 3000); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "$base/healthz" >/dev/null

# An editor, signed in the way a browser does: the printed link, the
# form's token and door cookie, the password.
link=$("$quire" --data-dir "$work" user add "bench@example.org" --name "Bench Editor" --role editor 2>/dev/null |
  grep -o 'http://[^ ]*/admin/password?token=[^ ]*')
path="/admin/password?${link#*\?}"
jar="$work/cookies"
page=$(curl -fs -c "$jar" -b "$jar" "$base$path")
csrf=$(printf '%s' "$page" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
token=${link#*token=}
curl -fs -c "$jar" -b "$jar" -o /dev/null -H "Origin: $base" \
  --data-urlencode "csrf=$csrf" --data-urlencode "token=$token" \
  --data-urlencode "password=bench harbour lighthouse" --data-urlencode "repeat=bench harbour lighthouse" \
  "$base/admin/password"
session=$(awk '$6 == "quire_session" { print $7 }' "$jar")
[ -n "$session" ] || { echo "could not sign in"; exit 1; }
cookie="Cookie: quire_session=$session"
first=$(curl -fs -H "$cookie" "$base/admin/papers")
total=$(printf '%s' "$first" | grep -o '[0-9]* papers, page 1 of [0-9]*' | head -1)
echo "signed in as an editor; the list says: $total"

list_url="$base/admin/papers?status=published&sort=title&page=3"
search_url="$base/search?q=policy"
# (Whole pages into variables: `curl | grep -q` fails under pipefail
# when grep stops reading early.)
list_page=$(curl -fs -H "$cookie" "$list_url")
search_page=$(curl -fs "$search_url")
case "$list_page" in *admin-table*) ;; *) echo "the admin list did not load"; exit 1 ;; esac
case "$search_page" in *'class="result"'*) ;; *) echo "the search page found nothing"; exit 1 ;; esac

# One wrk run: prints "P50_MS P99_MS REQ_PER_S".
load() {
  local url=$1; shift
  wrk -t2 -c4 -d"$duration" --latency "$@" "$url" | awk '
    function ms(v) { if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 } if (v ~ /ms$/) { sub(/ms$/, "", v); return v } if (v ~ /s$/) { sub(/s$/, "", v); return v * 1000 } return v }
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    END { printf "%.2f %.2f %s\n", p50, p99, rps }'
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

: >"$work/a"; : >"$work/s"
for r in $(seq 1 "$rounds"); do
  a=$(load "$list_url" -H "$cookie"); echo "$a" >>"$work/a"
  s=$(load "$search_url"); echo "$s" >>"$work/s"
  echo "round $r: admin list p50/p99 ${a% *} ms; reader search p50/p99 ${s% *} ms"
done
a50=$(cut -d' ' -f1 "$work/a" | median); a99=$(cut -d' ' -f2 "$work/a" | median)
s50=$(cut -d' ' -f1 "$work/s" | median); s99=$(cut -d' ' -f2 "$work/s" | median)
ratios=$(paste -d' ' "$work/a" "$work/s" | awk '{ printf "%.2f ", $1 / $4 }')
echo
echo "medians of $rounds rounds of $duration, 4 connections, $papers papers:"
awk -v a50="$a50" -v a99="$a99" -v s50="$s50" -v s99="$s99" -v rs="$ratios" 'BEGIN {
  printf "  admin papers list   p50 %7.2f ms   p99 %7.2f ms\n", a50, a99
  printf "  reader search page  p50 %7.2f ms   p99 %7.2f ms\n", s50, s99
  printf "  ratio of p50s (list/search): %.2f (rounds: %s)\n", a50 / s50, rs
  printf "  target: list p50 < 100 ms: %s\n", (a50 < 100 ? "met" : "NOT MET")
}'

# Publishing from the list: how long until the site serves the paper.
drafts=$(curl -fs -H "$cookie" "$base/admin/papers?status=draft")
slug=$(printf '%s' "$drafts" | grep -o 'name="slug" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
csrf=$(printf '%s' "$drafts" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
if [ -n "$slug" ]; then
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/papers/$slug/")" = 404 ] || { echo "the draft is public already"; exit 1; }
  start=$(date +%s%N)
  curl -fs -o /dev/null -H "$cookie" -H "Origin: $base" \
    --data-urlencode "csrf=$csrf" --data-urlencode "action=publish" --data-urlencode "slug=$slug" \
    "$base/admin/papers/bulk"
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/papers/$slug/")" = 200 ]; do
    [ $(( ($(date +%s%N) - start) / 1000000 )) -gt 10000 ] && { echo "not visible after 10 s"; exit 1; }
    sleep 0.01
  done
  echo "  published $slug from the list: served on the site $(( ($(date +%s%N) - start) / 1000000 )) ms after the click (target < 1000 ms)"
fi

# --- The editor's preview of a long paper ---------------------------------
# 5,000 words in 50 paragraphs, 40 of them with a footnote, and a table.
python3 - "$work" <<'PY'
import sys, urllib.parse
work = sys.argv[1]
words = "harbour dues tonnage berth pilotage quay tariff cargo vessel freight".split()
paras = []
for i in range(50):
    text = " ".join(words[(i + j) % len(words)] for j in range(100))
    if i < 40:
        text += f".[^{i + 1}]"
    paras.append(text.capitalize())
notes = "\n".join(f"[^{i + 1}]: Note {i + 1}, on the harbour's own accounts." for i in range(40))
table = "| Port | Dues |\n|---|---|\n| Haifa | 30 |\n| Ashdod | 28 |"
body = "\n\n".join(paras[:25] + [table] + paras[25:]) + "\n\n" + notes + "\n"
front = '+++\ntitle = "Harbour Dues at Length"\nslug = "long-dues"\nkind = "report"\nsummary = "A long paper."\nauthors = ["bench-author"]\nstatus = "published"\n+++\n'
open(f"{work}/long-dues.md", "w").write(front + body)
open(f"{work}/body.txt", "w").write(body)
PY
"$quire" --data-dir "$work" paper add --create-missing "$work/long-dues.md" >/dev/null
editor=$(curl -fs -H "$cookie" "$base/admin/papers/long-dues/edit")
csrf=$(printf '%s' "$editor" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
python3 - "$work" "$csrf" <<'PY'
import sys, urllib.parse
work, csrf = sys.argv[1], sys.argv[2]
body = open(f"{work}/body.txt").read()
form = urllib.parse.urlencode([
    ("csrf", csrf), ("original", "long-dues"), ("base_revision", "1"), ("title", "Harbour Dues at Length"),
    ("subtitle", ""), ("kind", "report"), ("summary", "A long paper."), ("authors", "bench-author"),
    ("language", "en"), ("translation_of", ""), ("canonical_url", ""), ("comments", "open"), ("body", body),
])
open(f"{work}/preview.form", "w").write(form)
PY
cat >"$work/preview.lua" <<LUA
local f = io.open("$work/preview.form", "r")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Origin"] = "$base"
wrk.headers["Cookie"] = "quire_session=$session"
LUA
preview_url="$base/admin/papers/preview"
fresh_url="$base/papers/long-dues/?replytocom=1"
preview_page=$(curl -fs -H "$cookie" -H "Origin: $base" --data-binary @"$work/preview.form" "$preview_url")
case "$preview_page" in *'id="fn:40"'*) ;; *) echo "the preview did not render the 40 footnotes"; exit 1 ;; esac
fresh_page=$(curl -fs "$fresh_url")
case "$fresh_page" in *'id="fn:40"'*) ;; *) echo "the paper's page did not render"; exit 1 ;; esac
words=$(python3 -c "import sys; print(len(open(sys.argv[1]).read().split()))" "$work/body.txt")
echo
echo "the editor's preview of a paper of $words words with 40 footnotes:"
: >"$work/p"; : >"$work/f"
for r in $(seq 1 "$rounds"); do
  p=$(load "$preview_url" -s "$work/preview.lua"); echo "$p" >>"$work/p"
  f=$(load "$fresh_url"); echo "$f" >>"$work/f"
  echo "round $r: preview p50/p99 ${p% *} ms; fresh page render p50/p99 ${f% *} ms"
done
p50=$(cut -d' ' -f1 "$work/p" | median); p99=$(cut -d' ' -f2 "$work/p" | median)
f50=$(cut -d' ' -f1 "$work/f" | median); f99=$(cut -d' ' -f2 "$work/f" | median)
ratios=$(paste -d' ' "$work/p" "$work/f" | awk '{ printf "%.2f ", $1 / $4 }')
awk -v p50="$p50" -v p99="$p99" -v f50="$f50" -v f99="$f99" -v rs="$ratios" 'BEGIN {
  printf "  editor preview        p50 %7.2f ms   p99 %7.2f ms\n", p50, p99
  printf "  fresh page render     p50 %7.2f ms   p99 %7.2f ms\n", f50, f99
  printf "  ratio of p50s (preview/page): %.2f (rounds: %s)\n", p50 / f50, rs
  printf "  target: preview p50 within 1.5x a fresh render: %s\n", (p50 / f50 <= 1.5 ? "met" : "NOT MET")
}'

# Publishing from the editor: the long paper is taken back to draft, then
# published again; how long until the site serves it.
slug=long-dues
editor_post() {
  local editor base_revision
  editor=$(curl -fs -H "$cookie" "$base/admin/papers/$slug/edit")
  base_revision=$(printf '%s' "$editor" | grep -o 'name="base_revision" value="[0-9]*"' | head -1 | sed 's/.*value="//; s/"$//')
  python3 - "$work" "$base_revision" "$1" <<'PY'
import sys, urllib.parse
work, revision, intent = sys.argv[1:4]
pairs = urllib.parse.parse_qsl(open(f"{work}/preview.form").read(), keep_blank_values=True)
pairs = [(k, revision if k == "base_revision" else v) for k, v in pairs] + [("intent", intent)]
open(f"{work}/publish.form", "w").write(urllib.parse.urlencode(pairs))
PY
  curl -fs -o /dev/null -H "$cookie" -H "Origin: $base" --data-binary @"$work/publish.form" "$base/admin/papers/save"
}
editor_post unpublish
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/papers/$slug/")" = 404 ] || { echo "unpublishing from the editor left the paper up"; exit 1; }
start=$(date +%s%N)
editor_post publish
until [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/papers/$slug/")" = 200 ]; do
  [ $(( ($(date +%s%N) - start) / 1000000 )) -gt 10000 ] && { echo "not visible after 10 s"; exit 1; }
  sleep 0.01
done
echo "  published $slug from the editor: served on the site $(( ($(date +%s%N) - start) / 1000000 )) ms after the click (target < 1000 ms)"
