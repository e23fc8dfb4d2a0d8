#!/usr/bin/env bash
# Newsletter delivery against Postfix's own load generator, in one run:
#   - Postfix's smtp-sink (a test SMTP server that takes and drops mail)
#     listens on 127.0.0.1;
#   - Quire sends one campaign (the fixture paper "Ports and Harbours") to
#     N generated subscribers on SQLite with `quire newsletter send`, then
#     `quire newsletter resume 1 --wait` delivers it, over CONNECTIONS
#     pooled connections; its rate is N / delivery time;
#   - smtp-source, Postfix's SMTP load generator, sends N messages of the
#     same size over the same number of connections to the same sink;
#   - both rates and the ratio (target: Quire ≥ 0.5× smtp-source), then
#     Quire's peak RSS while delivering to 10,000 and to N subscribers.
# Needs the postfix package for smtp-sink and smtp-source (installed if
# missing and apt-get is available; the mail server itself is not used).
# Usage: bench/newsletter.sh [N] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
conns=${2:-8}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/quire-target}
if [ ! -x /usr/sbin/smtp-sink ] || [ ! -x /usr/sbin/smtp-source ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix >/dev/null
fi
# QUIRE_BIN=PATH measures that binary instead (an earlier build, say).
if [ -n "${QUIRE_BIN:-}" ]; then
  quire=$QUIRE_BIN
else
  cargo build --release --quiet
  quire="$CARGO_TARGET_DIR/release/quire"
fi
port=2526
work=$(mktemp -d)
chmod 777 "$work"
cleanup() {
  [ -n "${sink:-}" ] && kill "$sink" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_sink() { # [dump folder]
  [ -n "${sink:-}" ] && { kill "$sink" 2>/dev/null || true; wait "$sink" 2>/dev/null || true; }
  if [ -n "${1:-}" ]; then
    /usr/sbin/smtp-sink -u nobody -d "$1/%M." 127.0.0.1:$port 1024 &
  else
    /usr/sbin/smtp-sink -u nobody 127.0.0.1:$port 1024 &
  fi
  sink=$!
  for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
}

export QUIRE_LOG=warn QUIRE_SMTP_URL="smtp://127.0.0.1:$port" QUIRE_MAIL_FROM="Policy Lab <news@example.org>"
export QUIRE_MAIL_CONCURRENCY=$conns

site() { # DIR COUNT: a site with the fixture paper and COUNT confirmed subscribers
  local dir=$1 count=$2
  mkdir -p "$dir"
  "$quire" --data-dir "$dir" init >/dev/null
  "$quire" --data-dir "$dir" paper add --create-missing tests/fixtures/papers/ports.md >/dev/null
  python3 -c "
import sys
with open('$dir/list.csv', 'w') as f:
    f.write('email,name\n')
    for i in range($count):
        f.write(f'reader{i}@example.org,Reader {i}\n')
"
  "$quire" --data-dir "$dir" subscribers import --with-consent "$dir/list.csv" >/dev/null
}

# The size of Quire's message, from one copy caught by a dumping sink.
mkdir -p "$work/dump" && chmod 777 "$work/dump"
start_sink "$work/dump"
site "$work/one" 1
"$quire" --data-dir "$work/one" newsletter send --paper ports-harbours --wait >/dev/null
size=$(python3 -c "
import glob
data = open(glob.glob('$work/dump/*')[0], 'rb').read()
head, _, body = data.partition(b'\n\n')
lines = head.split(b'\n')
# Drop what the sink adds: its X- lines and its Received header.
keep, skip = [], False
for l in lines:
    if l.startswith(b'X-Client') or l.startswith(b'X-Helo') or l.startswith(b'X-Mail') or l.startswith(b'X-Rcpt'):
        continue
    if l.startswith(b'Received: from') and b'smtp-sink' in head:
        skip = True
        continue
    if skip and l[:1] in (b' ', b'\t'):
        continue
    skip = False
    keep.append(l)
print(len(b'\r\n'.join(keep)) + 4 + len(body.replace(b'\n', b'\r\n')))
")
echo "Quire's message: $size bytes (the fixture paper, HTML and text)"
start_sink

echo "Preparing $n subscribers…"
site "$work/big" "$n"
t0=$(date +%s.%N)
"$quire" --data-dir "$work/big" newsletter send --paper ports-harbours
t1=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$work/big.rss" "$quire" --data-dir "$work/big" newsletter resume 1 --wait
t2=$(date +%s.%N)

# smtp-source's headers take about 150 bytes; its body makes up the rest.
t3=$(date +%s.%N)
/usr/sbin/smtp-source -d -s "$conns" -m "$n" -l $((size - 150)) -f news@example.org -t reader@example.org 127.0.0.1:$port
t4=$(date +%s.%N)

echo "Peak memory at 10,000 subscribers…"
site "$work/small" 10000
"$quire" --data-dir "$work/small" newsletter send --paper ports-harbours >/dev/null
/usr/bin/time -f "%M" -o "$work/small.rss" "$quire" --data-dir "$work/small" newsletter resume 1 --wait >/dev/null

python3 - "$n" "$t0" "$t1" "$t2" "$t3" "$t4" "$(cat "$work/small.rss")" "$(cat "$work/big.rss")" "$conns" <<'PY'
import sys
n = int(sys.argv[1]); t0, t1, t2, t3, t4 = map(float, sys.argv[2:7])
small, big, conns = int(sys.argv[7]), int(sys.argv[8]), sys.argv[9]
quire, source = n / (t2 - t1), n / (t4 - t3)
print(f"\n{n:,} messages, {conns} connections, to Postfix smtp-sink on 127.0.0.1")
print(f"  Quire: queued in {t1 - t0:.2f} s, delivered in {t2 - t1:.2f} s: {quire:,.0f} messages/s")
print(f"  smtp-source: {t4 - t3:.2f} s: {source:,.0f} messages/s")
print(f"  ratio Quire / smtp-source: {quire / source:.2f} (target >= 0.5)")
print(f"  Quire peak RSS delivering: {small / 1024:.1f} MiB at 10,000 subscribers, {big / 1024:.1f} MiB at {n:,}")
PY
