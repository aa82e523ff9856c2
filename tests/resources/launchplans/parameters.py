"""Launch plans whose execution parameters the backend must honour.

- `one_at_a_time_stamps`: four independent naps under `max_parallelism=1`; each
  nap answers when it really started and ended, on its worker.
- `refresh_lp`: a cached task's workflow with `overwrite_cache=True`.
- `labelled_lp`: labels and annotations to find its executions by.
- `cached_parts`: a subworkflow and a sub-launch plan, each with a `cache` override.
- `raw_lp`: outputs too large to be literals, written under a raw output prefix, and
  read back by the next task and by the client.
"""

import time

import plait


@plait.task
def stamp(i: int, seconds: float) -> list[float]:
    start = time.time()
    time.sleep(seconds)
    return [start, time.time()]


@plait.workflow
def four_stamps(seconds: float = 0.8) -> list[list[float]]:
    return [stamp(i=i, seconds=seconds) for i in range(4)]


@plait.task
def refuse(x: int) -> int:
    raise ValueError(f"refusing {x}")


@plait.workflow
def one_refuses(seconds: float = 0.3) -> tuple[list[float], int, list[float]]:
    return stamp(i=0, seconds=seconds), refuse(x=1), stamp(i=2, seconds=seconds)


one_at_a_time_stamps = plait.LaunchPlan.get_or_create(
    four_stamps, name="one_at_a_time_stamps", max_parallelism=1,
)


@plait.task(cache=True, cache_version="1")
def double(x: int) -> int:
    return 2 * x


@plait.workflow
def cached_double(x: int) -> int:
    return double(x=x)


refresh_lp = plait.LaunchPlan.get_or_create(cached_double, name="refresh_lp", overwrite_cache=True)

labelled_lp = plait.LaunchPlan.get_or_create(
    cached_double, name="labelled_lp",
    labels=plait.Labels({"team": "ml", "tier": "gold"}), annotations=plait.Annotations({"owner": "ana"}),
)


@plait.task
def triple(x: int) -> int:
    return 3 * x


@plait.workflow
def tripled(x: int) -> int:
    return triple(x=x)


tripled_lp = plait.LaunchPlan.get_or_create(tripled, name="tripled_lp")


@plait.workflow
def cached_parts(x: int) -> tuple[int, int]:
    embedded = tripled(x=x).with_overrides(cache=plait.Cache(version="1"))
    launched = tripled_lp(x=x).with_overrides(cache=True)
    return embedded, launched


@plait.task
def long_text(n: int) -> str:
    return "x" * n  # past the size of a literal: stored as an object


@plait.task
def length(text: str) -> int:
    return len(text)


@plait.workflow
def long_and_length(n: int) -> tuple[str, int]:
    text = long_text(n=n)
    return text, length(text=text)


raw_lp = plait.LaunchPlan.get_or_create(
    long_and_length, name="raw_lp", raw_output_data_config=plait.RawOutputDataConfig("team-a/raw"),
)
