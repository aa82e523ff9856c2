"""A launch burst against one backend: does it keep answering, and does everything finish?

    python benchmarks/load.py                       # 20 clients launching for 60 s
    python benchmarks/load.py --clients 6 --seconds 10

Each client (threads across a few processes, so the load is not one GIL's)
creates executions of a trivial task as fast as the API lets it, on one
reused connection, waiting `Retry-After` when the backend answers 429. When
the load stops, the backend gets `--drain` seconds to finish what it accepted;
then every execution is read back. Printed: launches accepted and refused per
second, creation-to-end latency (median, p99) of the accepted ones as the
backend recorded them, and how many are still QUEUED or RUNNING (goal: none),
beside the same trivial task run alone as the baseline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
PROGRAM = HERE / "backend_programs.py"
TASK = "backend_programs.inc"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--drain", type=float, default=60.0, help="seconds allowed to finish after the load")
    args = parser.parse_args(argv)
    home = tempfile.mkdtemp(prefix="plait-bench-load-")
    env = {**os.environ, "PLAIT_HOME": home}
    server = subprocess.Popen(
        [sys.executable, "-m", "plait", "server", "--port", "0", *os.environ.get("PLAIT_BENCH_SERVER_ARGS", "").split()],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        os.environ["PLAIT_HOME"] = home
        from plait.remote import Remote, discover

        remote = _connect(Remote)
        remote.register(str(PROGRAM))
        alone = _alone(remote)
        conn = discover()
        per_process = 5
        procs = max(1, (args.clients + per_process - 1) // per_process)
        started = time.time()
        with multiprocessing.get_context("spawn").Pool(procs) as pool:
            counts = pool.starmap(_client_process, [
                (conn.endpoint, conn.token, min(per_process, args.clients - i * per_process), args.seconds)
                for i in range(procs)])
        load_s = time.time() - started
        accepted = sum(c["accepted"] for c in counts)
        refused = sum(c["refused"] for c in counts)
        failed = sum(c["errors"] for c in counts)
        deadline = time.time() + args.drain
        while time.time() < deadline and _unfinished(remote):
            time.sleep(1.0)
        records = _all_executions(remote)
        ours = [r for r in records if (r.get("entity") or {}).get("name") == TASK]
        ended = [r for r in ours if r.get("ended_at")]
        unfinished = [r for r in ours if r.get("phase") in ("QUEUED", "RUNNING")]
        latencies = sorted(_seconds(r["created_at"], r["ended_at"]) for r in ended)
        p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) >= 100 else (latencies or [0])[-1]
        print(f"{args.clients} clients for {args.seconds:.0f} s, then up to {args.drain:.0f} s to finish")
        print(f"  launches accepted  {accepted:>7,}  ({accepted / load_s:,.1f}/s)")
        print(f"  launches refused   {refused:>7,}  (429 with Retry-After; other errors: {failed})")
        print(f"  executions ended   {len(ended):>7,}  of {len(ours):,} created")
        print(f"  creation to end    median {statistics.median(latencies or [0]):.2f} s, p99 {p99:.2f} s"
              f"  (the task alone: {alone:.2f} s)   goal p99 <= 10 s: {'met' if p99 <= 10 else 'MISSED'}")
        print(f"  still QUEUED/RUNNING {args.drain:.0f} s after the load: {len(unfinished)}   goal 0: "
              f"{'met' if not unfinished else 'MISSED'}")
        print(json.dumps({"accepted": accepted, "refused": refused, "errors": failed, "ended": len(ended),
                          "created": len(ours), "median_s": statistics.median(latencies or [0]), "p99_s": p99,
                          "alone_s": alone, "unfinished": len(unfinished)}))
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(home, ignore_errors=True)


def _connect(remote_class: type) -> object:
    deadline = time.time() + 90
    while True:
        try:
            remote = remote_class(autostart=False, timeout=120)
            remote.health()
            return remote
        except Exception:  # noqa: BLE001 - still starting
            if time.time() > deadline:
                raise
            time.sleep(0.5)


def _alone(remote: object) -> float:
    """Creation to end of the task run on an idle backend (median of 5)."""
    task = remote.fetch_task(TASK)  # type: ignore[attr-defined]
    runs = []
    for i in range(5):
        ex = remote.execute(task, {"x": i}).wait(poll=0.02)  # type: ignore[attr-defined]
        runs.append(_seconds(ex.record["created_at"], ex.record["ended_at"]))
    return statistics.median(runs)


def _unfinished(remote: object) -> bool:
    for phase in ("QUEUED", "RUNNING"):
        page = remote.request("GET", "/api/v1/executions",  # type: ignore[attr-defined]
                              params={"phase": phase, "limit": 1}).json()
        if page.get("items"):
            return True
    return False


def _all_executions(remote: object) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    offset = 0
    while True:
        page = remote.request("GET", "/api/v1/executions",  # type: ignore[attr-defined]
                              params={"limit": 500, "offset": offset}).json()
        items = page.get("items") or []
        out.extend(items)
        if len(items) < 500:
            return out
        offset += len(items)


def _seconds(start: object, end: object) -> float:
    a, b = (dt.datetime.fromisoformat(str(v).replace("Z", "+00:00")) for v in (start, end))
    return (b - a).total_seconds()


def _client_process(base: str, token: str, threads: int, seconds: float) -> dict[str, int]:
    import threading

    import httpx

    counts = {"accepted": 0, "refused": 0, "errors": 0}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        body = {"project": "default", "domain": "development", "kind": "task", "name": TASK,
                "inputs": {"x": 0}}
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            while time.monotonic() < stop:
                body["inputs"] = {"x": n}
                try:
                    answer = http.post("/api/v1/executions", json=body)
                except httpx.HTTPError:
                    key, wait = "errors", 0.5
                else:
                    if answer.status_code == 429:
                        key, wait = "refused", float(answer.headers.get("Retry-After", "1"))
                    elif answer.is_success:
                        key, wait = "accepted", 0.0
                    else:
                        key, wait = "errors", 0.5
                with lock:
                    counts[key] += 1
                if wait:
                    time.sleep(min(wait, max(0.0, stop - time.monotonic())))
                n += 1

    pool = [threading.Thread(target=client, args=(i * 1_000_000,)) for i in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    return counts


if __name__ == "__main__":
    main()
