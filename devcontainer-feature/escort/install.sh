#!/bin/sh
# The escort Dev Container Feature's installer (the Dev Container Features specification:
# run as root at image build time, with the options as upper-case environment variables).
# Installs the prebuilt escort release binary for the container's architecture, verified
# against this Feature's checksums.txt (the action's list of release checksums: the same
# lines, the same check), and the start command, start.sh, that the Feature runs at each
# start of the container (its postStartCommand).
#
# Options:
#   VERSION       latest (the newest release checksums.txt lists), a release (1.2.3 or
#                 v1.2.3) or a major version (1 or v1: its newest release)
#   DOWNLOADBASE  where the assets are: <base>/<tag>/escort-<target>
#   DIRECTORY     where .env and escort.toml are, relative to the workspace folder
# ESCORT_FEATURE_PREFIX (default /usr/local): where bin/escort and share/escort/ go.
#
# Nothing is installed unless the download's SHA-256 is the one checksums.txt lists.
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
release_fail() {
    echo "escort feature: $1" >&2
    exit 1
}
# shellcheck source=scripts/action/releases.sh
. "$here/releases.sh"

prefix="${ESCORT_FEATURE_PREFIX:-/usr/local}"
checksums="$here/checksums.txt"

[ "$(uname -s)" = Linux ] || release_fail "escort's Feature is for Linux containers, not $(uname -s)"
case "$(uname -m)" in
x86_64 | amd64) target=x86_64-unknown-linux-musl ;;
aarch64 | arm64) target=aarch64-unknown-linux-musl ;;
*) release_fail "no prebuilt escort for $(uname -m)" ;;
esac
asset="escort-$target"

wanted="${VERSION:-latest}"
case "$wanted" in
latest | v*) ;;
*) wanted="v$wanted" ;;
esac
tag="$(resolve_release "$wanted" "$checksums" "$asset")"
[ -n "$tag" ] || release_fail "no release $wanted of escort for $asset in this Feature's checksums.txt"
expected="$(expected_checksum "$checksums" "$tag/$asset")"
[ -n "$expected" ] || release_fail "no checksum for $tag/$asset in this Feature's checksums.txt"

base="${DOWNLOADBASE:-}"
[ -n "$base" ] || release_fail "the option downloadBase is empty: give the escort releases' location (https://github.com/OWNER/escort/releases/download)"
url="${base%/}/$tag/$asset"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "escort feature: downloading $url"
if command -v curl >/dev/null 2>&1; then
    curl --fail --location --silent --show-error --retry 3 --connect-timeout 10 --max-time 300 \
        --output "$tmp/escort" "$url" || release_fail "could not download $url"
elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$tmp/escort" "$url" || release_fail "could not download $url"
else
    release_fail "neither curl nor wget is installed to download $url"
fi
actual="$(sha256_of_stdin <"$tmp/escort")"
[ "$actual" = "$expected" ] ||
    release_fail "checksum mismatch for $url: SHA-256 $actual, but checksums.txt has $expected for $tag/$asset. Nothing installed."

mkdir -p "$prefix/bin" "$prefix/share/escort"
chmod 755 "$tmp/escort"
mv -f "$tmp/escort" "$prefix/bin/escort"
cp "$here/start.sh" "$prefix/share/escort/start.sh"
chmod 755 "$prefix/share/escort/start.sh"
printf '%s\n' "${DIRECTORY:-}" >"$prefix/share/escort/directory"
echo "escort feature: installed $("$prefix/bin/escort" --version) ($tag, SHA-256 $actual verified)"
