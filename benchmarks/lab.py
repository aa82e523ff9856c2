"""Lab extension benchmarks in a real JupyterLab, headless Chromium and a real backend.

    python benchmarks/lab.py          # or: make bench

- the DAG of a 500-node workflow: from the click that opens it to every node
  drawn (goal: under 2 s), beside the same page's time to draw the 5-node DAG
  of a small workflow (the fixed cost of opening a view);
- the executions list with 10,000 executions: time to the first rows, how many
  rows are in the DOM (virtualized: a screenful, not 10,000), and the longest
  main-thread task while scrolling from top to bottom (responsive: under 50 ms,
  the browser's long-task threshold), beside the same list with 100 executions.

Executions are written straight into the backend's database as finished runs:
the benchmark measures the list, not 10,000 Dask runs.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "backend"), str(ROOT / "tests" / "lab"), str(ROOT / "tests" / "resources" / "lab")]

from browser import launch  # noqa: E402
from lab_fixture import running_lab  # noqa: E402
from server_fixture import running_server  # noqa: E402

DAG_GOAL_S = 2.0
LONG_TASK_MS = 50.0


def seed_executions(home: Path, entity: str, version: str, count: int) -> None:
    """`count` finished executions of `entity`, newest last, written in one transaction."""
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
            "inputs": {"values": [i]}, "outputs": None, "error": None, "settings": {},
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


def list_figures(page) -> dict[str, float]:
    page.evaluate("""() => { window.__long = 0; new PerformanceObserver(l => { for (const e of l.getEntries())
        window.__long = Math.max(window.__long, e.duration); }).observe({type: 'longtask', buffered: false}); }""")
    t0 = page.evaluate("performance.now()")
    page.get_by_role("tab", name="Executions", exact=True).click()
    page.get_by_role("button", name="Open execution").first.wait_for(timeout=60_000)
    first = (page.evaluate("performance.now()") - t0) / 1000
    page.evaluate("window.__long = 0")
    t1 = time.perf_counter()
    steps = 0
    while True:  # scroll to the end, letting each page load as a user's scrolling would
        done = page.evaluate("""() => { const s = document.querySelector('.plait-VirtualScroll');
            s.scrollTop = s.scrollHeight; return document.querySelectorAll('.plait-ExecRow').length &&
            !document.querySelector('.plait-ExecRow .plait-Muted'); }""")
        steps += 1
        if done or steps > 400:
            break
        page.wait_for_timeout(50)
    scroll_s = time.perf_counter() - t1
    dom_rows = page.evaluate("document.querySelectorAll('.plait-ExecRow').length")
    return {"first_rows_s": first, "scroll_s": scroll_s, "dom_rows": dom_rows,
            "longest_task_ms": page.evaluate("window.__long")}


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
    small, big = results["list_100"], results["list_10000"]
    print(f"{'measure':48} {'plait':>12} {'baseline':>12} {'ratio':>8}")
    print(f"{'500-node DAG drawn, s (goal < 2 s)':48} {results['dag_500_s']:12.3f} {DAG_GOAL_S:12.3f} "
          f"{results['dag_500_s'] / DAG_GOAL_S:8.2f}  (goal as baseline)")
    print(f"{'  5-node DAG drawn, s (a view opening)':48} {results['dag_small_s']:12.3f}")
    print(f"{'executions list: first rows, s (10k vs 100)':48} {big['first_rows_s']:12.3f} "
          f"{small['first_rows_s']:12.3f} {big['first_rows_s'] / small['first_rows_s']:8.2f}")
    print(f"{'executions list: rows in the DOM (10k vs 100)':48} {big['dom_rows']:12.0f} {small['dom_rows']:12.0f}")
    print(f"{'executions list: longest task scrolling, ms':48} {big['longest_task_ms']:12.1f} "
          f"{small['longest_task_ms']:12.1f}   (responsive: < {LONG_TASK_MS:.0f} ms)")
    print(f"{'executions list: scroll through all, s':48} {big['scroll_s']:12.2f} {small['scroll_s']:12.2f}")


if __name__ == "__main__":
    main()
