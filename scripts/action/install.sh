#!/usr/bin/env bash
# The action's install step: put an `escort` binary for this runner on the job's PATH.
#
# Only a binary the action can vouch for is ever run (the tool cache is shared by every
# job of a self-hosted runner, and lasts, so anything may have been planted there):
#   1. a release (a tag v1.2.3, or a moving tag v1 / v1.2: the newest release under it
#      that the action's checksums.txt lists for this runner): the tool cache's
#      $RUNNER_TOOL_CACHE/escort/<release>/<arch>/escort[.exe] when its SHA-256 is the one
#      checksums.txt records; else the release asset, downloaded with curl and verified
#      against that same line (install_prebuilt below), then stored in the tool cache.
#      A download whose checksum differs fails the step (no fallback);
#   2. otherwise (a branch, a commit, a local action, no asset or no line for this runner,
#      a failed download): `cargo install --locked --path $GITHUB_ACTION_PATH` (the
#      action's own checkout) into $RUNNER_TEMP. Such a build is never taken from nor put
#      in the tool cache: nothing could vouch for it there.
# The binary is then copied into a fresh directory of this job's own under $RUNNER_TEMP,
# the copy hashed again, and only that directory appended to $GITHUB_PATH (never a
# tool-cache directory: anything planted beside the binary there would run in every later
# step). The step outputs are `path` (the copy) and `version` (the release installed, or
# the ref / local-<hash> that was built).
#
# `version` must name an escort release the action's checksums.txt lists (a bare 1.2.3 is
# v1.2.3); anything else (`3.x`, pulumi/esc-action's Pulumi CLI version) fails the step.
# Without it, the action's ref: a release tag, or a commit SHA (or branch) whose sources
# hash to a release's `<hash>  <tag>/sources` line, installs that release; any other ref
# is built, with a ::warning:: saying why and how long it takes.
#
# Environment (install_prebuilt lists the download's own):
#   ESCORT_VERSION          the `version` input (empty: the action's ref)
#   ESCORT_ACTION_REF       ${{ github.action_ref }}, given through `env:` by action.yml
#                           (the runner leaves $GITHUB_ACTION_REF empty in composite actions)
#   ESCORT_CHECKSUMS        the checksums file instead of $GITHUB_ACTION_PATH/checksums.txt
#                           (a mirror serving its own builds; escort's tests)
#   RUNNER_OS, RUNNER_ARCH, RUNNER_TOOL_CACHE, RUNNER_TEMP, GITHUB_ACTION_PATH,
#   GITHUB_PATH, GITHUB_OUTPUT   as the runner sets them
#   ESCORT_INSTALL_PROFILE  `debug`: build with `cargo install --debug` (for escort's own
#                           tests, which reuse the compiled dependencies in target/debug);
#                           default: the release profile
#   CARGO_TARGET_DIR        honoured by cargo as usual
#
# Without a version or a ref (the action used from a local path, `uses: ./`), the
# version is `local-` plus a hash of the sources.
#
# Works in Git Bash on Windows and in bash 3.2 on macOS.
set -euo pipefail

# shellcheck source=scripts/action/lib.sh
. "${BASH_SOURCE[0]%/*}/lib.sh"
# shellcheck source=scripts/action/releases.sh
. "${BASH_SOURCE[0]%/*}/releases.sh"
release_fail() { action_fail "$1" 2; }

log() { printf 'escort action: %s\n' "$*" >&2; }

# A name that is safe as one path component.
path_safe() {
    local s
    [ "${#1}" -le 128 ] || action_fail "a version or ref of more than 128 characters: $1"
    s="$(printf '%s' "$1" | tr -c 'A-Za-z0-9._+-' '_')"
    case "$s" in . | ..) s="_$s" ;; esac
    printf '%s' "$s"
}

# The runner's architecture as the tool cache spells it (x64, arm64, ...).
tool_arch() {
    local a="${RUNNER_ARCH:-}"
    if [ -z "$a" ]; then
        case "$(uname -m)" in
        x86_64 | amd64) a=x64 ;;
        aarch64 | arm64) a=arm64 ;;
        *) a="$(uname -m)" ;;
        esac
    fi
    path_safe "$(printf '%s' "$a" | tr '[:upper:]' '[:lower:]')"
}

exe_suffix() {
    case "${RUNNER_OS:-}" in
    Windows) printf '.exe' ;;
    "") case "$(uname -s)" in MINGW* | MSYS* | CYGWIN*) printf '.exe' ;; esac ;;
    esac
}


# The version a build of the action's own checkout is named by (the `version` output): its
# ref, or `local-<hash of the sources>`.
source_version() {
    if [ -n "${ESCORT_ACTION_REF:-}" ]; then
        path_safe "$ESCORT_ACTION_REF"
        return
    fi
    local hash
    hash="$(source_hash "$ACTION_DIR")"
    printf 'local-%s' "${hash:0:16}"
}

# A usable binary: a file that runs `--version`.
usable() {
    [ -f "$1" ] && "$1" --version >/dev/null 2>&1
}

# The Rust target triple of the release asset for this runner (used by install_prebuilt).
release_target() {
    case "${RUNNER_OS:-}/$(tool_arch)" in
    Linux/x64) printf 'x86_64-unknown-linux-musl' ;;
    Linux/arm64) printf 'aarch64-unknown-linux-musl' ;;
    macOS/x64) printf 'x86_64-apple-darwin' ;;
    macOS/arm64) printf 'aarch64-apple-darwin' ;;
    Windows/x64) printf 'x86_64-pc-windows-msvc' ;;
    Windows/arm64) printf 'aarch64-pc-windows-msvc' ;;
    *) return 1 ;;
    esac
}

# Whether $1 looks like a release tag: v1, v1.2, v1.2.3, v1.2.3-rc.1. Branch names,
# commit hashes and local-<hash> do not, and are never downloaded.
is_release_tag() {
    local re='^v[0-9]+(\.[0-9]+){0,2}(-[0-9A-Za-z][0-9A-Za-z.]*)?$'
    [[ "$1" =~ $re ]]
}

# curl with the options every download here uses: fail on HTTP errors, follow redirects,
# retry (every error, where this curl knows --retry-all-errors: curl 7.71 and later),
# and time out.
download() {
    local url="$1" out="$2" retry_all=()
    if curl --retry-all-errors --version >/dev/null 2>&1; then retry_all=(--retry-all-errors); fi
    curl --fail --location --silent --show-error \
        --retry 3 ${retry_all[@]+"${retry_all[@]}"} --connect-timeout 10 --max-time 120 \
        --user-agent "escort-action" --output "$out" "$url" >&2
}

# What the action vouches for, in globals: RELEASE (the exact tag), ASSET, KEY
# (`<release>/<asset>`) and EXPECTED (its SHA-256 in checksums.txt). Returns 1, with a
# note, when there is none, and WHY says why: `not-a-tag`, `no-target` (no asset for this
# runner), `no-file`, `unlisted` (checksums.txt has no such release) or `no-line` (it has
# the release, but not for this runner).
vouched() {
    local wanted="$1" target
    RELEASE="" ASSET="" KEY="" EXPECTED="" WHY=""
    if ! is_release_tag "$wanted"; then
        WHY=not-a-tag
        log "$wanted is not a release tag: no prebuilt escort"
        return 1
    fi
    if ! target="$(release_target)"; then
        WHY=no-target
        log "no prebuilt escort for ${RUNNER_OS:-this OS}/$(tool_arch)"
        return 1
    fi
    ASSET="escort-$target$EXE"
    if [ ! -f "$CHECKSUMS" ]; then
        WHY=no-file
        log "no $CHECKSUMS: no prebuilt escort"
        return 1
    fi
    # (set -e does not apply in here: vouched runs as an `if` condition.)
    RELEASE="$(resolve_release "$wanted" "$CHECKSUMS" "$ASSET")" || exit $?
    if [ -z "$RELEASE" ]; then
        WHY=unlisted
        log "no release under $wanted in $CHECKSUMS for $ASSET: no prebuilt escort"
        return 1
    fi
    KEY="$RELEASE/$ASSET"
    EXPECTED="$(expected_checksum "$CHECKSUMS" "$KEY")" || exit $?
    if [ -z "$EXPECTED" ]; then
        if grep -qF "  $RELEASE/" "$CHECKSUMS"; then WHY=no-line; else WHY=unlisted; fi
        log "no checksum for $KEY in $CHECKSUMS (this ref of the action predates that release, or it has no such asset): no prebuilt escort"
        return 1
    fi
}

# ---------------------------------------------------------------------------------------
# The prebuilt release asset KEY (see vouched), downloaded to path $1 and verified against
# EXPECTED from the action's own checksums.txt (shipped with the action, so a replaced
# release asset cannot pass).
#
# Returns 1, with a warning, when it could not be fetched (no download location, no curl,
# a failed download): install.sh then builds from source.
# A download whose SHA-256 differs is NOT a reason to fall back: it fails the step
# (::error::, exit 3) and nothing is installed.
#
# Environment (besides the runner's):
#   ESCORT_SERVER_URL         ${{ github.server_url }}, given by action.yml
#                             (default: $GITHUB_SERVER_URL, then https://github.com)
#   ESCORT_ACTION_REPOSITORY  ${{ github.action_repository }}, given by action.yml; empty
#                             (a local action): Cargo.toml's `repository`, escort's home
#   ESCORT_DOWNLOAD_BASE      where the releases are instead of
#                             <server>/<action repository>/releases/download: a mirror,
#                             or GitHub Enterprise Server; assets are fetched from
#                             <base>/<tag>/escort-<target>[.exe]
# ---------------------------------------------------------------------------------------
install_prebuilt() {
    local dest="$1" base url part actual home
    base="${ESCORT_DOWNLOAD_BASE:-}"
    if [ -z "$base" ]; then
        case "${ESCORT_ACTION_REPOSITORY:-}" in
        [A-Za-z0-9]*/[A-Za-z0-9._-]*)
            base="${ESCORT_SERVER_URL:-${GITHUB_SERVER_URL:-https://github.com}}/$ESCORT_ACTION_REPOSITORY/releases/download"
            ;;
        *)
            # A local action (`uses: ./`): escort's home as its Cargo.toml names it.
            home="$(sed -n 's/^repository = "\(https\{0,1\}:\/\/[^"]*\)"$/\1/p' "$ACTION_DIR/Cargo.toml" 2>/dev/null)" || home=""
            case "$home" in
            "" | */OWNER/*)
                log "the action's repository is not known (a local action?), Cargo.toml names none and ESCORT_DOWNLOAD_BASE is not set: no prebuilt download"
                return 1
                ;;
            esac
            base="${home%/}/releases/download"
            ;;
        esac
    fi
    url="${base%/}/$KEY"
    if ! command -v curl >/dev/null 2>&1; then
        printf '::warning::%s\n' "$(escape_data "escort action: curl is not installed: cannot download $url")"
        return 1
    fi
    mkdir -p "${dest%/*}"
    part="$dest.part"
    rm -f "$part"
    log "downloading $url"
    if ! download "$url" "$part"; then
        rm -f "$part"
        rmdir "${dest%/*}" 2>/dev/null || true
        printf '::warning::%s\n' "$(escape_data "escort action: could not download $url")"
        return 1
    fi
    actual="$(sha256_of_stdin <"$part")" || actual=""
    [ -n "$actual" ] || { rm -f "$part"; rmdir "${dest%/*}" 2>/dev/null; action_fail "could not compute the SHA-256 of the download (no sha256sum or shasum)" 3; }
    if [ "$actual" != "$EXPECTED" ]; then
        rm -f "$part"
        rmdir "${dest%/*}" 2>/dev/null || true
        action_fail "checksum mismatch for $url: SHA-256 $actual, but $CHECKSUMS has $EXPECTED for $KEY. Not installing it, and not falling back: the release asset is not the one that was published." 3
    fi
    chmod 755 "$part"
    mv -f "$part" "$dest"
    log "downloaded $KEY, SHA-256 $actual verified"
}

# Build the action's own checkout with cargo; print the built binary's path.
install_from_source() {
    local root="$1" profile=()
    command -v cargo >/dev/null 2>&1 ||
        action_fail "no escort binary for ${RUNNER_OS:-this OS}/$(tool_arch), and cargo is not installed to build one (add a Rust toolchain step before this action)" 3
    case "${ESCORT_INSTALL_PROFILE:-release}" in
    release) ;;
    debug) profile=(--debug) ;;
    *) action_fail "ESCORT_INSTALL_PROFILE must be release or debug" ;;
    esac
    log "building escort from $ACTION_DIR with cargo install"
    # ${profile[@]+...}: an empty array under `set -u` is an error in bash 3.2.
    cargo install --locked --path "$ACTION_DIR" --root "$root" --bin escort \
        ${profile[@]+"${profile[@]}"} >&2 ||
        action_fail "cargo install failed" 3
    printf '%s' "$root/bin/escort$EXE"
}

# Copy a binary into the tool cache atomically, and mark the entry complete the way
# @actions/tool-cache does (<arch>.complete beside the <arch> directory).
store_in_cache() {
    local from="$1" dir="$2" tmp
    mkdir -p "$dir"
    tmp="$dir/.escort$EXE.$$.tmp"
    cp "$from" "$tmp"
    chmod 755 "$tmp"
    mv -f "$tmp" "$dir/escort$EXE"
    : >"$dir.complete"
}

ACTION_DIR="${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set: run this from action.yml}"
CHECKSUMS="${ESCORT_CHECKSUMS:-$ACTION_DIR/checksums.txt}"
EXE="$(exe_suffix)"
ARCH="$(tool_arch)"
REQUESTED="${ESCORT_VERSION:-}"
REF="$(path_safe "${ESCORT_ACTION_REF:-}")"
CACHE_ROOT="${RUNNER_TOOL_CACHE:-}"
TEMP_ROOT="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"

bin=""
version=""
# The SHA-256 the binary must have when it is copied to the job's own directory.
want_sha=""
RELEASE="" ASSET="" KEY="" EXPECTED="" WHY=""
have_release=false
download_dir=""
cache_dir() { printf '%s/escort/%s/%s' "$CACHE_ROOT" "$1" "$ARCH"; }

if [ -n "$REQUESTED" ]; then
    # The `version` input names an escort release, or nothing is installed: building the
    # action's checkout under another version's name would be a lie. A bare 1.2.3 is v1.2.3.
    case "$REQUESTED" in [0-9]*) WANTED="v$REQUESTED" ;; *) WANTED="$REQUESTED" ;; esac
    WANTED="$(path_safe "$WANTED")"
    if vouched "$WANTED"; then
        have_release=true
    else
        case "$WHY" in
        not-a-tag | unlisted | no-file)
            newest=""
            if [ -f "$CHECKSUMS" ] && target="$(release_target)"; then
                newest="$(resolve_release latest "$CHECKSUMS" "escort-$target$EXE")" || newest=""
            fi
            action_fail "\`version: $REQUESTED\` is not an escort release this action knows (the newest it lists is ${newest:-none}). In pulumi/esc-action \`version\` is the Pulumi CLI's version; escort needs no Pulumi CLI: remove the input (the action's own ref is used), or give an escort release such as v1.2.3 or a major version such as v1."
            ;;
        esac
    fi
else
    WANTED="$REF"
    # A commit SHA (or branch) whose sources are exactly a release's: that release, verified.
    if [ -n "$WANTED" ] && ! is_release_tag "$WANTED" && [ -f "$CHECKSUMS" ]; then
        tagged="$(release_of_sources "$CHECKSUMS" "$(source_hash "$ACTION_DIR")")"
        if [ -n "$tagged" ]; then
            log "the action's checkout ($WANTED) has exactly the sources of release $tagged"
            WANTED="$tagged"
        fi
    fi
    if [ -n "$WANTED" ] && vouched "$WANTED"; then have_release=true; fi
fi

# 1. A release the action vouches for: from the tool cache when the SHA-256 matches,
#    else downloaded and verified (a checksum mismatch exits here).
if [ "$have_release" = true ]; then
    cached="$(cache_dir "$RELEASE")/escort$EXE"
    if [ -n "$CACHE_ROOT" ] && [ -f "$cached" ]; then
        if [ "$(sha256_of_stdin <"$cached")" = "$EXPECTED" ]; then
            bin="$cached"
            version="$RELEASE"
            log "escort $RELEASE from the tool cache, SHA-256 $EXPECTED verified"
        else
            printf '::warning::%s\n' "$(escape_data "escort action: the tool cache's escort $RELEASE is not the release checksums.txt lists for $KEY: not running it, downloading the release instead")"
        fi
    fi
    if [ -z "$bin" ]; then
        download_dir="$TEMP_ROOT/escort-download-$$"
        download="$download_dir/escort$EXE"
        if install_prebuilt "$download"; then
            if usable "$download"; then
                version="$RELEASE"
                bin="$download"
                if [ -n "$CACHE_ROOT" ]; then
                    store_in_cache "$download" "$(cache_dir "$version")"
                    bin="$(cache_dir "$version")/escort$EXE"
                fi
            else
                printf '::warning::%s\n' "$(escape_data "escort action: the downloaded escort $RELEASE (checksum verified) does not run on this runner")"
                rm -rf "$download_dir"
            fi
        fi
    fi
    [ -z "$bin" ] || want_sha="$EXPECTED"
fi

# 2. Build the action's own checkout, for this job only: minutes, so never silently.
if [ -z "$bin" ]; then
    version="$(source_version)"
    case "$WHY" in
    not-a-tag) why="$WANTED is not a release tag" ;;
    no-target) why="there is no release asset for ${RUNNER_OS:-this OS}/$ARCH" ;;
    no-file) why="the action has no checksums.txt" ;;
    unlisted) why="the action's checksums.txt lists no release $WANTED" ;;
    no-line) why="the action's checksums.txt has no $ASSET for $RELEASE" ;;
    *) why="${WANTED:+the release $WANTED could not be downloaded}" ;;
    esac
    why="${why:-the action has no ref (a local action)}"
    printf '::warning::%s\n' "$(escape_data "escort action: no prebuilt escort ${WANTED:-release} for this runner: $why. Building the action's own checkout ($version) with cargo instead, which takes 2 to 5 minutes on a GitHub-hosted runner. A prebuilt, verified binary is installed for a release tag (@v1.2.3), a major tag (@v1) or the commit SHA of a release.")"
    started="$(date +%s)"
    bin="$(install_from_source "$TEMP_ROOT/escort-build-$$")"
    usable "$bin" || action_fail "the escort that cargo built does not run" 3
    log "built in $(($(date +%s) - started)) s"
    want_sha="$(sha256_of_stdin <"$bin")"
fi

# Only a directory of this job's own goes on PATH, holding only the binary (a shared
# tool-cache directory could hold a planted `bash` or `tr` beside it, run by every later
# step with the job's tokens): a fresh copy under $RUNNER_TEMP, hashed after copying, so
# what later steps run is what was verified.
job_dir="$(mktemp -d "$TEMP_ROOT/escort-bin.XXXXXX")" || action_fail "could not create a directory in $TEMP_ROOT"
cp "$bin" "$job_dir/escort$EXE"
chmod 755 "$job_dir/escort$EXE"
if [ -n "$download_dir" ]; then rm -rf "$download_dir"; fi
copied="$(sha256_of_stdin <"$job_dir/escort$EXE")"
if [ "$copied" != "$want_sha" ]; then
    rm -rf "$job_dir"
    action_fail "the copy of escort in $job_dir has SHA-256 $copied, not $want_sha: the binary changed while it was installed. Not installing it." 3
fi
bin="$job_dir/escort$EXE"
dir="$job_dir"

log "$("$bin" --version) ($version) at $bin"
if command -v cygpath >/dev/null 2>&1; then
    # Windows: the runner reads $GITHUB_PATH as Windows paths.
    dir="$(cygpath -w "$dir")"
    bin="$(cygpath -w "$bin")"
fi
case "$dir$bin$version" in *$'\n'* | *$'\r'*) action_fail "unexpected line break in the install path" ;; esac
printf '%s\n' "$dir" >>"${GITHUB_PATH:?GITHUB_PATH is not set}"
if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf 'path=%s\nversion=%s\n' "$bin" "$version" >>"$GITHUB_OUTPUT"
fi
