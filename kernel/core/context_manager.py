"""`flytekit.core.context_manager` as `plait.core.context_manager`: the Flyte context.

`FlyteContextManager.current_context()` answers from plait's own state (see
`plait.sdk.flyte_context`); this module only names it where Flyte programs import it.
"""

from __future__ import annotations

from ..sdk.context import ExecutionParameters
from ..sdk.flyte_context import (
    CompilationState,
    ExecutionState,
    FileAccessProvider,
    FlyteContext,
    FlyteContextManager,
)

__all__ = ["CompilationState", "ExecutionParameters", "ExecutionState", "FileAccessProvider", "FlyteContext",
           "FlyteContextManager"]
