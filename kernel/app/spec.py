"""What an app's stored spec (`App.to_spec()`) is held to: its version, the ports it may not take, its digest.

Standard library only: whatever reads a spec can check a digest without
importing the declarations (`plait.app.declaration`) or the user's file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

SPEC_VERSION = 1

# Ports the platform itself listens on next to an app's replicas: an app may not take them.
RESERVED_PORTS: dict[int, str] = {
    8742: "the plait backend's API",
    8786: "the Dask scheduler",
    8787: "the Dask dashboard",
}


def spec_digest(spec: Mapping[str, Any]) -> str:
    """SHA-256 of a spec's canonical JSON, without its own `digest` field: equal digests, nothing to redeploy."""
    body = {k: v for k, v in spec.items() if k != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
