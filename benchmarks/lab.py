"""Lab extension benchmarks in a real JupyterLab, headless Chromium and a real backend.

    python benchmarks/lab.py          # or: make bench

- the DAG of a 500-node workflow: from the click that opens it to every node
  drawn (goal: under 2 s), beside the same page's time to draw the 5-node DAG
  of a small workflow (the fixed cost of opening a view);
- the executions list with 10,000 executions: time to the first rows, every
  page loaded, how many rows are in the DOM (virtualized: a screenful, not
  10,000), and the frames while scrolling from top to bottom (responsive: no
  frame over 50 ms, the browser's long-task threshold), beside the same list
  with 100 executions;
- live rows: time from `plait run --remote` printing its execution id to the
  row in the visible sidebar (goal: 2 s), and frames per second while the
  10,000-row list scrolls with a new run arriving every 100 ms, beside the
  same scroll with none arriving.

Executions are written straight into the backend's database as finished runs:
the benchmark measures the list, not 10,000 Dask runs.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "backend"), str(ROOT / "tests" / "lab"), str(ROOT / "tests" / "resources" / "lab")]

from browser import launch  # noqa: E402
from lab_fixture import running_lab  # noqa: E402
from server_fixture import running_server  # noqa: E402

DAG_GOAL_S = 2.0
LIVE_GOAL_S = 2.0
LONG_TASK_MS = 50.0


def seed_executions(home: Path, entity: str, version: str, count: int) -> None:
    """`count` finished executions of `entity`, newest last, written in one transaction."""
    from plait.backend.execution.values import literal_ref
    from plait.backend.store.db import Database
    from plait.backend.store.models import Execution
    from sqlalchemy import insert

    db = Database(f"sqlite:///{home / 'plait.db'}")
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=30)
    rows = []
    for i in range(count):
        created = start + dt.timedelta(seconds=i * 60)
        rows.append({
            "id": f"bench{i:07d}", "project": "default", "domain": "development", "entity_kind": "workflow",
            "entity_name": entity, "entity_version": version, "phase": ("SUCCEEDED", "FAILED")[i % 7 == 0],
            "inputs": {"values": literal_ref([i])}, "outputs": None, "error": None, "settings": {},
            "abort_requested": False, "created_at": created, "started_at": created,
            "ended_at": created + dt.timedelta(seconds=3 + i % 40),
        })
    with db.session() as s:
        s.execute(insert(Execution), rows)


def open_lab(page, lab) -> None:
    page.goto(lab.url(f"lab?token={lab.token}"))
    page.wait_for_selector("#jp-main-dock-panel", timeout=60_000)
    page.get_by_role("tab", name="plait: workflows and executions").click()


def dag_time(page, name: str, nodes: int) -> float:
    page.get_by_role("tab", name="Workflows", exact=True).click()
    page.get_by_role("searchbox", name="Search workflows").fill(name.rsplit(".", 1)[-1])
    button = page.get_by_role("button", name=f"Open workflow {name}")
    button.wait_for()
    t0 = page.evaluate("performance.now()")
    button.click()
    page.wait_for_function(
        "n => document.querySelectorAll('.jp-MainAreaWidget:not(.lm-mod-hidden) .plait-DagView [aria-label^=\"node \"]').length >= n",
        arg=nodes, timeout=60_000)
    return (page.evaluate("performance.now()") - t0) / 1000


SCROLL_AND_WATCH_FRAMES = """async () => {
  const s = document.querySelector('.plait-VirtualScroll');
  const gaps = [];
  const started = performance.now();
  let last = started, running = true;
  const tick = now => { gaps.push(now - last); last = now; if (running) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  const steps = 200;
  for (let i = 1; i <= steps; i++) {
    s.scrollTop = (s.scrollHeight - s.clientHeight) * i / steps;
    await new Promise(r => setTimeout(r, 16));
  }
  running = false;
  const elapsed = performance.now() - started;
  await new Promise(r => setTimeout(r, 50));
  gaps.sort((a, b) => a - b);
  return {max: gaps[gaps.length - 1], p95: gaps[Math.floor(gaps.length * 0.95)], frames: gaps.length,
          fps: gaps.length / (elapsed / 1000), rows: document.querySelectorAll('.plait-ExecRow').length};
}"""


def list_figures(page) -> dict[str, float]:
    t0 = page.evaluate("performance.now()")
    page.get_by_role("tab", name="Executions", exact=True).click()
    page.get_by_role("button", name="Open execution").first.wait_for(timeout=60_000)
    first = (page.evaluate("performance.now()") - t0) / 1000
    scroller = page.locator(".plait-VirtualScroll")
    t1 = time.perf_counter()
    while scroller.get_attribute("aria-busy") == "true":  # load every page, as scrolling would
        loaded = int(scroller.get_attribute("data-loaded") or 0)
        page.evaluate("() => { const s = document.querySelector('.plait-VirtualScroll'); s.scrollTop = s.scrollHeight; }")
        page.wait_for_function(
            "n => { const s = document.querySelector('.plait-VirtualScroll');"
            " return +s.dataset.loaded > n || s.getAttribute('aria-busy') !== 'true'; }", arg=loaded, timeout=60_000)
    load_s = time.perf_counter() - t1
    frames = page.evaluate(SCROLL_AND_WATCH_FRAMES)
    return {"first_rows_s": first, "load_all_s": load_s, "dom_rows": frames["rows"], "fps": frames["fps"],
            "loaded": int(scroller.get_attribute("data-loaded") or 0),
            "frame_max_ms": frames["max"], "frame_p95_ms": frames["p95"]}


def seed_live(home: Path, entity: str, version: str, stop: threading.Event, every_s: float = 0.1) -> int:
    """A new finished execution every `every_s` seconds until `stop`, as runs arriving; how many."""
    from plait.backend.store.db import Database
    from plait.backend.store.models import Execution
    from sqlalchemy import insert

    db = Database(f"sqlite:///{home / 'plait.db'}")
    n = 0
    while not stop.wait(every_s):
        now = dt.datetime.now(dt.timezone.utc)
        with db.session() as s:
            s.execute(insert(Execution), [{
                "id": f"live{n:06d}", "project": "default", "domain": "development", "entity_kind": "workflow",
                "entity_name": entity, "entity_version": version, "phase": "SUCCEEDED", "inputs": {},
                "outputs": None, "error": None, "settings": {}, "abort_requested": False, "created_at": now,
                "started_at": now, "ended_at": now + dt.timedelta(seconds=1)}])
        n += 1
    db.dispose()
    return n


def scroll_with_rows_arriving(page, home: Path, entity: str, version: str) -> dict[str, float]:
    """Scroll the loaded list top to bottom while runs arrive (the list polls and merges them)."""
    page.evaluate("() => { document.querySelector('.plait-VirtualScroll').scrollTop = 0; }")
    stop = threading.Event()
    arrived: list[int] = []
    feeder = threading.Thread(target=lambda: arrived.append(seed_live(home, entity, version, stop)))
    feeder.start()
    try:
        time.sleep(0.5)
        frames = page.evaluate(SCROLL_AND_WATCH_FRAMES)
    finally:
        stop.set()
        feeder.join()
    return {"fps": frames["fps"], "frame_p95_ms": frames["p95"], "frame_max_ms": frames["max"],
            "arrived": float(arrived[0] if arrived else 0)}


def cli_to_row(page, server, program: Path, runs: int = 3) -> list[float]:
    """Seconds from `plait run --remote` printing its execution id to its row in the visible sidebar."""
    page.get_by_role("tab", name="Executions", exact=True).click()
    page.evaluate("() => { document.querySelector('.plait-VirtualScroll').scrollTop = 0; }")  # new runs show on top
    env = {**os.environ, "PLAIT_ENDPOINT": server.url, "PLAIT_TOKEN": server.token}
    times = []
    for _ in range(runs):
        process = subprocess.Popen([sys.executable, "-m", "plait", "run", "--remote", str(program), "report",
                                    "--values", "[1, 2]"], env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
        assert process.stderr is not None
        for line in process.stderr:
            found = re.match(r"execution (\S+) started on ", line)
            if found:
                launched = time.monotonic()
                page.locator(f"[data-plait-execution='{found.group(1)}']").wait_for(timeout=30_000)
                times.append(time.monotonic() - launched)
                break
        process.wait(timeout=120)
    return times


def main() -> None:
    import pipeline
    import wide
    from plait.backend.store.db import Database  # noqa: F401  (fail early without the server extra)

    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="plait-bench-lab-") as tmp:
        tmp_path = Path(tmp)
        for count in (100, 10_000):
            home = tmp_path / f"home-{count}"
            with running_server(home) as server:
                remote = server.remote()
                remote.register(wide.wide, pipeline.report)
                version = remote.fetch_workflow(pipeline.report.name).version
                seed_executions(home, pipeline.report.name, version, count)
                with running_lab(tmp_path / f"lab-{count}", plait_home=home) as lab:
                    for browser in launch():
                        page = browser.new_page(viewport={"width": 1400, "height": 900})
                        open_lab(page, lab)
                        if count == 10_000:
                            results["dag_small_s"] = dag_time(page, pipeline.report.name, 2)
                            results["dag_500_s"] = dag_time(page, wide.wide.name, 500)
                        results[f"list_{count}"] = list_figures(page)
                        if count == 10_000:
                            results["live_scroll"] = scroll_with_rows_arriving(
                                page, home, pipeline.report.name, version)
                        else:
                            results["cli_to_row_s"] = cli_to_row(page, server, Path(pipeline.__file__))
    small, big = results["list_100"], results["list_10000"]
    print(f"{'measure':48} {'plait':>12} {'baseline':>12} {'ratio':>8}")
    print(f"{'500-node DAG drawn, s (goal < 2 s)':48} {results['dag_500_s']:12.3f} {DAG_GOAL_S:12.3f} "
          f"{results['dag_500_s'] / DAG_GOAL_S:8.2f}  (goal as baseline)")
    print(f"{'  5-node DAG drawn, s (a view opening)':48} {results['dag_small_s']:12.3f}")
    print(f"{'executions list: first rows, s (10k vs 100)':48} {big['first_rows_s']:12.3f} "
          f"{small['first_rows_s']:12.3f} {big['first_rows_s'] / small['first_rows_s']:8.2f}")
    print(f"{'executions list: rows loaded (10k vs 100)':48} {big['loaded']:12.0f} {small['loaded']:12.0f}")
    print(f"{'executions list: rows in the DOM (10k vs 100)':48} {big['dom_rows']:12.0f} {small['dom_rows']:12.0f}")
    print(f"{'executions list: load every page, s':48} {big['load_all_s']:12.2f} {small['load_all_s']:12.2f}")
    print(f"{'scrolling top to bottom: p95 frame, ms':48} {big['frame_p95_ms']:12.1f} {small['frame_p95_ms']:12.1f} "
          f"{big['frame_p95_ms'] / small['frame_p95_ms']:8.2f}")
    print(f"{'scrolling top to bottom: longest frame, ms':48} {big['frame_max_ms']:12.1f} "
          f"{small['frame_max_ms']:12.1f}   (responsive: < {LONG_TASK_MS:.0f} ms)")
    live, still = results["live_scroll"], big
    print(f"{'scrolling 10k rows, runs arriving: frames/s':48} {live['fps']:12.1f} {still['fps']:12.1f} "
          f"{live['fps'] / still['fps']:8.2f}  (baseline: none arriving; {live['arrived']:.0f} arrived)")
    print(f"{'scrolling 10k rows, runs arriving: p95 frame, ms':48} {live['frame_p95_ms']:12.1f} "
          f"{still['frame_p95_ms']:12.1f} {live['frame_p95_ms'] / still['frame_p95_ms']:8.2f}")
    cli = sorted(results["cli_to_row_s"])
    print(f"{'CLI launch to row in the sidebar, s (goal 2 s)':48} {cli[len(cli) // 2]:12.2f} {LIVE_GOAL_S:12.2f} "
          f"{cli[len(cli) // 2] / LIVE_GOAL_S:8.2f}  (median of {len(cli)}; max {cli[-1]:.2f})")


if __name__ == "__main__":
    main()
