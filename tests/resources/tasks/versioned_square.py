"""A cached task whose author edits it between runs (the tests edit a copy)."""

import os

import plait as union


def log_run(name: str) -> None:
    path = os.environ.get("RUN_LOG")
    if path:
        with open(path, "a") as fh:
            fh.write(name + "\n")


@union.task(cache=union.Cache(version="1.0"))
def square_plus(n: int) -> int:
    log_run("square_plus")
    return n * n


@union.task(cache=True)
def body_versioned(n: int) -> int:
    log_run("body_versioned")
    return n + 100


@union.task(cache=union.Cache(salt="pepper"))
def salted(n: int) -> int:
    log_run("salted")
    return n - 1
