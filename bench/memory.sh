#!/usr/bin/env bash
# Peak memory (VmHWM) of `quire demo` with 40 and with 10,000 papers, after
# every page of the site has been requested once (so the page cache is as
# full as its budget allows). Usage: bench/memory.sh [PAPERS...]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/quire-target}
cargo build --release --quiet
quire="$CARGO_TARGET_DIR/release/quire"
port=18090
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(40 10000)

# Starts `quire demo` on $work, crawls every page, prints the figures.
measure() {
  local n=$1 label=$2
  local start ready crawl_start crawl_end pid idle_kb peak_kb rss_kb total pages urls
  start=$(date +%s.%N)
  QUIRE_LOG=warn "$quire" --data-dir "$work" demo --papers "$n" --addr 127.0.0.1:$port >"$work/log" 2>&1 &
  pid=$!
  for _ in $(seq 1 1200); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  ready=$(date +%s.%N)
  idle_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  # Every page: home, indexes, archive pages, authors, topics, papers.
  urls="$work/urls"
  { echo /; echo /archive/; echo /authors/; echo /topics/; } >"$urls"
  pages=$(curl -fs "http://127.0.0.1:$port/archive/" | grep -o 'Page 1 of [0-9]*' | awk '{print $4}')
  for p in $(seq 2 "${pages:-1}"); do echo "/archive/?page=$p"; done >>"$urls"
  curl -fs "http://127.0.0.1:$port/authors/" | grep -o 'href="/authors/[^"]*/"' | cut -d'"' -f2 >>"$urls"
  curl -fs "http://127.0.0.1:$port/topics/" | grep -o 'href="/topics/[^"]*/"' | cut -d'"' -f2 >>"$urls"
  for p in $(seq 1 "${pages:-1}"); do curl -fs "http://127.0.0.1:$port/archive/?page=$p"; done \
    | grep -o 'href="/papers/[^"]*/"' | cut -d'"' -f2 | sort -u >>"$urls"
  total=$(wc -l <"$urls")
  sed "s|^\(.*\)$|url = \"http://127.0.0.1:$port\1\"\noutput = \"/dev/null\"|" "$urls" >"$work/curl.cfg"
  crawl_start=$(date +%s.%N)
  curl -fs --no-progress-meter --parallel --parallel-max 4 -K "$work/curl.cfg"
  crawl_end=$(date +%s.%N)
  peak_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  awk -v n="$n" -v l="$label" -v t="$total" -v s="$start" -v r="$ready" -v cs="$crawl_start" -v ce="$crawl_end" \
      -v idle="$idle_kb" -v peak="$peak_kb" -v rss="$rss_kb" 'BEGIN {
    printf "papers %6d, %-22s ready in %5.1f s, RSS %4d MiB; crawled %6d pages in %5.1f s; peak RSS %4d MiB\n",
      n, l ":", r - s, idle / 1024, t, ce - cs, peak / 1024 }'
}

for n in "${counts[@]}"; do
  work=$(mktemp -d)
  measure "$n" "first run (generates)"
  measure "$n" "restart (serves)"
  echo "papers $(printf %6d "$n"), database file: $(du -m "$work/quire.db" | cut -f1) MiB"
  rm -rf "$work"
done
