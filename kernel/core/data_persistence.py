"""`flytekit.core.data_persistence` as `plait.core.data_persistence`: `ctx.file_access`'s class."""

from __future__ import annotations

from ..sdk.flyte_context import FileAccessProvider

__all__ = ["FileAccessProvider"]
