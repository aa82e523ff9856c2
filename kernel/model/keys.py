"""The keys both sides compute alike: entity versions, cache keys and value hashes.

The local engine computes them from Python values; the backend computes the
same keys from specs and JSON literals, without the user's types. Both call
these functions, so a cache entry written by one is found by the other.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

__all__ = ["cache_key", "content_version", "literal_hash", "signature_from_spec"]


def content_version(spec: dict[str, Any]) -> str:
    """The version of an entity registered without one: a hash of its spec."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:16]


def signature_from_spec(name: str, interface: dict[str, Any]) -> str:
    """The same signature computed from a spec's interface (as the backend holds it)."""
    return json.dumps(
        {
            "name": name,
            "inputs": {n: entry["type"] for n, entry in interface["inputs"].items()},
            "outputs": dict(interface["outputs"]),
        },
        sort_keys=True,
    )


def cache_key(version: str, signature: str, input_hashes: dict[str, str], ignored: Iterable[str]) -> str:
    """The cache key of a node: its cache version, signature and input hashes (ignored inputs left out)."""
    skip = set(ignored)
    parts = [version, signature]
    for k in sorted(input_hashes):
        if k not in skip:
            parts.append(f"{k}={input_hashes[k]}")
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def literal_hash(lit: Any) -> str:
    """The hash of a value given as its JSON literal; equals `value_hash` of the value.

    The backend computes cache keys from literals without the Python types, so
    both sides must spell a value's hash the same way.
    """
    cls = lit.__class__
    if cls is int or cls is str or cls is float or cls is bool or lit is None:
        return f"{cls.__name__[0]}:{lit!r}"
    encoded = json.dumps(lit, sort_keys=True, separators=(",", ":"))
    return encoded if len(encoded) <= 64 else "j:" + hashlib.sha256(encoded.encode()).hexdigest()
