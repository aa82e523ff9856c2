"""The programs the actor benchmark runs: a model load of SETUP_S seconds, then a cheap
prediction per item; as a plain task (every item loads the model) and as an actor task with
`actor_cache` (each replica loads it once). benchmarks/actors.py registers a copy with the
figures it was given in place of the defaults below (workers do not see its environment)."""

import time

import plait
from plait import ActorEnvironment, actor_cache

SETUP_S = 2.0
REPLICAS = 2

actor = ActorEnvironment(name="bench-model", replica_count=REPLICAS, ttl_seconds=300)


def load() -> float:
    time.sleep(SETUP_S)  # a model load: reading weights, moving them to a device
    return 2.0


@actor_cache
def cached_load() -> float:
    return load()


@plait.task
def predict(x: int) -> float:
    return load() * x


@actor.task
def actor_predict(x: int) -> float:
    return cached_load() * x


@plait.workflow
def plain_all(xs: list[int]) -> list[float]:
    return plait.map(predict)(x=xs)


@plait.workflow
def actor_all(xs: list[int]) -> list[float]:
    return plait.map(actor_predict)(x=xs)
