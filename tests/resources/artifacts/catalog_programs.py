"""Programs that make and read artifacts: each shape the artifact pages describe, in our own words.

Used by the local engine and the backend alike (tests/backend/test_artifacts_on_backend.py), so
the same program gives the same catalog in both places.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import pandas as pd
import plait

Readings = plait.Artifact(name="readings")
Hourly = plait.Artifact(name="hourly_counts", time_partitioned=True,
                        time_partition_granularity=plait.Granularity.HOUR)
Regional = plait.Artifact(name="regional_score", time_partitioned=True,
                          time_partition_granularity=plait.Granularity.HOUR, partition_keys=["region"])
Model = plait.Artifact(name="churn_model", partition_keys=["team"])
Count = plait.Artifact(name="row_count", partition_keys=["source"])
Summary = plait.Artifact(name="count_summary")


# --- a basic artifact: no partitions --------------------------------------------------
@plait.task
def read_sensors() -> Annotated[pd.DataFrame, Readings]:
    frame = pd.DataFrame({"sensor": ["a", "b", "c"], "value": [1.5, 2.5, 4.0]})
    return Readings.create_from(frame)


@plait.workflow
def sensors_wf() -> pd.DataFrame:
    return read_sensors()


# --- a time partition given at run time, and one bound to an input -------------------
@plait.task
def count_now(n: int) -> Annotated[int, Hourly]:
    return Hourly.create_from(n, time_partition=dt.datetime(2026, 12, 6, 10, 42, 7))


@plait.task
def count_at(n: int, when: dt.datetime) -> Annotated[int, Hourly(time_partition=plait.Inputs.when)]:
    return n


@plait.workflow
def hourly_wf(n: int = 3) -> int:
    return count_now(n=n)


@plait.workflow
def hourly_at_wf(n: int, when: dt.datetime) -> int:
    return count_at(n=n, when=when)


# --- custom partition keys, given at run time and bound to an input ------------------
@plait.task
def score_region(region: str, when: dt.datetime) -> Annotated[float, Regional(region=plait.Inputs.region)]:
    return Regional.create_from(float(len(region)), time_partition=when)


@plait.task
def score_named(name: str, when: dt.datetime) -> Annotated[float, Regional]:
    return Regional.create_from(2.0, time_partition=when, region=name.upper())


@plait.workflow
def regions_wf(when: dt.datetime) -> None:
    for region in ("north", "south", "east"):
        score_region(region=region, when=when)


@plait.workflow
def named_region_wf(name: str, when: dt.datetime) -> float:
    return score_named(name=name, when=when)


# --- a model card ---------------------------------------------------------------------
@plait.task
def train(team: str, depth: int) -> Annotated[int, Model(team=plait.Inputs.team)]:
    card = plait.ModelCard(f"# Churn model\n\nTrained for **{team}** with depth {depth}.\n")
    return Model.create_from(depth * 10, card)


@plait.workflow
def train_wf(team: str = "growth", depth: int = 3) -> int:
    return train(team=team, depth=depth)


# --- a query as a workflow input's default ---------------------------------------------
@plait.task
def describe(team: str, model: int) -> str:
    return f"{team}:{model}"


@plait.workflow
def use_model_wf(team: str = "growth", model: int = Model.query(team=plait.Inputs.team)) -> str:
    return describe(team=team, model=model)


@plait.workflow
def describe_wf(team: str, model: int) -> str:
    return describe(team=team, model=model)


newest_model = plait.LaunchPlan.get_or_create(
    describe_wf, name="describe_newest_model", default_inputs={"model": Model.query(team=plait.Inputs.team)},
)


@plait.task
def read_hour(n: int) -> int:
    return n + 1000


@plait.workflow
def use_hour_wf(when: dt.datetime, n: int = Hourly.query(time_partition=plait.Inputs.when)) -> int:
    return read_hour(n=n)


# --- a trigger: a new row count launches the summary, which makes an artifact of its own
@plait.task
def count_rows(source: str, rows: int) -> Annotated[int, Count(source=plait.Inputs.source)]:
    return rows


@plait.workflow
def count_wf(source: str, rows: int) -> int:
    return count_rows(source=source, rows=rows)


@plait.task
def summarize(source: str, rows: int) -> Annotated[str, Summary]:
    return f"{source} has {rows} rows"


@plait.workflow
def summary_wf(source: str, rows: int) -> str:
    return summarize(source=source, rows=rows)


on_count = plait.LaunchPlan.get_or_create(
    summary_wf, name="summarize_counts",
    trigger=plait.OnArtifact(trigger_on=Count, inputs={"source": Count.partitions.source, "rows": Count}),
)


# --- a cached emitter: a hit makes no new version --------------------------------------
Cached = plait.Artifact(name="cached_total")


@plait.task(cache=True, cache_version="1")
def total(xs: list[int]) -> Annotated[int, Cached]:
    return sum(xs)


@plait.workflow
def total_wf(xs: list[int]) -> int:
    return total(xs=xs)


# --- a type that does not fit the artifact ----------------------------------------------
@plait.task
def wrong_count(source: str) -> Annotated[str, Count(source=plait.Inputs.source)]:
    return "not a number"


@plait.workflow
def wrong_count_wf(source: str) -> str:
    return wrong_count(source=source)


# --- a retried emitter: one version for the one successful attempt -----------------------
Flaky = plait.Artifact(name="flaky_value")


@plait.task(retries=2)
def flaky(marker: str) -> Annotated[int, Flaky]:
    import pathlib

    seen = pathlib.Path(marker)
    if not seen.exists():
        seen.write_text("failed once")
        raise plait.FlyteRecoverableException("the first attempt fails on purpose")
    return 7


@plait.workflow
def flaky_wf(marker: str) -> int:
    return flaky(marker=marker)


# --- a loop: a plan triggered by the artifact its own workflow makes ---------------------
Echo = plait.Artifact(name="echo_value")


@plait.task
def echo(n: int) -> Annotated[int, Echo]:
    return n + 1


@plait.workflow
def echo_wf(n: int = 0) -> int:
    return echo(n=n)


on_echo = plait.LaunchPlan.get_or_create(
    echo_wf, name="echo_again", trigger=plait.OnArtifact(trigger_on=Echo, inputs={"n": Echo}),
)


# --- a chain: row_count -> summarize_counts makes count_summary -> announce_summaries -----
@plait.task
def announce(text: str) -> str:
    return f"announced: {text}"


@plait.workflow
def announce_wf(text: str) -> str:
    return announce(text=text)


on_summary = plait.LaunchPlan.get_or_create(
    announce_wf, name="announce_summaries", trigger=plait.OnArtifact(trigger_on=Summary, inputs={"text": Summary}),
)


# --- a trigger under a concurrency policy: one run at a time, the others skipped ------------
Tick = plait.Artifact(name="tick")


@plait.task
def slow_read(n: int) -> int:
    import time

    time.sleep(3)
    return n


@plait.workflow
def slow_read_wf(n: int) -> int:
    return slow_read(n=n)


one_at_a_time = plait.LaunchPlan.get_or_create(
    slow_read_wf, name="read_ticks_one_at_a_time", trigger=plait.OnArtifact(trigger_on=Tick, inputs={"n": Tick}),
    concurrency=plait.ConcurrencyPolicy(max_concurrency=1, behavior=plait.ConcurrencyLimitBehavior.SKIP),
)
