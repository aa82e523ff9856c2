"""Checkers: one function per annotation that returns the value (coerced where safe) or raises.

`checker(tp)` builds the function once per annotation and caches it. Each kind
of annotation has its own small builder below; `_build` picks the first that
claims the annotation.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import functools
import typing
from collections.abc import Callable
from typing import Any

from ..errors import ValueTypeError
from . import transformers
from .specs import NoneType, describe, file_kind, is_union, strip_annotated, value_type_name

Checker = Callable[[Any], Any]


def checker(tp: Any) -> Checker:
    """A function that returns the value (coerced where safe) or raises ValueTypeError."""
    try:
        return _checker_cached(tp)
    except TypeError as exc:
        if isinstance(exc, ValueTypeError):
            raise
        return _build(tp)  # unhashable annotation (rare): build without caching


@functools.lru_cache(maxsize=4096)
def _checker_cached(tp: Any) -> Checker:
    return _build(tp)


def _build(tp: Any) -> Checker:
    tp, meta = strip_annotated(tp)
    if tp is Any or tp is object:
        return _identity
    if tp is None or (isinstance(tp, type) and tp in _SCALARS):
        return _SCALARS[NoneType if tp is None else tp]
    if is_union(tp):
        return _union(tp)
    origin = typing.get_origin(tp)
    if origin is list or tp is list:
        return _list(tp)
    if origin is dict or tp is dict:
        return _dict(tp)
    if origin is tuple:
        return _tuple(tp)
    if file_kind(tp) is not None:
        return tp.__plait_check__  # type: ignore[no-any-return]
    structured = getattr(tp, "__plait_structured_checker__", None)  # StructuredDataset and its columns
    if structured is not None:
        return structured(meta)  # type: ignore[no-any-return]
    transformer = transformers.find(tp)
    if transformer is not None:
        return transformers.check_with(transformer, tp)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum(tp)
    if isinstance(tp, type):
        if not dataclasses.is_dataclass(tp) and not issubclass(tp, tuple):
            transformers.warn_pickled(tp)
        return _instance_of(tp, describe(tp), meta)
    return _identity


def _fail(expected: str, value: Any, where: str = "") -> typing.NoReturn:
    raise ValueTypeError(expected, value_type_name(value), where)


# ------------------------------------------------------------------ scalars


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


def _instance_of(tp: type, expected: str, meta: tuple[Any, ...] = ()) -> Checker:
    """Any other class: an instance of it (a bool is not an int here).

    A StructuredDataset passed where a data frame class is expected is opened
    as that class (with the columns an `Annotated[pd.DataFrame, kwtypes(...)]`
    names), as Flyte does.
    """

    def check(value: Any) -> Any:
        if isinstance(value, tp) and not (tp is not bool and isinstance(value, bool) and tp is int):
            return value
        open_as = getattr(value, "__plait_open_as__", None)
        if open_as is not None:
            return open_as(tp, meta)
        _fail(expected, value)

    return check


_SCALARS: dict[Any, Checker] = {
    NoneType: _check_none,
    int: _check_int,
    float: _check_float,
    bool: _instance_of(bool, "bool"),
    str: _instance_of(str, "str"),
    bytes: _instance_of(bytes, "bytes"),
    _dt.datetime: _instance_of(_dt.datetime, "datetime"),
    _dt.date: _instance_of(_dt.date, "date"),
    _dt.timedelta: _instance_of(_dt.timedelta, "timedelta"),
}


# ------------------------------------------------------------------ unions and containers


def _union(tp: Any) -> Checker:
    """The first variant that takes the value; None when the union is optional."""
    expected = describe(tp)
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


def _list(tp: Any) -> Checker:
    """A list (a tuple becomes one) whose every item passes the item checker."""
    expected = describe(tp)
    args = typing.get_args(tp)
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


def _dict(tp: Any) -> Checker:
    """A dict whose keys and values pass their checkers."""
    expected = describe(tp)
    args = typing.get_args(tp)
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


def _tuple(tp: Any) -> Checker:
    """A tuple or list of the declared length, each item checked by its position's type."""
    expected = describe(tp)
    items = [checker(a) for a in typing.get_args(tp) if a is not Ellipsis]

    def check_tuple(value: Any) -> Any:
        if not isinstance(value, (tuple, list)) or len(value) != len(items):
            _fail(expected, value)
        return tuple(c(v) for c, v in zip(items, value, strict=True))

    return check_tuple


def _enum(tp: type[enum.Enum]) -> Checker:
    """A member of the enum, or a value one of its members has."""
    expected = describe(tp)

    def check_enum(value: Any) -> Any:
        if isinstance(value, tp):
            return value
        try:
            return tp(value)
        except ValueError:
            _fail(f"{expected} (one of {[m.value for m in tp]})", value)

    return check_enum
