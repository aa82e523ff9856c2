"""The benchmark programs written for flytekit (imported only when flytekit is installed)."""

import flytekit as fk

CHAIN = 200


@fk.task
def f_inc(x: int) -> int:
    return x + 1


@fk.workflow
def f_chain(x: int) -> int:
    for _ in range(CHAIN):
        x = f_inc(x=x)
    return x


@fk.workflow
def f_map(xs: list[int]) -> list[int]:
    return fk.map_task(f_inc)(x=xs)


@fk.dynamic
def f_dyn(n: int) -> list[int]:
    return [f_inc(x=i) for i in range(n)]


@fk.task(cache=True, cache_version="1")
def f_cached(x: int) -> int:
    return 2 * x


@fk.workflow
def f_cached_wf(x: int) -> int:
    return f_cached(x=x)


def measure() -> dict[str, float]:
    import statistics
    import time

    def median_time(fn, repeat: int) -> float:  # noqa: ANN001
        fn()
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return statistics.median(times)

    xs = list(range(10_000))
    return {
        "chain": median_time(lambda: f_chain(x=0), 3),
        "map": median_time(lambda: f_map(xs=xs), 3),
        "dynamic": median_time(lambda: f_dyn(n=200), 3),
        "cache": median_time(lambda: f_cached_wf(x=3), 21),
    }


if __name__ == "__main__":
    import json
    import logging

    logging.disable(logging.WARNING)
    print("PLAIT-BENCH " + json.dumps(measure()))
