# shellcheck shell=sh
# Release lookups shared by the action's install step (scripts/action/install.sh) and the
# Dev Container Feature's install.sh (devcontainer-feature/escort/, which links to this
# file; the release workflow puts a copy there before publishing). Sourced, not run.
# POSIX sh: the Feature runs under the container's /bin/sh (dash, busybox), the action
# under bash 3.2 too. The includer defines release_fail MESSAGE (print it, exit non-zero).
# `local` is not POSIX, but every /bin/sh a container has (dash, busybox ash, bash) knows it.
# shellcheck disable=SC3043

# The SHA-256 of standard input, in lowercase hex.
sha256_of_stdin() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum | cut -d' ' -f1
    else
        shasum -a 256 | cut -d' ' -f1
    fi
}

# The SHA-256 that checksums.txt records for asset key $2 (`<tag>/escort-<target>[.exe]`)
# in file $1: printed in lowercase; nothing (status 0) when there is no line for it.
# Lines are `<sha256>  <key>`; `#` comments and blank lines are skipped, as is a `\r` at
# the end of a line. A malformed line for the key, or two different ones, is an error:
# the file ships with the action and must be exact.
expected_checksum() {
    local file="$1" key="$2" found n
    found="$(awk -v key="$key" '
        { sub(/\r$/, "") }
        NF == 0 || /^[ \t]*#/ { next }
        { name = $2; sub(/^\*/, "", name) }
        name == key { print $1 }
    ' "$file" | LC_ALL=C sort -u)" || release_fail "could not read $file"
    [ -n "$found" ] || return 0
    n="$(printf '%s\n' "$found" | wc -l | tr -d ' ')"
    [ "$n" = 1 ] || release_fail "$file has $n different checksums for $key"
    case "$found" in
    *[!0-9a-fA-F]*) release_fail "$file: the checksum for $key is not a SHA-256: $found" ;;
    esac
    [ "${#found}" = 64 ] || release_fail "$file: the checksum for $key is not a SHA-256: $found"
    printf '%s' "$found" | tr 'A-F' 'a-f'
}

# The release a tag names, printed: an exact tag (v1.2.3, v1.2.3-rc.1) names itself; a
# moving tag (v1, v1.2, which the release workflow moves to each release) names the newest
# release under it (no pre-release) that checksums file $2 lists for asset $3, and
# `latest` the newest of all. Nothing (status 0) when it lists none.
resolve_release() {
    local tag="$1" file="$2" asset="$3" prefix="$1."
    case "$tag" in
    v*.*.*)
        printf '%s' "$tag"
        return
        ;;
    latest) prefix=v ;;
    esac
    awk -v prefix="$prefix" -v asset="$asset" '
        { sub(/\r$/, "") }
        NF == 0 || /^[ \t]*#/ { next }
        {
            key = $2; sub(/^\*/, "", key); n = index(key, "/")
            tag = substr(key, 1, n - 1); name = substr(key, n + 1)
        }
        n > 0 && name == asset && index(tag, prefix) == 1 && tag ~ /^v[0-9]+\.[0-9]+\.[0-9]+$/ {
            print substr(tag, 2)
        }
    ' "$file" | LC_ALL=C sort -t. -k1,1n -k2,2n -k3,3n | tail -n 1 | sed 's/^./v&/'
}

# The SHA-256 of the sources a release is built from, in directory $1: Cargo.toml,
# Cargo.lock, build.rs and every file under src/, each named and in byte order. The
# release workflow records it as `<hash>  <tag>/sources` in checksums.txt, so a checkout
# whose sources are exactly a release's (`uses: OWNER/escort@<commit SHA of the tag>`)
# installs that release's verified binary instead of building it.
source_hash() {
    (
        cd "$1" || exit 1
        for f in Cargo.toml Cargo.lock build.rs; do
            if [ -f "$f" ]; then
                printf '%s\n' "$f"
                cat "$f"
            fi
        done
        find src -type f | LC_ALL=C sort | while IFS= read -r f; do
            printf '%s\n' "$f"
            cat "$f"
        done
    ) | sha256_of_stdin
}

# The release whose sources hash to $2 in checksums file $1 (a `<hash>  <tag>/sources`
# line), printed; nothing when none.
release_of_sources() {
    awk -v hash="$2" '
        { sub(/\r$/, "") }
        NF == 0 || /^[ \t]*#/ { next }
        {
            key = $2; sub(/^\*/, "", key); n = index(key, "/")
            if (n > 0 && substr(key, n + 1) == "sources" && tolower($1) == hash) print substr(key, 1, n - 1)
        }
    ' "$1" | tail -n 1
}
