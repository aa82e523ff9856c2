"""`flytekit.core.checkpointer` as `plait.core.checkpointer`: the checkpoint of a task attempt."""

from __future__ import annotations

from ..sdk.checkpoint import Checkpoint

SyncCheckpoint = Checkpoint  # Flyte's name for the one kind plait has

__all__ = ["Checkpoint", "SyncCheckpoint"]
