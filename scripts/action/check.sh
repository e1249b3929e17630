#!/usr/bin/env bash
# The action's check step: `escort check` when the `manifest` input is set (else nothing).
# The load step has put the values in the job's environment (unless
# export-environment-variables is false), so the check reads them there instead of opening
# the ESC environment a second time.
#
# Environment (set by action.yml from the inputs; each empty one read from
# ESC_ACTION_<NAME>):
#   INPUT_ENVIRONMENT, INPUT_TOKEN, INPUT_CLOUD_URL,
#   INPUT_EXPORT_ENVIRONMENT_VARIABLES  as for load.sh
#   INPUT_MANIFEST                      path to escort.toml or .env.example
#   INPUT_OIDC_*                        as for load.sh (used only when the check opens ESC)
#   INPUT_STRICT                        true | false (empty): an unreadable source fails
#                                       the check (exit 3)
# Exit code: escort's (1 a required secret is missing or invalid, 3 with strict and a
# source that could not be read), which fails the step.
set -euo pipefail

# shellcheck source=scripts/action/lib.sh
. "${BASH_SOURCE[0]%/*}/lib.sh"

read_inputs
[ -n "${INPUT_MANIFEST:-}" ] || exit 0
token_given="${INPUT_TOKEN:-}"
esc_settings

args=(check "--manifest=$INPUT_MANIFEST")
if [ "$(export_mode)" != none ]; then
    args+=(--sources=env)
elif [ -z "$token_given" ] && [ -n "${ESC_ENV:-}" ]; then
    # It opens ESC itself: an OIDC login of this step's own, as in load.sh.
    oidc_login_here
fi
if is_true strict "${INPUT_STRICT:-}" false; then
    args+=(--strict)
fi

exec escort "${args[@]}"
