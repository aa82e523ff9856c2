"""Plain classes (pickled) returned in batches, and a task that yields its greetings."""

from collections.abc import Iterator
from typing import Annotated

from plait import BatchSize, map_task, task, workflow


class Hero:
    """Not a dataclass: Flyte pickles it."""

    def __init__(self, name: str, level: int):
        self.name = name
        self.level = level


@task
def recruit(names: list[str]) -> Annotated[list[Hero], BatchSize(2)]:
    return [Hero(name, len(name)) for name in names]


@task
def cheer(heroes: list[Hero]) -> Iterator[str]:
    for hero in heroes:
        yield f"Go {hero.name} (level {hero.level})!"


@task
def shout(line: str) -> str:
    return line.upper()


@workflow
def rally(names: list[str]) -> Iterator[str]:
    return cheer(heroes=recruit(names=names))


@workflow
def loud_rally(names: list[str]) -> list[str]:
    return map_task(shout)(line=cheer(heroes=recruit(names=names)))


@task
def describe(hero: Hero) -> str:
    return f"{hero.name}:{hero.level}"


@workflow
def roll_call(names: list[str]) -> list[str]:
    return map_task(describe)(hero=recruit(names=names))
