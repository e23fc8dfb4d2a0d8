#!/usr/bin/env bash
# Page weight of paper pages: HTML + CSS + JS as sent compressed (brotli,
# and gzip for clients without it), for every paper of the demo site.
# Reports the median and the heaviest page against the 30 KB budget
# (images excluded: the demo has none). Usage: bench/page-weight.sh [PAPERS]
set -euo pipefail
cd "$(dirname "$0")/.."
papers=${1:-200}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/quire-target}
cargo build --release --quiet
quire="$CARGO_TARGET_DIR/release/quire"
work=$(mktemp -d)
port=18095
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
QUIRE_LOG=warn "$quire" --data-dir "$work" demo --papers "$papers" --addr 127.0.0.1:$port >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
base="http://127.0.0.1:$port"
"$quire" --data-dir "$work" paper list --json >"$work/papers.json"

size() { curl -fs -H "Accept-Encoding: $1" "$base$2" | wc -c; }
first=$(python3 -c "import json,sys; print(next(p['slug'] for p in json.load(open('$work/papers.json')) if p['status']=='published'))")
page=$(curl -fs "$base/papers/$first/")
css=$(grep -o '/assets/quire\.[0-9a-f]*\.css' <<<"$page" | head -1)
js=$(grep -o '/assets/quire\.[0-9a-f]*\.js' <<<"$page" | head -1)
css_br=$(size br "$css"); css_gz=$(size gzip "$css"); css_raw=$(size identity "$css")
js_br=$(size br "$js"); js_gz=$(size gzip "$js"); js_raw=$(size identity "$js")

python3 - "$work/papers.json" "$base" "$css_br" "$css_gz" "$css_raw" "$js_br" "$js_gz" "$js_raw" <<'PY'
import json, statistics, subprocess, sys
papers_file, base = sys.argv[1], sys.argv[2]
css_br, css_gz, css_raw, js_br, js_gz, js_raw = map(int, sys.argv[3:9])
papers = [p for p in json.load(open(papers_file)) if p["status"] in ("published", "archived")]
def size(enc, path):
    out = subprocess.run(["curl", "-fs", "-H", f"Accept-Encoding: {enc}", base + path], capture_output=True, check=True).stdout
    return len(out)
rows = []
for p in papers:
    path = f"/papers/{p['slug']}/"
    rows.append((size("br", path), size("gzip", path), size("identity", path), p["word_count"], p["slug"]))
rows.sort()
budget = 30 * 1024
def line(label, r):
    br, gz, raw, words, slug = r
    total_br, total_gz = br + css_br + js_br, gz + css_gz + js_gz
    print(f"{label:8} {words:5} words  HTML {raw/1024:6.1f} KB raw, {br/1024:5.1f} KB br, {gz/1024:5.1f} KB gzip"
          f"  | page+CSS+JS {total_br/1024:5.1f} KB br ({total_br/budget:.2f} of budget), {total_gz/1024:5.1f} KB gzip ({total_gz/budget:.2f})")
print(f"{len(rows)} paper pages; CSS {css_raw/1024:.1f} KB raw, {css_br/1024:.1f} KB br, {css_gz/1024:.1f} KB gzip; "
      f"JS {js_raw} B raw, {js_br} B br")
line("median", rows[len(rows) // 2])
line("largest", rows[-1])
PY
