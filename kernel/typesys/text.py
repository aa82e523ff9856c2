"""Text to typed values: the one reading of `3`, `yes`, `10m` or `[1, 2]` under an annotation.

`plait run FILE WF --n 3`, `%plait run WF --n 3`, a ContainerTask's output
files and timeouts such as `timeout="10m"` all read text here, so a word
means the same everywhere:
- booleans: true/false, yes/no, y/n, on/off, 1/0 (any case);
- durations: `90` or `90s`, `250ms`, `10m`, `1.5h`, `2d`, or as Python
  prints a timedelta (`1:30:00`, `2 days, 0:00:05`);
- datetimes and dates: ISO 8601 (`now` for the current time, in UTC);
- enums: a member's value or its name;
- lists, dicts, tuples and dataclasses: JSON, checked against the annotation;
- with `paths=True` (the command line), files, directories, data frames and
  StructuredDatasets by path.

Each failure is a ValueError whose message is a short reason ("not a whole
number"); the caller says which input or output it was.
"""

from __future__ import annotations

import datetime as _dt
import enum
import json
import os
import re
import typing
from collections.abc import Callable
from typing import Any, Final

from .checks import checker
from .convert import from_literal
from .specs import NoneType, file_kind, is_union, strip_annotated

TRUE_WORDS: Final = frozenset({"true", "1", "yes", "y", "on"})
FALSE_WORDS: Final = frozenset({"false", "0", "no", "n", "off"})
NONE_WORDS: Final = frozenset({"none", "null", ""})
"""Words that mean None where an annotation allows it (`Optional[int]`)."""

_UNITS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_AMOUNT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*")
_CLOCK = re.compile(r"\s*(?:(-?\d+) days?, )?(\d+):(\d{2}):(\d{2}(?:\.\d+)?)\s*")


def parse_bool(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError("not a boolean (use true or false)")


def parse_duration(text: str) -> _dt.timedelta:
    """`90`, `90s`, `250ms`, `10m`, `1.5h`, `2d`, or `[D day(s), ]H:MM:SS[.ffffff]`."""
    amount = _AMOUNT.fullmatch(text)
    if amount:
        return _dt.timedelta(seconds=float(amount.group(1)) * _UNITS[amount.group(2) or "s"])
    clock = _CLOCK.fullmatch(text)
    if clock:
        days, hours, minutes, seconds = clock.groups()
        return _dt.timedelta(days=int(days or 0), hours=int(hours), minutes=int(minutes),
                             seconds=float(seconds))
    raise ValueError("not a duration (use seconds, or text such as 30s, 10m, 1h or 1:30:00)")


def parse_value(tp: Any, text: str, *, paths: bool = True) -> Any:
    """`text` read as a value of annotation `tp`; ValueError with a short reason if it is not one.

    `paths`: whether the text may name a file, a directory or a data frame's
    file (true on the command line; a container's output holds the value itself).
    """
    base, _ = strip_annotated(tp)
    if is_union(base):
        return _parse_union(base, text, paths)
    parse = _SCALARS.get(base) if isinstance(base, type) else None
    if parse is not None:
        return parse(text)
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return _parse_enum(base, text)
    if paths:
        kind = file_kind(base)
        if kind is not None:
            return _parse_path(base, kind, text)
        if getattr(base, "__name__", "") == "DataFrame":
            return _read_table(text)
        if getattr(base, "__plait_structured_checker__", None) is not None:  # StructuredDataset
            return _stored_dataset(base, text)
    return _parse_json(tp, text)


def _parse_union(tp: Any, text: str, paths: bool) -> Any:
    args = typing.get_args(tp)
    if NoneType in args and text.strip().lower() in NONE_WORDS:
        return None
    for variant in args:
        if variant is NoneType:
            continue
        try:
            return parse_value(variant, text, paths=paths)
        except (ValueError, TypeError):
            continue
    raise ValueError(f"not any of {[getattr(a, '__name__', str(a)) for a in args]}")


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError("not a whole number") from None


def _parse_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError("not a number") from None


def _parse_datetime(text: str) -> _dt.datetime:
    word = text.strip()
    if word.lower() == "now":
        return _dt.datetime.now(_dt.timezone.utc)
    return _dt.datetime.fromisoformat(word)


def _parse_date(text: str) -> _dt.date:
    return _dt.date.fromisoformat(text.strip())


_SCALARS: Final[dict[type, Callable[[str], Any]]] = {
    bool: parse_bool,
    int: _parse_int,
    float: _parse_float,
    str: lambda text: text,
    _dt.datetime: _parse_datetime,
    _dt.date: _parse_date,
    _dt.timedelta: parse_duration,
}


def _parse_enum(tp: type[enum.Enum], text: str) -> Any:
    word = text.strip()
    try:
        return tp(word)
    except ValueError:
        try:
            return tp[word]
        except KeyError:
            raise ValueError(f"not one of {[m.value for m in tp]}") from None


def _parse_path(tp: Any, kind: str, text: str) -> Any:
    if not os.path.exists(text):
        raise ValueError(f"no such {kind}: {text}")
    if kind == "directory" and not os.path.isdir(text):
        raise ValueError(f"not a directory: {text}")
    return tp(os.path.abspath(text))


def _read_table(text: str) -> Any:
    import pandas as pd  # only when a data frame is read

    return pd.read_parquet(text) if text.endswith(".parquet") else pd.read_csv(text)


def _stored_dataset(tp: Any, text: str) -> Any:
    """A StructuredDataset of the file or folder at `text` (CSV by its extension, else Parquet)."""
    if not os.path.exists(text):
        raise ValueError(f"no such file or folder: {text}")
    return tp(uri=os.path.abspath(text), file_format="csv" if text.endswith(".csv") else "parquet")


def _parse_json(tp: Any, text: str) -> Any:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError("not valid JSON") from None
    try:
        return checker(tp)(from_literal(tp, raw))
    except TypeError as exc:  # ValueTypeError included: the JSON is of another type
        raise ValueError(str(exc)) from None
