"""Check JSON literals against type specs, without Python types at hand.

The backend receives execution inputs as JSON literals (the form that
`plait.typesys.to_literal` writes) and the interface's type specs (the form
that `plait.typesys.type_spec` writes). It has neither the user's classes nor
their modules, so it checks one against the other here: `validate_literal`
returns a sentence saying what is wrong, or None when the literal fits.

Only the standard library is used; nothing is imported from the user's code
and nothing is unpickled.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable
from typing import Any

__all__ = ["describe_type", "literal_type_name", "validate_literal"]

_SCALAR_NAMES = {
    "integer": "int",
    "float": "float",
    "boolean": "bool",
    "string": "str",
    "bytes": "bytes",
    "datetime": "datetime",
    "date": "date",
    "duration": "timedelta",
    "none": "None",
    "dataframe": "DataFrame",
}

_TAGS = {"__datetime__": "datetime", "__date__": "date", "__duration__": "timedelta", "__bytes__": "bytes"}


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def describe_type(spec: Any) -> str:
    """A type spec spelled the way `plait.typesys.describe` spells annotations."""
    if not isinstance(spec, dict):
        return "?"
    kind = spec.get("kind")
    if kind in _SCALAR_NAMES:
        return _SCALAR_NAMES[kind]
    if kind == "list":
        return f"list[{describe_type(spec.get('of', {'kind': 'pickle'}))}]"
    if kind == "dict":
        if "key" not in spec:
            return "dict"
        return f"dict[{describe_type(spec['key'])}, {describe_type(spec.get('value'))}]"
    if kind == "tuple":
        items = spec.get("items")
        return f"tuple[{', '.join(describe_type(i) for i in items)}]" if items else "tuple"
    if kind == "optional":
        return f"Optional[{describe_type(spec.get('of'))}]"
    if kind == "union":
        return " | ".join(describe_type(v) for v in spec.get("variants", []))
    if kind in ("enum", "dataclass", "namedtuple"):
        return _short(str(spec.get("name", kind)))
    if kind in ("file", "directory"):
        base = "FlyteFile" if kind == "file" else "FlyteDirectory"
        fmt = spec.get("format") or ""
        return f"{base}[{fmt!r}]" if fmt else base
    if kind == "pickle":
        return _short(str(spec["name"])) if spec.get("name") else "Any"
    return str(kind)


def literal_type_name(lit: Any, _depth: int = 0) -> str:
    """The type of a JSON literal, spelled like `describe_type` spells types."""
    if lit is None:
        return "None"
    if isinstance(lit, (bool, int, float, str)):
        return type(lit).__name__
    if isinstance(lit, list):
        inner = sorted({literal_type_name(v, _depth + 1) for v in lit[:20]}) if _depth < 4 else []
        return f"list[{' | '.join(inner)}]" if inner else "list"
    if isinstance(lit, dict):
        if len(lit) == 1 and next(iter(lit)) in _TAGS:
            return _TAGS[next(iter(lit))]
        if _depth >= 4:
            return "dict"
        vals = sorted({literal_type_name(v, _depth + 1) for v in list(lit.values())[:20]})
        return f"dict[str, {' | '.join(vals)}]" if vals else "dict"
    return type(lit).__name__


class _Mismatch(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def validate_literal(type_spec: dict[str, Any], literal: Any) -> str | None:
    """None when `literal` is a valid JSON literal of `type_spec`, else what is wrong.

    The sentence names the expected type, the type found and, inside
    containers, where: "expected list[int], got list[int | str]: at `[2]`,
    expected int, got str".
    """
    try:
        _check(type_spec, literal, "")
    except _Mismatch as exc:
        return exc.message
    except RecursionError:
        return f"expected {describe_type(type_spec)}, got a value nested too deeply to check"
    return None


def _fail(spec: dict[str, Any], lit: Any, where: str, why: str = "") -> _Mismatch:
    at = _at(where)
    tail = f" ({why})" if why else ""
    return _Mismatch(f"{at}expected {describe_type(spec)}, got {literal_type_name(lit)}{tail}")


def _at(where: str) -> str:
    return f"at `{where}`, " if where else ""


def _tagged(lit: Any, tag: str) -> tuple[bool, Any]:
    if isinstance(lit, dict) and len(lit) == 1 and tag in lit:
        return True, lit[tag]
    return False, None


def _is_number(lit: Any) -> bool:
    return isinstance(lit, (int, float)) and not isinstance(lit, bool)


def _iso(parse: Callable[[str], Any], text: Any) -> bool:
    if not isinstance(text, str):
        return False
    try:
        parse(text)
    except ValueError:
        return False
    return True


def _check(spec: Any, lit: Any, where: str) -> None:
    if not isinstance(spec, dict) or not isinstance(spec.get("kind"), str):
        raise _Mismatch(f"{_at(where)}the type spec {spec!r} has no `kind`")
    check = _CHECKS.get(spec["kind"])
    if check is None:
        raise _Mismatch(f"type kind `{spec['kind']}` is not known to this version of plait")
    check(spec, lit, where)


# ------------------------------------------------------------------ scalars


def _integer(spec: dict[str, Any], lit: Any, where: str) -> None:
    if not isinstance(lit, int) or isinstance(lit, bool):
        raise _fail(spec, lit, where)


def _float(spec: dict[str, Any], lit: Any, where: str) -> None:
    if not _is_number(lit):
        raise _fail(spec, lit, where)


def _boolean(spec: dict[str, Any], lit: Any, where: str) -> None:
    if not isinstance(lit, bool):
        raise _fail(spec, lit, where)


def _string(spec: dict[str, Any], lit: Any, where: str) -> None:
    if not isinstance(lit, str):
        raise _fail(spec, lit, where)


def _bytes(spec: dict[str, Any], lit: Any, where: str) -> None:
    tagged, raw = _tagged(lit, "__bytes__")
    if not tagged:
        raise _fail(spec, lit, where, 'bytes travel as {"__bytes__": "<hex>"}')
    try:
        bytes.fromhex(raw)
    except (TypeError, ValueError):
        raise _fail(spec, lit, where, f"{raw!r} is not hexadecimal") from None


def _datetime(spec: dict[str, Any], lit: Any, where: str) -> None:
    tagged, raw = _tagged(lit, "__datetime__")
    text = raw if tagged else lit
    if not _iso(_dt.datetime.fromisoformat, text):
        raise _fail(spec, lit, where, "use an ISO 8601 text such as 2024-05-01T12:00:00")


def _date(spec: dict[str, Any], lit: Any, where: str) -> None:
    for tag, parse in (("__date__", _dt.date.fromisoformat), ("__datetime__", _dt.datetime.fromisoformat)):
        tagged, raw = _tagged(lit, tag)
        if tagged:
            if _iso(parse, raw):
                return
            raise _fail(spec, lit, where, f"{raw!r} is not an ISO 8601 date")
    if not _iso(_dt.date.fromisoformat, lit):
        raise _fail(spec, lit, where, "use an ISO 8601 date such as 2024-05-01")


def _duration(spec: dict[str, Any], lit: Any, where: str) -> None:
    tagged, raw = _tagged(lit, "__duration__")
    seconds = raw if tagged else lit
    if not _is_number(seconds) or not math.isfinite(seconds):
        raise _fail(spec, lit, where, "durations travel as seconds")


def _none(spec: dict[str, Any], lit: Any, where: str) -> None:
    if lit is not None:
        raise _fail(spec, lit, where)


def _anything(spec: dict[str, Any], lit: Any, where: str) -> None:
    if spec.get("name"):  # a class the control plane knows only by name
        raise _Mismatch(
            f"{_at(where)}values of `{spec['name']}` cannot be sent as "
            "JSON literals; pass them from a task's output instead"
        )


# --------------------------------------------------------------- containers


def _item(where: str, key: Any) -> str:
    return f"{where}[{key!r}]" if where else f"[{key!r}]"


def _field(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _list(spec: dict[str, Any], lit: Any, where: str) -> None:
    if not isinstance(lit, list):
        raise _fail(spec, lit, where)
    inner = spec.get("of", {"kind": "pickle"})
    for i, value in enumerate(lit):
        _within(spec, lit, where, inner, value, _item(where, i))


def _within(spec: dict[str, Any], lit: Any, where: str, inner: Any, value: Any, at: str) -> None:
    """Check a part of a container; at the outermost container, prefix what the whole was."""
    try:
        _check(inner, value, at)
    except _Mismatch as exc:
        if where:
            raise
        raise _Mismatch(f"expected {describe_type(spec)}, got {literal_type_name(lit)}: {exc.message}") from None


def _dict(spec: dict[str, Any], lit: Any, where: str) -> None:
    if not isinstance(lit, dict) or any(not isinstance(k, str) for k in lit):
        raise _fail(spec, lit, where)
    key_spec = spec.get("key", {"kind": "string"})
    value_spec = spec.get("value", spec.get("of", {"kind": "pickle"}))
    key_kind = key_spec.get("kind") if isinstance(key_spec, dict) else None
    for key, value in lit.items():
        at = _item(where, key)
        if key_kind == "integer":
            key_ok = _parses(int, key)
        elif key_kind == "float":
            key_ok = _parses(float, key)
        elif key_kind in ("string", "pickle"):
            key_ok = True
        else:
            key_ok = validate_literal(key_spec, key) is None
        if not key_ok:
            raise _Mismatch(
                f"{_at(where)}expected {describe_type(spec)}, "
                f"but key {key!r} is not a valid {describe_type(key_spec)}"
            )
        _within(spec, lit, where, value_spec, value, at)


def _parses(parse: Callable[[str], Any], text: str) -> bool:
    try:
        parse(text)
    except ValueError:
        return False
    return True


def _tuple(spec: dict[str, Any], lit: Any, where: str) -> None:
    if not isinstance(lit, list):
        raise _fail(spec, lit, where)
    items = spec.get("items")
    if items is None:
        return
    if len(lit) != len(items):
        raise _fail(spec, lit, where, f"{len(items)} items expected, {len(lit)} found")
    for i, (inner, value) in enumerate(zip(items, lit, strict=True)):
        _within(spec, lit, where, inner, value, _item(where, i))


def _optional(spec: dict[str, Any], lit: Any, where: str) -> None:
    if lit is not None:
        _check(spec.get("of"), lit, where)


def _union(spec: dict[str, Any], lit: Any, where: str) -> None:
    for variant in spec.get("variants", []):
        try:
            _check(variant, lit, where)
        except _Mismatch:
            continue
        return
    raise _fail(spec, lit, where)


def _enum(spec: dict[str, Any], lit: Any, where: str) -> None:
    values = spec.get("values", [])
    if not any(lit == v and isinstance(lit, bool) == isinstance(v, bool) for v in values):
        raise _fail(spec, lit, where, f"one of {values}")


def _fields(spec: dict[str, Any], lit: Any, where: str) -> None:
    fields: dict[str, Any] = spec.get("fields", {})
    if spec["kind"] == "namedtuple" and isinstance(lit, list):
        if len(lit) != len(fields):
            raise _fail(spec, lit, where, f"{len(fields)} fields expected, {len(lit)} found")
        lit = dict(zip(fields, lit, strict=True))
    if not isinstance(lit, dict):
        raise _fail(spec, lit, where, f"an object with fields {', '.join(fields)}")
    unknown = [k for k in lit if k not in fields]
    if unknown:
        raise _Mismatch(
            f"{_at(where)}{describe_type(spec)} has no field(s) "
            f"{', '.join(unknown)}; its fields: {', '.join(fields) or 'none'}"
        )
    # Fields left out may have defaults, which type specs do not record.
    for name, value in lit.items():
        _within(spec, lit, where, fields[name], value, _field(where, name))


def _path(spec: dict[str, Any], lit: Any, where: str) -> None:
    path = lit.get("path", lit.get("uri")) if isinstance(lit, dict) else lit
    if not isinstance(path, str) or not path:
        raise _fail(spec, lit, where, 'give a path, or {"path": "..."}')
    if isinstance(lit, dict) and not isinstance(lit.get("format", ""), str):
        raise _fail(spec, lit, where, "`format` must be text")


_CHECKS: dict[str, Callable[[dict[str, Any], Any, str], None]] = {
    "integer": _integer,
    "float": _float,
    "boolean": _boolean,
    "string": _string,
    "bytes": _bytes,
    "datetime": _datetime,
    "date": _date,
    "duration": _duration,
    "none": _none,
    "pickle": _anything,
    "list": _list,
    "dict": _dict,
    "tuple": _tuple,
    "optional": _optional,
    "union": _union,
    "enum": _enum,
    "dataclass": _fields,
    "namedtuple": _fields,
    "file": _path,
    "directory": _path,
    "dataframe": _path,
}
