#!/usr/bin/env bash
# Runs the action's step scripts as action.yml runs them (install, login, load, check), on
# this machine's bash, against the fake ESC server on loopback (tests/fakes/esc_server.py):
# the CI jobs on macOS (bash 3.2) and Windows (Git Bash) run it, where the Rust harness
# (tests/it/action.rs) does not. Uses esc-action-style inputs too. Needs python3 and cargo
# (the install step builds this checkout, as for a branch ref). Each step runs with the
# bash that runs this script.
# Usage: bash scripts/action/selftest.sh
set -euo pipefail

root="$(cd "${BASH_SOURCE[0]%/*}/../.." && pwd)"
work="$(mktemp -d)"
fake_pid=""
cleanup() {
    if [ -n "$fake_pid" ]; then kill "$fake_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    printf 'selftest: FAILED: %s\n' "$*" >&2
    exit 1
}

token="tok-selftest-5b7c"
secret="sk-selftest-9a8b7c6d5e"
printf '%s' '{"token": "'"$token"'", "environments": {"acme/app/dev": {"values":
  {"environmentVariables": {"API_KEY": {"fn::secret": "'"$secret"'"}, "LOG_LEVEL": "debug"}}}}}' \
    >"$work/state.json"
python="python3"
command -v python3 >/dev/null 2>&1 || python=python
"$python" "$root/tests/fakes/esc_server.py" --state "$work/state.json" --no-stdin-watch \
    </dev/null >"$work/fake.out" &
fake_pid=$!
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    [ -s "$work/fake.out" ] && break
    sleep 0.5
done
url="$(sed -n 's/^READY //p' "$work/fake.out")"
[ -n "$url" ] || fail "the fake ESC did not start"

# The runner's environment for one step: fresh file-command files, then what the steps
# before wrote to GITHUB_ENV and GITHUB_PATH applied (values here are single-line).
mkdir -p "$work/temp" "$work/tool" "$work/workspace"
export GITHUB_ACTIONS=true GITHUB_ACTION_PATH="$root" RUNNER_TEMP="$work/temp" \
    RUNNER_TOOL_CACHE="$work/tool" ESC_API_URL="$url" GITHUB_WORKSPACE="$work/workspace"
step() {
    local script="$1" line
    shift
    : >"$work/env" && : >"$work/output" && : >"$work/path"
    (cd "$GITHUB_WORKSPACE" && env GITHUB_ENV="$work/env" GITHUB_OUTPUT="$work/output" \
        GITHUB_PATH="$work/path" "$@" "$BASH" "$root/scripts/action/$script.sh") >"$work/stdout" ||
        fail "$script.sh exited $?: $(cat "$work/stdout")"
    while IFS= read -r line; do
        # Windows: install.sh writes Windows paths, as the runner reads them.
        if command -v cygpath >/dev/null 2>&1; then line="$(cygpath -u "$line")"; fi
        PATH="$line:$PATH"
    done <"$work/path"
    export PATH
}

step install ESCORT_VERSION="" ESCORT_INSTALL_PROFILE="${ESCORT_INSTALL_PROFILE:-debug}"
command -v escort >/dev/null || fail "install.sh put no escort on PATH"
step login

# esc-action's mapping form, and its environment-variable form of an input.
step load INPUT_TOKEN="$token" ESC_ACTION_ENVIRONMENT=acme/app/dev \
    INPUT_EXPORT_ENVIRONMENT_VARIABLES="KEY=API_KEY, LOG_LEVEL"
grep -qx "::add-mask::$secret" "$work/stdout" || fail "the secret was not masked"
if ! grep -q "^KEY" "$work/env" || ! grep -q "^LOG_LEVEL" "$work/env"; then
    fail "GITHUB_ENV lacks the mapped keys"
fi
if grep -q "^API_KEY" "$work/env"; then fail "an unmapped key was exported"; fi
if grep -v '^::add-mask::' "$work/stdout" | grep -qF "$secret"; then fail "the secret was printed"; fi

printf '[secrets.KEY]\nprefix = "sk-"\n' >"$work/workspace/escort.toml"
step check INPUT_MANIFEST=escort.toml KEY="$secret" LOG_LEVEL=debug
echo "selftest: the action's scripts passed on $(uname -s), bash $BASH_VERSION"
