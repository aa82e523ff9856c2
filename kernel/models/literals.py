"""`flytekit.models.literals`: the literals a custom type transformer returns."""

from ..typesys.literal_models import (
    Binary,
    Blob,
    BlobMetadata,
    Literal,
    LiteralCollection,
    LiteralMap,
    Primitive,
    Scalar,
    StructuredDataset,
    StructuredDatasetMetadata,
)

__all__ = ["Binary", "Blob", "BlobMetadata", "Literal", "LiteralCollection", "LiteralMap", "Primitive",
           "Scalar", "StructuredDataset", "StructuredDatasetMetadata"]
