#!/usr/bin/env bash
# Benchmarks `escort check` on a manifest of N secrets (default 1000) read from three
# sources: the loopback fake ESC (tests/fakes/esc_server.py), the process environment
# and a .env file. Reports the median time of the check, of the ESC round trip alone
# (curl making the same open + read requests) and the difference: what the check costs
# beyond the round trip, which must stay under BENCH_CHECK_LIMIT_MS (default 50).
#
# Run it:     scripts/bench-check.sh [N]
# Or use it:  source scripts/bench-check.sh; bench_check 1000 || echo "too slow"
# The function prints a summary and, last, one line of key=value pairs:
#   bench-check n=1000 check_ms=.. round_trip_ms=.. beyond_ms=.. local_ms=.. limit_ms=50 result=ok|MISSED
# and returns 0 when within the limit, 1 when not, 2 on a setup error.
# Environment: BENCH_NO_BUILD=1 (use target/release/escort as it is), BENCH_RUNS (default 30),
# BENCH_CHECK_LIMIT_MS. Needs python3, curl and hyperfine.

# A subshell, so its traps and exports end with it.
bench_check() (
    set -euo pipefail
    local n="${1:-1000}"
    local root work escort token="pul-bench-check-0123456789" envref="acme/bench/check"
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    work="$root/target/bench-check"
    escort="$root/target/release/escort"
    local limit="${BENCH_CHECK_LIMIT_MS:-50}" runs="${BENCH_RUNS:-30}"
    fail() { echo "bench-check: error: $*" >&2; exit 2; }

    [[ "$n" =~ ^[1-9][0-9]*$ ]] || fail "N must be a positive integer: $n"
    for tool in python3 curl hyperfine; do
        command -v "$tool" >/dev/null || fail "$tool is needed"
    done
    mkdir -p "$work"
    if [ -z "${BENCH_NO_BUILD:-}" ]; then
        (cd "$root" && cargo build --release --quiet) >"$work/build.log" 2>&1 \
            || fail "cargo build --release failed (see $work/build.log)"
    fi
    [ -x "$escort" ] || fail "$escort not found"

    # The fake's state, the manifest, the .env file and the environment: every secret in
    # ESC, half of them in the environment (a quarter with a different value), a third in
    # the .env file; every rule kind, 200 distinct patterns, one one_of.
    python3 - "$work" "$n" "$token" "$envref" <<'EOF'
import json, random, sys
work, n, token, envref = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rnd = random.Random(7)
alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
def value(i):
    kind = i % 5
    if kind == 3:
        return f"https://svc{i}.example.com/api"
    if kind == 4:
        return rnd.choice(["debug", "info", "warn"])
    return "sk-" + "".join(rnd.choice(alnum) for _ in range(32))
def rules(i):
    return [f'prefix = "sk-"', f'pattern = "sk-[A-Za-z0-9]{{32}}|legacy-{i}"', "min_length = 20",
            "url = true", 'values = ["debug", "info", "warn"]'][i % 5]
names = [f"SECRET_{i:05d}" for i in range(n)]
values = {k: value(i) for i, k in enumerate(names)}
esc = {k: ({"fn::secret": v} if i % 2 else v) for i, (k, v) in enumerate(values.items())}
state = {"token": token, "default_org": "acme", "environments": {envref: {"values": {"environmentVariables": esc}}}}
json.dump(state, open(f"{work}/state.json", "w"))
with open(f"{work}/escort.toml", "w") as m:
    m.write('sources = ["esc", "env", "dotenv:%s/bench.env"]\n' % work)
    for g, days in [("api-keys", 90), ("database-credentials", 180), ("security-tokens", 365)]:
        m.write(f"[groups.{g}]\nrotate_days = {days}\n")
    for i, k in enumerate(names):
        group = ["api-keys", "database-credentials", "security-tokens"][i % 3]
        m.write(f'[secrets.{k}]\ngroup = "{group}"\ndescription = "secret number {i}"\n{rules(i)}\n')
    m.write("[one_of.any]\nkeys = [%s]\n" % ", ".join(f'"{k}"' for k in names[:10]))
with open(f"{work}/bench.env", "w") as f:
    for i, k in enumerate(names):
        if i % 3 == 0:
            f.write(f"{k}='{values[k]}'\n")
with open(f"{work}/env.list", "w") as f:
    for i, k in enumerate(names):
        if i % 2 == 0:
            f.write(f"{k}={values[k] if i % 4 else values[k] + 'x'}\n")
EOF

    local fake_pid=""
    trap '[ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null; wait 2>/dev/null' EXIT
    coproc FAKE { exec python3 "$root/tests/fakes/esc_server.py" --state "$work/state.json" 2>"$work/fake.log"; }
    fake_pid=$FAKE_PID
    local ready=""
    read -r -t 20 ready <&"${FAKE[0]}" || true
    [[ "$ready" =~ ^READY\ (http://127\.0\.0\.1:[0-9]+)$ ]] || fail "the fake did not start: $(cat "$work/fake.log")"
    local url="${BASH_REMATCH[1]}"

    export ESC_API_URL="$url" ESC_TOKEN="$token" ESC_ENV="$envref" NO_COLOR=1
    while IFS= read -r line; do export "${line?}"; done <"$work/env.list"

    local api="$url/api/esc/environments/$envref" auth="Authorization: token $token" accept="Accept: application/vnd.pulumi+8"
    local cmd_curl="r=\$(curl -sS --fail -X POST -H '$auth' -H '$accept' '$api/open?duration=1h') && id=\${r#*\\\"id\\\":\\\"} && id=\${id%%\\\"*} && curl -sS --fail -H '$auth' -H '$accept' \"$api/open/\$id\" > /dev/null"
    local cmd_check="'$escort' check --manifest '$work/escort.toml' > /dev/null"
    # The whole process without ESC: an upper bound of the check's own work. Many secrets
    # are missing without ESC, so it exits 1: `|| true`.
    local cmd_local="'$escort' check --manifest '$work/escort.toml' --sources 'env,dotenv:$work/bench.env' > /dev/null || true"

    # Sanity: the check passes (every value follows its rules) and reads all three sources.
    "$escort" check --manifest "$work/escort.toml" --format json >"$work/report.json" \
        || fail "escort check did not pass: $(head -c 600 "$work/report.json")"
    python3 - "$work/report.json" "$n" <<'EOF' || fail "the report is not what the benchmark set up"
import json, sys
r = json.load(open(sys.argv[1]))
assert [s["status"] for s in r["sources"]] == ["ok"] * 3, r["sources"]
assert len(r["secrets"]) == int(sys.argv[2]) and all(s["status"] == "ok" for s in r["secrets"])
EOF

    hyperfine --style none --warmup 3 --min-runs "$runs" --export-json "$work/times.json" \
        -n check "$cmd_check" -n round_trip "$cmd_curl" -n local "$cmd_local" >/dev/null 2>"$work/hyperfine.err" \
        || fail "hyperfine failed: $(cat "$work/hyperfine.err")"

    python3 - "$work/times.json" "$n" "$limit" <<'EOF'
import json, sys
times = {r["command"]: r["median"] * 1000 for r in json.load(open(sys.argv[1]))["results"]}
n, limit = int(sys.argv[2]), float(sys.argv[3])
check, trip = times["check"], times["round_trip"]
beyond = check - trip
result = "ok" if beyond < limit else "MISSED"
print(f"escort check, {n} secrets, sources esc + env + dotenv (medians):")
print(f"  escort check          {check:8.2f} ms")
print(f"  ESC round trip (curl) {trip:8.2f} ms")
print(f"  beyond the round trip {beyond:8.2f} ms   (limit < {limit:g} ms)  {result}")
print(f"  without ESC, whole run {times['local']:8.2f} ms   (env + dotenv only: process start included)")
print(f"bench-check n={n} check_ms={check:.2f} round_trip_ms={trip:.2f} beyond_ms={beyond:.2f} local_ms={times['local']:.2f} limit_ms={limit:g} result={result}")
sys.exit(0 if result == "ok" else 1)
EOF
)

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    bench_check "$@"
fi
