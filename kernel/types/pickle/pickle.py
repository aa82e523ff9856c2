"""`flytekit.types.pickle.pickle` as `plait.types.pickle.pickle`."""

from ...sdk.batch_size import BatchSize

__all__ = ["BatchSize"]
