"""`flytekit.core.node_creation`: `create_node`."""

from ..sdk.nodes import create_node

__all__ = ["create_node"]
