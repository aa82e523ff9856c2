"""The type system: annotations become specs, values are checked, literals round-trip."""


import datetime as dt
import enum
import json
import typing
from dataclasses import dataclass
from typing import NamedTuple, Optional

import plait
import pytest
from hypothesis import given
from hypothesis import strategies as st
from plait.errors import CompileError, TypeMismatchError
from plait.model.keys import cache_key
from plait.typesys import (
    checker,
    describe,
    from_literal,
    is_assignable,
    to_literal,
    type_spec,
    value_hash,
)


class Stage(enum.Enum):
    TRAIN = "train"
    TEST = "test"


@dataclass
class Config:
    rate: float
    layers: list[int]
    stage: Stage


class Stats(NamedTuple):
    mean: float
    count: int


@plait.task
def summarize(values: list[float], label: Optional[str] = None) -> Stats:
    return Stats(sum(values) / len(values), len(values))


@plait.task
def configure(rate: float, layers: list[int], stage: Stage) -> Config:
    return Config(rate, layers, stage)


@plait.task
def bump(cfg: Config) -> float:
    return cfg.rate * 2 + len(cfg.layers)


@plait.task
def window(start: dt.datetime, span: dt.timedelta) -> dt.datetime:
    return start + span


@plait.task
def either(x: typing.Union[int, str]) -> str:
    return f"{type(x).__name__}:{x}"


@plait.task
def pair(a: int) -> tuple[int, str]:
    return a, str(a)


@plait.workflow
def typed_wf(rate: float = 0.5, stage: Stage = Stage.TRAIN) -> (float, int):
    cfg = configure(rate=rate, layers=[4, 8], stage=stage)
    stats = summarize(values=[1.0, 2.0, 3.0])
    return bump(cfg=cfg), stats.count


def test_namedtuple_outputs_keep_their_names_in_the_spec_and_locally() -> None:
    spec = summarize.to_spec()["interface"]
    assert list(spec["outputs"]) == ["mean", "count"]
    assert spec["inputs"]["label"] == {"type": {"kind": "optional", "of": {"kind": "string"}}, "required": False, "default": None}
    result = summarize(values=[1.0, 3.0])
    assert isinstance(result, Stats) and result.mean == 2.0 and result.count == 2


def test_dataclasses_enums_and_defaults_flow_through_a_workflow() -> None:
    assert typed_wf() == (3.0, 3)
    assert typed_wf(rate=2.0, stage=Stage.TEST) == (6.0, 3)


def test_datetime_timedelta_union_and_tuple_types() -> None:
    start = dt.datetime(2024, 1, 1, 12)
    assert window(start=start, span=dt.timedelta(hours=2)) == dt.datetime(2024, 1, 1, 14)
    assert either(x=3) == "int:3" and either(x="a") == "str:a"
    assert pair(a=7) == (7, "7")
    assert list(pair.to_spec()["interface"]["outputs"]) == ["o0", "o1"]


def test_int_is_accepted_where_float_is_declared_but_not_the_reverse() -> None:
    assert checker(float)(3) == 3.0 and isinstance(checker(float)(3), float)
    with pytest.raises(TypeError, match="expected int, got float"):
        checker(int)(3.5)
    with pytest.raises(TypeError, match="expected int, got bool"):
        checker(int)(True)
    assert is_assignable(int, float) and not is_assignable(float, int)
    assert is_assignable(int, Optional[int]) and not is_assignable(Optional[int], int)
    assert is_assignable(list[int], list[float])


def test_a_wrong_value_type_at_run_time_names_the_input() -> None:
    with pytest.raises(TypeMismatchError, match=r"`.*summarize` input `values` expects `list\[float\]`, got 'abc' of type `str`"):
        summarize(values="abc")


def test_a_wrong_return_type_names_the_output() -> None:
    @plait.task
    def liar() -> int:
        return "seven"  # type: ignore[return-value]

    with pytest.raises(TypeMismatchError, match=r"output `o0` is declared `int` but the task returned 'seven' of type `str`"):
        liar()


def test_unsupported_variadic_inputs_are_compile_errors() -> None:
    with pytest.raises(CompileError, match=r"cannot be typed inputs; declare each input"):

        @plait.task
        def star(*args: int) -> int:
            return 0


def test_describe_reads_like_the_annotation() -> None:
    assert describe(Optional[list[dict[str, int]]]) == "Optional[list[dict[str, int]]]"
    assert describe(plait.FlyteFile["csv"]) == "FlyteFile['csv']"
    assert type_spec(plait.FlyteFile["csv"]) == {"kind": "file", "format": "csv"}
    assert type_spec(Stage) == {"kind": "enum", "name": f"{__name__}.Stage", "values": ["train", "test"]}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


@given(st.lists(st.integers(), max_size=20), st.dictionaries(st.text(max_size=8), st.floats(allow_nan=False), max_size=5))
def test_literals_round_trip(xs: list[int], weights: dict[str, float]) -> None:
    assert from_literal(list[int], to_literal(list[int], xs)) == xs
    assert from_literal(dict[str, float], to_literal(dict[str, float], weights)) == weights


@given(st.datetimes(), st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=999)))
def test_time_literals_round_trip(when: dt.datetime, span: dt.timedelta) -> None:
    assert from_literal(dt.datetime, to_literal(dt.datetime, when)) == when
    back = from_literal(dt.timedelta, to_literal(dt.timedelta, span))
    assert abs((back - span).total_seconds()) < 1e-5


@given(json_values, json_values)
def test_cache_keys_are_equal_exactly_when_inputs_are(a: object, b: object) -> None:
    ka = cache_key("1", "sig", {"x": value_hash(typing.Any, a)}, ())
    kb = cache_key("1", "sig", {"x": value_hash(typing.Any, b)}, ())
    same = json.dumps(to_literal(typing.Any, a), sort_keys=True) == json.dumps(to_literal(typing.Any, b), sort_keys=True)
    if same:
        assert ka == kb
    if ka == kb:
        assert value_hash(typing.Any, a) == value_hash(typing.Any, b)


@given(st.integers(), st.integers())
def test_ignored_inputs_do_not_change_the_key(a: int, b: int) -> None:
    k1 = cache_key("v", "sig", {"a": value_hash(int, a), "b": "i:1"}, ("a",))
    k2 = cache_key("v", "sig", {"a": value_hash(int, b), "b": "i:1"}, ("a",))
    assert k1 == k2
    assert cache_key("v", "sig", {"b": "i:1"}, ()) != cache_key("v2", "sig", {"b": "i:1"}, ())


def test_dataframes_are_typed_and_hashed_by_content() -> None:
    pd = pytest.importorskip("pandas", reason="pandas is the optional dataframe extra")

    @plait.task
    def make(n: int) -> pd.DataFrame:
        return pd.DataFrame({"a": list(range(n))})

    @plait.task
    def total(df: pd.DataFrame) -> int:
        return int(df["a"].sum())

    @plait.workflow
    def frames(n: int) -> int:
        return total(df=make(n=n))

    assert frames(n=4) == 6
    assert make.to_spec()["interface"]["outputs"]["o0"] == {"kind": "dataframe", "format": "parquet"}
    df1, df2 = pd.DataFrame({"a": [1, 2]}), pd.DataFrame({"a": [1, 2]})
    assert value_hash(pd.DataFrame, df1) == value_hash(pd.DataFrame, df2)
    assert value_hash(pd.DataFrame, df1) != value_hash(pd.DataFrame, pd.DataFrame({"a": [2, 1]}))
