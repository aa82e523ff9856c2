"""`flytekit.models.core.types`: what a blob holds."""

from ...typesys.literal_models import BlobType

__all__ = ["BlobType"]
