"""A real `plait server --storage-url s3://...` whose object store is a real S3-compatible
server (the `s3` fixture: moto's, on a loopback port), reached by the server and its Dask
workers through s3fs with the usual AWS variables.

The example programs run as on a local store: registered bundles, a notebook function
shipped by value, values big enough to travel as pickles (a launch input, an output read
back through `/data`), a log read while its task runs, a map, a dynamic workflow and an
abort. Everything lands in the bucket and nothing in the server's home: a worker on
another host needs the object store and the API, not the backend's folders.
"""

from __future__ import annotations

import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plait.backend import storage
from plait.backend.execution import worker
from plait.remote import Remote, RemoteUserError
from s3_fixture import S3
from server_fixture import ServerProcess, running_server

pytestmark = pytest.mark.slow

RESOURCES = Path(__file__).parent.parent / "resources"
PROGRAMS = {"steps": RESOURCES / "lifecycle" / "steps.py",
            "anomaly_map": RESOURCES / "workflows" / "anomaly_map.py",
            "dynamic_first": RESOURCES / "workflows" / "dynamic_first.py"}
BIG = 30_000  # list(range(BIG)) is more than 64 KiB of JSON: it travels as a pickle

# What a notebook cell defines: it has no module, so its code goes to the server by value.
NOTEBOOK_CELL = textwrap.dedent("""
    import os
    import plait

    @plait.task
    def readings(n: int) -> list[int]:
        print("reading", n, "values")
        return list(range(n))

    @plait.task
    def total(values: list[int]) -> int:
        return sum(values)

    @plait.task
    def store_variables() -> list[str]:
        return sorted(k for k in os.environ if k.startswith(("AWS_", "PLAIT_STORAGE")))
""")


@pytest.fixture(scope="module")
def server(s3: S3, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    prefix = f"s3-store-{time.monotonic_ns()}"
    home = tmp_path_factory.mktemp("s3-home")
    with running_server(home, "--storage-url", s3.url(prefix), env=s3.env) as started:
        yield started
    for name in PROGRAMS:
        sys.modules.pop(name, None)


@pytest.fixture(scope="module")
def remote(server: ServerProcess) -> Iterator[Remote]:
    with server.remote() as client:
        client.register(*(str(p) for p in PROGRAMS.values()))
        yield client


@pytest.fixture(scope="module")
def notebook() -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(NOTEBOOK_CELL, "<cell>", "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def bucket(s3: S3, server: ServerProcess) -> Any:
    """The server's object store, as s3fs sees it from here."""
    import s3fs

    env = s3.env
    fs = s3fs.S3FileSystem(key=env["AWS_ACCESS_KEY_ID"], secret=env["AWS_SECRET_ACCESS_KEY"],
                           endpoint_url=s3.endpoint, use_listings_cache=False)
    root = _storage_url(server).removeprefix("s3://")
    return fs, root


def _storage_url(server: ServerProcess) -> str:
    line = next(ln for ln in server.log.read_text().splitlines() if "storage:" in ln)
    return line.rsplit("storage: ", 1)[1].strip()


def wait_for(predicate: Any, timeout: float = 30.0, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("condition not reached in time")


def test_registered_bundles_run_from_the_bucket(remote: Remote, bucket: Any) -> None:
    fs, root = bucket
    run = remote.execute(remote.fetch_task("steps.slow"), {"seconds": 0.1}, wait=True, timeout=60)
    assert run.outputs == {"o0": 0.1}
    assert [p.rsplit("/", 1)[1].endswith(".tar.gz") for p in fs.ls(f"{root}/bundles")] == [True]


def test_a_notebook_function_runs_by_value_and_big_values_travel_as_pickles(
    remote: Remote, notebook: dict[str, Any], bucket: Any
) -> None:
    fs, root = bucket
    run = remote.execute(notebook["readings"], {"n": BIG}, wait=True, timeout=60)
    assert run.phase == "SUCCEEDED", run.error
    ref = run.record["outputs"]["o0"]
    assert ref["uri"].endswith("/outputs/o0.pkl")  # not a literal: a pickle in the bucket...
    assert run.outputs == {"o0": list(range(BIG))}  # ...read back through the API's /data
    assert fs.ls(f"{root}/functions")  # the function went by value
    assert "reading 30000 values" in run.logs("n0")

    big = remote.execute(notebook["total"], {"values": list(range(BIG))}, wait=True, timeout=60)
    assert big.outputs == {"o0": sum(range(BIG))}  # a launch input stored as a pickle, read by a worker


def test_data_serves_only_objects_under_executions(remote: Remote, notebook: dict[str, Any],
                                                  bucket: Any) -> None:
    fs, root = bucket
    run = remote.execute(notebook["readings"], {"n": BIG}, wait=True, timeout=60)
    uri = run.record["outputs"]["o0"]["uri"]
    assert remote.download(uri)[:1] == b"\x80"  # a pickle
    folder = uri.rsplit("/", 2)[0]  # executions/<id>/n0/1: a prefix, not an object
    for missing in (folder, f"{uri}/inner", f"executions/{run.id}"):
        with pytest.raises(RemoteUserError, match="no stored value at") as raised:
            remote.download(missing)
        assert raised.value.status == 404
    bundle = fs.ls(f"{root}/bundles")[0].removeprefix(f"{root}/")
    for elsewhere in (bundle, "executions/../token", f"s3://other-bucket/{uri}"):
        with pytest.raises(RemoteUserError) as raised:
            remote.download(elsewhere)
        assert raised.value.status in (400, 422), elsewhere


def test_logs_are_readable_while_the_task_runs(remote: Remote, bucket: Any) -> None:
    fs, root = bucket
    run = remote.execute(remote.fetch_task("steps.chatty"), {"lines": 4, "pause": 1.0})

    def log_so_far() -> str:
        if not any(n.path == "n0" for n in run.nodes()):
            return ""
        return str(run.logs("n0") or "")

    early = wait_for(lambda: "line 0" in log_so_far() and log_so_far(), timeout=30)
    assert "line 3" not in early  # seen before the task printed its last line
    logs = f"{root}/executions/{run.id}/n0/1/logs.txt"
    assert fs.ls(f"{logs}.parts")  # parts while it grows...
    run.wait(timeout=60)
    assert [ln for ln in run.logs("n0").splitlines() if ln.startswith("line")] == [f"line {i}" for i in range(4)]
    assert fs.cat_file(logs).decode().count("line ") == 4  # ...one object once it ended
    assert not fs.exists(f"{logs}.parts")
    followed = "".join(run.logs("n0", follow=True))
    assert followed.count("line ") == 4


def test_a_map_and_a_dynamic_workflow(remote: Remote) -> None:
    mapped = remote.execute(remote.fetch_workflow("anomaly_map.flag_anomalies"), {}, wait=True, timeout=90)
    assert mapped.outputs == {"o0": [False, True, False, False, True, True, True, False, True, False]}
    dynamic = remote.execute(remote.fetch_task("dynamic_first.sum_of_squares"), {"numbers": [1, 2, 3]},
                             wait=True, timeout=90)
    assert dynamic.outputs == {"o0": 14}


def test_abort_reaches_the_worker_through_the_bucket(remote: Remote) -> None:
    run = remote.execute(remote.fetch_task("steps.slow"), {"seconds": 60.0})
    wait_for(lambda: any(n.phase == "RUNNING" for n in run.nodes()))
    started = time.monotonic()
    remote.abort(run.id)
    run.wait(timeout=20)
    assert run.phase == "ABORTED"
    assert time.monotonic() - started < 10
    assert [n.phase for n in run.nodes()] == ["ABORTED"]


def test_nothing_lands_in_the_home_and_no_credential_anywhere(
    s3: S3, remote: Remote, notebook: dict[str, Any], server: ServerProcess, bucket: Any
) -> None:
    fs, root = bucket
    run = remote.execute(notebook["store_variables"], {}, wait=True, timeout=60)
    assert run.outputs == {"o0": []}  # tasks do not see the store's credentials or settings
    assert not (server.home / "data").exists()  # the object store is the bucket alone
    secret = s3.env["AWS_SECRET_ACCESS_KEY"].encode()
    stored = fs.find(root)
    assert any("/executions/" in p for p in stored)
    assert not [p for p in stored if secret in fs.cat_file(p)]
    assert not [p for p in server.home.rglob("*") if p.is_file() and secret in p.read_bytes()]


def test_a_log_sink_writes_a_part_a_second_at_most_and_joins_them(
    s3: S3, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in s3.env.items():
        monkeypatch.setenv(name, value)
    store, path = storage.ObjectStore(s3.url()), "executions/e1/n0/1/logs.txt"
    sink = worker.LogSink(store, path)
    started = time.monotonic()
    for i in range(30):
        sink.write(f"line {i}\n")
        sink.flush()  # as the worker's ticker does, every 0.25 s
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    parts = store.fs.ls(store._full(path) + storage.PARTS)
    assert 1 <= len(parts) <= 1 + elapsed // storage.APPEND_EVERY_S
    sink.close()
    assert store.get_bytes(path) == "".join(f"line {i}\n" for i in range(30)).encode()
    assert not store.exists(path + storage.PARTS)
    store.delete_prefix("executions")
