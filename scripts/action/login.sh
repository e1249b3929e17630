#!/usr/bin/env bash
# The action's OIDC step, for install-and-login mode only (no environment to load):
# `escort login`, which asks the Actions runtime for an ID token (audience
# urn:pulumi:org:ORG), exchanges it for a Pulumi access token, masks it and writes
# ESC_TOKEN to $GITHUB_ENV for the job's later `escort` steps. With an environment, it
# does nothing: the load (and check) step logs in itself, so the token never leaves the
# action's steps (lib.sh, oidc_login_here). Nothing either without `oidc-organization`,
# or with `oidc-auth: false`.
#
# Environment (set by action.yml from the inputs; each empty one read from
# ESC_ACTION_<NAME> as pulumi/esc-action does):
#   INPUT_OIDC_AUTH            true | false | empty (log in when an organization is given)
#   INPUT_OIDC_ORGANIZATION, INPUT_OIDC_SCOPE
#   INPUT_OIDC_REQUESTED_TOKEN_TYPE  organization (empty) | team | personal, or
#                                    urn:pulumi:token-type:access_token:<that>
#   INPUT_OIDC_TOKEN_EXPIRATION, or its former name INPUT_OIDC_EXPIRATION
#   INPUT_CLOUD_URL            the Pulumi Cloud API
#   INPUT_ENVIRONMENT          the environment to load (empty: $ESC_ENV)
# Exit code: escort's (2 no ID token or a bad input, 3 the exchange was refused).
set -euo pipefail

# shellcheck source=scripts/action/lib.sh
. "${BASH_SOURCE[0]%/*}/lib.sh"

read_inputs
oidc_asked || exit 0
# With an environment, the load step logs in itself: the token stays in the action's steps.
if [ -n "${INPUT_ENVIRONMENT:-${ESC_ENV:-}}" ]; then
    echo "escort: the OIDC login happens in the load step: the token is not exported to the job"
    exit 0
fi
cloud_settings
exec escort "${LOGIN_ARGS[@]}" --format github
