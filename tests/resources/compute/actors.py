"""An actor whose replicas load a "model" once each, and the same work as a plain task."""

import os
import time

import plait
from plait import ActorEnvironment, actor_cache, task, workflow

LOADS = 0  # how many times this process loaded the model

warm = ActorEnvironment(name="warm-model", replica_count=2, ttl_seconds=60)


@actor_cache
def load_model(scale: int) -> int:
    global LOADS
    LOADS += 1
    time.sleep(0.3)  # the set-up an actor pays once per replica
    return scale


@warm.task
def predict(x: int) -> str:
    scale = load_model(10)
    return f"{os.environ.get('PLAIT_POOL')}|{os.getpid()}|loads={LOADS}|{x * scale}"


@task
def plain_predict(x: int) -> str:
    scale = load_model(10)
    return f"{os.environ.get('PLAIT_POOL')}|{os.getpid()}|loads={LOADS}|{x * scale}"


@workflow
def predict_all(xs: list[int]) -> list[str]:
    return plait.map(predict)(x=xs)
