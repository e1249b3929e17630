#!/usr/bin/env bash
# Builds escort's release binary and checks it (scripts/check-release.sh): under the size
# budget (docs/development.md, "Releasing"; 6 MB = 6,000,000 bytes; ESCORT_SIZE_BUDGET overrides) and, on
# Linux, static.
#
#   Linux  (default): a static musl binary for this machine's architecture
#          (x86_64-unknown-linux-musl or aarch64-unknown-linux-musl), built into
#          target/release-musl/. It installs what that needs and is missing: the rustup
#          target, and Debian's musl-tools (musl-gcc, for the C and assembly parts of the
#          TLS stack, ring) with apt-get, as root or with `sudo -n`.
#   others (macOS, Windows under Git Bash): the host target, built into target/release-host/.
# The release profile (Cargo.toml) does the rest: LTO, one codegen unit, stripped symbols,
# and panic = "unwind" on purpose (see the comment there).
#
# Prints the binary's path, size and `file` description; exits non-zero when the build
# or a check fails.
#
# Usage: scripts/build-release.sh [--target TRIPLE] [--out-dir DIR]
#   --target TRIPLE  build this target instead (e.g. x86_64-apple-darwin on an arm64 Mac);
#                    *-linux-musl targets go to target/release-musl/, others to
#                    target/release-host/. ESCORT_TARGET does the same.
#   --out-dir DIR    also copy the binary to DIR/escort-TRIPLE[.exe] (the release asset's
#                    name) and print that path
# Environment: ESCORT_SIZE_BUDGET (bytes), CARGO (default cargo).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO="${CARGO:-cargo}"

die() { echo "build-release: error: $*" >&2; exit 1; }
note() { echo "build-release: $*" >&2; }

target="${ESCORT_TARGET:-}"
out_dir=""
while [ "$#" -gt 0 ]; do
    case "$1" in
    --target) [ "$#" -ge 2 ] || die "--target needs a value"; target="$2"; shift 2 ;;
    --target=*) target="${1#*=}"; shift ;;
    --out-dir) [ "$#" -ge 2 ] || die "--out-dir needs a value"; out_dir="$2"; shift 2 ;;
    --out-dir=*) out_dir="${1#*=}"; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
    esac
done

command -v "$CARGO" >/dev/null 2>&1 || die "cargo is needed (a Rust toolchain, from rustup)"

host="$(rustc -vV 2>/dev/null | sed -n 's/^host: //p')"
[ -n "$host" ] || die "rustc -vV did not name the host target"
if [ -z "$target" ]; then
    case "$(uname -s)" in
    Linux)
        case "$(uname -m)" in
        x86_64 | amd64) target=x86_64-unknown-linux-musl ;;
        aarch64 | arm64) target=aarch64-unknown-linux-musl ;;
        *) note "no musl release target for $(uname -m); building the host target"; target="$host" ;;
        esac
        ;;
    *) target="$host" ;;
    esac
fi

case "$target" in
*-linux-musl*) target_dir="$ROOT/target/release-musl"; static=--static ;;
*-linux-*) target_dir="$ROOT/target/release-host"; static=--static ;;
*) target_dir="$ROOT/target/release-host"; static=--no-static ;;
esac
exe=""
case "$target" in *-windows-*) exe=".exe" ;; esac

# shellcheck source=scripts/apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

# --- what the build needs -------------------------------------------------------------------
case "$target" in
*-linux-musl*)
    # ring's C and assembly need a C compiler for musl: <arch>-linux-musl-gcc when there is
    # one, else Debian's musl-gcc, which only builds for this machine's own architecture.
    arch="${target%%-*}"
    if ! command -v "$arch-linux-musl-gcc" >/dev/null 2>&1; then
        [ "$arch" = "${host%%-*}" ] \
            || die "cross-building $target on ${host%%-*} needs $arch-linux-musl-gcc on PATH; build it on an $arch machine instead (the release workflow does)"
        if ! command -v musl-gcc >/dev/null 2>&1; then
            apt_install musl-tools \
                || die "musl-gcc is needed to build $target: install Debian's musl-tools (apt-get install musl-tools) or your system's musl-gcc"
        fi
        # The cc crate only falls back to musl-gcc by itself for x86_64: say it for every arch.
        cc_var="CC_$(printf '%s' "$target" | tr '-' '_')"
        if [ -z "${!cc_var:-}" ]; then export "$cc_var=musl-gcc"; fi
    fi
    ;;
esac

if [ "$target" != "$host" ]; then
    if command -v rustup >/dev/null 2>&1; then
        if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
            note "adding the Rust target $target with rustup"
            # Exit 75 (EX_TEMPFAIL): the toolchain could not be fetched, which is not a
            # fault of the build; scripts/test.sh fails with a note that says so.
            rustup target add "$target" >&2 || { echo "build-release: error: rustup target add $target failed" >&2; exit 75; }
        fi
    else
        note "no rustup: assuming the toolchain already has the $target standard library"
    fi
fi

# --- build ----------------------------------------------------------------------------------
note "building $target into ${target_dir#"$ROOT"/}"
start=$SECONDS
(cd "$ROOT" && CARGO_TARGET_DIR="$target_dir" "$CARGO" build --release --locked --target "$target" --bin escort) \
    || die "cargo build --release --target $target failed"
note "built in $((SECONDS - start)) s"

bin="$target_dir/$target/release/escort$exe"
[ -f "$bin" ] || die "the build did not produce $bin"

# --- check ----------------------------------------------------------------------------------
bash "$ROOT/scripts/check-release.sh" "$static" "$bin"

if [ -n "$out_dir" ]; then
    mkdir -p "$out_dir"
    asset="$out_dir/escort-$target$exe"
    cp "$bin" "$asset"
    echo "asset:  $asset"
fi
