"""`plait worker`: the Dask workers of one pool of a `kind: hosts` cluster, on this host.

    plait worker --cluster cluster.yaml --pool gpu --scheduler tls://10.0.0.5:8786 \\
        --tls-ca-file ca.pem --tls-cert dask.pem --tls-key dask-key.pem [--nworkers 2]

Run on each worker host, with the cluster file the server has (`plait server
--cluster cluster.yaml`) and copies of the server's Dask TLS files
(`$PLAIT_HOME/tls/` there). It reads the pool from the file, resolves the pool's
environment here (ImageSpec fields: a virtual environment under this host's own
`$PLAIT_HOME/envs`, built once and reused; relative paths of the spec are read
from the cluster file's folder), and keeps `--nworkers` Dask workers of the pool
running, each named `<pool>-<host>-<n>` and advertising the pool's resources
(`pool-<name>`, GPU, accelerator), joined to the server's scheduler over TLS;
the workers of a GPU pool each see their own GPUs (slices of
CUDA_VISIBLE_DEVICES). A worker that exits is started again, after a pause that grows while workers
keep failing at once; SIGTERM or SIGINT stops them all.

Nothing of the server's machine is needed but the network: the workers open
the object store the server names (its credentials, such as `AWS_*`, from this
host's environment), and code bundles, inputs, outputs and logs travel through
it. The backend is imported inside the command only, as `plait server` does.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from .output import CONTEXT

CHECK_EVERY_S = 0.5  # how often the workers are looked at
RESTART_AFTER_S = 1.0  # the pause before a worker that exited is started again...
RESTART_MAX_S = 30.0  # ...doubled while workers keep exiting within QUICK_EXIT_S, up to this
QUICK_EXIT_S = 10.0
STOP_WAIT_S = 10.0  # on stop, SIGTERM then this long before SIGKILL
_NAME_PART = re.compile(r"[^a-z0-9]+")


@click.command("worker", context_settings=CONTEXT)
@click.option("--cluster", "path", default="cluster.yaml", show_default=True, metavar="FILE",
              help="The cluster file, of kind hosts (the one `plait server --cluster` runs).")
@click.option("--pool", "pool_name", required=True, metavar="NAME", help="The pool whose workers run here.")
@click.option("--scheduler", default=None, metavar="tls://ADDRESS:PORT",
              help="The server's scheduler (default: the file's scheduler.host and port, when that "
                   "names an address).")
@click.option("--tls-ca-file", envvar="PLAIT_DASK_TLS_CA_FILE", required=True, metavar="PEM",
              help="The CA of the cluster's certificates (the server's $PLAIT_HOME/tls/ca.pem).")
@click.option("--tls-cert", envvar="PLAIT_DASK_TLS_CERT", required=True, metavar="PEM",
              help="The workers' certificate (the server's $PLAIT_HOME/tls/dask.pem).")
@click.option("--tls-key", envvar="PLAIT_DASK_TLS_KEY", required=True, metavar="PEM",
              help="Its private key (the server's $PLAIT_HOME/tls/dask-key.pem).")
@click.option("--nworkers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Dask workers of the pool to keep running on this host.")
@click.option("--host", default=None, metavar="ADDRESS",
              help="The address the workers listen on and give the scheduler (default: this "
                   "host's address on the way to the scheduler).")
@click.option("--host-name", default=None, metavar="NAME",
              help="This host in the workers' names, <pool>-<host>-<n> (default: its hostname).")
@click.option("--home", default=None, metavar="DIR",
              help="Where environments are built (default $PLAIT_HOME or ~/.plait).")
def worker_cmd(path: str, pool_name: str, scheduler: str | None, tls_ca_file: str, tls_cert: str,
               tls_key: str, nworkers: int, host: str | None, host_name: str | None,
               home: str | None) -> None:
    """Run the Dask workers of one pool of a kind: hosts cluster file on this host.

    \b
    plait worker --cluster cluster.yaml --pool gpu --scheduler tls://10.0.0.5:8786 \\
        --tls-ca-file ca.pem --tls-cert dask.pem --tls-key dask-key.pem
    """
    from plait.backend import compute
    from plait.backend.compute.pools import worker_command
    from plait.backend.security import TlsFiles

    try:
        cluster = compute.load(path)
    except compute.ClusterFileError as exc:
        raise click.ClickException(str(exc)) from None
    if cluster.kind != "hosts":
        raise click.ClickException(
            f"{path}: kind: expected hosts for plait worker, found {cluster.kind!r}; the server starts "
            "the workers of a local cluster itself and the operator those on Kubernetes: write kind: "
            "hosts to run pools on hosts of your own (docs/compute.md)")
    try:
        pool = cluster.pool(pool_name)
    except KeyError:
        names = ", ".join(p.name for p in cluster.pools)
        raise click.ClickException(f"--pool: expected a pool of {path} ({names}), found {pool_name!r}; "
                                   "give one of those") from None
    address = scheduler_address(scheduler, cluster, path)
    tls = TlsFiles(Path(tls_ca_file).resolve(), Path(tls_cert).resolve(), Path(tls_key).resolve())
    for option, file in (("--tls-ca-file", tls.ca_file), ("--tls-cert", tls.cert), ("--tls-key", tls.key)):
        if not file.is_file():
            raise click.ClickException(f"{option}: expected a readable PEM file, found no file at {file}; "
                                       "copy it from the server's $PLAIT_HOME/tls/")
    listen = host or address_towards(address)
    label = _NAME_PART.sub("-", (host_name or socket.gethostname()).lower()).strip("-") or "host"
    devices = gpu_devices(pool.resources.gpu, nworkers, os.environ.get("CUDA_VISIBLE_DEVICES"))
    environment = build_environment(pool, home, Path(path).resolve().parent)

    def command(n: int, folder: str) -> Any:
        made = worker_command(pool, address, name=f"{pool.name}-{label}-{n}", folder=folder,
                              environment=environment, tls=tls, host=listen)
        if devices is not None:
            made.env["CUDA_VISIBLE_DEVICES"] = devices[n]
        return made

    click.echo(f"plait worker: pool {pool.describe()}")
    click.echo(f"  {nworkers} worker{'s' if nworkers > 1 else ''} {pool.name}-{label}-0"
               f"{f'..{nworkers - 1}' if nworkers > 1 else ''} on {listen}, joining {address}")
    sys.stdout.flush()
    Supervisor(command, nworkers).run()
    click.echo("plait worker: stopped")


def scheduler_address(given: str | None, cluster: Any, path: str) -> str:
    """The scheduler's `tls://host:port`: `--scheduler` (a bare `host:port` gets tls://), or the
    cluster file's `scheduler:` when it names an address rather than all of them."""
    if given is None:
        found = cluster.scheduler.address if cluster.scheduler is not None else None
        if found is None:
            raise click.ClickException(
                f"--scheduler: expected the server's scheduler address, found none ({path} says it "
                f"listens on {cluster.scheduler.host}, every address of the server's machine); give "
                f"--scheduler tls://<server address>:{cluster.scheduler.port}")
        return str(found)
    scheme, sep, rest = given.partition("://")
    if not sep:
        scheme, rest = "tls", given
    host, colon, port = rest.rpartition(":")
    if scheme != "tls" or not colon or not host or not port.isdigit():
        raise click.ClickException(
            f"--scheduler: expected tls://ADDRESS:PORT (the server's scheduler speaks TLS only), found "
            f"{given!r}; write e.g. tls://10.0.0.5:{cluster.scheduler.port}")
    return f"tls://{rest}"


def address_towards(scheduler: str) -> str:
    """This host's address on the way to `scheduler` (the interface its route leaves by)."""
    rest = scheduler.partition("://")[2]
    host, _, port = rest.rpartition(":")
    host = host.strip("[]")
    try:
        family, _, _, _, sockaddr = socket.getaddrinfo(host, int(port), type=socket.SOCK_DGRAM)[0]
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect(sockaddr)  # UDP: no packet is sent, the route is chosen
            return str(probe.getsockname()[0])
    except OSError as exc:
        raise click.ClickException(
            f"--scheduler: cannot find this host's way to {scheduler} ({exc.strerror or exc}); check "
            "the address, or give --host with this host's address") from None


def gpu_devices(per_worker: int, count: int, visible: str | None) -> list[str] | None:
    """What CUDA_VISIBLE_DEVICES each of `count` workers of `per_worker` GPUs gets, so that the
    workers of one host never share a device: consecutive slices of the host's own
    CUDA_VISIBLE_DEVICES, or of 0, 1, ... when it has none. None when there is one worker (it
    sees what the host gives it) or the pool has no GPU."""
    if not per_worker or count < 2:
        return None
    given = [d.strip() for d in (visible or "").split(",") if d.strip()]
    devices = given or [str(i) for i in range(per_worker * count)]
    if len(devices) < per_worker * count:
        raise click.ClickException(
            f"--nworkers: expected at most {len(devices) // per_worker} workers of {per_worker} GPU "
            f"each (CUDA_VISIBLE_DEVICES lists {len(devices)} devices), found {count}; lower "
            "--nworkers or widen CUDA_VISIBLE_DEVICES")
    return [",".join(devices[n * per_worker:(n + 1) * per_worker]) for n in range(count)]


def build_environment(pool: Any, home: str | None, root: Path) -> Any:
    """The pool's environment on this host: None for the default one (this Python), else the
    virtual environment of its ImageSpec under `home`, built now if it is not there yet."""
    spec = pool.environment.image_spec
    if spec is None:
        return None
    from plait.environments import resolve
    from plait.errors import UserError

    click.echo(f"plait worker: resolving the environment {spec.image_name()} of pool {pool.name}")
    sys.stdout.flush()
    try:
        return resolve(spec, home=home, root=root)
    except UserError as exc:
        raise click.ClickException(f"pool {pool.name}: {exc}") from None


@dataclass
class _Slot:
    """One of the workers kept running: its number, its process and local folder."""

    n: int
    popen: subprocess.Popen[bytes] | None = None
    folder: str | None = None
    started: float = 0.0
    due: float = 0.0  # when to start it (again)
    pause: float = RESTART_AFTER_S


class Supervisor:
    """Keeps `count` worker processes running (`command(n, folder)` says how to start the n-th),
    until SIGTERM or SIGINT; then stops them (SIGTERM, then SIGKILL) and removes their folders."""

    def __init__(self, command: Any, count: int) -> None:
        self.command = command
        self.slots = [_Slot(n) for n in range(count)]
        self.stopping = threading.Event()

    def run(self) -> None:
        previous = {sig: signal.signal(sig, lambda *_: self.stopping.set())
                    for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            while not self.stopping.is_set():
                self.look()
                self.stopping.wait(CHECK_EVERY_S)
        finally:
            for sig in previous:
                signal.signal(sig, signal.SIG_IGN)  # a second signal must not cut the stop short
            try:
                self.stop()
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    def look(self) -> None:
        now = time.monotonic()
        for slot in self.slots:
            if slot.popen is not None and slot.popen.poll() is not None:
                code = slot.popen.returncode
                quick = now - slot.started < QUICK_EXIT_S
                slot.pause = min(slot.pause * 2, RESTART_MAX_S) if quick else RESTART_AFTER_S
                click.echo(f"plait worker: worker {slot.n} exited with code {code}; starting it again "
                           f"in {slot.pause:g} s", err=True)
                self._forget(slot)
                slot.due = now + slot.pause
            if slot.popen is None and now >= slot.due and not self.stopping.is_set():
                self._start(slot)

    def _start(self, slot: _Slot) -> None:
        slot.folder = tempfile.mkdtemp(prefix="plait-worker-")
        command = self.command(slot.n, slot.folder)
        parent = os.getpid()
        slot.popen = subprocess.Popen(command.argv, env=command.env, cwd=command.cwd or slot.folder,
                                      stdin=subprocess.DEVNULL, preexec_fn=lambda: _die_with(parent))
        slot.started = time.monotonic()

    def _forget(self, slot: _Slot) -> None:
        if slot.folder is not None:
            shutil.rmtree(slot.folder, ignore_errors=True)
        slot.popen, slot.folder = None, None

    def stop(self) -> None:
        running = [s for s in self.slots if s.popen is not None and s.popen.poll() is None]
        for slot in running:
            with contextlib.suppress(ProcessLookupError):
                slot.popen.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        deadline = time.monotonic() + STOP_WAIT_S
        for slot in running:
            assert slot.popen is not None
            try:
                slot.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    slot.popen.kill()
                slot.popen.wait(timeout=10)
        for slot in self.slots:
            self._forget(slot)


def _die_with(parent: int) -> None:
    """In a worker process before it runs: on Linux, be sent SIGTERM when `plait worker`
    (`parent`) dies, so that no worker outlives the process that keeps it running."""
    if sys.platform != "linux":
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before the call
        os.kill(os.getpid(), signal.SIGTERM)
