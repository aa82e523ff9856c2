"""Three tasks in a chain for the lab's "Run from here" test: each appends its name to the
file `log` names, so a test reads there which steps ran (and in which order). Each task
opens the file itself: a helper function of this module would not travel to the workers."""

import plait as union


@union.task
def first(log: str, seed: int) -> int:
    with open(log, "a") as out:
        out.write("first\n")
    return seed + 1


@union.task
def second(log: str, x: int) -> int:
    with open(log, "a") as out:
        out.write("second\n")
    return x * 10


@union.task
def third(log: str, x: int) -> int:
    with open(log, "a") as out:
        out.write("third\n")
    return x + 3


@union.workflow
def chain(log: str, seed: int = 1) -> int:
    """first -> second -> third: ((seed + 1) * 10) + 3."""
    return third(log=log, x=second(log=log, x=first(log=log, seed=seed)))
