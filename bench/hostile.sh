#!/usr/bin/env bash
# Hostile input, function by function: for each function that walks text a
# stranger or an imported file sends, the worst input built against its
# algorithm beside a plain input of the same length, and the same worst
# input doubled (linear work doubles; quadratic work quadruples). Prints
# the times and both ratios. Target: worst/plain <= 3x.
# Usage: bench/hostile.sh [WORDS]   (only the cases whose names hold WORDS)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/quire-target}
# The release profile: the binary's own settings, and its build reused.
cargo bench --quiet --profile release --bench hostile -- --bench "$@"
