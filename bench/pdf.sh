#!/usr/bin/env bash
# PDF speed: Quire's typeset PDF of a 5,000-word paper with 40 footnotes
# and 2 tables, against Debian's Chromium printing the same paper's web
# page to PDF (--headless --print-to-pdf), in one run:
#   - cold: a new `quire pdf` process each time (opens the database, loads
#     the fonts, typesets), with hyperfine, beside a new Chromium each time;
#   - warm: in one process, the median of 20 typesettings, each after a
#     one-sentence edit (crates/quire-pdf/benches/warm.rs).
# Prints both times, the ratios, and each PDF's pages and size.
# Target: warm at least 10x faster than Chromium. Usage: bench/pdf.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/quire-target}
for tool in hyperfine chromium pdfinfo; do
  command -v "$tool" >/dev/null || { echo "bench/pdf.sh needs $tool: apt install hyperfine chromium poppler-utils" >&2; exit 2; }
done
# QUIRE_BIN=PATH measures that binary instead (an earlier build, say).
if [ -n "${QUIRE_BIN:-}" ]; then
  quire=$QUIRE_BIN
else
  cargo build --release --quiet
  quire="$CARGO_TARGET_DIR/release/quire"
fi
work=$(mktemp -d)
port=18096
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT

# The paper: 5,000 words in 10 sections, 40 footnotes, 2 tables.
python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
words = ("Small ports carry more of the regional economy than their size suggests, "
         "and the cost of neglecting them falls on inland towns first.").split()
body, note, n = [], 0, 0
for s in range(1, 11):
    body.append(f"## Section {s}: findings and evidence\n")
    for p in range(8):
        text = " ".join(words[(i + p) % len(words)] for i in range(62)).capitalize() + "."
        n += 62
        if note < 40 and p % 2 == 0:
            note += 1
            text += f"[^{note}]"
        body.append(text + "\n")
    if s in (3, 7):
        body.append("| Port | Tonnes 2024 | Tonnes 2025 | Change |\n|:--|--:|--:|--:|")
        for r in range(12):
            body.append(f"| Port {r + 1} | {1000 + r * 37:,} | {1040 + r * 41:,} | {4 + r % 5}% |")
        body.append("")
for i in range(1, note + 1):
    body.append(f"[^{i}]: Harbour Authority, *Annual Review* ({2000 + i}), p. {i * 3}. A note of some length.\n")
text = "\n".join(body)
open(f"{work}/body.md", "w").write(text)
front = '''+++
title = "Small Ports, Large Stakes"
subtitle = "Regional trade after the canal reforms"
slug = "long-paper"
kind = "report"
summary = "Small ports carry more of the regional economy than their size suggests."
authors = ["ada-lovelace"]
topics = ["trade"]
language = "en"
status = "published"
published_at = 2026-01-05T10:00:00Z
+++
'''
open(f"{work}/paper.md", "w").write(front + text)
print(f"paper: {n} words, {note} footnotes, 2 tables")
PY
"$quire" --data-dir "$work" init >/dev/null
"$quire" --data-dir "$work" paper add --create-missing "$work/paper.md" >/dev/null
QUIRE_LOG=warn "$quire" --data-dir "$work" serve --addr 127.0.0.1:$port >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

hyperfine --style basic --warmup 2 --runs 10 --export-json "$work/cold.json" \
  -n "quire pdf (cold process)" "$quire --data-dir $work pdf long-paper -o $work/quire.pdf" \
  -n "chromium --print-to-pdf" "chromium --headless --no-sandbox --disable-gpu --no-pdf-header-footer --print-to-pdf=$work/chromium.pdf http://127.0.0.1:$port/papers/long-paper/"

warm=$(QUIRE_BENCH_BODY="$work/body.md" cargo bench --quiet -p quire-pdf --bench warm 2>/dev/null | tail -1)
echo "$warm"

python3 - "$work" "$warm" <<'PY'
import json, re, subprocess, sys
work, warm = sys.argv[1], sys.argv[2]
runs = {r["command"]: r for r in json.load(open(f"{work}/cold.json"))["results"]}
quire = runs["quire pdf (cold process)"]["median"] * 1000
chromium = runs["chromium --print-to-pdf"]["median"] * 1000
warm_ms = float(re.search(r"warm median ([0-9.]+) ms", warm).group(1))
def info(path):
    out = subprocess.run(["pdfinfo", path], capture_output=True, text=True).stdout
    pages = re.search(r"Pages:\s+(\d+)", out).group(1)
    size = int(re.search(r"File size:\s+(\d+)", out).group(1))
    return f"{pages} pages, {size / 1024:.0f} KB"
print()
print(f"Chromium print-to-PDF   median {chromium:8.1f} ms   {info(work + '/chromium.pdf')}")
print(f"Quire cold process      median {quire:8.1f} ms   {info(work + '/quire.pdf')}   {chromium / quire:5.1f}x faster than Chromium")
print(f"Quire warm, in-process  median {warm_ms:8.1f} ms   {chromium / warm_ms:5.1f}x faster than Chromium (target: at least 10x)")
PY
