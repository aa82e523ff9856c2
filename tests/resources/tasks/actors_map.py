"""Map an actor task over a list; the model is loaded once for every item."""

from pathlib import Path

import plait as union

pool = union.ActorEnvironment(name="inference-pool", replica_count=2, ttl_seconds=120)

LOADED: list[str] = []


class Model:
    def __init__(self, factor: int) -> None:
        self.factor = factor

    def __call__(self, value: int) -> int:
        return self.factor * value


@union.task(cache=True, cache_version="1")
def write_model_state() -> union.FlyteFile:
    path = Path(union.current_context().working_directory) / "model_state.txt"
    path.write_text("4")
    return union.FlyteFile(str(path))


@union.actor_cache
def load_model(state: union.FlyteFile) -> Model:
    LOADED.append(str(state))
    with open(state) as fh:
        return Model(factor=int(fh.read()))


@pool.task
def infer(value: int, state: union.FlyteFile) -> int:
    return load_model(state)(value)


@union.workflow
def run_inference(values: list[int] = list(range(8))) -> list[int]:
    state = write_model_state()
    # every item gets the same model state; only `value` is mapped
    return union.map(infer, bound_inputs=["state"])(value=values, state=state)

@pool.task(cache=True, cache_version="v1")
def is_even(number: int) -> bool:
    return number % 2 == 0


@union.workflow
def evens(numbers: list[int]) -> list[bool]:
    return union.map(is_even)(number=numbers)
