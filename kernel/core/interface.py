"""`flytekit.core.interface` as `plait.core.interface`: `Interface(inputs=..., outputs=...)`."""

from __future__ import annotations

from ..sdk.python_task import Interface

__all__ = ["Interface"]
