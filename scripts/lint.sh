#!/usr/bin/env bash
# The lint of what runs on GitHub's runners and in containers, with the real tools from the
# peers' venv (scripts/setup-peers.sh installs them from PyPI):
#   actionlint  .github/workflows and the workflows `escort init` writes (with shellcheck
#               on their `run:` scripts)
#   zizmor      the same, and action.yml (offline: no GitHub API)
#   ShellCheck  every shell script: scripts/, the Dev Container Feature's (warnings and
#               errors; not style notes)
#   cycles.py   no import cycle between the files of src/ (docs/ARCHITECTURE.md)
# and of the Rust code: `cargo fmt --check`, and clippy on every target with the [lints]
# policy of Cargo.toml (an unsafe block without a SAFETY comment among them), warnings as errors.
# The files `escort init` writes are made in temporary directories, by the escort that
# target/debug holds (built when missing). Exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bin="$PWD/target/peers/venv/bin"
for tool in actionlint zizmor shellcheck; do
    [ -x "$bin/$tool" ] || { echo "lint: $bin/$tool is missing: run scripts/setup-peers.sh" >&2; exit 1; }
done
export PATH="$bin:$PATH"

escort="$PWD/target/debug/escort"
[ -x "$escort" ] || cargo build --locked --quiet
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# A project at the git root, and one below it (init --dir).
mkdir -p "$tmp/root" "$tmp/below/services/api"
for project in root below; do
    git -C "$tmp/$project" init -q
done
# The project below has routes, so init also writes the drift workflow.
printf '[sync.prod]\nfrom = "esc:acme/app/prod"\nto = ["github:acme/app"]\n' >"$tmp/below/services/api/escort.toml"
(cd "$tmp/root" && "$escort" init --quiet)
(cd "$tmp/below" && "$escort" init --quiet --dir services/api)
[ -f "$tmp/below/.github/workflows/secrets-drift-services-api.yml" ] || { echo "lint: init wrote no drift workflow" >&2; exit 1; }
generated=("$tmp"/root/.github/workflows/*.yml "$tmp"/below/.github/workflows/*.yml)

status=0
echo "lint: import cycles between the files of src/"
python3 scripts/cycles.py || status=1
echo "lint: cargo fmt --check"
cargo fmt --check || status=1
echo "lint: cargo clippy"
cargo clippy --all-targets --locked --quiet -- -D warnings || status=1
echo "lint: actionlint"
actionlint .github/workflows/*.yml "${generated[@]}" || status=1
echo "lint: zizmor"
zizmor --offline --no-progress --quiet action.yml .github/workflows "${generated[@]}" || status=1
echo "lint: shellcheck"
find scripts devcontainer-feature -name '*.sh' -type f -print0 | LC_ALL=C sort -z |
    xargs -0 shellcheck --external-sources --severity=warning || status=1
[ "$status" = 0 ] && echo "lint: clean"
exit "$status"
