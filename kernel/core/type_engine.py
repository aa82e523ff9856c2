"""`flytekit.core.type_engine`: the transformer registry, as `plait.extend` has it."""

from ..extend import TypeEngine, TypeTransformer, TypeTransformerFailedError

__all__ = ["TypeEngine", "TypeTransformer", "TypeTransformerFailedError"]
