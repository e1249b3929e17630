#!/usr/bin/env bash
# The action's load step: `escort load --format github` with the flags from the inputs.
#
# Environment (set by action.yml from the inputs; never pasted into script text; each
# empty one read from ESC_ACTION_<NAME> as pulumi/esc-action does):
#   INPUT_ENVIRONMENT  ESC environment; empty: $ESC_ENV as the job has it; neither: nothing
#                      is loaded (install and login only)
#   INPUT_TOKEN        ESC token; empty: $ESC_TOKEN (or $PULUMI_ACCESS_TOKEN) as the job has it
#   INPUT_KEYS         --keys list (empty: every variable)
#   INPUT_MASK         secrets (empty) | all
#   INPUT_EXPORT_ENVIRONMENT_VARIABLES
#                      true (empty) | false: write $GITHUB_ENV; or a mapping list
#                      (`FOO, BAR=BAZ, *`), which selects and names like --keys
#   INPUT_OUTPUTS      true (empty) | false: write $GITHUB_OUTPUT (the `values` output)
#   INPUT_CLOUD_URL    the Pulumi Cloud API (empty: $ESC_API_URL, else Pulumi Cloud)
#   INPUT_OIDC_*       as for login.sh: with an environment, the OIDC login happens here
#                      (the token is set in this step only, never in $GITHUB_ENV)
#   INPUT_FALLBACK     --fallback sources when ESC cannot be reached (`dotenv:PATH`, `env`),
#                      comma- or newline-separated (empty: none, the failure fails the step)
# Exit code: escort's (2 usage or configuration, 3 ESC refused or unreachable).
set -euo pipefail

# shellcheck source=scripts/action/lib.sh
. "${BASH_SOURCE[0]%/*}/lib.sh"

read_inputs
token_given="${INPUT_TOKEN:-}"
esc_settings

# No environment at all: the action only installs escort (and logs in with OIDC when
# asked), as pulumi/esc-action does; later steps run escort themselves.
if [ -z "${ESC_ENV:-}" ]; then
    echo "escort: no environment (the input \`environment\`, \$ESC_ENV): escort is installed, nothing was loaded"
    exit 0
fi
# OIDC (unless a `token` is given): the token is this step's alone.
[ -n "$token_given" ] || oidc_login_here
unset token_given

# A --keys list with each item marked optional (`?`), `*` as it is.
optional_keys() {
    local rest="$1" item out="" lf=$'\n'
    rest="${rest//"$lf"/,}"
    while [ -n "$rest" ]; do
        item="${rest%%,*}"
        if [ "$item" = "$rest" ]; then rest=""; else rest="${rest#*,}"; fi
        item="$(printf '%s' "$item" | tr -d ' \t\r')"
        case "$item" in "" | "*" | *"?") ;; *) item="$item?" ;; esac
        [ -z "$item" ] || out="$out${out:+,}$item"
    done
    printf '%s' "$out"
}

# `--flag=value`: a value that starts with `-` stays a value.
args=(load --format github "--mask=${INPUT_MASK:-secrets}")
keys="${INPUT_KEYS:-}"
case "$(export_mode)" in
none) args+=(--no-export) ;;
mapping)
    if [ -n "$keys" ]; then
        action_fail "give the variables either in \`keys\` or as a mapping in \`export-environment-variables\`, not both"
    fi
    # As in esc-action, a mapped variable the environment lacks is a warning: each
    # item is marked optional (`NAME?`, escort's --keys syntax).
    keys="$(optional_keys "$INPUT_EXPORT_ENVIRONMENT_VARIABLES")"
    ;;
esac
if [ -n "$keys" ]; then
    args+=("--keys=$keys")
fi
# `values` is set unless asked not to: pulumi/esc-action's users read every variable as
# an output (docs/action.md, "Moving from pulumi/esc-action").
if is_true outputs "${INPUT_OUTPUTS:-}" true; then
    args+=(--outputs)
fi
if [ -n "${INPUT_FALLBACK:-}" ]; then
    lf=$'\n' cr=$'\r'
    fallback="${INPUT_FALLBACK//"$cr"/}"
    fallback="${fallback//"$lf"/,}"
    # A multi-line input ends with a newline: no empty source after the last comma.
    while [ "${fallback%,}" != "$fallback" ]; do fallback="${fallback%,}"; done
    args+=("--fallback=$fallback")
fi

exec escort "${args[@]}"
