"""`flytekit.core.python_function_task` as `plait.core.python_function_task`."""

from __future__ import annotations

from ..sdk.python_task import PythonInstanceTask
from ..sdk.tasks import PythonFunctionTask

__all__ = ["PythonFunctionTask", "PythonInstanceTask"]
