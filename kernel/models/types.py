"""`flytekit.models.types`: the literal types a custom type transformer declares."""

from ..typesys.literal_models import LiteralType, SimpleType, StructuredDatasetType

__all__ = ["LiteralType", "SimpleType", "StructuredDatasetType"]
