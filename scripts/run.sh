#!/usr/bin/env bash
# `make run`: the plait backend (SQLite, local Dask cluster) and JupyterLab on notebooks/.
# Both stop together when JupyterLab is stopped (Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export PLAIT_HOME=${PLAIT_HOME:-$HOME/.plait}
mkdir -p "$PLAIT_HOME/logs"

"$VENV/bin/python" -m plait server >"$PLAIT_HOME/logs/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  [ -f "$PLAIT_HOME/server.json" ] && break
  kill -0 "$server" 2>/dev/null || { echo "plait server failed to start; see $PLAIT_HOME/logs/server.log" >&2; exit 1; }
  sleep 0.5
done
echo "plait server: $(cat "$PLAIT_HOME/server.json") (log: $PLAIT_HOME/logs/server.log)"

root_flag=()
[ "$(id -u)" = 0 ] && root_flag=(--allow-root)
cd notebooks
"../$VENV/bin/jupyter" lab --ip 127.0.0.1 "${root_flag[@]}" "$@"
