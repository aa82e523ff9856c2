#!/bin/sh
# Make sure PostgreSQL's server binaries (initdb, pg_ctl) are installed: the
# backend tests start a private PostgreSQL cluster with them. Does nothing when
# they are present; otherwise installs Debian's `postgresql` package with
# apt-get (as root), and fails with instructions where it cannot.
#
# PLAIT_PG_BINDIRS (default /usr/lib/postgresql/*/bin) is where to look beside PATH.
set -eu

bindirs="${PLAIT_PG_BINDIRS:-/usr/lib/postgresql/*/bin}"

found() {
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        return 0
    fi
    for dir in $bindirs; do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            return 0
        fi
    done
    return 1
}

if found; then
    exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "PostgreSQL's server binaries (initdb, pg_ctl) are missing; the backend tests need them." >&2
    echo "Install PostgreSQL (Debian/Ubuntu: sudo apt-get install -y postgresql) and run again." >&2
    exit 1
fi

echo "Installing PostgreSQL for the backend tests (apt-get install postgresql)..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql >/dev/null

if ! found; then
    echo "apt-get installed postgresql but initdb and pg_ctl are still not found" >&2
    exit 1
fi
