#!/usr/bin/env bash
# The whole test suite: installs the real peers the tests check against
# (scripts/setup-peers.sh), then runs every Rust test, the fakes' own tests and the lint,
# and builds the static release binary (size budget, static: docs/development.md, "Releasing").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup-peers.sh

# The release build (LTO, one codegen unit: mostly one long single-threaded step) runs
# beside the tests, which spend most of their time waiting on their fakes; it has a target
# directory of its own, so neither waits for the other's lock. Its log is shown at the end.
# In a process group of its own (setsid, where there is one), so that a failure stops it whole.
mkdir -p target
release_log=target/release-build.log
if command -v setsid >/dev/null; then
    setsid bash scripts/build-release.sh >"$release_log" 2>&1 &
else
    bash scripts/build-release.sh >"$release_log" 2>&1 &
fi
release=$!
trap 'kill -- -"$release" 2>/dev/null || kill "$release" 2>/dev/null || true' EXIT

cargo test --locked --all-targets
# Under target/, not /tmp (the fakes' state files hold test tokens), and removed after.
# tests/fakes/conftest.py fails any skipped test.
target/peers/venv/bin/python -m pytest -q --basetemp target/pytest-tmp tests/fakes
rm -rf target/pytest-tmp
# actionlint, zizmor and ShellCheck over the action, the workflows, the shell scripts and
# the files `escort init` writes.
bash scripts/lint.sh

# The test command passes only when it built what is shipped: a toolchain that could not be
# fetched (build-release.sh's exit 75) fails it too, saying so.
rc=0
wait "$release" || rc=$?
trap - EXIT
cat "$release_log"
if [ "$rc" -eq 75 ]; then
    echo "test: error: the release build could not install the musl target (rustup target add); it is needed" >&2
fi
exit "$rc"
