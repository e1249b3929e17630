#!/usr/bin/env bash
# The action's load step: `escort load --format github` with the flags from the inputs.
#
# Environment (set by action.yml from the inputs; never pasted into script text):
#   INPUT_ENVIRONMENT  ESC environment; empty: $ESC_ENV as the job has it
#   INPUT_TOKEN        ESC token; empty: $ESC_TOKEN (or $PULUMI_ACCESS_TOKEN) as the job has it
#   INPUT_KEYS         --keys list (empty: every variable)
#   INPUT_MASK         secrets | all
#   INPUT_EXPORT       true | false: write $GITHUB_ENV
#   INPUT_OUTPUTS      true | false: write $GITHUB_OUTPUT
# Exit code: escort's (2 usage or configuration, 3 ESC refused or unreachable).
set -euo pipefail

# shellcheck source=scripts/action/lib.sh
. "${BASH_SOURCE[0]%/*}/lib.sh"

esc_settings

# `--flag=value`: a value that starts with `-` stays a value.
args=(load --format github "--mask=${INPUT_MASK:-secrets}")
if [ -n "${INPUT_KEYS:-}" ]; then
    args+=("--keys=$INPUT_KEYS")
fi
if is_true outputs "${INPUT_OUTPUTS:-}" false; then
    args+=(--outputs)
fi
if ! is_true export-environment-variables "${INPUT_EXPORT:-}" true; then
    args+=(--no-export)
fi

exec escort "${args[@]}"
