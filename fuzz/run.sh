#!/bin/sh
# Runs every fuzz target for SECS seconds each (default 600), keeping the
# inputs it finds in corpus/TARGET and crashes in artifacts/TARGET.
#
# With cargo-fuzz and nightly: cargo fuzz run TARGET -- -max_total_time=SECS
# (adds the address sanitizer). Without them, on stable Rust: libFuzzer's
# coverage instrumentation is made of stable codegen options (only the
# sanitizers need nightly), so this script builds the targets with those
# options itself, for the host triple so that build scripts stay plain.
#
# Usage: fuzz/run.sh [SECS] [TARGET...]
set -eu
cd "$(dirname "$0")"
secs=${1:-600}
[ $# -gt 0 ] && shift
targets=${*:-"ingest edge_list config state_log"}
export RUSTFLAGS="${RUSTFLAGS:-} --cfg fuzzing -Cpasses=sancov-module \
 -Cllvm-args=-sanitizer-coverage-level=4 \
 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
 -Cllvm-args=-sanitizer-coverage-pc-table \
 -Cllvm-args=-sanitizer-coverage-trace-compares \
 -Cdebug-assertions -Coverflow-checks"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
host=$(rustc -vV | sed -n 's/^host: //p')
cargo build --release --bins --target "$host"
for t in $targets; do
    mkdir -p "corpus/$t" "artifacts/$t"
    echo "== $t: ${secs}s ($(date -u +%Y-%m-%dT%H:%MZ))"
    "$CARGO_TARGET_DIR/$host/release/$t" -max_total_time="$secs" -rss_limit_mb=2048 \
        -artifact_prefix="artifacts/$t/" "corpus/$t" "seeds/$t"
done
