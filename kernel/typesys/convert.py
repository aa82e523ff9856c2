"""Values to JSON literals and back (`to_literal`, `from_literal`), and their content hashes.

A literal is the JSON form of a value under its annotation: defaults in
specs, inputs of remote executions, and the text of cache keys. Values that
JSON cannot hold directly are tagged: `{"__datetime__": "2024-05-01T10:00:00"}`,
`{"__date__": ...}`, `{"__duration__": seconds}`, `{"__bytes__": hex}`.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import hashlib
import typing
from typing import Any

from ..errors import ValueTypeError
from ..model.keys import literal_hash
from . import transformers
from .checks import checker
from .specs import (
    NoneType,
    describe,
    file_kind,
    is_dataframe,
    is_namedtuple,
    is_union,
    strip_annotated,
    value_type_name,
)

# --------------------------------------------------------------------- literals


def to_literal(tp: Any, value: Any) -> Any:
    """The JSON form of `value` under annotation `tp` (for specs, the CLI, cache keys)."""
    tp, _ = strip_annotated(tp)
    if value is None:
        return None
    if transformers.registered():  # a program's own types (plait.extend.TypeEngine), by annotation or value
        own = tp if transformers.find(tp) is not None else type(value)
        transformer = transformers.find(own)
        if transformer is not None:
            return transformers.literal_of(transformer, own, value)
    if isinstance(value, bool) or isinstance(value, (int, float, str)):
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, _dt.datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, _dt.date):
        return {"__date__": value.isoformat()}
    if isinstance(value, _dt.timedelta):
        return {"__duration__": value.total_seconds()}
    if isinstance(value, bytes):
        return {"__bytes__": value.hex()}
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if isinstance(value, (list, tuple)) and not is_namedtuple(type(value)):
        if origin is tuple and args:
            return [to_literal(a, v) for a, v in zip(args, value, strict=False)]
        item = args[0] if origin is list and args else Any
        return [to_literal(item, v) for v in value]
    if isinstance(value, dict):
        val_tp = args[1] if origin is dict and len(args) == 2 else Any
        return {str(k): to_literal(val_tp, v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        hints = typing.get_type_hints(type(value))
        return {
            f.name: to_literal(hints.get(f.name, Any), getattr(value, f.name))
            for f in dataclasses.fields(value)
        }
    to_lit = getattr(value, "__plait_literal__", None)
    if to_lit is not None:
        return to_lit()
    raise ValueTypeError(describe(tp), f"{type(value).__name__} (not JSON-representable)")


def from_literal(tp: Any, lit: Any) -> Any:
    """Rebuild a Python value of annotation `tp` from its JSON form."""
    tp, _ = strip_annotated(tp)
    if lit is None:
        return None
    if isinstance(lit, dict) and len(lit) == 1:
        (key, raw), = lit.items()
        if key == "__datetime__":
            return _dt.datetime.fromisoformat(raw)
        if key == "__date__":
            return _dt.date.fromisoformat(raw)
        if key == "__duration__":
            return _dt.timedelta(seconds=raw)
        if key == "__bytes__":
            return bytes.fromhex(raw)
    if is_union(tp):
        for variant in typing.get_args(tp):
            if variant is NoneType:
                continue
            try:
                return checker(variant)(from_literal(variant, lit))
            except (ValueTypeError, ValueError, TypeError):
                continue
        raise ValueTypeError(describe(tp), value_type_name(lit))
    transformer = transformers.find(tp)
    if transformer is not None:
        return transformers.value_of(transformer, tp, lit)
    structured = getattr(tp, "__plait_from_literal__", None)  # StructuredDataset
    if structured is not None:
        return structured(lit)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is list or tp is list:
        item = args[0] if args else Any
        return [from_literal(item, v) for v in lit]
    if origin is dict or tp is dict:
        key_tp, val_tp = args if args else (str, Any)
        return {_key_from(key_tp, k): from_literal(val_tp, v) for k, v in lit.items()}
    if origin is tuple:
        return tuple(from_literal(a, v) for a, v in zip(args, lit, strict=False))
    if tp is _dt.datetime and isinstance(lit, str):
        return _dt.datetime.fromisoformat(lit)
    if tp is _dt.date and isinstance(lit, str):
        return _dt.date.fromisoformat(lit)
    if tp is _dt.timedelta and isinstance(lit, (int, float)):
        return _dt.timedelta(seconds=lit)
    if tp is float and isinstance(lit, int) and not isinstance(lit, bool):
        return float(lit)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(lit)
    if file_kind(tp) is not None:
        return tp(lit["path"] if isinstance(lit, dict) else lit)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp) and isinstance(lit, dict):
        hints = typing.get_type_hints(tp)
        return tp(**{k: from_literal(hints.get(k, Any), v) for k, v in lit.items()})
    return lit


def _key_from(tp: Any, key: str) -> Any:
    if tp is int:
        return int(key)
    if tp is float:
        return float(key)
    return key


# ----------------------------------------------------------------------- hashing


def value_hash(tp: Any, value: Any) -> str:
    """A stable content hash of a value, used in cache keys and for lineage."""
    cls = value.__class__
    if cls is int or cls is str or cls is float or cls is bool or value is None:
        if typing.get_origin(tp) is not typing.Annotated:
            return f"{cls.__name__[0]}:{value!r}"
    base, meta = strip_annotated(tp)
    for m in meta:
        hasher = getattr(m, "function", None)
        if callable(hasher) and type(m).__name__ == "HashMethod":
            return "h:" + str(hasher(value))
    content_hash = getattr(value, "__plait_hash__", None)
    if content_hash is not None:
        return str(content_hash())
    if is_dataframe(type(value)):
        import pandas as pd  # only when a DataFrame is actually hashed

        digest = hashlib.sha256(pd.util.hash_pandas_object(value, index=True).values.tobytes())
        digest.update(repr(list(value.columns)).encode())
        return "df:" + digest.hexdigest()
    try:
        lit = to_literal(base, value)
    except (ValueTypeError, TypeError):
        import pickle

        return "p:" + hashlib.sha256(pickle.dumps(value, protocol=4)).hexdigest()
    return literal_hash(lit)
