"""`StructuredDataset` and its encoder/decoder registry, where `flytekit.types.structured` has them."""

from ...typesys.structured import (
    CSV,
    GENERIC_FORMAT,
    GENERIC_PROTOCOL,
    MESSAGEPACK,
    PARQUET,
    DuplicateHandlerError,
    StructuredDataset,
    StructuredDatasetDecoder,
    StructuredDatasetEncoder,
    StructuredDatasetTransformerEngine,
    flyte_dataset_transformer,
)

__all__ = [
    "CSV",
    "GENERIC_FORMAT",
    "GENERIC_PROTOCOL",
    "MESSAGEPACK",
    "PARQUET",
    "DuplicateHandlerError",
    "StructuredDataset",
    "StructuredDatasetDecoder",
    "StructuredDatasetEncoder",
    "StructuredDatasetTransformerEngine",
    "flyte_dataset_transformer",
]
