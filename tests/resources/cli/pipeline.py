"""A small pipeline driven from the command line in the CLI tests."""

import datetime
import enum
import time
from dataclasses import dataclass

import plait as union


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclass
class Point:
    x: float
    y: float


@union.task
def describe_inputs(
    n: int,
    ratio: float,
    flag: bool,
    name: str,
    values: list[int],
    weights: dict[str, float],
    when: datetime.datetime,
    color: Color,
    point: Point,
    wait: datetime.timedelta = datetime.timedelta(seconds=1),
) -> str:
    return (
        f"n={n} ratio={ratio} flag={flag} name={name} sum={sum(values)} "
        f"w={sorted(weights.items())} year={when.year} color={color.value} "
        f"point=({point.x},{point.y}) wait={wait.total_seconds():g}"
    )


@union.task
def count_chars(path: union.FlyteFile) -> int:
    with open(path) as fh:
        return len(fh.read())


@union.task
def slow(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@union.task
def explode(x: int) -> int:
    raise ValueError(f"cannot handle {x}")


@union.workflow
def stats(values: list[int] = [3, 1, 2]) -> (int, int):
    return smallest(values=values), largest(values=values)


@union.task
def smallest(values: list[int]) -> int:
    return min(values)


@union.task
def largest(values: list[int]) -> int:
    return max(values)


fixed_lp = union.LaunchPlan.get_or_create(stats, name="fixed_stats", fixed_inputs={"values": [7, 8]})
