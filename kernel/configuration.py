"""`flytekit.configuration`: `Config`, which says where the backend is for `UnionRemote`."""

from .remote.flyte import Config

__all__ = ["Config"]
