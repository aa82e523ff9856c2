"""Tests of the compute a backend runs on: cluster files, Kubernetes resources, `--cluster`."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))  # server_fixture
