"""The encoders and decoders plait ships: pandas and pyarrow (Parquet and CSV), polars where installed.

Each encoder writes one file, `00000` (Parquet) or `00000.csv`, in the folder
`structured_dataset.uri` (a fresh one from `ctx.file_access` when unset), as
Flyte's do; each decoder reads every data file of the folder, only the
columns the reading task declares.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

from .literal_models import (
    StructuredDatasetLiteral,
    StructuredDatasetMetadata,
    StructuredDatasetType,
)
from .structured import (
    CSV,
    PARQUET,
    DuplicateHandlerError,
    StructuredDataset,
    StructuredDatasetDecoder,
    StructuredDatasetEncoder,
    _data_files,
)


def _folder(ctx: Any, sd: StructuredDataset) -> str:
    folder = sd.uri or ctx.file_access.get_random_remote_directory()
    os.makedirs(folder, exist_ok=True)
    return folder


def _stored(folder: str, sd_type: StructuredDatasetType, fmt: str) -> StructuredDatasetLiteral:
    stored_type = StructuredDatasetType(columns=sd_type.columns, format=fmt)
    return StructuredDatasetLiteral(uri=folder, metadata=StructuredDatasetMetadata(stored_type))


def _columns(metadata: StructuredDatasetMetadata) -> list[str] | None:
    sd_type = metadata.structured_dataset_type if metadata is not None else None
    names = [c.name for c in (sd_type.columns or [])] if sd_type is not None else []
    return names or None


def _files(uri: str) -> list[str]:
    found = _data_files(uri)
    if not found:
        raise FileNotFoundError(f"no data files at {uri!r}: the StructuredDataset's storage is missing")
    return found


# ------------------------------------------------------------------ pandas


class PandasToParquetEncodingHandler(StructuredDatasetEncoder[Any]):
    def __init__(self) -> None:
        import pandas as pd

        super().__init__(pd.DataFrame, None, PARQUET)

    def encode(self, ctx: Any, structured_dataset: StructuredDataset,
               structured_dataset_type: StructuredDatasetType) -> StructuredDatasetLiteral:
        folder = _folder(ctx, structured_dataset)
        structured_dataset.dataframe.to_parquet(os.path.join(folder, "00000"), coerce_timestamps="us",
                                                allow_truncated_timestamps=False)
        return _stored(folder, structured_dataset_type, PARQUET)


class ParquetToPandasDecodingHandler(StructuredDatasetDecoder[Any]):
    def __init__(self) -> None:
        import pandas as pd

        super().__init__(pd.DataFrame, None, PARQUET)

    def decode(self, ctx: Any, flyte_value: StructuredDatasetLiteral,
               current_task_metadata: StructuredDatasetMetadata) -> Any:
        import pandas as pd

        columns = _columns(current_task_metadata)
        frames = [pd.read_parquet(f, columns=columns) for f in _files(flyte_value.uri)]
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


class PandasToCSVEncodingHandler(StructuredDatasetEncoder[Any]):
    def __init__(self) -> None:
        import pandas as pd

        super().__init__(pd.DataFrame, None, CSV)

    def encode(self, ctx: Any, structured_dataset: StructuredDataset,
               structured_dataset_type: StructuredDatasetType) -> StructuredDatasetLiteral:
        folder = _folder(ctx, structured_dataset)
        structured_dataset.dataframe.to_csv(os.path.join(folder, "00000.csv"), index=False)
        return _stored(folder, structured_dataset_type, CSV)


class CSVToPandasDecodingHandler(StructuredDatasetDecoder[Any]):
    def __init__(self) -> None:
        import pandas as pd

        super().__init__(pd.DataFrame, None, CSV)

    def decode(self, ctx: Any, flyte_value: StructuredDatasetLiteral,
               current_task_metadata: StructuredDatasetMetadata) -> Any:
        import pandas as pd

        columns = _columns(current_task_metadata)
        frames = [pd.read_csv(f, usecols=columns) for f in _files(flyte_value.uri)]
        frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        return frame[columns] if columns else frame  # in the declared order, as Parquet reads them


# ------------------------------------------------------------------ pyarrow


class ArrowToParquetEncodingHandler(StructuredDatasetEncoder[Any]):
    def __init__(self) -> None:
        import pyarrow as pa

        super().__init__(pa.Table, None, PARQUET)

    def encode(self, ctx: Any, structured_dataset: StructuredDataset,
               structured_dataset_type: StructuredDatasetType) -> StructuredDatasetLiteral:
        import pyarrow.parquet as pq

        folder = _folder(ctx, structured_dataset)
        pq.write_table(structured_dataset.dataframe, os.path.join(folder, "00000"))
        return _stored(folder, structured_dataset_type, PARQUET)


class ParquetToArrowDecodingHandler(StructuredDatasetDecoder[Any]):
    def __init__(self) -> None:
        import pyarrow as pa

        super().__init__(pa.Table, None, PARQUET)

    def decode(self, ctx: Any, flyte_value: StructuredDatasetLiteral,
               current_task_metadata: StructuredDatasetMetadata) -> Any:
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns = _columns(current_task_metadata)
        tables = [pq.read_table(f, columns=columns) for f in _files(flyte_value.uri)]
        return tables[0] if len(tables) == 1 else pa.concat_tables(tables)


class CSVToArrowDecodingHandler(StructuredDatasetDecoder[Any]):
    def __init__(self) -> None:
        import pyarrow as pa

        super().__init__(pa.Table, None, CSV)

    def decode(self, ctx: Any, flyte_value: StructuredDatasetLiteral,
               current_task_metadata: StructuredDatasetMetadata) -> Any:
        import pyarrow as pa
        from pyarrow import csv

        columns = _columns(current_task_metadata)
        options = csv.ConvertOptions(include_columns=columns) if columns else None
        tables = [csv.read_csv(f, convert_options=options) for f in _files(flyte_value.uri)]
        return tables[0] if len(tables) == 1 else pa.concat_tables(tables)


# ------------------------------------------------------------------ polars


class PolarsToParquetEncodingHandler(StructuredDatasetEncoder[Any]):
    def __init__(self) -> None:
        import polars as pl

        super().__init__(pl.DataFrame, None, PARQUET)

    def encode(self, ctx: Any, structured_dataset: StructuredDataset,
               structured_dataset_type: StructuredDatasetType) -> StructuredDatasetLiteral:
        folder = _folder(ctx, structured_dataset)
        structured_dataset.dataframe.write_parquet(os.path.join(folder, "00000"))
        return _stored(folder, structured_dataset_type, PARQUET)


class ParquetToPolarsDecodingHandler(StructuredDatasetDecoder[Any]):
    def __init__(self) -> None:
        import polars as pl

        super().__init__(pl.DataFrame, None, PARQUET)

    def decode(self, ctx: Any, flyte_value: StructuredDatasetLiteral,
               current_task_metadata: StructuredDatasetMetadata) -> Any:
        import polars as pl

        columns = _columns(current_task_metadata)
        frames = [pl.read_parquet(f, columns=columns) for f in _files(flyte_value.uri)]
        return frames[0] if len(frames) == 1 else pl.concat(frames)


def register_installed(engine: Any) -> None:
    """Register the handlers of the libraries that are installed (once, on first use)."""
    handlers: list[type] = []
    if importlib.util.find_spec("pandas") is not None:
        handlers += [PandasToParquetEncodingHandler, ParquetToPandasDecodingHandler,
                     PandasToCSVEncodingHandler, CSVToPandasDecodingHandler]
    if importlib.util.find_spec("pyarrow") is not None:
        handlers += [ArrowToParquetEncodingHandler, ParquetToArrowDecodingHandler, CSVToArrowDecodingHandler]
    if importlib.util.find_spec("polars") is not None:
        handlers += [PolarsToParquetEncodingHandler, ParquetToPolarsDecodingHandler]
    for handler in handlers:
        try:
            engine.register(handler())
        except DuplicateHandlerError:
            continue  # the program registered its own for this key first: it stays
