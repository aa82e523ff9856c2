"""Text read as typed values: one set of words for the CLI, the magics, container outputs and timeouts."""

import datetime as dt
import enum
import re
from dataclasses import dataclass
from pathlib import Path

import plait
import pytest
from hypothesis import given
from hypothesis import strategies as st
from plait.config.settings import parse_timeout
from plait.errors import InputError
from plait.task_types.container import parse_output
from plait.typesys.text import FALSE_WORDS, TRUE_WORDS, parse_bool, parse_duration, parse_value


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclass
class Point:
    x: float
    y: float


@pytest.mark.parametrize("word", sorted(TRUE_WORDS | {"TRUE", "Yes", " on\n"}))
def test_every_true_word_reads_true_on_every_surface(word: str) -> None:
    assert parse_bool(word) is True
    assert parse_value(bool, word) is True
    assert parse_output(bool, word) is True


@pytest.mark.parametrize("word", sorted(FALSE_WORDS | {"False", "OFF"}))
def test_every_false_word_reads_false_on_every_surface(word: str) -> None:
    assert parse_value(bool, word) is False
    assert parse_output(bool, word) is False


@pytest.mark.parametrize(
    ("tp", "text", "value"),
    [
        (int, "3", 3),
        (float, "0.5", 0.5),
        (str, " keep spaces ", " keep spaces "),
        (dt.date, "2024-05-01", dt.date(2024, 5, 1)),
        (dt.datetime, "2024-05-01T10:00:00", dt.datetime(2024, 5, 1, 10)),
        (dt.timedelta, "10m", dt.timedelta(minutes=10)),
        (Color, "blue", Color.BLUE),
        (Color, "RED", Color.RED),  # by name
        (list[int], "[1, 2, 3]", [1, 2, 3]),
        (dict[str, float], '{"a": 1}', {"a": 1.0}),
        (Point, '{"x": 1, "y": 2.5}', Point(1.0, 2.5)),
        (int | None, "none", None),
        (int | None, "7", 7),
    ],
)
def test_text_reads_as_the_declared_type(tp: object, text: str, value: object) -> None:
    assert parse_value(tp, text) == value


@pytest.mark.parametrize(
    ("tp", "text", "reason"),
    [
        (bool, "maybe", "not a boolean (use true or false)"),
        (int, "4.5", "not a whole number"),
        (float, "soon", "not a number"),
        (Color, "green", "not one of ['red', 'blue']"),
        (list[int], "[1,", "not valid JSON"),
        (list[int], '[1, "x"]', "expected list[int], got list[int | str]"),
        (dt.timedelta, "soon", "not a duration"),
        (plait.FlyteFile, "/no/such/file", "no such file: /no/such/file"),
    ],
)
def test_text_of_another_type_is_a_short_reason(tp: object, text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        parse_value(tp, text)


def test_a_file_input_is_its_absolute_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "data.csv").write_text("x\n1\n")
    monkeypatch.chdir(tmp_path)
    assert str(parse_value(plait.FlyteFile, "data.csv")) == str(tmp_path / "data.csv")
    with pytest.raises(ValueError, match="not a directory"):
        parse_value(plait.FlyteDirectory, "data.csv")


def test_a_container_output_holds_the_value_not_a_path() -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_value(plait.FlyteFile, "data.csv", paths=False)


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("90", dt.timedelta(seconds=90)),
        ("90s", dt.timedelta(seconds=90)),
        ("250ms", dt.timedelta(milliseconds=250)),
        ("1.5h", dt.timedelta(minutes=90)),
        ("2d", dt.timedelta(days=2)),
        ("1:30:00", dt.timedelta(hours=1, minutes=30)),
        ("2 days, 0:00:05", dt.timedelta(days=2, seconds=5)),
    ],
)
def test_durations_in_units_or_as_python_prints_them(text: str, delta: dt.timedelta) -> None:
    assert parse_duration(text) == delta
    assert parse_timeout("t", text) == delta.total_seconds()


@given(st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=9999)))
def test_a_printed_timedelta_reads_back(delta: dt.timedelta) -> None:
    assert parse_duration(str(delta)) == delta


def test_a_timeout_keeps_its_messages() -> None:
    with pytest.raises(InputError, match=r"task `t`: timeout expects seconds, a datetime.timedelta or text"):
        parse_timeout("task `t`", "soon")
    with pytest.raises(InputError, match=r"timeout must be positive, got '0s'"):
        parse_timeout("task `t`", "0s")
