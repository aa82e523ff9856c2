"""The literal classes a custom type transformer builds (`flytekit.models.literals`/`types`).

A user's `TypeTransformer.to_literal` returns a `Literal` made of these, and
`to_python_value` reads one back. plait stores a literal as JSON
(`to_json`/`from_json`), so it travels in value refs to the backend's workers
and is hashed for cache keys like any other literal. Only the fields that
transformers written for Flyte actually set are modelled; the protobuf
machinery of the originals is not.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, ClassVar

__all__ = [
    "Binary",
    "Blob",
    "DatasetColumn",
    "BlobMetadata",
    "BlobType",
    "Literal",
    "LiteralCollection",
    "LiteralMap",
    "LiteralType",
    "Primitive",
    "Scalar",
    "SimpleType",
    "StructuredDataset",
    "StructuredDatasetLiteral",
    "StructuredDatasetMetadata",
    "StructuredDatasetType",
]


class _Model:
    """Keyword fields, equality by fields, and a JSON form (`to_json`/`from_json`)."""

    _fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **values: Any) -> None:
        for name in self._fields:
            setattr(self, "_" + name, values.get(name))

    def __getattr__(self, name: str) -> Any:
        if name in type(self)._fields:
            return self.__dict__.get("_" + name)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self._fields)

    def __hash__(self) -> int:
        return hash(tuple(repr(getattr(self, f)) for f in self._fields))

    def __repr__(self) -> str:
        set_fields = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields if getattr(self, f) is not None)
        return f"{type(self).__name__}({set_fields})"

    def to_json(self) -> dict[str, Any]:
        return {f: _dump(getattr(self, f)) for f in self._fields if getattr(self, f) is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Any:
        return cls(**{f: _load(cls._nested.get(f), data[f]) for f in cls._fields if f in data})

    _nested: ClassVar[dict[str, Any]] = {}


def _dump(value: Any) -> Any:
    if isinstance(value, _Model):
        return value.to_json()
    if isinstance(value, _dt.datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, _dt.timedelta):
        return {"__duration__": value.total_seconds()}
    if isinstance(value, bytes):
        return {"__bytes__": value.hex()}
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


def _load(kind: Any, raw: Any) -> Any:
    if isinstance(raw, dict) and len(raw) == 1:
        key, val = next(iter(raw.items()))
        if key == "__datetime__":
            return _dt.datetime.fromisoformat(val)
        if key == "__duration__":
            return _dt.timedelta(seconds=val)
        if key == "__bytes__":
            return bytes.fromhex(val)
    if kind is None:
        return raw
    if isinstance(kind, list):  # a list of models
        return [_load(kind[0], v) for v in raw]
    if isinstance(kind, dict):  # a mapping of models
        return {k: _load(kind["*"], v) for k, v in raw.items()}
    return kind.from_json(raw)


class SimpleType:
    """The simple literal types, numbered as in Flyte's IDL."""

    NONE = 0
    INTEGER = 1
    FLOAT = 2
    STRING = 3
    BOOLEAN = 4
    DATETIME = 5
    DURATION = 6
    BINARY = 7
    ERROR = 8
    STRUCT = 9


class BlobType(_Model):
    """What a blob holds: its `format` and whether it is one file or a folder of parts."""

    class BlobDimensionality:
        SINGLE = 0
        MULTIPART = 1

    _fields = ("format", "dimensionality")

    def __init__(self, format: str = "", dimensionality: int = 0) -> None:  # noqa: A002 - Flyte's name
        super().__init__(format=format, dimensionality=dimensionality)


class DatasetColumn(_Model):
    """One declared column of a data frame: its name and literal type."""

    _fields = ("name", "literal_type")

    def __init__(self, name: str, literal_type: LiteralType | None = None) -> None:
        super().__init__(name=name, literal_type=literal_type)


class StructuredDatasetType(_Model):
    """A data frame's declared columns and storage format."""

    DatasetColumn = DatasetColumn

    _fields = ("columns", "format", "external_schema_type", "external_schema_bytes")

    def __init__(self, columns: list[Any] | None = None, format: str = "",  # noqa: A002
                 external_schema_type: str | None = None, external_schema_bytes: bytes | None = None) -> None:
        super().__init__(columns=columns or [], format=format, external_schema_type=external_schema_type,
                         external_schema_bytes=external_schema_bytes)


class LiteralType(_Model):
    """The type of a literal: `LiteralType(simple=SimpleType.STRING)`, `LiteralType(blob=...)`."""

    _fields = ("simple", "blob", "collection_type", "map_value_type", "structured_dataset_type", "metadata")

    def __init__(self, simple: int | None = None, blob: BlobType | None = None,
                 collection_type: LiteralType | None = None, map_value_type: LiteralType | None = None,
                 structured_dataset_type: StructuredDatasetType | None = None,
                 metadata: dict[str, Any] | None = None, **_ignored: Any) -> None:
        super().__init__(simple=simple, blob=blob, collection_type=collection_type,
                         map_value_type=map_value_type, structured_dataset_type=structured_dataset_type,
                         metadata=metadata)


class Primitive(_Model):
    """One scalar value: set exactly one field."""

    _fields = ("integer", "float_value", "string_value", "boolean", "datetime", "duration")

    def __init__(self, integer: int | None = None, float_value: float | None = None,
                 string_value: str | None = None, boolean: bool | None = None,
                 datetime: _dt.datetime | None = None, duration: _dt.timedelta | None = None) -> None:
        super().__init__(integer=integer, float_value=float_value, string_value=string_value,
                         boolean=boolean, datetime=datetime, duration=duration)

    @property
    def value(self) -> Any:
        """The one field that is set."""
        for name in self._fields:
            found = getattr(self, name)
            if found is not None:
                return found
        return None


class BlobMetadata(_Model):
    _fields = ("type",)

    def __init__(self, type: BlobType) -> None:  # noqa: A002 - Flyte's name
        super().__init__(type=type)


class Blob(_Model):
    """A file or folder at `uri`."""

    _fields = ("metadata", "uri")

    def __init__(self, metadata: BlobMetadata, uri: str) -> None:
        super().__init__(metadata=metadata, uri=uri)


class Binary(_Model):
    """Bytes with a tag saying how to read them."""

    _fields = ("value", "tag")

    def __init__(self, value: bytes, tag: str = "") -> None:
        super().__init__(value=value, tag=tag)


class StructuredDatasetMetadata(_Model):
    _fields = ("structured_dataset_type",)

    def __init__(self, structured_dataset_type: StructuredDatasetType | None = None) -> None:
        super().__init__(structured_dataset_type=structured_dataset_type)


class StructuredDatasetLiteral(_Model):
    """A stored data frame (`flytekit.models.literals.StructuredDataset`): where, and how."""

    _fields = ("uri", "metadata")

    def __init__(self, uri: str, metadata: StructuredDatasetMetadata | None = None) -> None:
        super().__init__(uri=uri, metadata=metadata)


class Scalar(_Model):
    """A single value: a primitive, a blob, bytes, a data frame or none."""

    _fields = ("primitive", "blob", "binary", "structured_dataset", "none_type", "generic")

    def __init__(self, primitive: Primitive | None = None, blob: Blob | None = None,
                 binary: Binary | None = None, structured_dataset: StructuredDatasetLiteral | None = None,
                 none_type: Any = None, generic: dict[str, Any] | None = None, **_ignored: Any) -> None:
        super().__init__(primitive=primitive, blob=blob, binary=binary, structured_dataset=structured_dataset,
                         none_type=none_type, generic=generic)

    @property
    def value(self) -> Any:
        for name in self._fields:
            found = getattr(self, name)
            if found is not None:
                return found
        return None


class LiteralCollection(_Model):
    _fields = ("literals",)

    def __init__(self, literals: list[Literal]) -> None:
        super().__init__(literals=list(literals))


class LiteralMap(_Model):
    _fields = ("literals",)

    def __init__(self, literals: dict[str, Literal]) -> None:
        super().__init__(literals=dict(literals))


class Literal(_Model):
    """A value in Flyte's literal form: a scalar, a collection or a map."""

    _fields = ("scalar", "collection", "map", "hash", "metadata")

    def __init__(self, scalar: Scalar | None = None, collection: LiteralCollection | None = None,
                 map: LiteralMap | None = None, hash: str | None = None,  # noqa: A002 - Flyte's names
                 metadata: dict[str, str] | None = None, **_ignored: Any) -> None:
        super().__init__(scalar=scalar, collection=collection, map=map, hash=hash, metadata=metadata)

    @property
    def value(self) -> Any:
        for name in ("scalar", "collection", "map"):
            found = getattr(self, name)
            if found is not None:
                return found
        return None


BlobType._nested = {}
BlobMetadata._nested = {"type": BlobType}
Blob._nested = {"metadata": BlobMetadata}
DatasetColumn._nested = {"literal_type": LiteralType}
StructuredDatasetType._nested = {"columns": [DatasetColumn]}
StructuredDatasetMetadata._nested = {"structured_dataset_type": StructuredDatasetType}
StructuredDatasetLiteral._nested = {"metadata": StructuredDatasetMetadata}
LiteralType._nested = {"blob": BlobType, "collection_type": LiteralType, "map_value_type": LiteralType,
                       "structured_dataset_type": StructuredDatasetType}
Scalar._nested = {"primitive": Primitive, "blob": Blob, "binary": Binary,
                  "structured_dataset": StructuredDatasetLiteral}
LiteralCollection._nested = {"literals": [Literal]}
LiteralMap._nested = {"literals": {"*": Literal}}
Literal._nested = {"scalar": Scalar, "collection": LiteralCollection, "map": LiteralMap}

StructuredDataset = StructuredDatasetLiteral  # Flyte's name in `flytekit.models.literals`
