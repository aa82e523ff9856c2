"""A workspace's stop and start with 100 MB in its working directory, against tar.

    python benchmarks/workspaces_sync.py                  # the object store on a local folder
    python benchmarks/workspaces_sync.py --store memory   # fsspec's memory store
    python benchmarks/workspaces_sync.py --store s3       # a local S3-compatible server (moto)

The working directory holds one 80 MB checkpoint and 2,000 small files of 10 KB
(source, notebooks, outputs: 20 MB) in 40 folders. Measured, each beside its
baseline from the same run:

- Stop: the first save (everything sent) against `tar -cf` of the folder written
  into the store (the archive a simple stop would keep), then a save with nothing
  changed and one after 10 small files changed (incremental: size and mtime
  checked, the changed files sent) against the same full tar again.
- Start: the time until `restore()` returns, when the small files are back and
  code-server may start (the 80 MB checkpoint still arriving in the background),
  and the time to the full restore (`wait()`), against `tar -xf` of the archive
  into a fresh folder, which blocks the start until the last byte. Also a start on
  the same machine, where the folder is still there (nothing copied).

Medians of several rounds; each round runs the sync and its baseline one after the
other, after `os.sync()`, with the files in the page cache: the figures are the
sync's own cost, not the disk's. The machine may be shared: compare the ratios.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from plait.backend.storage import ObjectStore
from plait.workspaces.sync import WorkspaceSync

MB = 1_000_000
BIG_BYTES = 80 * MB
SMALL_FILES = 2000
SMALL_BYTES = 10_000
FOLDERS = 40
PREFIX = "workspaces/default/development/bench"


def make_workspace(root: Path) -> None:
    root.mkdir(parents=True)
    with open(root / "model.ckpt", "wb") as out:
        for _ in range(BIG_BYTES // MB):
            out.write(os.urandom(MB))
    for i in range(SMALL_FILES):
        folder = root / "src" / f"pkg{i % FOLDERS}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"module{i}.py").write_bytes(os.urandom(SMALL_BYTES))


def touch_small(root: Path, count: int, round_: int) -> None:
    for i in range(count):
        (root / "src" / f"pkg{i % FOLDERS}" / f"module{i}.py").write_bytes(os.urandom(SMALL_BYTES + round_))


@contextmanager
def object_store(kind: str, scratch: Path) -> Iterator[ObjectStore]:
    if kind == "folder":
        yield ObjectStore(str(scratch / "store"))
    elif kind == "memory":
        yield ObjectStore(f"memory://bench-{uuid.uuid4().hex}")
    else:
        import logging

        import boto3
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            env = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-secret",
                   "AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_DEFAULT_REGION": "us-east-1"}
            os.environ.update(env)
            boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"]).create_bucket(Bucket="bench")
            yield ObjectStore("s3://bench/workspaces")
        finally:
            server.stop()


def seconds(values: list[float]) -> str:
    return f"{statistics.median(values):7.3f} s"


def ratio(values: list[float], baseline: list[float]) -> str:
    return f"{statistics.median(values) / statistics.median(baseline):.2f}x"


def clock(fn: Callable[[], object]) -> float:
    os.sync()  # the previous step's writes are not this one's cost
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["folder", "memory", "s3"], default="folder")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="plait-bench-ws-"))
    try:
        here = scratch / "here"
        make_workspace(here)
        total = sum(p.stat().st_size for p in here.rglob("*") if p.is_file())
        print(f"working directory: {total / MB:.0f} MB, 1 file of {BIG_BYTES // MB} MB + "
              f"{SMALL_FILES} files of {SMALL_BYTES // 1000} KB; store: {args.store}; "
              f"medians of {args.repeat}, each beside its baseline")
        with object_store(args.store, scratch) as store:
            figures = measure(store, here, scratch, args.repeat)
        show(figures)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def measure(store: ObjectStore, here: Path, scratch: Path, repeat: int) -> dict[str, list[float]]:
    """Each round runs the sync and its baseline one after the other (the machine may be busy)."""
    archive = scratch / "workspace.tar"
    tar_key = "bench-tar/workspace.tar"
    figures: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        figures.setdefault(name, []).append(value)

    def tar_stop() -> None:  # the archive a simple stop would keep, in the same store
        subprocess.run(["tar", "-cf", str(archive), "-C", str(here), "."], check=True)
        store.put_file(tar_key, archive)

    def tar_start(target: Path) -> None:
        target.mkdir()
        with open(archive, "wb") as out, store.fs.open(store.uri(tar_key), "rb") as source:
            shutil.copyfileobj(source, out, 1 << 20)
        subprocess.run(["tar", "-xf", str(archive), "-C", str(target)], check=True)

    def fresh_save() -> None:
        store.delete_prefix(PREFIX)
        WorkspaceSync(store, PREFIX, here).save()

    for round_ in range(repeat):
        add("first save", clock(fresh_save))
        add("tar stop", clock(tar_stop))
        add("copytree", clock(lambda: shutil.copytree(here, scratch / "copy")))
        shutil.rmtree(scratch / "copy")
        sync = WorkspaceSync(store, PREFIX, here)
        add("save unchanged", clock(sync.save))
        touch_small(here, 10, round_ + 1)
        add("save 10 changed", clock(sync.save))

        target = scratch / "there"
        restorer = WorkspaceSync(store, PREFIX, target)
        os.sync()
        began = time.perf_counter()
        restorer.restore()
        add("start blocked", time.perf_counter() - began)
        restorer.wait()
        add("start complete", time.perf_counter() - began)
        assert (target / "model.ckpt").stat().st_size == BIG_BYTES
        shutil.rmtree(target)
        add("tar start", clock(lambda: tar_start(scratch / "untar")))
        shutil.rmtree(scratch / "untar")
        add("foreground", restore_time(store, target, background=False))
        add("same machine", restore_time(store, target, background=True))  # the folder is there
        shutil.rmtree(target)
    return figures


def restore_time(store: ObjectStore, target: Path, *, background: bool) -> float:
    """Seconds of a whole restore (until the background part is done too)."""
    sync = WorkspaceSync(store, PREFIX, target)
    os.sync()
    start = time.perf_counter()
    sync.restore(background=background)
    sync.wait()
    return time.perf_counter() - start


def show(f: dict[str, list[float]]) -> None:
    print()
    print("stop (save)")
    print(f"  first save, everything sent                 {seconds(f['first save'])}  "
          f"{ratio(f['first save'], f['tar stop'])} of tar")
    print(f"    baseline: tar -cf, archive into the store {seconds(f['tar stop'])}")
    print(f"    baseline: shutil.copytree                 {seconds(f['copytree'])}")
    print(f"  save, nothing changed                       {seconds(f['save unchanged'])}  "
          f"{ratio(f['save unchanged'], f['tar stop'])} of tar")
    print(f"  save, 10 small files changed                {seconds(f['save 10 changed'])}  "
          f"{ratio(f['save 10 changed'], f['tar stop'])} of tar")
    print()
    print("start (restore on a new machine)")
    print(f"  until restore() returns: the start waits    {seconds(f['start blocked'])}  "
          f"{ratio(f['start blocked'], f['tar start'])} of tar")
    print(f"  until the 80 MB file is back too (wait())   {seconds(f['start complete'])}  "
          f"{ratio(f['start complete'], f['tar start'])} of tar")
    print(f"  whole restore in the foreground             {seconds(f['foreground'])}  "
          f"{ratio(f['foreground'], f['tar start'])} of tar")
    print(f"    baseline: archive from the store, tar -xf {seconds(f['tar start'])}")
    print(f"  start on the same machine, all checked      {seconds(f['same machine'])}  (nothing copied)")


if __name__ == "__main__":
    main()
