"""`flytekit.types.pickle` as `plait.types.pickle`: `BatchSize` for lists of pickled values."""

from ...sdk.batch_size import BatchSize

__all__ = ["BatchSize"]
