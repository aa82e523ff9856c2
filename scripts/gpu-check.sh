#!/bin/sh
# The GPU check, one command, for a machine with an NVIDIA GPU: a pool advertising the GPU,
# a task that computes on it with torch or cupy, and the NVML figures recorded for it.
#   sh scripts/gpu-check.sh
set -eu
cd "$(dirname "$0")/.."
make install >/dev/null
exec .venv/bin/python scripts/gpu_check.py "$@"
