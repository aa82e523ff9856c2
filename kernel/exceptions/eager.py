"""`flytekit.exceptions.eager` as `plait.exceptions.eager`: `EagerException`."""

from ..sdk.eager import EagerException

__all__ = ["EagerException"]
