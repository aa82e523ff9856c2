"""`create_node`: call an entity inside a workflow and get its node."""

from __future__ import annotations

from typing import Any

from ..errors import CompileError
from .compiler import Node, current_builder


def create_node(entity: Any, *args: Any, **kwargs: Any) -> Node:
    """Add `entity` as a node and return the node (`.outputs`, `.o0`, `>>`, `with_overrides`)."""
    builder = current_builder()
    if builder is None:
        raise CompileError(
            f"create_node({getattr(entity, 'name', entity)}) works only inside a workflow "
            "definition; call the task directly to run it"
        )
    result = builder.add(entity, args, kwargs)
    return result.ref  # type: ignore[no-any-return]
