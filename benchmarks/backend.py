"""Backend benchmarks, side by side with raw Dask on the same cluster in the same run.

    python benchmarks/backend.py                  # or: make bench
    python benchmarks/backend.py --only chain     # just one part (chain, map, api; repeatable)

- per-node overhead of a 200-node chain (goal <= 1.5x a raw `client.submit` chain); the
  median of --repeat runs, each followed by a raw chain on the same cluster
- a 10,000-item map (goal >= 5x raw `client.map` items/s)
- API p99 latency of list/get under 50 concurrent clients (goal <= 100 ms); each client
  polls like a UI panel, a request every THINK_S seconds, so the figure is latency
  under load rather than the saturation point of a 2-core machine
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).parent
PROGRAM = HERE / "backend_programs.py"
PARTS = ("chain", "map", "api")
CHAIN = 200
ITEMS = 10_000
THINK_S = 0.25  # pause between one client's requests (a panel polling four times a second)


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=PARTS,
                        help="run only this part (repeat for several); default: all")
    parser.add_argument("--repeat", type=int, default=3, help="chain runs, each beside a raw one (default 3)")
    args = parser.parse_args(argv)
    parts, repeat = set(args.only or PARTS), args.repeat
    sys.path.insert(0, str(HERE))
    import backend_programs as bp
    from serving import plait_server, raw_chain, raw_map

    with plait_server(*os.environ.get("PLAIT_BENCH_SERVER_ARGS", "").split()) as (remote, home):
        remote.register(str(PROGRAM))
        # warm up workers and code
        remote.execute(bp.short_chain, {"x": 0}, wait=True)

        from distributed import Client
        from plait.backend.config import dask_security

        health = remote.health()
        scheduler = health.get("dask_scheduler") or health.get("scheduler")
        # The embedded cluster speaks TLS with the home's certificates.
        security = dask_security(home) if str(scheduler).startswith("tls://") else None
        rows: list[tuple[str, ...]] = []
        figures: dict[str, float] = {}
        if "chain" in parts:
            chain_entity = remote.fetch_workflow("backend_programs.chain")  # registered above
            plait_runs, raw_runs, recorded = [], [], []
            with Client(scheduler, security=security) as client:
                raw_chain(client, 5)
                for _ in range(repeat):  # interleaved, so both see the same load on a shared machine
                    t0 = time.perf_counter()
                    ex = remote.execute(chain_entity, {"x": 0}).wait(poll=0.02)
                    plait_runs.append(time.perf_counter() - t0)
                    assert ex.outputs["o0"] == CHAIN, ex.outputs
                    recorded.append(_seconds(ex.record, "created_at", "ended_at"))
                    raw_runs.append(raw_chain(client, CHAIN))
            plait_chain, dask_chain = statistics.median(plait_runs), statistics.median(raw_runs)
            print("(chain runs, plait / raw ms per node: " + ", ".join(
                f"{p / CHAIN * 1e3:.2f} / {r / CHAIN * 1e3:.2f}" for p, r in zip(plait_runs, raw_runs, strict=True))
                + f"; as the backend recorded them, created to ended: {statistics.median(recorded) / CHAIN * 1e3:.2f})")
            rows.append((f"200-node chain, per node (median of {repeat})", f"{plait_chain / CHAIN * 1e3:.2f} ms",
                         f"raw client.submit {dask_chain / CHAIN * 1e3:.2f} ms", f"ratio {plait_chain / dask_chain:.2f}x",
                         "goal <= 1.5x: " + ("met" if plait_chain <= 1.5 * dask_chain else "MISSED")))
            figures.update(chain_s=plait_chain, dask_chain_s=dask_chain)
        if "map" in parts:
            map_entity = remote.fetch_workflow("backend_programs.mapped")
            t0 = time.perf_counter()
            ex = remote.execute(map_entity, {"xs": list(range(ITEMS))}).wait(poll=0.02)
            plait_map = time.perf_counter() - t0
            assert ex.outputs["o0"][:3] == [1, 2, 3]
            with Client(scheduler, security=security) as client:
                dask_map = raw_map(client, ITEMS)
            rows.append(("map of 10,000 items", f"{ITEMS / plait_map:,.0f} items/s",
                         f"raw client.map {ITEMS / dask_map:,.0f} items/s", f"ratio {dask_map / plait_map:.1f}x",
                         "goal >= 5x: " + ("met" if dask_map / plait_map >= 5 else "MISSED")))
            figures.update(map_s=plait_map, dask_map_s=dask_map)
        if "api" in parts:
            latencies = api_latencies(remote, clients=50, seconds=8.0)
            p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) >= 100 else max(latencies)
            rows.append((f"API list/get p99, 50 clients, {THINK_S}s think", f"{p99 * 1e3:.1f} ms",
                         f"{len(latencies)} requests", f"median {statistics.median(latencies) * 1e3:.1f} ms",
                         "goal <= 100 ms: " + ("met" if p99 <= 0.1 else "MISSED")))
            figures.update(api_p99_s=p99)

        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        for r in rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
        print(json.dumps(figures))


def _seconds(record: dict[str, object], start: str, end: str) -> float:
    import datetime as dt

    a, b = (dt.datetime.fromisoformat(str(record[k]).replace("Z", "+00:00")) for k in (start, end))
    return (b - a).total_seconds()


def api_latencies(remote: object, *, clients: int, seconds: float) -> list[float]:
    """`clients` concurrent clients (5 per process, so the load is not one GIL's) doing list/get."""
    import multiprocessing

    from plait.remote import discover

    conn = discover()
    procs = max(1, clients // 5)
    with multiprocessing.get_context("spawn").Pool(procs) as pool:
        parts = pool.starmap(_client_process, [(conn.endpoint, conn.token, 5, seconds)] * procs)
    return [t for part in parts for t in part]


def _client_process(base: str, token: str, threads: int, seconds: float) -> list[float]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    lock = threading.Lock()
    first = (httpx.get(f"{base}/api/v1/executions", headers=headers, params={"limit": 5}).json()
             .get("items") or [{}])[0].get("id")
    stop = time.perf_counter() + seconds

    def worker() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            i = 0
            while time.perf_counter() < stop:
                path = "/api/v1/executions" if i % 2 or not first else f"/api/v1/executions/{first}"
                t = time.perf_counter()
                http.get(path, params={"limit": 50} if i % 2 else None).raise_for_status()
                with lock:
                    latencies.append(time.perf_counter() - t)
                i += 1
                time.sleep(THINK_S)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    return latencies


if __name__ == "__main__":
    main()
