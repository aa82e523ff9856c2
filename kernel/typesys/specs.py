"""Annotations as type specs: `type_spec`, `describe`, `is_assignable` and the introspection under them.

A type spec is the JSON-able description of an annotation that travels in
task and workflow specs (`{"kind": "list", "of": {"kind": "integer"}}`).
pandas and the plait file types are recognised by name, so nothing heavy is
imported here.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import functools
import types
import typing
from typing import Any

NoneType = type(None)

_SCALARS: dict[Any, str] = {
    int: "integer",
    float: "float",
    bool: "boolean",
    str: "string",
    bytes: "bytes",
    _dt.datetime: "datetime",
    _dt.date: "date",
    _dt.timedelta: "duration",
    NoneType: "none",
}


# ---------------------------------------------------------------- introspection


def strip_annotated(tp: Any) -> tuple[Any, tuple[Any, ...]]:
    """`Annotated[T, m1, m2]` -> (T, (m1, m2)); anything else -> (tp, ())."""
    if typing.get_origin(tp) is typing.Annotated:
        args = typing.get_args(tp)
        return args[0], tuple(args[1:])
    return tp, ()


def is_namedtuple(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, tuple) and hasattr(tp, "_fields")


def is_union(tp: Any) -> bool:
    """`Union[A, B]`, `Optional[A]` or `A | B`."""
    origin = typing.get_origin(tp)
    return origin is typing.Union or origin is types.UnionType


def qualname(tp: Any) -> str:
    return f"{tp.__module__}.{tp.__qualname__}"


def is_dataframe(tp: Any) -> bool:
    """A pandas DataFrame class (recognised without importing pandas)."""
    return isinstance(tp, type) and tp.__name__ == "DataFrame" and tp.__module__.startswith("pandas")


def is_tabular(tp: Any) -> bool:
    """A StructuredDataset or a data frame class one can be opened as (pandas, pyarrow, polars)."""
    if getattr(tp, "__plait_structured_checker__", None) is not None or is_dataframe(tp):
        return True
    return isinstance(tp, type) and (
        (tp.__name__ == "Table" and tp.__module__.startswith("pyarrow"))
        or (tp.__name__ == "DataFrame" and tp.__module__.startswith("polars"))
    )


def file_kind(tp: Any) -> str | None:
    """'file' or 'directory' for the plait file types (and their format variants)."""
    base = getattr(tp, "__plait_file_kind__", None)
    return base if isinstance(base, str) else None


def describe(tp: Any) -> str:
    """A short, user-facing name for an annotation: `list[int]`, `Optional[str]`."""
    tp, _ = strip_annotated(tp)
    if tp is NoneType or tp is None:
        return "None"
    if tp is Any:
        return "Any"
    if is_union(tp):
        args = typing.get_args(tp)
        if len(args) == 2 and NoneType in args:
            inner = args[0] if args[1] is NoneType else args[1]
            return f"Optional[{describe(inner)}]"
        return " | ".join(describe(a) for a in args)
    origin = typing.get_origin(tp)
    if origin is not None:
        args = typing.get_args(tp)
        name = getattr(origin, "__name__", str(origin))
        if not args:
            return name
        return f"{name}[{', '.join(describe(a) for a in args)}]"
    if isinstance(tp, type):
        fmt = getattr(tp, "__plait_format__", "")
        return f"{tp.__name__}[{fmt!r}]" if fmt else tp.__name__
    return repr(tp)


def value_type_name(value: Any) -> str:
    """The type of a runtime value, spelled the way `describe` spells types."""
    if isinstance(value, list):
        inner = sorted({value_type_name(v) for v in value[:20]})
        return f"list[{' | '.join(inner)}]" if inner else "list"
    if isinstance(value, dict):
        keys = sorted({value_type_name(k) for k in list(value)[:20]})
        vals = sorted({value_type_name(v) for v in list(value.values())[:20]})
        return f"dict[{' | '.join(keys)}, {' | '.join(vals)}]" if keys else "dict"
    return "None" if value is None else type(value).__name__


# -------------------------------------------------------------------- type spec


@functools.lru_cache(maxsize=4096)
def _type_spec_cached(tp: Any) -> dict[str, Any]:
    return _type_spec(tp)


def type_spec(tp: Any) -> dict[str, Any]:
    """JSON-able description of an annotation, as stored in specs."""
    try:
        return _type_spec_cached(tp)
    except TypeError:  # unhashable annotation (rare): compute without caching
        return _type_spec(tp)


def _type_spec(tp: Any) -> dict[str, Any]:
    tp, meta = strip_annotated(tp)
    spec = _bare_type_spec(tp, meta)
    extras = [m for m in meta if hasattr(m, "to_spec")]
    if extras:
        spec = {**spec, "annotations": [m.to_spec() for m in extras]}
    return spec


def _bare_type_spec(tp: Any, meta: tuple[Any, ...] = ()) -> dict[str, Any]:
    if tp is None:
        tp = NoneType
    if tp in _SCALARS:
        return {"kind": _SCALARS[tp]}
    if tp is Any or tp is object:
        return {"kind": "pickle"}
    if is_union(tp):
        args = typing.get_args(tp)
        if len(args) == 2 and NoneType in args:
            inner = args[0] if args[1] is NoneType else args[1]
            return {"kind": "optional", "of": type_spec(inner)}
        return {"kind": "union", "variants": [type_spec(a) for a in args]}
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (list, typing.List):  # noqa: UP006
        return {"kind": "list", "of": type_spec(args[0] if args else Any)}
    if origin in (dict, typing.Dict):  # noqa: UP006
        key, val = args if args else (str, Any)
        return {"kind": "dict", "key": type_spec(key), "value": type_spec(val)}
    if origin in (tuple, typing.Tuple):  # noqa: UP006
        return {"kind": "tuple", "items": [type_spec(a) for a in args]}
    if tp in (list, dict, tuple):
        return {"kind": {list: "list", dict: "dict", tuple: "tuple"}[tp], "of": {"kind": "pickle"}}
    kind = file_kind(tp)
    if kind is not None:
        return {"kind": kind, "format": getattr(tp, "__plait_format__", "")}
    if is_dataframe(tp):
        return {"kind": "dataframe", "format": "parquet"}
    structured = getattr(tp, "__plait_structured_spec__", None)  # StructuredDataset
    if structured is not None:
        return structured(meta)  # type: ignore[no-any-return]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"kind": "enum", "name": qualname(tp), "values": [m.value for m in tp]}
    if is_namedtuple(tp):
        hints = typing.get_type_hints(tp, include_extras=True)
        return {
            "kind": "namedtuple",
            "name": tp.__name__,
            "fields": {f: type_spec(hints.get(f, Any)) for f in tp._fields},
        }
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp, include_extras=True)
        return {
            "kind": "dataclass",
            "name": qualname(tp),
            "fields": {f.name: type_spec(hints.get(f.name, Any)) for f in dataclasses.fields(tp)},
        }
    if isinstance(tp, type):
        from . import transformers  # user-registered types (plait.extend.TypeEngine)

        transformer = transformers.find(tp)
        if transformer is not None:
            return {"kind": "pickle", "name": qualname(tp), "transformer": transformer.name}
        transformers.warn_pickled(tp)
        return {"kind": "pickle", "name": qualname(tp)}
    raise TypeError(f"unsupported annotation {tp!r}")


# ---------------------------------------------------------------- assignability


def is_assignable(src: Any, dst: Any) -> bool:
    """Can a value of annotation `src` bind to an input of annotation `dst`?"""
    src, _ = strip_annotated(src)
    dst, _ = strip_annotated(dst)
    if src == dst or dst is Any or dst is object or src is Any:
        return True
    if is_union(src):
        return all(is_assignable(a, dst) for a in typing.get_args(src))
    if is_union(dst):
        return any(is_assignable(src, a) for a in typing.get_args(dst))
    if dst is float and src is int:
        return True
    s_origin, d_origin = typing.get_origin(src), typing.get_origin(dst)
    if s_origin is not None and s_origin == d_origin:
        s_args, d_args = typing.get_args(src), typing.get_args(dst)
        if not s_args or not d_args:
            return True
        if len(s_args) != len(d_args):
            return False
        return all(is_assignable(a, b) for a, b in zip(s_args, d_args, strict=True))
    if s_origin is None and d_origin is not None:
        return src is d_origin
    if d_origin is None and s_origin is not None:
        return dst is s_origin
    s_kind, d_kind = file_kind(src), file_kind(dst)
    if s_kind and d_kind:
        return s_kind == d_kind
    if is_tabular(src) and is_tabular(dst):  # a data frame binds to a StructuredDataset and back
        return True
    if isinstance(src, type) and isinstance(dst, type):
        return issubclass(src, dst) and not (src is bool and dst is int)
    return False
