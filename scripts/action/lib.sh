# shellcheck shell=bash
# Helpers shared by the action's step scripts (scripts/action/*.sh). Sourced, not run.
#
# Runs under the bash of every GitHub runner: Git Bash on Windows, and bash 3.2 on
# macOS, so nothing newer than 3.2 here (no ${v,,}, no mapfile, no associative arrays,
# no "${empty_array[@]}" under set -u).

# Print a workflow error annotation and exit with the given code (default 2). On stderr
# (the runner reads workflow commands from both streams), so that it is seen even from
# inside a $(command substitution).
action_fail() {
    printf '::error::escort action: %s\n' "$(escape_data "$1")" >&2
    exit "${2:-2}"
}

# Escape text for the data part of a workflow command, as the runner unescapes it.
escape_data() {
    local text="$1" pct='%' cr=$'\r' lf=$'\n'
    text="${text//"$pct"/%25}"
    text="${text//"$cr"/%0D}"
    text="${text//"$lf"/%0A}"
    printf '%s' "$text"
}

# Ask the runner to mask a value, and each of its lines. Blank text is skipped
# (the runner refuses to mask it).
add_mask() {
    local value="$1" rest line lf=$'\n' cr=$'\r'
    case "$value" in *[![:space:]]*) ;; *) return 0 ;; esac
    printf '::add-mask::%s\n' "$(escape_data "$value")"
    case "$value" in *"$lf"* | *"$cr"*) ;; *) return 0 ;; esac
    # Each line too (no here-document: bash writes those to a temporary file).
    rest="$value"
    while [ -n "$rest" ]; do
        line="${rest%%"$lf"*}"
        if [ "$line" = "$rest" ]; then rest=""; else rest="${rest#*"$lf"}"; fi
        line="${line%"$cr"}"
        case "$line" in *[![:space:]]*) printf '::add-mask::%s\n' "$(escape_data "$line")" ;; esac
    done
}

# A boolean input: true or false (any case); empty means the given default.
# Usage: if is_true NAME "$VALUE" DEFAULT; then ...
is_true() {
    local v
    v="$(printf '%s' "${2:-$3}" | tr '[:upper:]' '[:lower:]')"
    case "$v" in
    true) return 0 ;;
    false) return 1 ;;
    *) action_fail "input \`$1\` must be true or false, not \`$2\`" ;;
    esac
}

# Every input but `version` (in pulumi/esc-action the Pulumi CLI's version), as its
# INPUT_<NAME> variable is named.
INPUT_NAMES="ENVIRONMENT TOKEN KEYS MASK EXPORT_ENVIRONMENT_VARIABLES OUTPUTS MANIFEST STRICT
CLOUD_URL OIDC_AUTH OIDC_ORGANIZATION OIDC_REQUESTED_TOKEN_TYPE OIDC_SCOPE
OIDC_TOKEN_EXPIRATION OIDC_EXPIRATION FALLBACK"

# Each empty INPUT_<NAME> from the job's ESC_ACTION_<NAME>, the environment variable
# pulumi/esc-action reads an input from when it is not given.
read_inputs() {
    local name input fallback
    for name in $INPUT_NAMES; do
        input="INPUT_$name"
        fallback="ESC_ACTION_$name"
        if [ -z "${!input:-}" ] && [ -n "${!fallback:-}" ]; then
            export "$input=${!fallback}"
        fi
    done
}

# What `export-environment-variables` asks for, printed: `all`, `none`, or `mapping` (a
# list of pulumi/esc-action's `FOO, BAR=BAZ, *` form, which is escort's --keys syntax).
export_mode() {
    case "$(printf '%s' "${INPUT_EXPORT_ENVIRONMENT_VARIABLES:-}" | tr '[:upper:]' '[:lower:]')" in
    "" | true) printf 'all' ;;
    false) printf 'none' ;;
    *) printf 'mapping' ;;
    esac
}

# The Pulumi Cloud API from the `cloud-url` input, when given.
cloud_settings() {
    if [ -n "${INPUT_CLOUD_URL:-}" ]; then
        export ESC_API_URL="$INPUT_CLOUD_URL"
    fi
}

# ESC_ENV and ESC_TOKEN from the inputs when given, else inherited from the job.
# Masks the token escort will use before anything else is printed.
esc_settings() {
    if [ -n "${INPUT_TOKEN:-}" ]; then
        export ESC_TOKEN="$INPUT_TOKEN"
    fi
    unset INPUT_TOKEN ESC_ACTION_TOKEN
    if [ -n "${ESC_TOKEN:-}" ]; then
        add_mask "$ESC_TOKEN"
    elif [ -n "${PULUMI_ACCESS_TOKEN:-}" ]; then
        add_mask "$PULUMI_ACCESS_TOKEN"
    fi
    if [ -n "${INPUT_ENVIRONMENT:-}" ]; then
        export ESC_ENV="$INPUT_ENVIRONMENT"
    fi
    unset INPUT_ENVIRONMENT
    cloud_settings
}

# Whether the inputs ask for an OIDC login (`oidc-organization`, unless `oidc-auth: false`);
# when they do, LOGIN_ARGS holds `escort login`'s arguments but --format.
oidc_asked() {
    local org="${INPUT_OIDC_ORGANIZATION:-}" type expiration
    if [ -z "${INPUT_OIDC_AUTH:-}" ]; then
        [ -n "$org" ] || return 1
    elif is_true oidc-auth "$INPUT_OIDC_AUTH" false; then
        [ -n "$org" ] || action_fail "\`oidc-auth: true\` needs \`oidc-organization\`"
    else
        return 1
    fi
    type="${INPUT_OIDC_REQUESTED_TOKEN_TYPE:-organization}"
    type="${type#urn:pulumi:token-type:access_token:}"
    expiration="${INPUT_OIDC_TOKEN_EXPIRATION:-}"
    if [ -n "${INPUT_OIDC_EXPIRATION:-}" ]; then
        if [ -n "$expiration" ] && [ "$expiration" != "$INPUT_OIDC_EXPIRATION" ]; then
            action_fail "\`oidc-token-expiration\` and its former name \`oidc-expiration\` differ: give one"
        fi
        expiration="$INPUT_OIDC_EXPIRATION"
    fi
    LOGIN_ARGS=(login "--oidc-organization=$org" "--oidc-requested-token-type=$type")
    if [ -n "${INPUT_OIDC_SCOPE:-}" ]; then
        LOGIN_ARGS+=("--oidc-scope=$INPUT_OIDC_SCOPE")
    fi
    if [ -n "$expiration" ]; then
        LOGIN_ARGS+=("--oidc-expiration=$expiration")
    fi
}

# With an environment to load, the OIDC login happens inside the step that uses the token
# (load, check): ESC_TOKEN is set in this step's process only, masked, and never written
# to $GITHUB_ENV, so the job's later steps never hold it. Does nothing unless asked.
oidc_login_here() {
    local line
    oidc_asked || return 0
    cloud_settings
    line="$(escort "${LOGIN_ARGS[@]}" --format docker)" || exit $?
    case "$line" in
    ESC_TOKEN=?*) ;;
    *) action_fail "escort login printed no ESC_TOKEN" 3 ;;
    esac
    ESC_TOKEN="${line#ESC_TOKEN=}"
    add_mask "$ESC_TOKEN"
    export ESC_TOKEN
}
