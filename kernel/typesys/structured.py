"""`StructuredDataset`: a data frame of any library, stored as Parquet (by default) between tasks.

A task returns `StructuredDataset(dataframe=df)` (or a plain data frame where
it declares `-> StructuredDataset`); when the attempt ends the data is written
by the encoder registered for (the frame's class, the storage protocol, the
format) into the execution's data folder, and downstream tasks get a
`StructuredDataset` that points at it. They read it with
`sd.open(pd.DataFrame).all()` (or `.iter()` where the decoder yields chunks),
or declare `pd.DataFrame`/`pa.Table` and get the frame directly.
`Annotated[StructuredDataset, kwtypes(a=int)]` reads only the named columns;
`Annotated[StructuredDataset, "csv"]` picks the format written.

Encoders and decoders are registered with
`StructuredDatasetTransformerEngine.register(handler)` per (Python type,
protocol, format); pandas and pyarrow handlers (and polars where it is
installed) are registered the first time one is needed. On the backend the
value travels as one Parquet file in the object store, and the content hash
of that file stands for it in cache keys.

Programs import these names from `plait.types.structured` (where Flyte has
them); they live in the type system so that the backend's workers can move
the values without the SDK.
"""

from __future__ import annotations

import collections
import hashlib
import io
import os
import shutil
import tempfile
import threading
import types
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Iterator
from typing import Any, Generic, TypeVar

from ..errors import ValueTypeError
from .literal_models import (
    DatasetColumn,
    StructuredDatasetLiteral,
    StructuredDatasetMetadata,
    StructuredDatasetType,
)
from .specs import describe, value_type_name
from .transformers import context

DF = TypeVar("DF")
T = TypeVar("T")

PARQUET = "parquet"
CSV = "csv"
MESSAGEPACK = "msgpack"
GENERIC_FORMAT = ""
GENERIC_PROTOCOL = "generic protocol"
LOCAL_PROTOCOL = "file"
"""plait stores data frames on the local file system (and moves the bytes to the object store)."""


_builtins_lock = threading.Lock()


class DuplicateHandlerError(ValueError):
    """An encoder or decoder is already registered for this (type, protocol, format)."""


# --------------------------------------------------------------------- the value


class StructuredDataset:
    """A data frame passed between tasks, stored at `uri` in `file_format`.

    Make one from a frame (`StructuredDataset(dataframe=df)`) or from data
    already stored (`StructuredDataset(uri=path, file_format="parquet")`);
    read it with `open(frame_class).all()`.
    """

    def __init__(self, dataframe: Any = None, uri: str | os.PathLike[str] | None = None,
                 metadata: StructuredDatasetMetadata | None = None, file_format: str = GENERIC_FORMAT,
                 **kwargs: Any) -> None:
        self._dataframe = dataframe
        self.uri = os.fspath(uri) if uri is not None else None
        self.file_format = file_format or ""
        self._metadata = metadata
        self._dataframe_type: Any = None
        self._columns: dict[str, Any] | None = None  # the columns to read (from the annotation)
        self._literal_sd: StructuredDatasetLiteral | None = None

    @classmethod
    def columns(cls) -> dict[str, type]:
        """Flyte's class-level column map; columns are declared with `Annotated` here."""
        return {}

    @classmethod
    def column_names(cls) -> list[str]:
        return list(cls.columns())

    @property
    def dataframe(self) -> Any:
        """The frame this value was made from (None when it was read from storage)."""
        return self._dataframe

    @property
    def metadata(self) -> StructuredDatasetMetadata:
        if self._metadata is None:
            cols = [DatasetColumn(n) for n in (self._columns or {})]
            self._metadata = StructuredDatasetMetadata(StructuredDatasetType(columns=cols, format=self.file_format))
        return self._metadata

    @property
    def literal(self) -> StructuredDatasetLiteral | None:
        if self._literal_sd is None and self.uri is not None:
            self._literal_sd = StructuredDatasetLiteral(uri=self.uri, metadata=self.metadata)
        return self._literal_sd

    def open(self, dataframe_type: type[DF]) -> StructuredDataset:
        """Choose the frame class `all()` and `iter()` return."""
        self._dataframe_type = dataframe_type
        return self

    def all(self) -> Any:
        """The whole data set as the class given to `open()`."""
        if self._dataframe_type is None:
            raise ValueError("No dataframe type set. Use open() to set the local dataframe type you want to use.")
        result = _engine().read(self, self._dataframe_type)
        if isinstance(result, types.GeneratorType):
            raise ValueError(f"the decoder for {describe(self._dataframe_type)} yields chunks; "
                             "read this StructuredDataset with .iter() instead of .all()")
        return result

    def iter(self) -> Iterator[Any]:
        """The data set in chunks, from a decoder that yields them (as in Flyte)."""
        if self._dataframe_type is None:
            raise ValueError("No dataframe type set. Use open() to set the local dataframe type you want to use.")
        result = _engine().read(self, self._dataframe_type)
        if not isinstance(result, (types.GeneratorType, Iterator)):
            raise ValueError(f"the decoder for {describe(self._dataframe_type)} returns the whole frame, "
                             "not an iterator of chunks; read this StructuredDataset with .all()")
        return result

    def __repr__(self) -> str:
        where = f"uri={self.uri!r}" if self.uri else f"dataframe={type(self._dataframe).__name__}"
        cols = f", columns={list(self._columns)}" if self._columns else ""
        fmt = f", file_format={self.file_format!r}" if self.file_format else ""
        return f"StructuredDataset({where}{fmt}{cols})"

    def _view(self, columns: dict[str, Any] | None, file_format: str) -> StructuredDataset:
        """The same data read as an annotation says: its columns, its format."""
        view = StructuredDataset(self._dataframe, self.uri, None, self.file_format or file_format)
        view._columns = columns if columns is not None else self._columns
        return view

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        """As a field of a pydantic model: a StructuredDataset, a frame an encoder writes, or
        `{"uri": ..., "file_format": ...}` (its JSON form); the data travels with the model
        (`plait.sdk.model_files`)."""
        from pydantic_core import core_schema

        check = cls.__plait_structured_checker__(())

        def validate(value: Any) -> Any:
            if isinstance(value, dict) and isinstance(value.get("uri"), str):
                return cls(uri=value["uri"], file_format=value.get("file_format") or PARQUET)
            try:
                return check(value)
            except ValueTypeError:
                raise ValueError(f"expected a StructuredDataset or a data frame, got {type(value).__name__}") from None

        def dump(value: Any) -> Any:
            return {"uri": value.uri, "file_format": value.file_format or PARQUET}

        return core_schema.no_info_plain_validator_function(
            validate, serialization=core_schema.plain_serializer_function_ser_schema(dump, when_used="json"))

    # ---- hooks used by the type system, the engine and the backend's workers

    @classmethod
    def __plait_structured_checker__(cls, meta: tuple[Any, ...]) -> Callable[[Any], Any]:
        columns, fmt = columns_and_format(meta)

        def check_structured_dataset(value: Any) -> Any:
            if isinstance(value, StructuredDataset):
                sd = value
            elif _engine().can_encode(type(value)):
                sd = StructuredDataset(dataframe=value)
            else:
                raise ValueTypeError("StructuredDataset", value_type_name(value))
            return sd._view(columns, fmt) if (columns is not None or fmt) else sd

        return check_structured_dataset

    @classmethod
    def __plait_structured_spec__(cls, meta: tuple[Any, ...]) -> dict[str, Any]:
        columns, fmt = columns_and_format(meta)
        spec: dict[str, Any] = {"kind": "dataframe", "format": fmt or PARQUET, "name": "StructuredDataset"}
        if columns:
            spec["columns"] = {n: describe(t) for n, t in columns.items()}
        return spec

    @classmethod
    def __plait_from_literal__(cls, lit: Any) -> StructuredDataset:
        if isinstance(lit, dict):
            return cls(uri=lit.get("path") or lit.get("uri"), file_format=lit.get("format", PARQUET))
        return cls(uri=lit, file_format=PARQUET)

    def __plait_literal__(self) -> dict[str, Any]:
        if self.uri is None:
            raise TypeError("a StructuredDataset made from a data frame has no stored form yet")
        return {"path": self.uri, "format": self.file_format or PARQUET}

    def __plait_open_as__(self, dataframe_type: Any, meta: tuple[Any, ...]) -> Any:
        """Passed where a frame class is declared: read as that class (columns from `meta`)."""
        columns, _ = columns_and_format(meta)
        view = self._view(columns, "")
        if not _engine().can_decode(dataframe_type, view.file_format or PARQUET):
            raise ValueTypeError(describe(dataframe_type),
                                 f"StructuredDataset (no decoder reads it as {describe(dataframe_type)})")
        return view.open(dataframe_type).all()

    def __plait_persist__(self, ctx: Any, data_dir: Callable[[], str]) -> StructuredDataset:
        """Write a frame with its encoder (or move data the attempt wrote) into the data folder."""
        if self.uri is not None:
            if ctx is None or not ctx.owns(self.uri):
                return self
            dest = os.path.join(data_dir(), f"sd-{uuid.uuid4().hex[:12]}")
            shutil.move(self.uri, dest)
            moved = StructuredDataset(uri=dest, file_format=self.file_format)
            moved._columns = self._columns
            return moved
        if self._dataframe is None:
            raise ValueError("StructuredDataset has neither a dataframe nor a uri; give one of them")
        return _engine().write(self, os.path.join(data_dir(), f"sd-{uuid.uuid4().hex[:12]}"))

    def __plait_hash__(self) -> str:
        return "sd:" + hashlib.sha256(self.__plait_stored_bytes__()[0]).hexdigest()

    def __plait_stored_bytes__(self) -> tuple[bytes, str]:
        """The data as one file and its format: how it travels to the object store and what is hashed.

        Data stored as one file is that file; a frame not stored yet is
        written by its encoder first; data in several files (an encoder of
        the program's own) is read as an Arrow table and written as Parquet.
        """
        source = self
        if self.uri is None:
            source = _engine().write(self, tempfile.mkdtemp(prefix="plait-sd-"))
        parts = _data_files(source.uri or "")
        if len(parts) == 1:
            with open(parts[0], "rb") as fh:
                return fh.read(), source.file_format or PARQUET
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = StructuredDataset(uri=source.uri, file_format=source.file_format).open(pa.Table).all()
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        return buffer.getvalue(), PARQUET

    @classmethod
    def __plait_from_stored_bytes__(cls, data: bytes, file_format: str = PARQUET,
                                    columns: list[str] | None = None) -> StructuredDataset:
        """A value from the object store's bytes (on a worker or a client, in a local folder)."""
        folder = tempfile.mkdtemp(prefix="plait-sd-")
        name = "00000" if file_format == PARQUET else f"00000.{file_format}"
        with open(os.path.join(folder, name), "wb") as fh:
            fh.write(data)
        sd = cls(uri=folder, file_format=file_format)
        sd._columns = dict.fromkeys(columns) if columns else None
        return sd


def _data_files(uri: str) -> list[str]:
    if os.path.isdir(uri):
        return sorted(os.path.join(uri, n) for n in os.listdir(uri) if not n.startswith((".", "_")))
    return [uri] if os.path.exists(uri) else []


def columns_and_format(meta: tuple[Any, ...]) -> tuple[dict[str, Any] | None, str]:
    """The columns (`kwtypes(...)`) and format (`"csv"`) an `Annotated[...]` names."""
    columns: dict[str, Any] | None = None
    fmt = GENERIC_FORMAT
    for m in meta:
        if isinstance(m, (dict, collections.OrderedDict)):
            columns = dict(m)
        elif isinstance(m, str):
            fmt = m
    return columns, fmt


# --------------------------------------------------------------------- handlers


class _Handler:
    """What an encoder and a decoder share: the frame class, the protocol (None: any storage)
    and the format they handle."""

    def __init__(self, python_type: type[Any], protocol: str | None = None, supported_format: str | None = None):
        self._python_type = python_type
        self._protocol = protocol.replace("://", "") if protocol else None
        self._supported_format = supported_format or ""

    @property
    def python_type(self) -> type[Any]:
        return self._python_type

    @property
    def protocol(self) -> str | None:
        return self._protocol

    @property
    def supported_format(self) -> str:
        return self._supported_format


class StructuredDatasetEncoder(_Handler, ABC, Generic[T]):
    """Writes frames of `python_type` in `supported_format` (protocol None: any storage)."""

    @abstractmethod
    def encode(self, ctx: Any, structured_dataset: StructuredDataset,
               structured_dataset_type: StructuredDatasetType) -> StructuredDatasetLiteral:
        """Store `structured_dataset.dataframe` (at `structured_dataset.uri` when set); say where."""


class StructuredDatasetDecoder(_Handler, ABC, Generic[DF]):
    """Reads stored data of `supported_format` as frames of `python_type`."""

    def __init__(self, python_type: type[DF], protocol: str | None = None, supported_format: str | None = None,
                 additional_protocols: list[str] | None = None):
        super().__init__(python_type, protocol, supported_format)
        self._additional_protocols = additional_protocols or []

    @abstractmethod
    def decode(self, ctx: Any, flyte_value: StructuredDatasetLiteral,
               current_task_metadata: StructuredDatasetMetadata) -> DF | Generator[DF, None, None]:
        """The data at `flyte_value.uri`, only the columns `current_task_metadata` names if any."""


Handler = StructuredDatasetEncoder[Any] | StructuredDatasetDecoder[Any]


class StructuredDatasetTransformerEngine:
    """The registry of encoders and decoders, per (Python type, protocol, format)."""

    ENCODERS: dict[type, dict[str, dict[str, StructuredDatasetEncoder[Any]]]] = {}
    DECODERS: dict[type, dict[str, dict[str, StructuredDatasetDecoder[Any]]]] = {}
    DEFAULT_FORMATS: dict[type, str] = {}
    DEFAULT_PROTOCOLS: dict[type, str] = {}
    Renderers: dict[type, Any] = {}
    _builtins_loaded = False

    @classmethod
    def register(cls, h: Handler, default_for_type: bool = False, override: bool = False,
                 default_format_for_type: bool = False, default_storage_for_type: bool = False) -> None:
        """Use encoder or decoder `h` for its (python_type, protocol, format).

        A second handler for the same key raises DuplicateHandlerError unless
        `override=True`; `default_for_type` (or `default_format_for_type`)
        makes its format the one written for that type when none is named.
        """
        if isinstance(h, StructuredDatasetEncoder):
            table: dict[type, dict[str, dict[str, Any]]] = cls.ENCODERS
        elif isinstance(h, StructuredDatasetDecoder):
            table = cls.DECODERS
        else:
            raise TypeError(f"StructuredDatasetTransformerEngine.register expects a StructuredDatasetEncoder "
                            f"or StructuredDatasetDecoder, got {type(h).__name__}")
        protocol = h.protocol or GENERIC_PROTOCOL
        by_format = table.setdefault(h.python_type, {}).setdefault(protocol, {})
        if h.supported_format in by_format and not override:
            raise DuplicateHandlerError(
                f"a {'n encoder' if table is cls.ENCODERS else ' decoder'} for "
                f"({describe(h.python_type)}, {protocol!r}, {h.supported_format!r}) is already registered: "
                f"{by_format[h.supported_format]!r}; pass override=True to replace it"
            )
        by_format[h.supported_format] = h
        if default_for_type or default_format_for_type:
            cls.DEFAULT_FORMATS[h.python_type] = h.supported_format
        if default_for_type or default_storage_for_type:
            cls.DEFAULT_PROTOCOLS[h.python_type] = protocol

    @classmethod
    def register_renderer(cls, python_type: type, renderer: Any) -> None:
        """Kept for Flyte programs: plait has no decks, so the renderer is only remembered."""
        cls.Renderers[python_type] = renderer

    @classmethod
    def _load_builtins(cls) -> None:
        if cls._builtins_loaded:
            return
        with _builtins_lock:  # tasks of one workflow run on several threads
            if not cls._builtins_loaded:
                from . import structured_handlers

                structured_handlers.register_installed(cls)
                cls._builtins_loaded = True

    @classmethod
    def _find(cls, table: dict[type, dict[str, dict[str, Any]]], df_type: Any, fmt: str) -> Any:
        cls._load_builtins()
        for klass in (df_type.__mro__ if isinstance(df_type, type) else (df_type,)):
            protocols = table.get(klass)
            if not protocols:
                continue
            for protocol in (LOCAL_PROTOCOL, GENERIC_PROTOCOL):
                by_format = protocols.get(protocol, {})
                for candidate in (fmt, GENERIC_FORMAT) if fmt else (cls.DEFAULT_FORMATS.get(klass, PARQUET),
                                                                      PARQUET, GENERIC_FORMAT):
                    if candidate in by_format:
                        return by_format[candidate]
            if fmt == GENERIC_FORMAT:  # no format named: any handler of this type
                for by_format in protocols.values():
                    if by_format:
                        return next(iter(by_format.values()))
        return None

    @classmethod
    def get_encoder(cls, df_type: Any, protocol: str = LOCAL_PROTOCOL,
                    format: str = GENERIC_FORMAT) -> StructuredDatasetEncoder[Any]:  # noqa: A002
        found = cls._find(cls.ENCODERS, df_type, format)
        if found is None:
            raise ValueError(f"no StructuredDatasetEncoder for ({describe(df_type)}, {protocol!r}, {format!r}); "
                             "register one with StructuredDatasetTransformerEngine.register(...)")
        return found  # type: ignore[no-any-return]

    @classmethod
    def get_decoder(cls, df_type: Any, protocol: str = LOCAL_PROTOCOL,
                    format: str = GENERIC_FORMAT) -> StructuredDatasetDecoder[Any]:  # noqa: A002
        found = cls._find(cls.DECODERS, df_type, format)
        if found is None:
            raise ValueError(f"no StructuredDatasetDecoder for ({describe(df_type)}, {protocol!r}, {format!r}); "
                             "register one with StructuredDatasetTransformerEngine.register(...)")
        return found  # type: ignore[no-any-return]

    @classmethod
    def can_encode(cls, df_type: Any) -> bool:
        return cls._find(cls.ENCODERS, df_type, GENERIC_FORMAT) is not None

    @classmethod
    def can_decode(cls, df_type: Any, fmt: str) -> bool:
        return cls._find(cls.DECODERS, df_type, fmt) is not None

    # ---- writing and reading

    @classmethod
    def write(cls, sd: StructuredDataset, uri: str) -> StructuredDataset:
        """`sd`'s frame written by its encoder (at `uri` for the built-in ones): the stored value."""
        frame = sd.dataframe
        encoder = cls.get_encoder(type(frame), LOCAL_PROTOCOL, sd.file_format)
        fmt = encoder.supported_format or sd.file_format or PARQUET
        cols = [DatasetColumn(n) for n in (sd._columns or {})]
        sd_type = StructuredDatasetType(columns=cols, format=fmt)
        target = StructuredDataset(dataframe=frame, uri=uri, file_format=fmt)
        lit = encoder.encode(context(), target, sd_type)
        stored_format = fmt
        if lit.metadata is not None and lit.metadata.structured_dataset_type is not None:
            stored_format = lit.metadata.structured_dataset_type.format or fmt
        stored = StructuredDataset(uri=lit.uri, file_format=stored_format)
        stored._columns = sd._columns
        return stored

    @classmethod
    def read(cls, sd: StructuredDataset, df_type: Any) -> Any:
        """`sd` as `df_type`, only its declared columns if it has some."""
        source = sd
        if sd.uri is None:
            if sd.dataframe is None:
                raise ValueError("StructuredDataset has neither a dataframe nor a uri; give one of them")
            if isinstance(sd.dataframe, df_type) and not sd._columns:
                return sd.dataframe  # already the frame asked for
            source = cls.write(sd, tempfile.mkdtemp(prefix="plait-sd-"))
        fmt = source.file_format or PARQUET
        decoder = cls.get_decoder(df_type, LOCAL_PROTOCOL, fmt)
        cols = [DatasetColumn(n) for n in (sd._columns or {})]
        metadata = StructuredDatasetMetadata(StructuredDatasetType(columns=cols, format=fmt))
        return decoder.decode(context(), StructuredDatasetLiteral(uri=source.uri or "", metadata=metadata), metadata)

    def open_as(self, ctx: Any, sd: StructuredDatasetLiteral, df_type: Any,
                updated_metadata: StructuredDatasetMetadata) -> Any:
        """Flyte's spelling: the stored data set `sd` read as `df_type`."""
        value = StructuredDataset(uri=sd.uri, file_format=_format_of(sd.metadata))
        names = [c.name for c in (_columns_of(updated_metadata) or _columns_of(sd.metadata))]
        value._columns = dict.fromkeys(names) if names else None
        return value.open(df_type).all()

    def iter_as(self, ctx: Any, sd: StructuredDatasetLiteral, df_type: Any,
                updated_metadata: StructuredDatasetMetadata) -> Iterator[Any]:
        value = StructuredDataset(uri=sd.uri, file_format=_format_of(sd.metadata))
        names = [c.name for c in (_columns_of(updated_metadata) or _columns_of(sd.metadata))]
        value._columns = dict.fromkeys(names) if names else None
        return value.open(df_type).iter()


def _format_of(metadata: StructuredDatasetMetadata | None) -> str:
    sd_type = metadata.structured_dataset_type if metadata is not None else None
    return (sd_type.format if sd_type is not None else "") or PARQUET


def _columns_of(metadata: StructuredDatasetMetadata | None) -> list[Any]:
    sd_type = metadata.structured_dataset_type if metadata is not None else None
    return list(sd_type.columns or []) if sd_type is not None else []


def _engine() -> type[StructuredDatasetTransformerEngine]:
    return StructuredDatasetTransformerEngine


flyte_dataset_transformer = StructuredDatasetTransformerEngine()
