#!/usr/bin/env bash
# scripts/fuzz.sh SECONDS [TARGET...]: run each cargo-fuzz target of fuzz/ (all by default)
# for SECONDS, on the nightly toolchain (installing cargo-fuzz if missing).
#
# The saved corpus (fuzz/corpus/TARGET/, committed) seeds each run; new inputs that add
# coverage are merged back into it, kept small (inputs of at most 4 KiB). A crash is
# copied to fuzz/regressions/TARGET/, which `cargo test` replays with the corpus
# (tests/it/fuzz_corpus.rs): fix it, then commit the file as its regression case.
# Prints the executions per target; exits 1 when a target found something.
#
# With AddressSanitizer where the nightly toolchain can build with it (x86_64 and aarch64
# Linux, macOS): escort has unsafe code (the SWAR scanners' word loads, from_utf8_unchecked,
# libc calls), and ASan turns an out-of-bounds or use-after-free access there into a crash
# instead of a wrong answer. The properties in src/fuzz.rs check the answers themselves.
# Elsewhere it fuzzes without a sanitizer, and says so. ESCORT_FUZZ_SANITIZER=none forces that.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SECS="${1:?usage: scripts/fuzz.sh SECONDS [TARGET...]}"
shift
[[ "$SECS" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a whole number" >&2; exit 2; }
cd "$ROOT/fuzz"
if [ $# -gt 0 ]; then
    TARGETS=("$@")
else
    TARGETS=()
    for f in fuzz_targets/*.rs; do TARGETS+=("$(basename "$f" .rs)"); done
fi

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
SANITIZER="${ESCORT_FUZZ_SANITIZER:-address}"
if [ "$SANITIZER" = address ]; then
    # Can this toolchain, on this machine, build and run a program with ASan?
    probe="$(mktemp -d)"
    echo 'fn main() { let v = vec![1u8; 4]; assert_eq!(v[1], 1); }' >"$probe/p.rs"
    if ! rustc +nightly -Zsanitizer=address -o "$probe/p" "$probe/p.rs" >/dev/null 2>&1 || ! "$probe/p"; then
        SANITIZER=none
        echo "fuzz.sh: nightly Rust cannot build with AddressSanitizer here ($(uname -sm)): fuzzing without a sanitizer" >&2
    fi
    rm -rf "$probe"
fi
echo "fuzz.sh: sanitizer: $SANITIZER"
FUZZ=(cargo +nightly fuzz)
FLAGS=(--sanitizer "$SANITIZER")
"${FUZZ[@]}" build "${FLAGS[@]}"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
found=0
for t in "${TARGETS[@]}"; do
    mkdir -p "corpus/$t" "$WORK/$t"
    status=0
    # New inputs go to the scratch directory (the first); the saved corpus only seeds.
    "${FUZZ[@]}" run "${FLAGS[@]}" "$t" "$WORK/$t" "corpus/$t" -- \
        -max_total_time="$SECS" -max_len=4096 -print_final_stats=1 >"$WORK/$t.log" 2>&1 || status=$?
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/$t.log" | tail -1)"
    if [ "$status" != 0 ]; then
        found=1
        mkdir -p "regressions/$t"
        for a in artifacts/"$t"/*; do
            [ -f "$a" ] && cp "$a" "regressions/$t/" && echo "  $t: saved $(basename "$a") in fuzz/regressions/$t/"
        done
        mkdir -p artifacts && cp "$WORK/$t.log" "artifacts/$t.log"
        grep -E -A2 'panicked at' "$WORK/$t.log" | head -4 || true
        echo "$t: FOUND a failure after ${execs:-?} executions (log: fuzz/artifacts/$t.log)"
        continue
    fi
    # Keep only what adds coverage to the saved corpus.
    "${FUZZ[@]}" run "${FLAGS[@]}" "$t" "corpus/$t" "$WORK/$t" -- -merge=1 -max_len=4096 >/dev/null 2>&1 || true
    echo "$t: ${execs:-?} executions in ${SECS}s, nothing found; corpus $(find "corpus/$t" -type f | wc -l) files"
done
exit "$found"
