#!/usr/bin/env bash
# Benchmarks escort's open + read of an ESC environment against the loopback fake
# (tests/fakes/esc_server.py), next to the same two requests made by:
#   curl   - plain curl: POST .../open, extract the id, GET .../open/{id} (one shell)
#   escort - target/release/escort load --format json > /dev/null
#   python - the official Python SDK (tests/peers/esc_sdk_read.py --count-only)
#   node   - the official Node SDK   (tests/peers/esc_sdk_read.mjs --count-only)
# and prints, per size, the ratios against SPEC section 9 first, then absolute times.
#
# Usage: scripts/bench.sh [N ...]        (default: 200 variables, half of them secrets)
# Environment:
#   BENCH_SIZES="10 200 10000"  sizes to run (arguments win)
#   BENCH_NO_BUILD=1            do not run `cargo build --release`
#   BENCH_STRICT=1              exit 1 when a target is missed
#   BENCH_TIMER=python          use the Python timing loop even if hyperfine is installed
# Uses hyperfine when present (installs it with apt-get when missing and possible),
# otherwise a Python timing loop; medians either way, shell start-up subtracted.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$ROOT/target/bench"
ESCORT="$ROOT/target/release/escort"
VENV_PY="$ROOT/target/peers/venv/bin/python"
TOKEN="pul-bench-0123456789abcdef"   # must not start with "token": the Node SDK then sends it bare
ORG=acme
PROJECT=bench

die() { echo "bench: error: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

if [ "$#" -gt 0 ]; then SIZES="$*"; else SIZES="${BENCH_SIZES:-200}"; fi
for n in $SIZES; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "size must be a positive integer: $n"
done

mkdir -p "$WORK"
command -v python3 >/dev/null || die "python3 is needed"
command -v curl >/dev/null || die "curl is needed"

# --- tools and peers ------------------------------------------------------------------------
"$ROOT/scripts/setup-peers.sh" >/dev/null || die "scripts/setup-peers.sh failed"

if ! command -v hyperfine >/dev/null 2>&1 && [ "${BENCH_TIMER:-}" != python ]; then
    SUDO=""
    [ "$(id -u)" = 0 ] || { sudo -n true 2>/dev/null && SUDO="sudo -n"; } || true
    if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || [ -n "$SUDO" ]; }; then
        note "installing hyperfine with apt-get"
        $SUDO apt-get install -y -qq hyperfine >/dev/null 2>&1 \
            || { $SUDO apt-get update -qq >/dev/null 2>&1 \
                 && $SUDO apt-get install -y -qq hyperfine >/dev/null 2>&1; } \
            || note "could not install hyperfine; using the Python timing loop"
    fi
fi
TIMER=python
if [ "${BENCH_TIMER:-}" != python ] && command -v hyperfine >/dev/null 2>&1; then TIMER=hyperfine; fi

HAVE_ESCORT=1
if [ -z "${BENCH_NO_BUILD:-}" ]; then
    command -v cargo >/dev/null || die "cargo is needed (or set BENCH_NO_BUILD=1)"
    if ! (cd "$ROOT" && cargo build --release --quiet) >"$WORK/build.log" 2>&1; then
        note "cargo build --release failed (see $WORK/build.log); benchmarking without escort"
        HAVE_ESCORT=0
    fi
fi
[ -x "$ESCORT" ] || { [ "$HAVE_ESCORT" = 0 ] || note "$ESCORT not found"; HAVE_ESCORT=0; }

# --- state and the fake ---------------------------------------------------------------------
STATE="$WORK/state.json"
python3 - "$STATE" "$TOKEN" "$ORG" "$PROJECT" $SIZES <<'EOF'
import json, random, sys
path, token, org, project, *sizes = sys.argv[1:]
rnd = random.Random(42)
alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
envs = {}
for n in map(int, sizes):
    ev = {}
    for i in range(n):
        v = "".join(rnd.choice(alphabet) for _ in range(32))
        ev[f"VAR_{i:05d}"] = {"fn::secret": v} if i % 2 else v
    envs[f"{org}/{project}/n{n}"] = {"values": {"environmentVariables": ev}}
json.dump({"token": token, "default_org": org, "environments": envs}, open(path, "w"))
EOF

FAKE_PID=""
CHILD_PID=""
cleanup() {
    if [ -n "$CHILD_PID" ] && kill -0 "$CHILD_PID" 2>/dev/null; then
        kill "$CHILD_PID" 2>/dev/null || true
        wait "$CHILD_PID" 2>/dev/null || true
    fi
    if [ -n "$FAKE_PID" ] && kill -0 "$FAKE_PID" 2>/dev/null; then
        kill "$FAKE_PID" 2>/dev/null || true
        wait "$FAKE_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The coprocess's stdin stays open while this script lives; the fake exits at its EOF too.
coproc FAKE { exec python3 "$ROOT/tests/fakes/esc_server.py" --state "$STATE" 2>"$WORK/fake.log"; }
FAKE_PID=$FAKE_PID
ready=""
read -r -t 20 ready <&"${FAKE[0]}" || true
[[ "$ready" =~ ^READY\ (http://127\.0\.0\.1:[0-9]+)$ ]] || die "the fake did not start: $(cat "$WORK/fake.log")"
URL="${BASH_REMATCH[1]}"

q() { printf '%q' "$1"; }

# --- timing ---------------------------------------------------------------------------------
# time_cmds NAME... : reads CMD_<name>; writes median seconds to MED_<name>
time_cmds() {
    local runs_fast="${BENCH_RUNS:-30}" name
    for name in "$@"; do
        local cmd_var="CMD_$name" min max warm
        case "$name" in
            python|node) min=5; max=15; warm=1 ;;
            *) min="$runs_fast"; max=$((runs_fast * 10)); warm=3 ;;
        esac
        local out="$WORK/time-$name.json"
        if [ "$TIMER" = hyperfine ]; then
            # In the background, so that a signal stops the bench at once (see cleanup).
            hyperfine --style none --warmup "$warm" --min-runs "$min" --max-runs "$max" \
                --export-json "$out" -n "$name" "${!cmd_var}" >/dev/null 2>"$WORK/hyperfine.err" &
            CHILD_PID=$!
            wait "$CHILD_PID" || die "timing $name failed: $(cat "$WORK/hyperfine.err")"
            CHILD_PID=""
        else
            python3 - "$out" "$warm" "$min" "${!cmd_var}" <<'EOF' &
import json, statistics, subprocess, sys, time
out, warm, runs, cmd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def once(c):
    t = time.perf_counter()
    r = subprocess.run(["sh", "-c", c], stdout=subprocess.DEVNULL)
    if r.returncode:
        sys.exit(f"command failed ({r.returncode}): {c}")
    return time.perf_counter() - t
shell = statistics.median(once(":") for _ in range(20))
for _ in range(warm):
    once(cmd)
times, start = [], time.perf_counter()
while len(times) < runs or (time.perf_counter() - start < 3 and len(times) < runs * 10):
    times.append(max(once(cmd) - shell, 0.0))
json.dump({"results": [{"median": statistics.median(times), "stddev": statistics.pstdev(times),
                        "times": times}]}, open(out, "w"))
EOF
            CHILD_PID=$!
            wait "$CHILD_PID" || die "timing $name failed"
            CHILD_PID=""
        fi
        printf -v "MED_$name" '%s' "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$out")"
    done
}

fmt_ms() { python3 -c 'import sys; print(f"{float(sys.argv[1])*1000:9.2f} ms")' "$1"; }
# ratio LABEL A B OP TARGET : prints "LABEL = A/B (target OP TARGET) ok|MISSED"; sets MISSED=1
MISSED=0
ratio() {
    python3 - "$@" <<'EOF' || MISSED=1
import sys
label, a, b, op, target = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], float(sys.argv[5])
r = a / b if b > 0 else float("inf")
ok = r <= target if op == "<=" else r >= target
print(f"  {label:<14} = {r:7.2f}   (target {op} {target:g})  {'ok' if ok else 'MISSED'}")
sys.exit(0 if ok else 1)
EOF
}

echo "escort bench: fake at $URL, timer: $TIMER, sizes: $SIZES"
for n in $SIZES; do
    ENVREF="$ORG/$PROJECT/n$n"
    API="$URL/api/esc/environments/$ENVREF"
    CMD_curl="r=\$(curl -sS --fail -X POST -H 'Authorization: token $TOKEN' -H 'Accept: application/vnd.pulumi+8' '$API/open?duration=1h') && id=\${r#*\\\"id\\\":\\\"} && id=\${id%%\\\"*} && curl -sS --fail -H 'Authorization: token $TOKEN' -H 'Accept: application/vnd.pulumi+8' \"$API/open/\$id\" > /dev/null"
    CMD_escort="ESC_API_URL=$(q "$URL") ESC_TOKEN=$(q "$TOKEN") ESC_ENV=$(q "$ENVREF") $(q "$ESCORT") load --format json > /dev/null"
    CMD_escort_shell="ESC_API_URL=$(q "$URL") ESC_TOKEN=$(q "$TOKEN") ESC_ENV=$(q "$ENVREF") $(q "$ESCORT") load --format shell > /dev/null"
    CMD_python="$(q "$VENV_PY") $(q "$ROOT/tests/peers/esc_sdk_read.py") --count-only $(q "$URL") $(q "$TOKEN") $(q "$ENVREF") > /dev/null"
    CMD_node="node $(q "$ROOT/tests/peers/esc_sdk_read.mjs") --count-only $(q "$URL") $(q "$TOKEN") $(q "$ENVREF") > /dev/null"

    # Sanity: every command works, and escort and the Python SDK agree on the values.
    sh -c "$CMD_curl" || die "curl open+read failed for $ENVREF"
    sdk_json="$WORK/python-$n.json"
    "$VENV_PY" "$ROOT/tests/peers/esc_sdk_read.py" "$URL" "$TOKEN" "$ENVREF" >"$sdk_json" \
        || die "the Python SDK failed for $ENVREF"
    count="$(node "$ROOT/tests/peers/esc_sdk_read.mjs" --count-only "$URL" "$TOKEN" "$ENVREF")" \
        || die "the Node SDK failed for $ENVREF"
    [ "$count" = "$n" ] || die "the Node SDK read $count variables, expected $n"
    names=(curl python node)
    if [ "$HAVE_ESCORT" = 1 ]; then
        if ESC_API_URL="$URL" ESC_TOKEN="$TOKEN" ESC_ENV="$ENVREF" "$ESCORT" load --format json \
                >"$WORK/escort-$n.json" 2>"$WORK/escort-$n.err" \
            && ESC_API_URL="$URL" ESC_TOKEN="$TOKEN" ESC_ENV="$ENVREF" "$ESCORT" load --format shell \
                >/dev/null 2>>"$WORK/escort-$n.err"; then
            python3 - "$WORK/escort-$n.json" "$sdk_json" <<'EOF' || note "WARNING: escort's output differs from the Python SDK's for n=$n"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
sys.exit(0 if a == b else 1)
EOF
            names=(curl escort escort_shell python node)
        else
            note "escort load failed for $ENVREF: $(head -c 400 "$WORK/escort-$n.err")"
            HAVE_ESCORT=0
        fi
    fi

    time_cmds "${names[@]}"

    echo
    echo "n=$n variables ($((n / 2)) secret)"
    echo " ratios:"
    if [ "$HAVE_ESCORT" = 1 ]; then
        ratio "escort/curl" "$MED_escort" "$MED_curl" "<=" 1.5
        ratio "python/escort" "$MED_python" "$MED_escort" ">=" 10
        ratio "node/escort" "$MED_node" "$MED_escort" ">=" 5
        if [ "$n" -ge 10000 ]; then
            ms="$(python3 -c 'import sys; print(f"{max(map(float, sys.argv[1:]))*1000:.1f}")' "$MED_escort" "$MED_escort_shell")"
            ok="$(python3 -c 'import sys; print("ok" if float(sys.argv[1]) < 150 else "MISSED")' "$ms")"
            [ "$ok" = ok ] || MISSED=1
            echo "  escort load (json, shell) = ${ms} ms for n=$n   (target < 150 ms)  $ok"
        fi
    else
        echo "  (escort not available: no ratios)"
        MISSED=1
    fi
    echo " median times (shell start-up subtracted):"
    for name in "${names[@]}"; do
        v="MED_$name"
        printf '  %-22s %s\n' "${name/_/ --format }" "$(fmt_ms "${!v}")"
    done
done

if [ "$MISSED" = 1 ] && [ -n "${BENCH_STRICT:-}" ]; then exit 1; fi
exit 0
