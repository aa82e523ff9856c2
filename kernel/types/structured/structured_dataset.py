"""`flytekit.types.structured.structured_dataset`: the same names, defined in `plait.typesys.structured`."""

from ...typesys.structured import (
    CSV,
    DF,
    GENERIC_FORMAT,
    GENERIC_PROTOCOL,
    LOCAL_PROTOCOL,
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
    "DF",
    "GENERIC_FORMAT",
    "GENERIC_PROTOCOL",
    "LOCAL_PROTOCOL",
    "MESSAGEPACK",
    "PARQUET",
    "DuplicateHandlerError",
    "StructuredDataset",
    "StructuredDatasetDecoder",
    "StructuredDatasetEncoder",
    "StructuredDatasetTransformerEngine",
    "flyte_dataset_transformer",
]
