#!/bin/sh
# Install escort's prebuilt release binary, without a Rust toolchain:
#
#   curl -fsSL https://raw.githubusercontent.com/OWNER/escort/main/scripts/install.sh | sh
#
# Picks the release asset for this OS and CPU (escort-<target>: Linux x86_64/aarch64 get
# the static musl build, macOS x86_64/arm64 the Apple one), downloads it and the release's
# checksums.txt, and installs it only when its SHA-256 is the one listed; on a mismatch
# (or any other failure) it refuses, and leaves nothing behind: no binary, no directory,
# no temporary file.
#
# Environment (the action's own overrides, README "Install"):
#   ESCORT_VERSION        a release, v1.2.3 or 1.2.3 (default: latest, the newest release)
#   ESCORT_DOWNLOAD_BASE  where the releases are: <base>/<tag>/escort-<target> and
#                         <base>/<tag>/checksums.txt (default: REPOSITORY/releases/download);
#                         a mirror needs an ESCORT_VERSION
#   ESCORT_CHECKSUMS      a checksums file (a path, or an http(s) URL) to verify against
#                         instead of the release's own: lines `<sha256>  escort-<target>` (a
#                         release's) or `<sha256>  <tag>/escort-<target>` (the action's
#                         checksums.txt). A list from elsewhere than the download (the
#                         repository's checksums.txt at a tag) also guards against a
#                         replaced release asset; the release's own guards against a
#                         broken or truncated download only.
#   ESCORT_INSTALL_DIR    where to put `escort` (default: ~/.local/bin)
#
# POSIX sh (dash, busybox ash, bash 3.2); needs curl or wget, and sha256sum or shasum.
set -eu

# Escort's home: Cargo.toml's `repository` (tests/it/install.rs checks they agree).
REPOSITORY="https://github.com/OWNER/escort"

say() { printf 'escort install: %s\n' "$*" >&2; }
die() {
    say "$*"
    exit 1
}

tmp=""
partial=""
cleanup() {
    if [ -n "$partial" ]; then rm -f "$partial"; fi
    if [ -n "$tmp" ]; then rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

target() {
    os="$(uname -s)"
    cpu="$(uname -m)"
    case "$cpu" in
    x86_64 | amd64) cpu=x86_64 ;;
    aarch64 | arm64) cpu=aarch64 ;;
    *) die "no prebuilt escort for the CPU $cpu: build it with cargo install --locked --git $REPOSITORY" ;;
    esac
    case "$os" in
    Linux) printf '%s-unknown-linux-musl' "$cpu" ;;
    Darwin) printf '%s-apple-darwin' "$cpu" ;;
    *) die "no prebuilt escort for $os: build it with cargo install --locked --git $REPOSITORY" ;;
    esac
}

fetch() {
    if command -v curl >/dev/null 2>&1; then
        curl --fail --location --silent --show-error --retry 3 --connect-timeout 10 --max-time 300 \
            --proto '=https,http' --output "$2" "$1"
    elif command -v wget >/dev/null 2>&1; then
        wget -q -O "$2" "$1"
    else
        die "neither curl nor wget is installed"
    fi
}

sha256() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum <"$1" | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 <"$1" | cut -d' ' -f1
    else
        die "neither sha256sum nor shasum is installed: cannot verify the download"
    fi
}

# The SHA-256 listed for $2 (`<tag>/<asset>` first, then `<asset>`) in file $1.
listed() {
    awk -v tagged="$2/$3" -v plain="$3" '
        { sub(/\r$/, "") }
        NF == 0 || /^[ \t]*#/ { next }
        { name = $2; sub(/^\*/, "", name) }
        name == tagged { t = $1 }
        name == plain { p = $1 }
        END { if (t != "") print t; else if (p != "") print p }
    ' "$1" | tr 'A-F' 'a-f'
}

asset="escort-$(target)"
version="${ESCORT_VERSION:-latest}"
case "$version" in
[0-9]*) version="v$version" ;;
esac
case "$version" in
latest) ;;
v[0-9]*.[0-9]*.[0-9]*) ;;
*) die "ESCORT_VERSION must be a release (v1.2.3 or 1.2.3) or latest, not $version" ;;
esac
case "$version" in *[!A-Za-z0-9.+-]*) die "ESCORT_VERSION has characters no release has: $version" ;; esac

if [ -n "${ESCORT_DOWNLOAD_BASE:-}" ]; then
    [ "$version" != latest ] || die "with ESCORT_DOWNLOAD_BASE (a mirror), give the release: ESCORT_VERSION=v1.2.3"
    base="${ESCORT_DOWNLOAD_BASE%/}/$version"
elif [ "$version" = latest ]; then
    base="$REPOSITORY/releases/latest/download"
else
    base="$REPOSITORY/releases/download/$version"
fi
install_dir="${ESCORT_INSTALL_DIR:-${HOME:?HOME is not set: give ESCORT_INSTALL_DIR}/.local/bin}"

tmp="$(mktemp -d 2>/dev/null || mktemp -d -t escort-install)"
say "downloading $base/$asset"
fetch "$base/$asset" "$tmp/escort" || die "could not download $base/$asset"
case "${ESCORT_CHECKSUMS:-}" in
"")
    fetch "$base/checksums.txt" "$tmp/checksums.txt" || die "could not download $base/checksums.txt"
    sums="$tmp/checksums.txt"
    ;;
http://* | https://*)
    fetch "$ESCORT_CHECKSUMS" "$tmp/checksums.txt" || die "could not download $ESCORT_CHECKSUMS"
    sums="$tmp/checksums.txt"
    ;;
*)
    [ -f "$ESCORT_CHECKSUMS" ] || die "ESCORT_CHECKSUMS: no file $ESCORT_CHECKSUMS"
    sums="$ESCORT_CHECKSUMS"
    ;;
esac

expected="$(listed "$sums" "$version" "$asset")"
[ -n "$expected" ] || die "the checksums list no $asset for $version: not installing it"
actual="$(sha256 "$tmp/escort")"
if [ "$actual" != "$expected" ]; then
    die "checksum mismatch for $base/$asset: SHA-256 $actual, but the checksums list $expected. Not installing it."
fi
chmod 755 "$tmp/escort"
"$tmp/escort" --version >/dev/null 2>&1 || die "the verified escort does not run on this machine"

# Into place atomically: a temporary name in the same directory, then a rename.
mkdir -p "$install_dir" || die "could not create $install_dir"
partial="$install_dir/.escort.install.$$"
cp "$tmp/escort" "$partial" || die "could not write to $install_dir"
mv -f "$partial" "$install_dir/escort" || die "could not install $install_dir/escort"
partial=""
say "installed $("$install_dir/escort" --version) at $install_dir/escort (SHA-256 $actual verified)"
case ":${PATH:-}:" in
*":$install_dir:"*) ;;
*) say "$install_dir is not on your PATH: add it (export PATH=\"$install_dir:\$PATH\")" ;;
esac
