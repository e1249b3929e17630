#!/usr/bin/env bash
# The action's OIDC step: `escort login`, which asks the Actions runtime for an ID token
# (audience urn:pulumi:org:ORG), exchanges it for a Pulumi access token, masks it and
# writes ESC_TOKEN to $GITHUB_ENV for the load and check steps that follow. Does nothing
# without `oidc-organization`, or with `oidc-auth: false`.
#
# Environment (set by action.yml from the inputs; each empty one read from
# ESC_ACTION_<NAME> as pulumi/esc-action does):
#   INPUT_OIDC_AUTH            true | false | empty (log in when an organization is given)
#   INPUT_OIDC_ORGANIZATION, INPUT_OIDC_SCOPE
#   INPUT_OIDC_REQUESTED_TOKEN_TYPE  organization (empty) | team | personal, or
#                                    urn:pulumi:token-type:access_token:<that>
#   INPUT_OIDC_TOKEN_EXPIRATION, or its former name INPUT_OIDC_EXPIRATION
#   INPUT_CLOUD_URL            the Pulumi Cloud API
# Exit code: escort's (2 no ID token or a bad input, 3 the exchange was refused).
set -euo pipefail

# shellcheck source=scripts/action/lib.sh
. "${BASH_SOURCE[0]%/*}/lib.sh"

read_inputs
org="${INPUT_OIDC_ORGANIZATION:-}"
if [ -z "${INPUT_OIDC_AUTH:-}" ]; then
    [ -n "$org" ] || exit 0
elif is_true oidc-auth "$INPUT_OIDC_AUTH" false; then
    [ -n "$org" ] || action_fail "\`oidc-auth: true\` needs \`oidc-organization\`"
else
    exit 0
fi
cloud_settings

type="${INPUT_OIDC_REQUESTED_TOKEN_TYPE:-organization}"
type="${type#urn:pulumi:token-type:access_token:}"
expiration="${INPUT_OIDC_TOKEN_EXPIRATION:-}"
if [ -n "${INPUT_OIDC_EXPIRATION:-}" ]; then
    if [ -n "$expiration" ] && [ "$expiration" != "$INPUT_OIDC_EXPIRATION" ]; then
        action_fail "\`oidc-token-expiration\` and its former name \`oidc-expiration\` differ: give one"
    fi
    expiration="$INPUT_OIDC_EXPIRATION"
fi

args=(login --format github "--oidc-organization=$org" "--oidc-requested-token-type=$type")
if [ -n "${INPUT_OIDC_SCOPE:-}" ]; then
    args+=("--oidc-scope=$INPUT_OIDC_SCOPE")
fi
if [ -n "$expiration" ]; then
    args+=("--oidc-expiration=$expiration")
fi

exec escort "${args[@]}"
