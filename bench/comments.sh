#!/usr/bin/env bash
# Comments under load, on SQLite and on PostgreSQL in one run:
#   - submissions per second: wrk posts comments through the form's POST
#     (valid token, new text each time) with the rate limiter off, for
#     DURATION; every accepted one is counted in the database afterwards;
#   - the paper page's cached req/s with no comments and with 200 approved
#     comments under it (wrk GET), and the ratio.
# Needs wrk (installed if missing and apt-get is available) and, for the
# PostgreSQL half, the server on 127.0.0.1:5432 (trust auth).
# Usage: bench/comments.sh [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10s}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/quire-target}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet
quire="$CARGO_TARGET_DIR/release/quire"
port=18097
pg_db=quire_bench_comments
work=$(mktemp -d)
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/post.lua" <<'LUA'
-- Each thread numbers its own comments, so no two texts are the same.
local next_id = 0
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end
local count = 0
local token = os.getenv("QUIRE_BENCH_TOKEN")
local path = os.getenv("QUIRE_BENCH_PATH")
request = function()
  count = count + 1
  local body = "token=" .. token .. "&author=Bench+Reader&email=bench%40example.org" ..
    "&comment=A+benchmark+comment+number+" .. tid .. "-" .. count .. "+on+ports+and+harbours."
  return wrk.format("POST", path, { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
end
LUA

# One back end: prints "posts/s accepted stored page0 page200".
run() {
  local name=$1 url=$2 data="$work/$1"
  mkdir -p "$data"
  local db_args=()
  [ -n "$url" ] && db_args=(--database-url "$url")
  QUIRE_LOG=warn QUIRE_COMMENT_RATE_PER_MINUTE=0 QUIRE_COMMENT_RATE_PER_HOUR=0 QUIRE_COMMENT_MIN_SECONDS=0 \
    QUIRE_COMMENT_PREVIOUSLY_APPROVED=false \
    "$quire" --data-dir "$data" "${db_args[@]}" demo --papers 20 --addr 127.0.0.1:$port >"$data/log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  local base="http://127.0.0.1:$port"
  "$quire" --data-dir "$data" "${db_args[@]}" paper list --json >"$data/papers.json"
  read -r posted quiet < <(python3 -c "
import json
ps = [p['slug'] for p in json.load(open('$data/papers.json')) if p['status'] == 'published' and p['language'] == 'en']
print(ps[0], ps[1])")
  # Submissions per second.
  local token
  token=$(curl -fs "$base/papers/$posted/comments/token" | python3 -c "import sys, urllib.parse; print(urllib.parse.quote(sys.stdin.read().strip(), safe=''))")
  local out
  out=$(QUIRE_BENCH_TOKEN=$token QUIRE_BENCH_PATH="/papers/$posted/comments" wrk -t2 -c16 -d"$duration" -s "$work/post.lua" "$base")
  local rps errors requests
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  errors=$(awk '/Non-2xx or 3xx/ {print $NF}' <<<"$out")
  local stored
  stored=$("$quire" --data-dir "$data" "${db_args[@]}" comments list --paper "$posted" --json | python3 -c "import json, sys; print(len(json.load(sys.stdin)))")
  # The page with no comments, then with 200 approved ones.
  curl -fs "$base/papers/$quiet/" >/dev/null
  local page0
  page0=$(wrk -t2 -c64 -d"$duration" "$base/papers/$quiet/" | awk '/Requests\/sec/ {print $2}')
  local t
  t=$(curl -fs "$base/papers/$quiet/comments/token" | python3 -c "import sys, urllib.parse; print(urllib.parse.quote(sys.stdin.read().strip(), safe=''))")
  for i in $(seq 1 200); do
    curl -fs -o /dev/null -d "token=$t&author=Reader+$i&email=reader$i%40example.org&comment=Comment+$i+on+this+paper%2C+with+a+few+sentences+of+argument+about+harbours+and+the+regional+economy.+Dredging+costs+rose." "$base/papers/$quiet/comments"
  done
  sleep 1
  local shown
  shown=$(curl -fs "$base/papers/$quiet/" | grep -o 'class="comment"' | wc -l)
  local page200
  page200=$(wrk -t2 -c64 -d"$duration" "$base/papers/$quiet/" | awk '/Requests\/sec/ {print $2}')
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  echo "$name $rps ${requests:-0} ${errors:-0} $stored $page0 $page200 $shown"
}

results=()
results+=("$(run sqlite "")")
if pg_isready -h 127.0.0.1 -p 5432 -q; then
  dropdb -h 127.0.0.1 -U postgres --if-exists "$pg_db"
  createdb -h 127.0.0.1 -U postgres "$pg_db"
  results+=("$(run postgres "postgres://postgres@127.0.0.1:5432/$pg_db")")
  dropdb -h 127.0.0.1 -U postgres --if-exists "$pg_db"
else
  echo "PostgreSQL is not running on 127.0.0.1:5432: its half is skipped" >&2
fi

printf '\n%-10s %12s %10s %8s %8s %14s %16s %8s\n' "back end" "posts/s" "requests" "refused" "stored" "page req/s" "+200 comments" "ratio"
for r in "${results[@]}"; do
  read -r name rps requests errors stored page0 page200 shown <<<"$r"
  ratio=$(python3 -c "print(f'{float($page200) / float($page0):.2f}')")
  printf '%-10s %12s %10s %8s %8s %14s %16s %8s\n' "$name" "$rps" "$requests" "$errors" "$stored" "$page0" "$page200 ($shown shown)" "$ratio"
done
echo "refused: responses other than 2xx/3xx (a comment refused); stored: comments in the database afterwards."
echo "The page figures are cached req/s of one paper page (wrk -t2 -c64); comments show 50 to a page."
