"""Three notebooks composed into one typed pipeline.

    plait run notebooks/pipeline/pipeline.py notebook_pipeline --n 50 --seed 7

Each notebook runs on its own in Jupyter; here each is a `NotebookTask` with
declared inputs and outputs, so the workflow is type-checked like any other:
`load` makes a CSV file, `stats` summarises it, `report` writes one line.
Every step also returns its executed notebook and an HTML rendering of it.
"""

from __future__ import annotations

import plait
from plait import NotebookTask

load = NotebookTask(
    "load", "load.ipynb",
    inputs={"n": int, "seed": int},
    outputs={"data": plait.FlyteFile["csv"]},
)
stats = NotebookTask(
    "stats", "stats.ipynb",
    inputs={"data": plait.FlyteFile["csv"]},
    outputs={"mean": float, "stdev": float, "count": int},
)
report = NotebookTask(
    "report", "report.ipynb",
    inputs={"mean": float, "stdev": float, "count": int},
    outputs={"summary": str},
)


@plait.workflow
def notebook_pipeline(n: int = 50, seed: int = 7) -> str:
    """Load synthetic data, summarise it and report, one notebook per step."""
    data = load(n=n, seed=seed).data
    s = stats(data=data)
    return report(mean=s.mean, stdev=s.stdev, count=s.count).summary
