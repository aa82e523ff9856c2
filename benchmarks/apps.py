"""Apps: deploy to ready, the proxy under 50 concurrent clients, and a cold start from zero replicas.

    python benchmarks/apps.py                  # all three, on a backend started for the run
    python benchmarks/apps.py --requests 4000

1. Deploy to ready. `Remote.deploy_app` of the served-model example (the regressor a task
   trained, as an artifact input downloaded next to the app; tests/resources/serving/
   model_app.py) until its status is Started (goal <= 3 s), a new revision each run.
   Baseline, side by side: uvicorn started by hand on the same app until it answers.
2. Proxied requests. 50 concurrent clients (one asyncio task each, kept-alive) ask
   `/predict` through the backend's proxy, then straight at the replica's port; p50 and p99
   of each (goal: proxied p99 <= 1.2x direct).
3. Cold start. An app scaled to zero (the standard library's http.server) answers its
   first request: seconds from the request to the answer, against the same app's warm answer.

Medians of several runs; the machine may be shared, so compare ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
SERVING = Path(__file__).parents[1] / "tests" / "resources" / "serving"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def load(folder: Path, file: str) -> Any:
    from plait.app import load_apps

    return load_apps(folder / file)[0]


def bare_uvicorn(folder: Path, model_file: str) -> float:
    """Seconds from spawning uvicorn on the app by hand to its first answer."""
    from plait.workspaces.process import free_port

    port = free_port()
    env = {**os.environ, "MODEL_FILE": model_file, "PYTHONPATH": str(folder)}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "model_app:api", "--port", str(port), "--no-access-log"],
                            cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import httpx

        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/model", timeout=1).status_code == 200:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                time.sleep(0.02)
    finally:
        proc.terminate()
        proc.wait()


async def hammer(base: str, path: str, headers: dict[str, str], clients: int, total: int) -> list[float]:
    import httpx

    times: list[float] = []
    per_client = total // clients

    async def one(client: httpx.AsyncClient) -> None:
        for _ in range(per_client):
            started = time.perf_counter()
            answer = await client.get(path, params={"x": 1.0, "y": 2.0})
            answer.raise_for_status()
            times.append((time.perf_counter() - started) * 1000)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as client:
        await asyncio.gather(*(one(client) for _ in range(clients)))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()

    import httpx
    from plait.remote import discover
    from serving import plait_server

    with plait_server("--api-workers", "2") as (remote, home):
        conn = discover()
        headers = {"Authorization": f"Bearer {conn.token}"}
        api = httpx.Client(base_url=str(conn.endpoint), headers=headers, timeout=120)
        remote.register(str(SERVING / "train_wf.py"), version="v1")
        trained = remote.execute(remote.fetch_task("train_wf.fit_regressor"), inputs={}).wait(timeout=300)
        assert trained.phase == "SUCCEEDED", trained.error
        work = Path(tempfile.mkdtemp(prefix="plait-bench-apps-"))
        shutil.copytree(SERVING, work / "app", ignore=shutil.ignore_patterns("__pycache__"))
        deploys = []
        for run in range(args.runs):
            (work / "app" / "model_app.py").write_text((SERVING / "model_app.py").read_text() + f"\n# run {run}\n")
            started = time.perf_counter()
            info = remote.deploy_app(load(work / "app", "model_app.py"))
            deploys.append(time.perf_counter() - started)
            assert info.action in ("created", "updated")
        model_file = api.get(info.url + "model").json()["file"]
        bare = [bare_uvicorn(work / "app", model_file) for _ in range(args.runs)]
        print(f"\ndeploy to Started, median of {args.runs} (goal <= 3 s):")
        print(f"  uvicorn started by hand      {statistics.median(bare):6.2f} s   1.00x")
        print(f"  plait deploy_app             {statistics.median(deploys):6.2f} s   "
              f"{statistics.median(deploys) / statistics.median(bare):.2f}x")

        replicas = api.get("/api/v1/apps/regressor-api").json()["replicas"]
        port = _port(home, "regressor-api")
        asyncio.run(hammer(str(conn.endpoint), info.url + "predict", headers, args.clients, 200))  # warm up
        proxied = asyncio.run(hammer(str(conn.endpoint), info.url + "predict", headers, args.clients, args.requests))
        direct = asyncio.run(hammer(f"http://127.0.0.1:{port}", "/predict", {}, args.clients, args.requests))
        print(f"\n/predict, {args.clients} concurrent clients, {args.requests} requests "
              f"({len(replicas)} replica):")
        for label, values in (("straight to the replica", direct), ("through the proxy", proxied)):
            print(f"  {label:<24} p50 {percentile(values, 50):7.1f} ms   p99 {percentile(values, 99):7.1f} ms   "
                  f"p99 {percentile(values, 99) / percentile(direct, 99):.2f}x")
        remote.stop_app("regressor-api")

        sleepy = remote.deploy_app(load(work / "app", "sleepy_app.py"))
        colds, warms = [], []
        for _ in range(args.runs):
            deadline = time.monotonic() + 60
            while api.get("/api/v1/apps/sleepy").json()["status"] != "Scaled to zero":
                assert time.monotonic() < deadline
                time.sleep(0.1)
            started = time.perf_counter()
            api.get(sleepy.url).raise_for_status()
            colds.append(time.perf_counter() - started)
            started = time.perf_counter()
            api.get(sleepy.url).raise_for_status()
            warms.append(time.perf_counter() - started)
        print(f"\nfirst answer of an app with 0 replicas, median of {args.runs}:")
        print(f"  warm (a replica is up)       {statistics.median(warms) * 1000:7.1f} ms   1.00x")
        print(f"  cold (started by the request) {statistics.median(colds) * 1000:6.1f} ms   "
              f"{statistics.median(colds) / statistics.median(warms):.0f}x")
        remote.stop_app("sleepy")


def _port(home: str, name: str) -> int:
    from plait.backend.store import Database
    from plait.backend.store.queries import apps as aq

    db = Database(f"sqlite:///{home}/plait.db")
    try:
        with db.session(readonly=True) as s:
            [port] = aq.ready_ports(s, aq.get_app(s, "default", "development", name).id)
    finally:
        db.dispose()
    return port


if __name__ == "__main__":
    main()
