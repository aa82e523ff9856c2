"""A `plait server` for a benchmark: started in a private home, a client for it, stopped after.

    with plait_server("--cluster", "cluster.yaml") as (remote, home):
        remote.register("program.py")

and the raw Dask baselines run beside plait on the same cluster (`raw_chain`, `raw_map`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

# A lambda, so Dask sends it by value (workers cannot import this folder).
inc: Callable[[int], int] = lambda x: x + 1  # noqa: E731


def raw_chain(client: Any, n: int) -> float:
    """Seconds for a chain of `n` raw `client.submit` calls."""
    t = time.perf_counter()
    fut = client.submit(inc, 0, pure=False)
    for _ in range(n - 1):
        fut = client.submit(inc, fut, pure=False)
    assert fut.result() == n
    return time.perf_counter() - t


def raw_map(client: Any, n: int) -> float:
    """Seconds for a raw `client.map` of `n` items, gathered."""
    t = time.perf_counter()
    client.gather(client.map(inc, range(n), pure=False))
    return time.perf_counter() - t


@contextlib.contextmanager
def plait_server(*args: str, start_timeout: float = 120) -> Iterator[tuple[Any, str]]:
    home = tempfile.mkdtemp(prefix="plait-bench-")
    env = {**os.environ, "PLAIT_HOME": home}
    server = subprocess.Popen([sys.executable, "-m", "plait", "server", "--port", "0", *args], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    previous = os.environ.get("PLAIT_HOME")
    os.environ["PLAIT_HOME"] = home
    try:
        from plait.remote import Remote

        deadline = time.monotonic() + start_timeout
        while True:
            try:
                remote = Remote(autostart=False, timeout=120)
                remote.health()
                break
            except Exception:  # noqa: BLE001 - still starting
                if server.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield remote, home
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        if previous is None:
            os.environ.pop("PLAIT_HOME", None)
        else:
            os.environ["PLAIT_HOME"] = previous
        shutil.rmtree(home, ignore_errors=True)
