"""A model artifact partitioned by region, a workflow that makes it and one that reads it
through a query default: the client, CLI and notebook tests register this file."""
from __future__ import annotations

from typing import Annotated

import plait
from plait.artifacts import Inputs

Model = plait.Artifact(name="model", partition_keys=["region"])


@plait.task
def train(region: str, size: int) -> Annotated[list[int], Model(region=Inputs.region)]:
    return list(range(size))


@plait.workflow
def training(region: str, size: int) -> list[int]:
    return train(region=region, size=size)


@plait.task
def total(model: list[int]) -> int:
    return sum(model)


@plait.workflow
def uses_model(model: list[int] = Model.query(region="eu")) -> int:
    return total(model=model)
