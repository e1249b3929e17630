#!/usr/bin/env bash
# Benchmarks `escort sync` of N secrets (default 200) from a .env file to the fake GitHub
# (tests/fakes/github_server.py) with L ms of latency injected into every request (default 50),
# and reports the wall time against the serial lower bound: the number of requests the sync
# made times L, which is what any client sending one request at a time would need at least.
# Target (SPEC section 7 / issue 4): the default concurrency is at least 3x faster than that bound.
#
# Usage: scripts/bench-sync.sh
# Environment:
#   BENCH_SECRETS=200      how many secrets
#   BENCH_LATENCY_MS=50    latency added by the fake to each request
#   BENCH_NO_BUILD=1       do not run `cargo build --release`
#   BENCH_STRICT=1         exit 1 when the target is missed
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$ROOT/target/bench-sync"
ESCORT="$ROOT/target/release/escort"
PY="$ROOT/target/peers/venv/bin/python"
N="${BENCH_SECRETS:-200}"
LATENCY_MS="${BENCH_LATENCY_MS:-50}"
TOKEN="ghp-bench-0123456789"

die() { echo "bench-sync: error: $*" >&2; exit 1; }
note() { echo "bench-sync: $*" >&2; }

[[ "$N" =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECRETS must be a positive integer"
[[ "$LATENCY_MS" =~ ^[0-9]+$ ]] || die "BENCH_LATENCY_MS must be a whole number"
command -v curl >/dev/null || die "curl is needed"
mkdir -p "$WORK"

"$ROOT/scripts/setup-peers.sh" >/dev/null || die "scripts/setup-peers.sh failed"
if [ -z "${BENCH_NO_BUILD:-}" ]; then
    (cd "$ROOT" && cargo build --release --quiet) || die "cargo build --release failed"
fi
[ -x "$ESCORT" ] || die "$ESCORT not found"

# --- inputs ---------------------------------------------------------------------------------
"$PY" - "$WORK" "$N" "$TOKEN" "$LATENCY_MS" <<'EOF'
import json, random, sys
work, n, token, latency = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
rnd = random.Random(7)
alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
with open(f"{work}/bench.env", "w") as f:
    for i in range(n):
        f.write(f"SECRET_{i:04d}='{''.join(rnd.choice(alphabet) for _ in range(40))}'\n")
state = {"token": token, "orgs": ["acme"], "repos": {"acme/app": {"id": 1}}, "latency_ms": latency}
with open(f"{work}/state.json", "w") as f:
    json.dump(state, f)
EOF

FAKE_PID=""
stop_fake() {
    if [ -n "$FAKE_PID" ]; then
        kill "$FAKE_PID" 2>/dev/null || true
        wait "$FAKE_PID" 2>/dev/null || true
        FAKE_PID=""
    fi
}
trap stop_fake EXIT

# One sync into a fresh fake, with the given escort flags: writes "<seconds> <requests>" to
# $WORK/result (not stdout: a subshell could not stop the whole script on failure).
run_sync() {
    local url line
    "$PY" "$ROOT/tests/fakes/github_server.py" --state "$WORK/state.json" --no-stdin-watch \
        >"$WORK/fake.out" 2>"$WORK/fake.err" &
    FAKE_PID=$!
    for _ in $(seq 1 100); do
        line="$(head -n1 "$WORK/fake.out" 2>/dev/null || true)"
        [ -n "$line" ] && break
        sleep 0.05
    done
    url="${line#READY }"
    [[ "$url" == http://127.0.0.1:* ]] || die "the fake did not start: $(cat "$WORK/fake.err")"

    local start end
    start="$EPOCHREALTIME"
    GITHUB_TOKEN="$TOKEN" GITHUB_API_URL="$url" NO_COLOR=1 "$ESCORT" --quiet sync \
        --from "dotenv:$WORK/bench.env" --to github:acme/app "$@" \
        >"$WORK/sync.out" 2>"$WORK/sync.err" || die "escort sync failed: $(cat "$WORK/sync.err")"
    end="$EPOCHREALTIME"
    local requests
    requests="$(curl -s "$url/_fake/stats" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["requests"])')"
    stop_fake
    echo "$start $end $requests" | awk '{printf "%.3f %d\n", $2 - $1, $3}' >"$WORK/result"
}

note "syncing $N secrets with ${LATENCY_MS} ms per request (concurrency 1, then the default)"
run_sync --concurrency 1
read -r serial_s serial_requests <"$WORK/result"
run_sync
read -r default_s default_requests <"$WORK/result"

awk -v n="$N" -v lat="$LATENCY_MS" -v sr="$serial_requests" -v ss="$serial_s" \
    -v dr="$default_requests" -v ds="$default_s" -v strict="${BENCH_STRICT:-}" '
BEGIN {
    bound = dr * lat / 1000.0
    speedup = bound / ds
    ok = speedup >= 3.0
    printf "sync of %d secrets, %d ms injected latency per request\n", n, lat
    printf "  serial lower bound   %7.2f s  (%d requests x %d ms)\n", bound, dr, lat
    printf "  --concurrency 1      %7.2f s  (%d requests)\n", ss, sr
    printf "  default concurrency  %7.2f s  (%d requests)\n", ds, dr
    printf "  speedup over bound   %7.2fx  target >= 3x: %s\n", speedup, ok ? "met" : "MISSED"
    exit (strict != "" && !ok) ? 1 : 0
}'
