"""Environment resolve for an unchanged spec, beside baselines measured in the same run.

    python benchmarks/environments.py

Builds one small environment with uv in a temporary PLAIT_HOME, then times
`plait.environments.resolve` of the same spec (what a pool does before each
task): the target is <= 50 ms. Baselines: a plain `os.stat` of the
environment's marker (the least a resolve can do), and `python -c pass` (a
process start). Also shown: the first build, and a resolve in a new process
(import included). Medians of several runs; the machine may be shared.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HOME = tempfile.mkdtemp(prefix="plait-bench-envs-")
os.environ["PLAIT_HOME"] = HOME

from plait.config.image_spec import ImageSpec  # noqa: E402
from plait.environments import resolve  # noqa: E402

LIMIT_S = 0.050
SPEC = dict(name="bench-image", packages=["inflection==0.5.1"], env={"BENCH": "1"})


def timed(fn, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def main() -> None:
    spec = ImageSpec(**SPEC)
    start = time.perf_counter()
    env = resolve(spec)
    first = time.perf_counter() - start
    assert env.built, "the first resolve builds"

    same = timed(lambda: resolve(spec), 200)
    equal = timed(lambda: resolve(ImageSpec(**SPEC)), 200)  # a spec made anew, as a worker does
    marker = env.path / "plait-env.json"
    stat = timed(lambda: os.stat(marker), 200)
    python_pass = timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), 7)
    code = ("from plait.config.image_spec import ImageSpec; from plait.environments import resolve; "
            f"assert not resolve(ImageSpec(**{SPEC!r})).built")
    new_process = timed(lambda: subprocess.run([sys.executable, "-c", code], check=True), 7)

    resolve_median = statistics.median(same)
    print(f"first build (uv venv + 1 package)          {ms(first)}")
    print(f"resolve, unchanged spec (same object)      median {ms(resolve_median)}, "
          f"p95 {ms(statistics.quantiles(same, n=20)[18])}")
    print(f"resolve, unchanged spec (equal, new spec)  median {ms(statistics.median(equal))}")
    print(f"  baseline: os.stat of the marker          median {ms(statistics.median(stat))} "
          f"(resolve is {resolve_median / statistics.median(stat):.0f}x)")
    print(f"resolve in a new process (with imports)    median {ms(statistics.median(new_process))}")
    print(f"  baseline: python -c pass                 median {ms(statistics.median(python_pass))}")
    verdict = "within" if resolve_median <= LIMIT_S else "OVER"
    print(f"target: resolve of an unchanged spec <= {ms(LIMIT_S)}: {verdict}")


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(HOME, ignore_errors=True)
