"""Programs for the re-run tests: every task notes its name in the file `path` when it runs,
so a test counts what ran again and what was reused."""

import os
import typing

import plait


def note(path: str, name: str) -> None:
    with open(path, "a") as fh:
        fh.write(name + "\n")


@plait.task
def first(path: str, x: int) -> int:
    note(path, "first")
    return x + 1


@plait.task
def step(path: str, name: str, x: int) -> int:
    note(path, name)
    return x + 1


@plait.task
def add(path: str, name: str, a: int, b: int) -> int:
    note(path, name)
    return a + b


@plait.task(cache=True, cache_version="1")
def cached_step(path: str, x: int) -> int:
    note(path, "cached")
    return x * 10


@plait.task
def fragile(path: str, flag: str, v: int) -> int:
    """Fails for a negative value until the file `flag` exists (the user fixes the data)."""
    note(path, f"item{v}")
    if v < 0 and not os.path.exists(flag):
        raise ValueError(f"bad value {v}")
    return abs(v) * 2


@plait.workflow
def chain(path: str, x: int = 0) -> int:
    a = first(path=path, x=x)
    b = step(path=path, name="b", x=a)
    return step(path=path, name="c", x=b)


@plait.workflow
def diamond(path: str, x: int = 0) -> int:
    a = step(path=path, name="a", x=x)
    b = step(path=path, name="b", x=a)
    c = step(path=path, name="c", x=a)
    return add(path=path, name="d", a=b, b=c)


@plait.workflow
def two_inputs(path: str, x: int, y: int) -> int:
    a = step(path=path, name="a", x=x)
    b = step(path=path, name="b", x=y)
    return add(path=path, name="c", a=a, b=b)


@plait.workflow
def inner(path: str, x: int) -> int:
    p = step(path=path, name="p", x=x)
    return step(path=path, name="q", x=p)


@plait.workflow
def outer(path: str, x: int = 0) -> int:
    s = step(path=path, name="s", x=x)
    t = inner(path=path, x=s)
    return step(path=path, name="u", x=t)


@plait.dynamic
def fan(path: str, n: int) -> int:
    out = step(path=path, name="d0", x=n)
    for i in range(1, n):
        out = step(path=path, name=f"d{i}", x=out)
    return out


@plait.workflow
def with_dynamic(path: str, n: int = 1) -> int:
    a = step(path=path, name="a", x=n)
    d = fan(path=path, n=a)
    return step(path=path, name="z", x=d)


@plait.workflow
def with_cache(path: str, x: int = 1) -> int:
    a = cached_step(path=path, x=x)
    return step(path=path, name="b", x=a)


@plait.workflow
def mapped(path: str, flag: str, values: list[int]) -> list[typing.Optional[int]]:  # noqa: UP045
    return plait.map(fragile, bound_inputs=["path", "flag"], min_success_ratio=0.5)(
        path=path, flag=flag, v=values)


@plait.workflow
def plan_body(path: str, x: int) -> int:
    return step(path=path, name="planned", x=x)


plan = plait.LaunchPlan.get_or_create(plan_body, name="rerun_programs.plan")
fixed_plan = plait.LaunchPlan.get_or_create(chain, name="rerun_programs.fixed_chain", fixed_inputs={"x": 5})


@plait.workflow
def with_plan(path: str, x: int = 0) -> int:
    a = plan(path=path, x=x)
    return step(path=path, name="after", x=a)


@plait.task
def nap(seconds: float) -> float:
    import time

    time.sleep(seconds)
    return seconds
