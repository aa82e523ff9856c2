"""Workspaces: create-to-ACTIVE time, and the proxy's overhead on a 1 MB static asset.

    python benchmarks/workspaces.py              # both, on a backend started for the run
    python benchmarks/workspaces.py --runs 3

1. Create to ACTIVE. `POST /api/v1/workspaces` until the answer of
   `GET /api/v1/workspaces/{name}` says ACTIVE (polled every 20 ms), in the
   server's own environment and in a built ImageSpec environment (built once
   before the timed runs; goal <= 5 s). Baseline, side by side: code-server
   started by hand with the same flags until its /healthz answers, the floor
   of any start.
2. Proxy overhead. A 1.3 MB script of code-server's (`extensionHostWorkerMain.js`)
   fetched one request at a time, kept-alive, through the backend's proxy (with
   the bearer token) and straight from code-server's loopback port.

The stop and start of a 100 MB working directory is `benchmarks/workspaces_sync.py`.
Medians of several runs; the machine may be shared, so compare ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
ASSET = "static/out/vs/workbench/api/worker/extensionHostWorkerMain.js"


def wait_phase(client: Any, name: str, phase: str, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = client.get(f"/api/v1/workspaces/{name}").json()
        if found["phase"] == phase:
            return found  # type: ignore[no-any-return]
        if found["phase"] == "FAILED" or time.monotonic() > deadline:
            raise RuntimeError(f"workspace {name}: {found['phase']} ({found.get('reason')})")
        time.sleep(0.02)


def create_to_active(client: Any, name: str, spec: dict[str, Any]) -> float:
    started = time.perf_counter()
    answer = client.post("/api/v1/workspaces", json={"spec": {"name": name, "ttl_seconds": 3600, **spec}})
    answer.raise_for_status()
    wait_phase(client, name, "ACTIVE")
    return time.perf_counter() - started


def stop(client: Any, name: str) -> None:
    client.post(f"/api/v1/workspaces/{name}/stop").raise_for_status()
    wait_phase(client, name, "STOPPED")


def bare_code_server() -> float:
    """Seconds from spawning code-server by hand to its first healthy answer."""
    from plait.workspaces import process

    with tempfile.TemporaryDirectory() as root:
        layout = process.Layout(Path(root))
        layout.make("workspace")
        port = process.free_port()
        started = time.perf_counter()
        proc = process.launch(process.code_server_binary(), layout, port, process.base_environment(layout, {}),
                              layout.workdir("workspace"))
        try:
            problem = process.wait_healthy(port, proc, timeout_s=60)
            if problem:
                raise RuntimeError(problem)
            return time.perf_counter() - started
        finally:
            process.stop_group(proc.pid, proc)


def timed_gets(client: Any, url: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        answer = client.get(url)
        answer.raise_for_status()
        assert len(answer.content) > 1_000_000
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()

    import httpx
    from plait.remote import discover
    from serving import plait_server

    with plait_server("--api-workers", "2") as (_remote, home):
        conn = discover()
        client = httpx.Client(base_url=str(conn.endpoint), headers={"Authorization": f"Bearer {conn.token}"},
                              timeout=300)
        env_spec = {"container_image": {"name": "ws-bench", "packages": ["six"]}}
        print("building the ImageSpec environment once (not timed)...", flush=True)
        create_to_active(client, "warmup", env_spec)
        stop(client, "warmup")
        bare, plain, built = [], [], []
        for run in range(args.runs):
            bare.append(bare_code_server())
            plain.append(create_to_active(client, f"plain-{run}", {}))
            stop(client, f"plain-{run}")
            built.append(create_to_active(client, f"built-{run}", env_spec))
            stop(client, f"built-{run}")
        print(f"\ncreate to ACTIVE, median of {args.runs} (goal <= 5 s):")
        print(f"  code-server by hand to /healthz   {statistics.median(bare):6.2f} s   1.00x")
        for label, values in (("server's environment", plain), ("built ImageSpec environment", built)):
            print(f"  plait, {label:<27} {statistics.median(values):6.2f} s   "
                  f"{statistics.median(values) / statistics.median(bare):.2f}x")

        create_to_active(client, "proxied", {})
        record = client.get("/api/v1/workspaces/proxied").json()
        port = _port(home, record["name"])
        direct_client = httpx.Client(timeout=60)
        direct = timed_gets(direct_client, f"http://127.0.0.1:{port}/{ASSET}", 5) and \
            timed_gets(direct_client, f"http://127.0.0.1:{port}/{ASSET}", args.requests)
        proxied = timed_gets(client, f"{record['url']}{ASSET}", 5) and \
            timed_gets(client, f"{record['url']}{ASSET}", args.requests)
        stop(client, "proxied")
        print(f"\n1.3 MB static asset, {args.requests} requests one at a time:")
        for label, values in (("direct to code-server", direct), ("through the proxy", proxied)):
            print(f"  {label:<24} median {statistics.median(values):6.2f} ms   p95 "
                  f"{sorted(values)[int(0.95 * (len(values) - 1))]:6.2f} ms   "
                  f"{statistics.median(values) / statistics.median(direct):.2f}x")


def _port(home: str, name: str) -> int:
    from plait.backend.store import Database
    from plait.backend.store.queries import workspaces as wq

    db = Database(f"sqlite:///{home}/plait.db")
    try:
        with db.session(readonly=True) as s:
            port = wq.get_workspace(s, "default", "development", name).port
    finally:
        db.dispose()
    assert port is not None
    return port


if __name__ == "__main__":
    main()
