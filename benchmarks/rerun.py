"""Partial re-runs: time to result of re-running the last node of a chain vs running it all again.

    python benchmarks/rerun.py             # the local engine, then the backend
    python benchmarks/rerun.py --local     # the local engine only

Locally, and on a backend started for the run (a local Dask cluster, the
200-node chain of benchmarks/backend_programs.py): the re-run reuses 199 nodes'
stored outputs and runs the last node.

The baseline is the same chain run again from the top, measured in the same
run. A re-run still visits every node (each reused node is a record and an
identity check of its inputs), so with tasks that cost microseconds the gain is
the engine's per-node overhead only; with tasks that do some work (the second
row: 1 ms each) it is the work not done. Figures are medians of several runs;
the machine may be shared, so compare ratios rather than absolute numbers.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PLAIT_HOME", tempfile.mkdtemp(prefix="plait-bench-"))
sys.path.insert(0, str(Path(__file__).parent))

import plait  # noqa: E402
from plait.run.engine import execute  # noqa: E402
from run import median_time  # noqa: E402  (the local engine benchmarks' timing, shared)

CHAIN = 200
LAST = f"n{CHAIN - 1}"


@plait.task
def inc(x: int) -> int:
    return x + 1


@plait.task
def slow_inc(x: int) -> int:
    time.sleep(0.001)
    return x + 1


@plait.workflow
def chain(x: int) -> int:
    for _ in range(CHAIN):
        x = inc(x=x)
    return x


@plait.workflow
def slow_chain(x: int) -> int:
    for _ in range(CHAIN):
        x = slow_inc(x=x)
    return x


def measure(label: str, wf: object, repeat: int) -> tuple[str, str, str, str]:
    first = execute(wf, {"x": 0})
    assert first.native() == CHAIN
    again = plait.rerun(first, from_nodes=[LAST])
    assert again.native() == CHAIN and sum(r.phase == "REUSED" for r in again.nodes.values()) == CHAIN - 1
    full = median_time(lambda: execute(wf, {"x": 0}), repeat=repeat)
    partial = median_time(lambda: plait.rerun(first, from_nodes=[LAST]), repeat=repeat)
    return (label, f"{partial * 1000:,.2f} ms", f"{full * 1000:,.2f} ms",
            f"{full / partial:,.1f}x faster ({partial / full:.1%} of a full run)")


def measure_backend(repeat: int = 3) -> tuple[str, str, str, str]:
    """The same on the backend: the chain run again vs a re-run from its last node (medians)."""
    from serving import plait_server

    here = Path(__file__).parent

    with plait_server() as (remote, _home):
        remote.register(str(here / "backend_programs.py"))
        wf = remote.fetch_workflow("backend_programs.chain")
        first = remote.execute(wf, {"x": 0}).wait(poll=0.05)  # also warms the workers up
        assert first.outputs == {"o0": CHAIN}, first.outputs
        full, partial = [], []
        for _ in range(repeat):  # interleaved, so both see the same load
            t = time.perf_counter()
            assert remote.execute(wf, {"x": 0}).wait(poll=0.05).phase == "SUCCEEDED"
            full.append(time.perf_counter() - t)
            t = time.perf_counter()
            again = remote.rerun(first, [LAST]).wait(poll=0.05)
            partial.append(time.perf_counter() - t)
            assert again.outputs == first.outputs
        assert sum(n.phase == "REUSED" for n in again.nodes()) == CHAIN - 1
    f, p = statistics.median(full), statistics.median(partial)
    return (f"{CHAIN}-node chain on the backend: re-run the last node", f"{p:,.2f} s", f"{f:,.2f} s",
            f"{f / p:,.1f}x faster ({p / f:.1%} of a full run)")


def main() -> None:
    rows = [
        measure(f"{CHAIN}-node chain, cheap tasks: re-run the last node", chain, 21),
        measure(f"{CHAIN}-node chain, 1 ms tasks: re-run the last node", slow_chain, 5),
    ]
    if "--local" not in sys.argv[1:]:
        rows.append(measure_backend())
    header = ("measure", "re-run", "baseline: run it all again", "ratio")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()
