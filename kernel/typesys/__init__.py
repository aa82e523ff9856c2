"""The plait type system: Python annotations to typed specs, checks and literals.

Three jobs, each cached per annotation:
- `type_spec(tp)`: a JSON-able description that travels in specs;
- `checker(tp)`: a fast function that validates (and lightly coerces) a value;
- `to_literal` / `from_literal`: JSON form of a value, used for defaults,
  CLI input and cache keys.

Only the standard library is imported here; pandas and the file types are
recognised by name so that importing this module stays cheap.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import functools
import hashlib
import types
import typing
from collections.abc import Callable
from typing import Any

from ..errors import ValueTypeError as ValueTypeError
from ..model.keys import literal_hash as literal_hash

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


def _is_union(tp: Any) -> bool:
    origin = typing.get_origin(tp)
    return origin is typing.Union or origin is types.UnionType


def _qualname(tp: Any) -> str:
    return f"{tp.__module__}.{tp.__qualname__}"


def _is_dataframe(tp: Any) -> bool:
    return isinstance(tp, type) and tp.__name__ == "DataFrame" and tp.__module__.startswith("pandas")


def _file_kind(tp: Any) -> str | None:
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
    if _is_union(tp):
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
    spec = _bare_type_spec(tp)
    extras = [m for m in meta if hasattr(m, "to_spec")]
    if extras:
        spec = {**spec, "annotations": [m.to_spec() for m in extras]}
    return spec


def _bare_type_spec(tp: Any) -> dict[str, Any]:
    if tp is None:
        tp = NoneType
    if tp in _SCALARS:
        return {"kind": _SCALARS[tp]}
    if tp is Any or tp is object:
        return {"kind": "pickle"}
    if _is_union(tp):
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
    kind = _file_kind(tp)
    if kind is not None:
        return {"kind": kind, "format": getattr(tp, "__plait_format__", "")}
    if _is_dataframe(tp):
        return {"kind": "dataframe", "format": "parquet"}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"kind": "enum", "name": _qualname(tp), "values": [m.value for m in tp]}
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
            "name": _qualname(tp),
            "fields": {f.name: type_spec(hints.get(f.name, Any)) for f in dataclasses.fields(tp)},
        }
    if isinstance(tp, type):
        return {"kind": "pickle", "name": _qualname(tp)}
    raise TypeError(f"unsupported annotation {tp!r}")


# ---------------------------------------------------------------- assignability


def is_assignable(src: Any, dst: Any) -> bool:
    """Can a value of annotation `src` bind to an input of annotation `dst`?"""
    src, _ = strip_annotated(src)
    dst, _ = strip_annotated(dst)
    if src == dst or dst is Any or dst is object or src is Any:
        return True
    if _is_union(src):
        return all(is_assignable(a, dst) for a in typing.get_args(src))
    if _is_union(dst):
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
    s_kind, d_kind = _file_kind(src), _file_kind(dst)
    if s_kind and d_kind:
        return s_kind == d_kind
    if isinstance(src, type) and isinstance(dst, type):
        return issubclass(src, dst) and not (src is bool and dst is int)
    return False


# --------------------------------------------------------------------- checkers

Checker = Callable[[Any], Any]


def checker(tp: Any) -> Checker:
    """A function that returns the value (coerced where safe) or raises ValueTypeError."""
    try:
        return _checker_cached(tp)
    except TypeError as exc:
        if isinstance(exc, ValueTypeError):
            raise
        return _build_checker(tp)


@functools.lru_cache(maxsize=4096)
def _checker_cached(tp: Any) -> Checker:
    return _build_checker(tp)


def _fail(expected: str, value: Any, where: str = "") -> typing.NoReturn:
    raise ValueTypeError(expected, value_type_name(value), where)


def _build_checker(tp: Any) -> Checker:
    tp, _ = strip_annotated(tp)
    if tp is Any or tp is object:
        return _identity
    if tp is None or tp is NoneType:
        return _check_none
    if tp is int:
        return _check_int
    if tp is float:
        return _check_float
    if tp is bool:
        return _simple(bool, "bool")
    if tp is str:
        return _simple(str, "str")
    if tp is bytes:
        return _simple(bytes, "bytes")
    if tp is _dt.datetime:
        return _simple(_dt.datetime, "datetime")
    if tp is _dt.date:
        return _simple(_dt.date, "date")
    if tp is _dt.timedelta:
        return _simple(_dt.timedelta, "timedelta")
    expected = describe(tp)
    if _is_union(tp):
        variants = [checker(a) for a in typing.get_args(tp)]
        optional = NoneType in typing.get_args(tp)

        def check_union(value: Any) -> Any:
            if value is None and optional:
                return None
            for check in variants:
                try:
                    return check(value)
                except ValueTypeError:
                    continue
            _fail(expected, value)

        return check_union
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is list or tp is list:
        item = checker(args[0]) if args else _identity

        def check_list(value: Any) -> Any:
            if not isinstance(value, list):
                if isinstance(value, tuple):
                    value = list(value)
                else:
                    _fail(expected, value)
            if item is _identity:
                return value
            try:
                return [item(v) for v in value]
            except ValueTypeError as exc:
                raise ValueTypeError(expected, value_type_name(value), exc.where) from None

        return check_list
    if origin is dict or tp is dict:
        k_check = checker(args[0]) if args else _identity
        v_check = checker(args[1]) if args else _identity

        def check_dict(value: Any) -> Any:
            if not isinstance(value, dict):
                _fail(expected, value)
            try:
                return {k_check(k): v_check(v) for k, v in value.items()}
            except ValueTypeError:
                _fail(expected, value)

        return check_dict
    if origin is tuple:
        items = [checker(a) for a in args if a is not Ellipsis]

        def check_tuple(value: Any) -> Any:
            if not isinstance(value, (tuple, list)) or len(value) != len(items):
                _fail(expected, value)
            return tuple(c(v) for c, v in zip(items, value, strict=True))

        return check_tuple
    kind = _file_kind(tp)
    if kind is not None:
        return tp.__plait_check__  # type: ignore[no-any-return]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):

        def check_enum(value: Any) -> Any:
            if isinstance(value, tp):
                return value
            try:
                return tp(value)
            except ValueError:
                _fail(f"{expected} (one of {[m.value for m in tp]})", value)

        return check_enum
    if isinstance(tp, type):
        return _simple(tp, expected)
    return _identity


def _identity(value: Any) -> Any:
    return value


def _check_none(value: Any) -> Any:
    if value is not None:
        _fail("None", value)
    return None


def _check_int(value: Any) -> Any:
    if type(value) is int:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    if hasattr(value, "__index__") and not isinstance(value, bool):  # numpy integers
        return int(value)
    _fail("int", value)


def _check_float(value: Any) -> Any:
    if type(value) is float:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hasattr(value, "__float__") and not isinstance(value, (bool, str)):  # numpy floats
        return float(value)
    _fail("float", value)


def _simple(tp: type, expected: str) -> Checker:
    def check(value: Any) -> Any:
        if isinstance(value, tp) and not (tp is not bool and isinstance(value, bool) and tp is int):
            return value
        _fail(expected, value)

    return check


# --------------------------------------------------------------------- literals


def to_literal(tp: Any, value: Any) -> Any:
    """The JSON form of `value` under annotation `tp` (for specs, the CLI, cache keys)."""
    tp, _ = strip_annotated(tp)
    if value is None:
        return None
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
    if _is_union(tp):
        errors = []
        for variant in typing.get_args(tp):
            if variant is NoneType:
                continue
            try:
                return checker(variant)(from_literal(variant, lit))
            except (ValueTypeError, ValueError, TypeError) as exc:
                errors.append(exc)
        raise ValueTypeError(describe(tp), value_type_name(lit))
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
    if _file_kind(tp) is not None:
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
    if _is_dataframe(type(value)):
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
