#!/bin/sh
# The escort Feature's start command (its postStartCommand), run in the workspace folder at
# each start of the container. Merges the ESC environment's variables into .env the way
# `escort sync --to dotenv:.env` does (keys added by hand stay, the file stays 0600; nothing
# is rewritten when nothing changed), then runs the smoke check. Without ESC_ENV (a
# Codespaces secret, or the container's environment) it says what to set and does nothing.
set -u

dir="$(cat "$(dirname "$0")/directory" 2>/dev/null || true)"
if [ -n "$dir" ]; then
    cd "$dir" || exit 1
fi
if [ -z "${ESC_ENV:-}" ]; then
    echo "escort: ESC_ENV is not set (a Codespaces secret, with ESC_TOKEN): .env was not updated"
    exit 0
fi
escort sync --from esc --to dotenv:.env ||
    echo "escort: .env was not updated from ESC; the check below says what is missing"
exec escort check
