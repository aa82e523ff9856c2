"""A downstream launch plan that runs whenever the upstream workflow emits a new version."""

from datetime import datetime, timedelta
from typing import Annotated

import plait as union
from plait.artifacts import Inputs, OnArtifact

Upstream = union.Artifact(name="upstream_counts", time_partitioned=True, partition_keys=["source"])


@union.task
def count_events(source: str, at: datetime) -> Annotated[list[int], Upstream(source=Inputs.source)]:
    return Upstream.create_from([len(source), at.hour], source=source, time_partition=at)


@union.workflow
def upstream_wf(source: str, at: datetime) -> list[int]:
    return count_events(source=source, at=at)


@union.task
def summarize(counts: list[int], source: str, previous: list[int]) -> str:
    return f"{source}: {counts} after {previous}"


@union.workflow
def downstream_wf(counts: list[int], source: str, previous: list[int]) -> str:
    return summarize(counts=counts, source=source, previous=previous)


on_upstream = OnArtifact(
    trigger_on=Upstream,
    inputs={
        "counts": Upstream,  # the new version itself
        "source": Upstream.partitions.source,
        "previous": Upstream.query(
            source=Upstream.partitions.source,
            time_partition=Upstream.time_partition - timedelta(days=1),
        ),
    },
)

downstream_lp = union.LaunchPlan.create(
    "artifacts_trigger.downstream_lp", downstream_wf, trigger=on_upstream
)
