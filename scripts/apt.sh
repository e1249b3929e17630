# shellcheck shell=bash
# Sourced by the release scripts. `apt_install PKG...` installs Debian packages as root,
# or with `sudo -n` when that works; `apt-get update` first only when the install fails (a
# stale or empty package list). Returns non-zero where there is no apt-get or no root.
# Uses the caller's `note`.
apt_install() {
    local sudo=""
    command -v apt-get >/dev/null 2>&1 || return 1
    if [ "$(id -u)" != 0 ]; then
        sudo -n true 2>/dev/null || return 1
        sudo="sudo -n"
    fi
    note "installing $* with apt-get"
    $sudo apt-get install -y -qq "$@" >/dev/null 2>&1 \
        || { $sudo apt-get update -qq >/dev/null 2>&1 && $sudo apt-get install -y -qq "$@" >/dev/null 2>&1; }
}
