#!/bin/sh
# Make sure code-server (browser VS Code, for plait workspaces) is installed in
# the virtual environment at $1/code-server (default .venv/code-server).
# Does nothing when it is there; otherwise installs Debian's build prerequisites
# with apt-get (as root) when missing, then code-server 4.100.3 (the last
# release that runs on Node 20) from the npm registry. About a minute, 300 MB.
#
# code-server's own post-install steps download ripgrep from GitHub and prompt
# for node-gyp; both are avoided: the system's `rg` is copied in and the
# native modules are rebuilt with `npm rebuild`.
set -eu

venv="${1:-.venv}"
dest="$venv/code-server"
bin="$dest/node_modules/.bin/code-server"
version=4.100.3

if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q "^$version"; then
    exit 0
fi

missing=""
command -v rg >/dev/null 2>&1 || missing="$missing ripgrep"
command -v krb5-config >/dev/null 2>&1 || missing="$missing libkrb5-dev"
command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
command -v make >/dev/null 2>&1 && command -v g++ >/dev/null 2>&1 || missing="$missing build-essential"
if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "code-server (plait workspaces) needs:$missing; install them" >&2
        echo "(Debian/Ubuntu: sudo apt-get install -y$missing) and run again." >&2
        exit 1
    fi
    echo "Installing code-server's build prerequisites (apt-get install$missing)..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "code-server needs Node 20 and npm, which are missing; install them and run again." >&2
    exit 1
fi

echo "Installing code-server $version into $dest (about a minute)..." >&2
rm -rf "$dest.partial"
mkdir -p "$dest.partial"
cd "$dest.partial"
echo '{"name":"plait-code-server","private":true}' > package.json
export npm_config_unsafe_perm=true npm_config_yes=true npm_config_audit=false npm_config_fund=false
npm install --silent --ignore-scripts "code-server@$version" >/dev/null
(
    cd node_modules/code-server/lib/vscode
    npm install --silent --omit=dev --ignore-scripts >/dev/null
    mkdir -p node_modules/@vscode/ripgrep/bin
    cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
    npm rebuild --silent >/dev/null
)
npm rebuild --silent >/dev/null
cd - >/dev/null
rm -rf "$dest"
mv "$dest.partial" "$dest"
"$bin" --version >/dev/null
echo "code-server $version: $bin" >&2
