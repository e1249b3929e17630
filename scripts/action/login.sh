#!/usr/bin/env bash
# The action's OIDC step (only when `oidc-organization` is set): `escort login`, which
# asks the Actions runtime for an ID token (audience urn:pulumi:org:ORG), exchanges it
# for a Pulumi access token, masks it and writes ESC_TOKEN to $GITHUB_ENV for the
# load and check steps that follow.
#
# Environment (set by action.yml from the inputs):
#   INPUT_OIDC_ORGANIZATION, INPUT_OIDC_REQUESTED_TOKEN_TYPE, INPUT_OIDC_SCOPE,
#   INPUT_OIDC_EXPIRATION
# Exit code: escort's (2 no ID token or a bad input, 3 the exchange was refused).
set -euo pipefail

# shellcheck source=scripts/action/lib.sh
. "${BASH_SOURCE[0]%/*}/lib.sh"

args=(login --format github "--oidc-organization=$INPUT_OIDC_ORGANIZATION"
    "--oidc-requested-token-type=${INPUT_OIDC_REQUESTED_TOKEN_TYPE:-organization}")
if [ -n "${INPUT_OIDC_SCOPE:-}" ]; then
    args+=("--oidc-scope=$INPUT_OIDC_SCOPE")
fi
if [ -n "${INPUT_OIDC_EXPIRATION:-}" ]; then
    args+=("--oidc-expiration=$INPUT_OIDC_EXPIRATION")
fi

exec escort "${args[@]}"
