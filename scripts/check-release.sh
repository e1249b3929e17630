#!/usr/bin/env bash
# Checks a release binary against the size budget (docs/development.md, "Releasing"):
#   - its size is under the budget: 6 MB read as 6,000,000 bytes (SI megabytes, the
#     stricter of the two readings, so it also holds for 6 MiB = 6,291,456 bytes);
#   - on Linux targets, that it is static: `file` must say "static" (e.g. "static-pie
#     linked" or "statically linked"), and, when readelf is there, the ELF file has no
#     program interpreter and no NEEDED shared libraries.
# Prints the path, the size and `file`'s description; exits 1 with a message naming the
# failed check.
#
# Usage: scripts/check-release.sh [--static | --no-static] BINARY
#   --static      require a static binary (the default when BINARY is an ELF file)
#   --no-static   skip the static check (macOS and Windows builds)
# Environment:
#   ESCORT_SIZE_BUDGET   the budget in bytes (default 6000000); the binary must be smaller
set -euo pipefail

die() { echo "check-release: error: $*" >&2; exit 1; }
note() { echo "check-release: $*" >&2; }

static=""
while [ "$#" -gt 0 ]; do
    case "$1" in
    --static) static=1; shift ;;
    --no-static) static=0; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    -*) die "unknown option: $1" ;;
    *) break ;;
    esac
done
[ "$#" -eq 1 ] || die "usage: scripts/check-release.sh [--static | --no-static] BINARY"
bin="$1"
[ -f "$bin" ] || die "no such file: $bin"

budget="${ESCORT_SIZE_BUDGET:-6000000}"
[[ "$budget" =~ ^[0-9]+$ ]] || die "ESCORT_SIZE_BUDGET must be a number of bytes, not '$budget'"

# shellcheck source=scripts/apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

is_elf() { [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; }

if [ -z "$static" ]; then
    if is_elf "$bin"; then static=1; else static=0; fi
fi

size="$(wc -c <"$bin" | tr -d ' ')"
desc="(file not installed)"
if [ "$static" = 1 ] && ! command -v file >/dev/null 2>&1; then
    apt_install file || die "the static check needs the \`file\` command (Debian package: file)"
fi
if command -v file >/dev/null 2>&1; then desc="$(file -b "$bin")"; fi

mb="$(awk -v s="$size" 'BEGIN { printf "%.2f MB, %.2f MiB", s / 1e6, s / 1048576 }')"
echo "binary: $bin"
echo "size:   $size bytes ($mb); budget: under $budget bytes"
echo "file:   $desc"

failed=0
if [ "$size" -ge "$budget" ]; then
    echo "check-release: FAILED: $bin is $size bytes, not under the budget of $budget bytes (docs/development.md, Releasing: under 6 MB)" >&2
    failed=1
fi
if [ "$static" = 1 ]; then
    case "$desc" in
    *static*) ;;
    *)
        echo "check-release: FAILED: \`file\` does not call $bin static: $desc" >&2
        failed=1
        ;;
    esac
    if command -v readelf >/dev/null 2>&1 && is_elf "$bin"; then
        if readelf -lW "$bin" 2>/dev/null | grep -q 'Requesting program interpreter'; then
            echo "check-release: FAILED: $bin asks for a program interpreter (a dynamic loader)" >&2
            failed=1
        fi
        needed="$(readelf -dW "$bin" 2>/dev/null | awk '/\(NEEDED\)/ { printf "%s ", $NF }')"
        if [ -n "$needed" ]; then
            echo "check-release: FAILED: $bin needs shared libraries: $needed" >&2
            failed=1
        fi
    fi
fi
[ "$failed" = 0 ] || exit 1
if [ "$static" = 1 ]; then
    echo "ok:     under the size budget, and static"
else
    echo "ok:     under the size budget (static check skipped)"
fi
