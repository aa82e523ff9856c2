"""Tasks whose outputs are worth keeping: the caching chapter, task by task.

Each task appends its name to the file named by $RUN_LOG when its body runs,
so a reader can tell a computed result from a cached one.
"""

import os
import time
import uuid

import plait as union


def log_run(name: str) -> None:
    path = os.environ.get("RUN_LOG")
    if path:
        with open(path, "a") as fh:
            fh.write(name + "\n")


@union.task(cache=union.Cache(version="1.0"))
def cube(n: int) -> int:
    log_run("cube")
    return n**3


@union.task(cache=union.Cache(version="1.0", serialize=True, ignored_inputs=["offset"]))
def add_up(offset: int, left: int, right: int) -> int:
    log_run("add_up")
    return offset + left + right


@union.task(cache=True)
def shout(word: str) -> str:
    log_run("shout")
    return word.upper() + "!"


@union.task(cache=union.Cache(policies=[union.CacheFunctionBody()]))
def halve(x: float) -> float:
    log_run("halve")
    return x / 2


@union.task(cache=union.Cache(version="1.0"))
def ticket(customer: str) -> str:
    """A fresh id every time the body runs: shows which run produced a result."""
    log_run("ticket")
    return f"{customer}-{uuid.uuid4().hex[:8]}"


@union.task
def plain_cube(n: int) -> int:
    log_run("plain_cube")
    return n**3


@union.workflow
def cube_twice(n: int) -> list[int]:
    return [cube(n=n), cube(n=n)]


@union.task(cache=union.Cache(version="1.0", serialize=True))
def slow_square(n: int) -> int:
    log_run("slow_square")
    time.sleep(0.3)
    return n * n


@union.task(cache=union.Cache(version="1.0"))
def slow_square_unserialized(n: int) -> int:
    log_run("slow_square_unserialized")
    time.sleep(0.3)
    return n * n


@union.workflow
def eight_serialized(n: int) -> list[int]:
    return [slow_square(n=n) for _ in range(8)]


@union.workflow
def eight_unserialized(n: int) -> list[int]:
    return [slow_square_unserialized(n=n) for _ in range(8)]
