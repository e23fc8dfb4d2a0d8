#!/usr/bin/env bash
# Quire against nginx, side by side in one run: `quire demo` serves a paper
# page from its in-memory cache; nginx serves the same bytes from files
# (sendfile on): the HTML, and the brotli copy Quire sends, under
# `Content-Encoding: br` for the brotli runs. wrk loads each in turn, in
# alternating rounds (quire, nginx, quire, nginx, ...), at 64 and at 1,024
# connections, uncompressed and brotli. Prints each round, then per case
# the median req/s of each, the ratio of medians, and the median p99
# latency. Target: quire/nginx >= 1.0, p99 no worse than nginx's.
#
# Needs: nginx, wrk (Debian packages nginx-light and wrk); installs them if
# missing and apt-get is available.
# Usage: bench/serve.sh [DURATION] [ROUNDS]   (defaults: 5s, 3)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-5s}
rounds=${2:-3}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/quire-target}

need() { command -v "$1" >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; }
need wrk wrk
need nginx nginx-light
ulimit -n 20000 2>/dev/null || true

# QUIRE_BIN=PATH measures that binary instead (an earlier build, say).
if [ -n "${QUIRE_BIN:-}" ]; then
  quire=$QUIRE_BIN
else
  cargo build --release --quiet
  quire="$CARGO_TARGET_DIR/release/quire"
fi
work=$(mktemp -d)
chmod 755 "$work"   # nginx workers run unprivileged
quire_port=18080
nginx_port=18081
cleanup() {
  [ -n "${quire_pid:-}" ] && kill "$quire_pid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

QUIRE_LOG=warn "$quire" --data-dir "$work" demo --addr 127.0.0.1:$quire_port >"$work/quire.log" 2>&1 &
quire_pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$quire_port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

path=$(curl -fs "http://127.0.0.1:$quire_port/archive/" | grep -o 'href="/papers/[a-z0-9-]*/"' | head -1 | cut -d'"' -f2)
mkdir -p "$work/root$path"
curl -fs "http://127.0.0.1:$quire_port$path" -o "$work/root${path}index.html"
curl -fs -H 'Accept-Encoding: br' "http://127.0.0.1:$quire_port$path" -o "$work/root${path}index.br"
bytes=$(wc -c <"$work/root${path}index.html")
br_bytes=$(wc -c <"$work/root${path}index.br")

cat >"$work/nginx.conf" <<CONF
worker_processes auto;
worker_rlimit_nofile 20000;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types { text/html html; }
  default_type text/html;
  server {
    listen 127.0.0.1:$nginx_port backlog=4096;
    root $work/root;
    index index.html;
    location ~ /index\.br\$ {
      default_type text/html;
      add_header Content-Encoding br;
    }
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work"
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$nginx_port$path" >/dev/null 2>&1 && break; sleep 0.1; done
cmp <(curl -fs "http://127.0.0.1:$quire_port$path") <(curl -fs "http://127.0.0.1:$nginx_port$path") \
  || { echo "nginx and Quire serve different bytes" >&2; exit 1; }
cmp <(curl -fs -H 'Accept-Encoding: br' "http://127.0.0.1:$quire_port$path") <(curl -fs "http://127.0.0.1:$nginx_port${path}index.br") \
  || { echo "nginx and Quire serve different brotli bytes" >&2; exit 1; }

echo "page: $path ($bytes bytes; brotli $br_bytes bytes)"
# One wrk run: prints "REQ_PER_S P99_MS".
load() {
  local conns=$1 url=$2; shift 2
  wrk -t2 -c"$conns" -d"$duration" --latency "$@" "$url" | awk '
    /Requests\/sec/ { rps = $2 }
    /^ +99%/ { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } p99 = v }
    END { printf "%s %.2f\n", rps, p99 }'
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

curl -fs "http://127.0.0.1:$quire_port$path" >/dev/null   # the cache is warm
summary=""
for conns in 64 1024; do
  for enc in identity br; do
    if [ "$enc" = br ]; then
      q_url="http://127.0.0.1:$quire_port$path"; n_url="http://127.0.0.1:$nginx_port${path}index.br"; hdr=(-H 'Accept-Encoding: br')
    else
      q_url="http://127.0.0.1:$quire_port$path"; n_url="http://127.0.0.1:$nginx_port$path"; hdr=()
    fi
    : >"$work/q" ; : >"$work/n"
    for r in $(seq 1 "$rounds"); do
      q=$(load "$conns" "$q_url" "${hdr[@]}"); n=$(load "$conns" "$n_url" "${hdr[@]}")
      echo "$q" >>"$work/q"; echo "$n" >>"$work/n"
      echo "c$conns $enc round $r: quire ${q% *} req/s (p99 ${q#* } ms), nginx ${n% *} req/s (p99 ${n#* } ms)"
    done
    qm=$(cut -d' ' -f1 "$work/q" | median); nm=$(cut -d' ' -f1 "$work/n" | median)
    qp=$(cut -d' ' -f2 "$work/q" | median); np=$(cut -d' ' -f2 "$work/n" | median)
    ratios=$(paste -d' ' "$work/q" "$work/n" | awk '{ printf "%.2f ", $1 / $3 }')
    line=$(awk -v c="$conns" -v e="$enc" -v q="$qm" -v n="$nm" -v qp="$qp" -v np="$np" -v rs="$ratios" 'BEGIN {
      r = q / n
      printf "c%-5s %-8s quire %9.0f req/s  nginx %9.0f req/s  ratio %.2f (rounds: %s)  p99 quire %s ms, nginx %s ms  %s",
        c, e, q, n, r, rs, qp, np, (r >= 1.0 && qp <= np ? "PASS" : "BELOW TARGET") }')
    summary="$summary$line"$'\n'
  done
done
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$quire_pid/status")
echo
echo "medians of $rounds rounds of $duration each (target: ratio >= 1.00, p99 no worse than nginx):"
printf "%s" "$summary"
echo "quire peak RSS during the run: $((rss_kb / 1024)) MiB"
