#!/usr/bin/env bash
# Quire against nginx, side by side in one run: `quire demo` serves a paper
# page from its in-memory cache; nginx serves the same HTML saved to a file.
# wrk (-t2 -c64 -d10s) loads each in turn; prints both req/s and the ratio.
# Target: Quire >= 0.8x nginx.
#
# Needs: nginx, wrk (Debian packages nginx-light and wrk); installs them if
# missing and apt-get is available. Usage: bench/serve.sh [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10s}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/quire-target}

need() { command -v "$1" >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; }
need wrk wrk
need nginx nginx-light

cargo build --release --quiet
quire="$CARGO_TARGET_DIR/release/quire"
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
bytes=$(wc -c <"$work/root${path}index.html")

cat >"$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  types { text/html html; }
  default_type text/html;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/root;
    index index.html;
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work"
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$nginx_port$path" >/dev/null 2>&1 && break; sleep 0.1; done
cmp <(curl -fs "http://127.0.0.1:$quire_port$path") <(curl -fs "http://127.0.0.1:$nginx_port$path") \
  || { echo "nginx and Quire serve different bytes" >&2; exit 1; }

echo "page: $path ($bytes bytes, uncompressed)"
rps() { wrk -t2 -c64 -d"$duration" "$1" | awk '/Requests\/sec/ {print $2}'; }
curl -fs "http://127.0.0.1:$quire_port$path" >/dev/null   # warm the cache
quire_rps=$(rps "http://127.0.0.1:$quire_port$path")
nginx_rps=$(rps "http://127.0.0.1:$nginx_port$path")
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$quire_pid/status")
echo "quire: $quire_rps req/s"
echo "nginx: $nginx_rps req/s"
awk -v q="$quire_rps" -v n="$nginx_rps" 'BEGIN { r = q / n; printf "ratio quire/nginx: %.2f (target >= 0.80) %s\n", r, (r >= 0.8 ? "PASS" : "BELOW TARGET") }'
echo "quire peak RSS during the run: $((rss_kb / 1024)) MiB"
