"""The artifact catalog: the latest-matching query over 100,000 versions, and trigger latency.

    python benchmarks/artifacts.py                   # both, on a backend started for the run
    python benchmarks/artifacts.py --versions 20000  # a smaller catalog

1. Query. The catalog of a fresh backend is filled with N versions of one artifact
   with two partition keys (`region`: 20 values, `model`: 500 values) and a daily
   time partition, written straight into its database in batches. Then
   `GET /artifacts/{name}/latest?partition=region=..&partition=model=..` is asked
   for random partition values through the API, one request at a time (goal:
   p99 <= 10 ms). Baseline, side by side: `GET /health` through the same client,
   the floor of any API call on this machine.
2. Trigger latency. An active launch plan with `OnArtifact` reacts to each new
   version of `row_count`; from the emitting node's end (its record's `ended_at`)
   to the downstream execution's creation (`created_at`), both written by the
   backend (goal <= 1 s). Baseline: a client that polls the upstream execution
   every 50 ms and launches the downstream itself when it succeeds.

Medians and percentiles of several runs; the machine may be shared, so compare ratios.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
PROGRAMS = Path(__file__).parents[1] / "tests" / "resources" / "artifacts" / "catalog_programs.py"
MOD = "catalog_programs"
REGIONS = [f"r{i}" for i in range(20)]
MODELS = [f"m{i}" for i in range(500)]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def fill(home: str, count: int) -> None:
    """Write `count` versions of `bench_model` into the backend's database, in batches."""
    from plait.backend.store import Database
    from plait.backend.store.models import ArtifactPartition, ArtifactVersion

    db = Database(f"sqlite:///{home}/plait.db")
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    rng = random.Random(7)
    batch = 5000
    for first in range(0, count, batch):
        rows, parts = [], []
        for i in range(first, min(count, first + batch)):
            region, model = rng.choice(REGIONS), rng.choice(MODELS)
            day = (start + dt.timedelta(days=i % 365)).replace(tzinfo=None).isoformat()
            rows.append({"project": "default", "domain": "development", "name": "bench_model",
                         "version": uuid.uuid4().hex[:16], "partitions": {"region": region, "model": model},
                         "time_partition": day, "granularity": "DAY", "type": {"kind": "integer"},
                         "value": {"literal": i, "hash": str(i)}, "cards": [],
                         "created_at": start + dt.timedelta(seconds=i)})
            parts.append((region, model, day))
        with db.session() as s:
            s.execute(ArtifactVersion.__table__.insert(), rows)
            ids = [r[0] for r in s.execute(ArtifactVersion.__table__.select().with_only_columns(
                ArtifactVersion.id).where(ArtifactVersion.name == "bench_model")
                .order_by(ArtifactVersion.id.desc()).limit(len(rows)))][::-1]
            s.execute(ArtifactPartition.__table__.insert(), [
                {"artifact_id": aid, "key": k, "value": v, "project": "default", "domain": "development",
                 "name": "bench_model"}
                for aid, (region, model, day) in zip(ids, parts, strict=True)
                for k, v in (("region", region), ("model", model), ("time_partition", day))])
    db.engine.dispose()


def measure_query(remote: Any, home: str, count: int, asks: int = 1000) -> list[tuple[str, str, str, str]]:
    t = time.perf_counter()
    fill(home, count)
    filled = time.perf_counter() - t
    http = remote._http()
    rng = random.Random(11)
    for _ in range(20):  # warm the connection and the database's pages
        http.get("/api/v1/artifacts/bench_model/latest", params={"partition": ["region=r1", "model=m1"]})
        http.get("/health")
    query, floor, misses = [], [], 0
    for _ in range(asks):  # interleaved, so both see the same load
        params = {"partition": [f"region={rng.choice(REGIONS)}", f"model={rng.choice(MODELS)}"]}
        t = time.perf_counter()
        answer = http.get("/api/v1/artifacts/bench_model/latest", params=params)
        query.append(time.perf_counter() - t)
        misses += answer.status_code == 404
        assert answer.status_code in (200, 404), answer.text
        t = time.perf_counter()
        http.get("/health")
        floor.append(time.perf_counter() - t)
    rows = []
    for label, p in (("p50", 50), ("p99", 99)):
        q, f = percentile(query, p) * 1000, percentile(floor, p) * 1000
        rows.append((f"latest matching 2 partitions of {count:,} versions, {label}", f"{q:.2f} ms",
                     f"{f:.2f} ms", f"{q / f:.2f}x the floor (goal p99 <= 10 ms)"))
    print(f"(filled {count:,} versions in {filled:.1f} s; {misses} of {asks} queries matched nothing)")
    return rows


def measure_trigger(remote: Any, repeat: int = 8) -> list[tuple[str, str, str, str]]:
    remote.register(str(PROGRAMS), version="bench")
    count_wf = remote.fetch_workflow(f"{MOD}.count_wf", "bench")
    summary_wf = remote.fetch_workflow(f"{MOD}.summary_wf", "bench")
    remote.execute(count_wf, {"source": "warm", "rows": 0}).wait(poll=0.05)  # warms the workers up
    remote.activate_launch_plan("summarize_counts", "bench")
    http = remote._http()

    def parse(text: str) -> dt.datetime:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))

    triggered, polled = [], []
    for i in range(repeat):
        done = remote.execute(count_wf, {"source": f"s{i}", "rows": i}).wait(poll=0.05)
        ended = parse(done.nodes()[0].record["ended_at"])
        deadline = time.monotonic() + 30
        while True:
            runs = [r for r in http.get("/api/v1/launch_plans/summarize_counts/trigger_runs").json()["items"]
                    if r["execution_id"] and r["artifact"]["name"] == "row_count"]
            mine = [r for r in runs if remote.fetch_execution(r["execution_id"]).record["inputs"]["source"]
                    .get("literal") == f"s{i}"]
            if mine:
                break
            assert time.monotonic() < deadline, "the trigger did not launch within 30 s"
            time.sleep(0.05)
        created = parse(remote.fetch_execution(mine[0]["execution_id"]).record["created_at"])
        triggered.append((created - ended).total_seconds())
    remote.deactivate_launch_plan("summarize_counts")
    for i in range(repeat):  # the baseline: the client watches and launches
        run = remote.execute(count_wf, {"source": f"b{i}", "rows": i})
        run = run.wait(poll=0.05)
        follow = remote.execute(summary_wf, {"source": f"b{i}", "rows": i})
        ended = parse(run.nodes()[0].record["ended_at"])
        polled.append((parse(follow.record["created_at"]) - ended).total_seconds())
    t, b = statistics.median(triggered), statistics.median(polled)
    return [("trigger: node end -> downstream created, median", f"{t * 1000:.0f} ms", f"{b * 1000:.0f} ms",
             f"{t / b:.2f}x the polling client (goal <= 1 s)"),
            ("trigger: node end -> downstream created, max", f"{max(triggered) * 1000:.0f} ms",
             f"{max(polled) * 1000:.0f} ms", "")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.setdefault("PLAIT_WORKERS", "1")
    from serving import plait_server

    with plait_server() as (remote, home):
        rows = measure_query(remote, home, args.versions)
        rows += measure_trigger(remote)
    header = ("measure", "plait", "baseline", "ratio")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()
