"""Literals written by `to_literal` pass `validate_literal` for their own type; others are named."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import re
import typing
from typing import Any, NamedTuple, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plait.model.literals import describe_type, literal_type_name, validate_literal
from plait.sdk.files import FlyteDirectory, FlyteFile
from plait.typesys import describe, to_literal, type_spec


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.Enum):
    LOW = 1
    HIGH = 2


@dataclasses.dataclass
class Point:
    x: int
    y: float
    label: Optional[str] = None


@dataclasses.dataclass
class Shape:
    name: str
    corners: list[Point]


class Pair(NamedTuple):
    left: int
    right: str


def _wire(tp: Any, value: Any) -> Any:
    """What a client sends: the literal, through JSON and back."""
    return json.loads(json.dumps(to_literal(tp, value)))


SCALARS: list[tuple[Any, st.SearchStrategy[Any]]] = [
    (int, st.integers()),
    (float, st.floats()),
    (bool, st.booleans()),
    (str, st.text(max_size=10)),
    (bytes, st.binary(max_size=10)),
    (dt.datetime, st.datetimes(timezones=st.none() | st.just(dt.timezone.utc))),
    (dt.date, st.dates()),
    (dt.timedelta, st.timedeltas()),
    (type(None), st.none()),
    (Color, st.sampled_from(Color)),
    (Level, st.sampled_from(Level)),
    (FlyteFile, st.text(min_size=1, max_size=8).map(FlyteFile)),
    (FlyteFile["csv"], st.text(min_size=1, max_size=8).map(FlyteFile["csv"])),
    (FlyteDirectory, st.text(min_size=1, max_size=8).map(FlyteDirectory)),
    (Any, st.integers() | st.text(max_size=5) | st.lists(st.booleans(), max_size=3)),
    (
        Point,
        st.builds(Point, x=st.integers(), y=st.floats(allow_nan=False), label=st.none() | st.text(max_size=4)),
    ),
    (
        Shape,
        st.builds(Shape, name=st.text(max_size=4),
                  corners=st.lists(st.builds(Point, x=st.integers(), y=st.floats()), max_size=3)),
    ),
    (int | str, st.integers() | st.text(max_size=5)),
]

TypeAndValues = tuple[Any, st.SearchStrategy[Any]]


def _containers(children: st.SearchStrategy[TypeAndValues]) -> st.SearchStrategy[TypeAndValues]:
    def listed(tv: TypeAndValues) -> TypeAndValues:
        return list[tv[0]], st.lists(tv[1], max_size=3)

    def keyed_by_str(tv: TypeAndValues) -> TypeAndValues:
        return dict[str, tv[0]], st.dictionaries(st.text(max_size=4), tv[1], max_size=3)

    def keyed_by_int(tv: TypeAndValues) -> TypeAndValues:
        return dict[int, tv[0]], st.dictionaries(st.integers(), tv[1], max_size=3)

    def optional(tv: TypeAndValues) -> TypeAndValues:
        return Optional[tv[0]], st.none() | tv[1]

    def paired(pair: tuple[TypeAndValues, TypeAndValues]) -> TypeAndValues:
        (a, va), (b, vb) = pair
        return tuple[a, b], st.tuples(va, vb)

    return st.one_of(
        children.map(listed),
        children.map(keyed_by_str),
        children.map(keyed_by_int),
        children.map(optional),
        st.tuples(children, children).map(paired),
    )


TYPES = st.recursive(st.sampled_from(SCALARS), _containers, max_leaves=4)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_every_literal_to_literal_writes_is_valid_for_its_type(data: st.DataObject) -> None:
    tp, values = data.draw(TYPES, label="type")
    value = data.draw(values, label="value")
    literal = _wire(tp, value)
    assert validate_literal(type_spec(tp), literal) is None, (describe(tp), literal)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_type_specs_are_described_like_annotations(data: st.DataObject) -> None:
    tp, _ = data.draw(TYPES, label="type")
    spec = json.loads(json.dumps(type_spec(tp)))
    assert describe_type(spec) == describe(tp).replace("NoneType", "None")


def _fits(tp: Any, literal: Any) -> bool:
    """What each scalar kind accepts from JSON, written out by hand."""
    kind = type(literal)
    if tp is float:
        return kind in (int, float)
    if tp is dt.date:
        return kind is str and _is_iso_date(literal)
    if tp == list[int]:
        return kind is list and all(type(i) is int for i in literal)
    return kind is {int: int, bool: bool, str: str, type(None): type(None)}.get(tp)


def _is_iso_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


@settings(max_examples=200, deadline=None)
@given(st.integers() | st.text(max_size=10) | st.booleans() | st.none() | st.floats()
       | st.lists(st.integers() | st.text(max_size=2), max_size=2))
def test_a_literal_of_another_kind_is_refused(literal: Any) -> None:
    for tp in (int, float, bool, str, bytes, dt.date, type(None), list[int]):
        error = validate_literal(type_spec(tp), literal)
        assert (error is None) == _fits(tp, literal), (tp, literal, error)
        if error is not None:
            assert f"expected {describe(tp).replace('NoneType', 'None')}" in error


@pytest.mark.parametrize(
    ("tp", "literal", "message"),
    [
        (int, "3", r"^expected int, got str$"),
        (int, True, r"^expected int, got bool$"),
        (int, 2.5, r"^expected int, got float$"),
        (float, "1.0", r"^expected float, got str$"),
        (bool, 1, r"^expected bool, got int$"),
        (str, None, r"^expected str, got None$"),
        (bytes, "00ff", r'travel as \{"__bytes__": "<hex>"\}'),
        (bytes, {"__bytes__": "xyz"}, r"'xyz' is not hexadecimal"),
        (dt.datetime, "yesterday", r"^expected datetime, got str \(use an ISO 8601"),
        (dt.date, {"__date__": "2024-13-01"}, r"not an ISO 8601 date"),
        (dt.timedelta, "10m", r"^expected timedelta, got str \(durations travel as seconds\)$"),
        (list[int], [1, 2, "three"], r"^expected list\[int\], got list\[int \| str\]: at `\[2\]`, expected int, got str$"),
        (list[list[int]], [[1], [2, None]], r"at `\[1\]\[1\]`, expected int, got None$"),
        (dict[str, int], [1], r"^expected dict\[str, int\], got list\[int\]$"),
        (dict[int, str], {"seven": "x"}, r"key 'seven' is not a valid int"),
        (tuple[int, str], [1], r"\(2 items expected, 1 found\)"),
        (Optional[int], "x", r"^expected int, got str$"),
        (int | str, [1], r"^expected int \| str, got list\[int\]$"),
        (Color, "green", r"^expected Color, got str \(one of \['red', 'blue'\]\)$"),
        (Level, True, r"^expected Level, got bool"),
        (Point, {"x": 1, "y": 2.0, "z": 3}, r"^Point has no field\(s\) z; its fields: x, y, label$"),
        (Point, {"x": "1", "y": 2.0}, r"^expected Point, got dict\[str, float \| str\]: at `x`, expected int, got str$"),
        (Shape, {"name": "s", "corners": [{"x": 1, "y": "a"}]}, r"at `corners\[0\]\.y`, expected float, got str$"),
        (Pair, [1, "a", 2], r"\(2 fields expected, 3 found\)"),
        (FlyteFile, 3, r"^expected FlyteFile, got int"),
        (FlyteFile["csv"], {"format": "csv"}, r"^expected FlyteFile\['csv'\], got dict"),
        (object, {"anything": [1, None]}, None),
        (Pair, {"left": 1, "right": "a"}, None),
        (Pair, [1, "a"], None),
        (Point, {"x": 1, "y": 2}, None),  # `label` has a default the spec does not record
        (dt.datetime, "2024-05-01T12:00:00+00:00", None),
        (dt.timedelta, 90, None),
        (FlyteDirectory, "/data/run-1", None),
    ],
)
def test_mismatches_name_the_expected_and_found_types(tp: Any, literal: Any, message: str | None) -> None:
    error = validate_literal(type_spec(tp), literal)
    if message is None:
        assert error is None
    else:
        assert error is not None
        assert re.search(message, error), error


def test_classes_known_only_by_name_are_refused_with_the_fix() -> None:
    class Model:
        pass

    error = validate_literal(type_spec(Model), {"weights": [1]})
    assert error is not None and "cannot be sent as JSON literals" in error
    assert "pass them from a task's output" in error


def test_unknown_kinds_and_broken_specs_are_reported_not_raised() -> None:
    assert validate_literal({"kind": "tensor"}, [1]) == "type kind `tensor` is not known to this version of plait"
    assert "has no `kind`" in (validate_literal({"of": 1}, 1) or "")
    assert "has no `kind`" in (validate_literal({"kind": "list", "of": "int"}, [1]) or "")


def test_dataframes_are_referenced_by_path() -> None:
    spec = {"kind": "dataframe", "format": "parquet"}
    assert validate_literal(spec, {"uri": "s3://bucket/table.parquet", "format": "parquet"}) is None
    assert validate_literal(spec, "/data/table.parquet") is None
    assert validate_literal(spec, [[1, 2]]) == 'expected DataFrame, got list[list[int]] (give a path, or {"path": "..."})'


def test_found_types_read_like_python() -> None:
    assert literal_type_name({"__datetime__": "2024-01-01T00:00:00"}) == "datetime"
    assert literal_type_name({"a": 1, "b": "x"}) == "dict[str, int | str]"
    assert literal_type_name([]) == "list"
    assert typing.get_origin(list[int]) is list  # the annotations above are real types
