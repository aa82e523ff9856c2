"""A workflow whose failure handler only cleans up: it takes the workflow's inputs and no `err`."""

import os
from pathlib import Path

from plait import task, workflow


def _note(text: str) -> None:
    log = os.environ.get("CLEANUP_LOG")
    if log:
        with Path(log).open("a") as handle:
            handle.write(text + "\n")


@task
def reserve_cluster(name: str) -> str:
    _note(f"reserved {name}")
    return name


@task
def train_on(cluster: str) -> int:
    raise RuntimeError(f"cluster {cluster} ran out of memory")


@task
def release_cluster(name: str) -> None:
    _note(f"released {name}")


@workflow(on_failure=release_cluster)
def training_run(name: str = "gpu-pool") -> int:
    cluster = reserve_cluster(name=name)
    return train_on(cluster=cluster)
