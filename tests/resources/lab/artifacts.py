"""Artifacts for the lab's browser tests: a model trained per region (its partition read
from an input), a table with a model card (its partition given when the task returns),
and a report whose input defaults to the newest European model (a query, resolved at launch)."""

from typing import Annotated

import plait

Model = plait.Artifact(name="lab_model", partition_keys=["region"])
Table = plait.Artifact(name="lab_table", partition_keys=["source"])


@plait.task
def train(region: str, depth: int) -> Annotated[int, Model(region=plait.Inputs.region)]:
    return depth * 10


@plait.task
def tabulate(rows: int) -> Annotated[list[int], Table]:
    card = plait.ModelCard("# Lab table\n\nOne row per **sample**, counted from zero.")
    return Table.create_from(list(range(rows)), card, source="census")


@plait.workflow
def build(region: str, depth: int = 3, rows: int = 4) -> int:
    tabulate(rows=rows)
    return train(region=region, depth=depth)


@plait.task
def score(model: int) -> float:
    return model / 2


@plait.workflow
def report(model: int = Model.query(region="eu")) -> float:
    return score(model=model)
