"""`FlyteDirectory`, where `flytekit.types.directory` has it."""

from ...sdk.files import FlyteDirectory

__all__ = ["FlyteDirectory"]
