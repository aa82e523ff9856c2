"""`flytekit.core.base_task` as `plait.core.base_task`: the base of task classes."""

from __future__ import annotations

from ..sdk.python_task import PythonTask
from ..sdk.tasks import TaskMetadata

__all__ = ["PythonTask", "TaskMetadata"]
