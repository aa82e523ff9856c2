"""Custom partition keys, filled from inputs in the annotation or when the task returns."""

from datetime import datetime
from typing import Annotated

import plait as union
from plait.artifacts import Granularity, Inputs

Sales = union.Artifact(
    name="store_sales",
    time_partitioned=True,
    time_partition_granularity=Granularity.DAY,
    partition_keys=["store"],
)


@union.task
def sales_for(store: str, day: datetime) -> Annotated[list[float], Sales(store=Inputs.store)]:
    base = {"north": 10.0, "south": 20.0, "east": 30.0}[store]
    return Sales.create_from([base, base * 2], time_partition=day)


@union.workflow
def all_stores(day: datetime) -> None:
    for store in ["north", "south", "east"]:
        sales_for(store=store, day=day)


@union.task
def sales_tagged_on_return(store: str, day: datetime) -> Annotated[list[float], Sales]:
    # same artifact; the partition values are given when the task returns
    return Sales.create_from([1.0], time_partition=day, store=store)


@union.workflow
def one_store(store: str, day: datetime) -> list[float]:
    return sales_tagged_on_return(store=store, day=day)


@union.task
def untagged(day: datetime) -> Annotated[list[float], Sales]:
    return Sales.create_from([0.0], time_partition=day)
