#!/usr/bin/env bash
# The whole test suite: installs the real peers the tests check against
# (scripts/setup-peers.sh), then runs every Rust test and the fakes' own tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup-peers.sh
cargo test --locked --all-targets
target/peers/venv/bin/python -m pytest -q tests/fakes
