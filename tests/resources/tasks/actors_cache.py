"""`@actor_cache`: an expensive loader runs once per replica, then every task reuses it."""

import os

import plait as union

scorer = union.ActorEnvironment(name="scorer", replica_count=1)

LOADS: list[int] = []  # what the loader was asked for, in order


@union.actor_cache
def load_model(offset: int):
    LOADS.append(offset)  # stands in for a slow download
    return lambda value: value + offset


@scorer.task
def score(value: int, offset: int) -> int:
    model = load_model(offset=offset)
    return model(value)


@union.workflow
def score_four_times(start: int = 1, offset: int = 3) -> int:
    out = score(value=start, offset=offset)
    out = score(value=out, offset=offset)
    out = score(value=out, offset=offset)
    return score(value=out, offset=offset)


class Settings:
    """A custom key: equal settings share a cache entry."""

    def __init__(self, level: int) -> None:
        self.level = level

    def __hash__(self) -> int:
        return hash(self.level)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Settings) and other.level == self.level


@union.actor_cache
def level_of(settings: Settings) -> int:
    LOADS.append(-settings.level)
    return settings.level


@scorer.task
def echo_level(level: int) -> int:
    return level_of(Settings(level))


@union.workflow
def levels(level: int = 2) -> int:
    a = echo_level(level=level)
    b = echo_level(level=a)
    return echo_level(level=b)


@union.actor_cache
def pid_of_replica() -> int:
    return os.getpid()
