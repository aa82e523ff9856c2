"""Notebook benchmarks, each printed beside a baseline measured in the same run.

    python benchmarks/notebook.py

- `%%task` cell -> callable task (goal <= 20 ms); baseline: the same function
  defined by a plain cell.
- `%plait dag` on a 200-node workflow -> MIME bundle emitted (goal <= 100 ms);
  baseline: serialising the workflow's spec (`json.dumps(wf.to_spec())`).

Both run in an in-process IPython shell, so the figures are the kernel's own
work (a frontend adds the same message round trip to both sides).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

os.environ.setdefault("PLAIT_HOME", tempfile.mkdtemp(prefix="plait-bench-"))

CELLS = 200
DAG_NODES = 200


def median_ms(fn: Callable[[int], object], repeat: int, warmup: int = 3) -> float:
    for i in range(warmup):
        fn(-1 - i)
    times = []
    for i in range(repeat):
        t = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "plait")
    ns = shell.user_ns

    def body(i: int) -> str:
        n = f"f{i}".replace("-", "_")
        return f"def {n}(x: int, y: int = {abs(i)}) -> int:\n    '''Add.'''\n    return x + y * {abs(i)}\n"

    def plain(i: int) -> None:
        shell.run_cell(body(i), store_history=False)
        assert callable(ns[f"f{i}".replace("-", "_")])

    def task_cell(i: int) -> None:
        shell.run_cell("%%task --cache --retries 1\n" + body(i + 100_000), store_history=False)
        assert ns[f"f{i + 100_000}".replace("-", "_")].kind == "task"

    plain_ms = median_ms(plain, CELLS)
    task_ms = median_ms(task_cell, CELLS)

    shell.run_cell("%%task\ndef add(x: int, y: int) -> int:\n    return x + y\n", store_history=False)
    # A 200-node workflow with fan-in: node i reads node i-1 and node i//2.
    lines = ["%%workflow", "def big(a: int) -> int:", "    n = [add(x=a, y=a)]"]
    lines += [f"    n.append(add(x=n[{i - 1}], y=n[{i // 2}]))" for i in range(1, DAG_NODES)]
    lines.append("    return n[-1]")
    shell.run_cell("\n".join(lines), store_history=False)
    big = ns["big"]
    assert len(big.compile().nodes) == DAG_NODES

    def dag(_: int) -> None:
        with capture_output() as captured:
            shell.run_line_magic("plait", "dag big")
        assert "application/vnd.plait.dag+json" in captured.outputs[0].data

    def spec(_: int) -> None:
        json.dumps(big.to_spec())

    dag_ms = median_ms(dag, 21)
    spec_ms = median_ms(spec, 21)

    rows = [
        ("%%task cell -> callable", task_ms, "plain def cell", plain_ms, 20.0),
        (f"%plait dag, {DAG_NODES} nodes -> bundle", dag_ms, "json.dumps(wf.to_spec())", spec_ms, 100.0),
    ]
    print(f"{'benchmark':<34}{'plait':>10}  {'baseline':<26}{'baseline':>10}{'ratio':>8}{'goal':>9}")
    for name, ours, base_name, base, goal in rows:
        verdict = "ok" if ours <= goal else "MISSED"
        print(f"{name:<34}{ours:>8.2f}ms  {base_name:<26}{base:>8.2f}ms{ours / base:>7.1f}x"
              f"{goal:>6.0f}ms {verdict}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
