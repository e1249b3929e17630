#!/usr/bin/env bash
# The action's check step (only when the `manifest` input is set): `escort check`.
#
# Environment (set by action.yml from the inputs):
#   INPUT_ENVIRONMENT, INPUT_TOKEN  as for load.sh
#   INPUT_MANIFEST                  path to escort.toml or .env.example
#   INPUT_STRICT                    true | false: an unreadable source fails the check (exit 3)
# Exit code: escort's (1 a required secret is missing or invalid, 3 with strict and a
# source that could not be read), which fails the step.
set -euo pipefail

# shellcheck source=scripts/action/lib.sh
. "${BASH_SOURCE[0]%/*}/lib.sh"

esc_settings

if [ -z "${INPUT_MANIFEST:-}" ]; then
    action_fail "the check step needs the \`manifest\` input"
fi
args=(check "--manifest=$INPUT_MANIFEST")
if is_true strict "${INPUT_STRICT:-}" false; then
    args+=(--strict)
fi

exec escort "${args[@]}"
