"""Consume the latest matching artifact version: as a workflow default and in a launch plan."""

from datetime import datetime
from typing import Annotated

import plait as union
from plait.artifacts import Inputs

Sales = union.Artifact(name="region_sales", time_partitioned=True, partition_keys=["region"])


@union.task
def publish(region: str, day: datetime, amount: float) -> Annotated[float, Sales(region=Inputs.region)]:
    return Sales.create_from(amount, time_partition=day)


@union.workflow
def publish_wf(region: str, day: datetime, amount: float) -> float:
    return publish(region=region, day=day, amount=amount)


@union.task
def report(region: str, amount: float) -> str:
    return f"{region}: {amount:.2f}"


sales_query = Sales.query(region=Inputs.region, time_partition=Inputs.day)


@union.workflow
def report_wf(region: str, day: datetime, amount: float = sales_query) -> str:
    return report(region=region, amount=amount)


@union.workflow
def report_any(region: str, amount: float) -> str:
    return report(region=region, amount=amount)


latest_west = union.LaunchPlan.get_or_create(
    report_any,
    name="artifacts_query.latest_west",
    default_inputs={"region": "west", "amount": Sales.query(region="west")},
)
