"""`FlyteFile`, where `flytekit.types.file` has it."""

from ...sdk.files import FlyteFile

__all__ = ["FlyteFile"]
