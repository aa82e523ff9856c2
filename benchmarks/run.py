"""Local engine benchmarks, each printed beside a baseline measured in the same run.

    python benchmarks/run.py            # or: make bench

Baselines: plain Python calls of the same functions, and flytekit's local
execution when flytekit is importable (or FLYTEKIT_PYTHON names a Python that
has it), measured in a separate process. Figures are medians of several runs;
the machine may be shared, so compare ratios rather than absolute numbers.
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

os.environ.setdefault("PLAIT_HOME", tempfile.mkdtemp(prefix="plait-bench-"))

import plait  # noqa: E402

CHAIN = 200
MAP_ITEMS = 10_000
DYNAMIC_CHILDREN = 200
HAS_FLYTEKIT = importlib.util.find_spec("flytekit") is not None


def median_time(fn: Callable[[], object], repeat: int = 7, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


# ------------------------------------------------------------------ programs


def inc_fn(x: int) -> int:
    return x + 1


inc = plait.task(inc_fn)


@plait.workflow
def chain(x: int) -> int:
    for _ in range(CHAIN):
        x = inc(x=x)
    return x


@plait.workflow
def mapped(xs: list[int]) -> list[int]:
    return plait.map(inc)(x=xs)


@plait.dynamic
def fan_out(n: int) -> list[int]:
    return [inc(x=i) for i in range(n)]


@plait.task(cache=plait.Cache(version="1"))
def cached_double(x: int) -> int:
    return 2 * x


@plait.workflow
def cached_wf(x: int) -> int:
    return cached_double(x=x)


def plain_chain() -> int:
    x = 0
    for _ in range(CHAIN):
        x = inc_fn(x)
    return x


def flytekit_figures() -> dict[str, float]:
    """Time the same programs under flytekit, in their own process so neither run
    slows the other. FLYTEKIT_PYTHON may name an interpreter that has flytekit."""
    python = os.environ.get("FLYTEKIT_PYTHON") or (sys.executable if HAS_FLYTEKIT else None)
    if not python:
        return {}
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flyte_programs.py")
    done = subprocess.run([python, script], capture_output=True, text=True, timeout=1800)
    for line in done.stdout.splitlines():
        if line.startswith("PLAIT-BENCH "):
            return json.loads(line.removeprefix("PLAIT-BENCH "))  # type: ignore[no-any-return]
    print(f"flytekit run failed: {done.stderr[-500:]}", file=sys.stderr)
    return {}


def import_time(code: str) -> float:
    def once() -> None:
        subprocess.run([sys.executable, "-c", code], check=True)

    return median_time(once, repeat=5)


# ------------------------------------------------------------------ report


def main() -> None:
    xs = list(range(MAP_ITEMS))
    flyte = flytekit_figures()
    rows: list[tuple[str, str, str, str, str]] = []

    def fmt_us(seconds: float) -> str:
        return f"{seconds * 1e6:,.1f} µs"

    # 1. per-node overhead on a chain
    assert chain(x=0) == CHAIN
    t = median_time(lambda: chain(x=0)) / CHAIN
    base = median_time(plain_chain) / CHAIN
    fly = flyte["chain"] / CHAIN if flyte else None
    rows.append(("200-node chain, per node", fmt_us(t), f"plain {base * 1e9:,.0f} ns",
                 f"flytekit {fmt_us(fly)} ({fly / t:,.0f}x slower)" if fly else "flytekit: not installed",
                 "goal <= 50 µs: " + ("met" if t <= 50e-6 else "MISSED")))

    # 2. map throughput
    assert mapped(xs=xs)[:3] == [1, 2, 3]
    t = median_time(lambda: mapped(xs=xs), repeat=5)
    rate = MAP_ITEMS / t
    base_rate = MAP_ITEMS / median_time(lambda: [inc_fn(x) for x in xs])
    fly = flyte["map"] if flyte else None
    rows.append(("map of 10,000 items", f"{rate:,.0f} items/s", f"plain {base_rate:,.0f} items/s",
                 f"flytekit {MAP_ITEMS / fly:,.0f} items/s ({rate * fly / MAP_ITEMS:,.1f}x)" if fly else "flytekit: not installed",
                 "goal >= 160,000/s: " + ("met" if rate >= 160_000 else "MISSED")))

    # 3. dynamic fan-out
    t = median_time(lambda: fan_out(n=DYNAMIC_CHILDREN), repeat=5) / DYNAMIC_CHILDREN
    base = median_time(lambda: [inc_fn(i) for i in range(DYNAMIC_CHILDREN)]) / DYNAMIC_CHILDREN
    fly = flyte["dynamic"] / DYNAMIC_CHILDREN if flyte else None
    rows.append(("dynamic, 200 children, per child", fmt_us(t), f"plain {base * 1e9:,.0f} ns",
                 f"flytekit {fmt_us(fly)}" if fly else "flytekit: not installed",
                 "goal <= 100 µs: " + ("met" if t <= 100e-6 else "MISSED")))

    # 4. a run whose one node hits the cache
    cached_wf(x=3)
    t = median_time(lambda: cached_wf(x=3), repeat=51)
    base = median_time(lambda: cached_double.function(3), repeat=51)
    fly = flyte["cache"] if flyte else None
    rows.append(("run with one cached node (hit)", fmt_us(t), f"plain call {base * 1e9:,.0f} ns",
                 f"flytekit {fmt_us(fly)}" if fly else "flytekit: not installed",
                 "goal <= 100 µs: " + ("met" if t <= 100e-6 else "MISSED")))

    # 5. import time
    t = import_time("import plait")
    base = import_time("pass")
    rows.append(("import plait (wall, new process)", f"{t * 1000:,.0f} ms", f"python -c pass {base * 1000:,.0f} ms",
                 f"plait adds {(t - base) * 1000:,.0f} ms", "goal <= 200 ms: " + ("met" if t <= 0.2 else "MISSED")))

    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    header = ("measure", "plait", "baseline", "flytekit / note", "goal")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()
