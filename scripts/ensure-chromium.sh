#!/bin/sh
# Make sure a Chromium is installed for the lab extension's browser tests
# (Playwright drives the system's Chromium; it never downloads browsers).
# Does nothing when `chromium` (or PLAIT_CHROMIUM) is found; otherwise installs
# Debian's `chromium` package with apt-get (as root), and fails with
# instructions where it cannot.
set -eu

found() {
    if [ -n "${PLAIT_CHROMIUM:-}" ] && [ -x "$PLAIT_CHROMIUM" ]; then
        return 0
    fi
    command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1
}

if found; then
    exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "Chromium is missing; the lab extension's browser tests need it." >&2
    echo "Install it (Debian/Ubuntu: sudo apt-get install -y chromium), or set PLAIT_CHROMIUM" >&2
    echo "to a Chromium or Chrome executable, and run again." >&2
    exit 1
fi

echo "Installing Chromium for the browser tests (apt-get install chromium)..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null

if ! found; then
    echo "apt-get installed chromium but no chromium executable is on PATH" >&2
    exit 1
fi
