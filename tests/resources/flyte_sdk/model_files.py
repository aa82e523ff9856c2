"""Pydantic models that carry files, a folder and a data set from task to task."""

import os

import pandas as pd
from plait import FlyteDirectory, FlyteFile, StructuredDataset, current_context, task, workflow
from pydantic import BaseModel


class Shard(BaseModel):
    label: str
    rows: FlyteFile


class Delivery(BaseModel):
    title: str
    summary: FlyteFile
    images: FlyteDirectory
    shards: list[Shard]
    table: StructuredDataset


@task
def pack(title: str, rows: list[str]) -> Delivery:
    work = current_context().working_directory
    summary = os.path.join(work, "summary.txt")
    with open(summary, "w") as handle:
        handle.write(f"{title}: {len(rows)} rows")
    images = os.path.join(work, "images")
    os.makedirs(images)
    for name in ("a.png", "b.png"):
        with open(os.path.join(images, name), "w") as handle:
            handle.write(name)
    shards = []
    for i, row in enumerate(rows):
        folder = os.path.join(work, f"shard{i}")
        os.makedirs(folder)
        path = os.path.join(folder, "data.txt")  # every shard's file has the same name
        with open(path, "w") as handle:
            handle.write(row)
        shards.append(Shard(label=f"s{i}", rows=FlyteFile(path)))
    frame = pd.DataFrame({"row": rows, "length": [len(r) for r in rows]})
    return Delivery(title=title, summary=FlyteFile(summary), images=FlyteDirectory(images), shards=shards,
                    table=StructuredDataset(dataframe=frame))


@task
def unpack(delivery: Delivery) -> str:
    with open(delivery.summary) as handle:
        summary = handle.read()
    images = sorted(os.listdir(delivery.images))
    shards = [f"{s.label}={open(s.rows).read()}" for s in delivery.shards]
    total = int(delivery.table.open(pd.DataFrame).all()["length"].sum())
    return f"{summary} | {images} | {shards} | {total}"


@workflow
def deliver(title: str, rows: list[str]) -> str:
    return unpack(delivery=pack(title=title, rows=rows))
