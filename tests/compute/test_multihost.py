"""A real multi-host Dask cluster: `kind: hosts` pools whose workers run on other hosts.

The test makes the hosts as Linux network namespaces on a bridge of its own: the
backend (`plait server --cluster hosts.yaml`, its embedded scheduler listening on
the bridge) in one, and `plait worker` hosts in others: a CPU pool's, a GPU
pool's whose host advertises one GPU (there is none: the routing is what is
checked), and an ImageSpec pool's that builds its environment itself; a second
CPU host takes over when the first is killed mid-run. The hosts share nothing
but the network: each has its own HOME, PLAIT_HOME, temporary folder and working
folder, copies of the cluster file and of the cluster's TLS files, and sees the
backend's folder as an empty one (a tmpfs mounted over it in the host's mount
namespace); the object store is S3 (a moto server on the bridge, through s3fs),
so code, inputs, outputs and logs travel through it. A namespace has no route to
the package index: the ImageSpec host builds from this machine's uv cache, which
this process fills first. Needs root; skipped, with the reason, only where the
machine refuses network namespaces.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest
from click.testing import CliRunner
from plait.cli import main as cli
from plait.model.home import open_file_private
from s3_fixture import S3
from server_fixture import ServerProcess, _wait_until_ready, stop

pytestmark = pytest.mark.slow

PROGRAM = Path(__file__).parent.parent / "resources" / "compute" / "pools.py"
HOLD = '''\
import sys
import time

from plait import ImageSpec, task

inflection_image = ImageSpec(name="inflection-image", packages=["inflection==0.5.1"])


@task(container_image=inflection_image)
def where_inflection() -> str:
    """Where it runs, and in which environment: a package the server's has not."""
    import inflection
    from distributed import Worker

    names = ",".join(sorted(str(w.name) for w in Worker._instances))
    return f"{names} {inflection.camelize('in_its_own')} {sys.prefix}"


@task(retries=0)
def hold(seconds: float) -> str:
    """Says where it runs, then holds its worker for `seconds`."""
    from distributed import Worker

    names = ",".join(sorted(str(w.name) for w in Worker._instances))
    print(f"holding on {names}", flush=True)
    time.sleep(seconds)
    return names
'''
CLUSTER = """\
kind: hosts
scheduler: {host: 0.0.0.0, port: 8786}
pools:
  - name: cpu
    resources: {cpu: 1}
  - name: gpu
    resources: {cpu: 1, gpu: 1}
  - name: inflection
    environment: {name: inflection-image, packages: [inflection==0.5.1]}
    resources: {cpu: 1}
"""
SCHEDULER_PORT = 8786
TLS_FILES = ("ca.pem", "dask.pem", "dask-key.pem")


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=30)


def namespaces_refused() -> str | None:
    """Why this machine cannot make network namespaces, found by trying; None when it can."""
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is not installed"
    probe = f"plait-probe-{os.getpid()}"
    made = ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"`ip netns add` failed: {made.stderr.strip() or made.returncode}"
    ip("netns", "del", probe, check=False)
    return None


class Network:
    """A bridge in this namespace and hosts on it: network namespaces, each with an address of
    the bridge's /24 and a default route through it (so Dask finds its own address as a
    host with a gateway does)."""

    def __init__(self) -> None:
        self.tag = secrets.token_hex(2)
        self.bridge = f"plbr{self.tag}"
        self.namespaces: list[str] = []
        used = ip("-4", "-o", "addr").stdout
        for _ in range(100):
            prefix = f"10.{secrets.randbelow(50) + 200}.{secrets.randbelow(250) + 1}"
            if f" {prefix}." not in used:
                break
        self.prefix = prefix
        self.gateway = f"{prefix}.1"
        self.links: list[str] = []
        try:
            ip("link", "add", self.bridge, "type", "bridge")
            ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
            ip("link", "set", self.bridge, "up")
        except BaseException:
            self.close()
            raise

    def host(self, name: str, number: int) -> tuple[str, str]:
        """A namespace `name` at <prefix>.<number>: (its name, its address)."""
        namespace = f"plait-{self.tag}-{name}"
        outside, inside = f"plv{self.tag}{number}", f"plp{self.tag}{number}"
        ip("netns", "add", namespace)
        self.namespaces.append(namespace)
        ip("link", "add", outside, "type", "veth", "peer", "name", inside)
        self.links.append(outside)
        ip("link", "set", inside, "netns", namespace)
        ip("link", "set", outside, "master", self.bridge, "up")
        address = f"{self.prefix}.{number}"
        ip("-n", namespace, "link", "set", inside, "name", "eth0")
        ip("-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0")
        ip("-n", namespace, "link", "set", "eth0", "up")
        ip("-n", namespace, "link", "set", "lo", "up")
        ip("-n", namespace, "route", "add", "default", "via", self.gateway)
        return namespace, address

    def close(self) -> None:
        for namespace in self.namespaces:  # its end of each veth pair goes with it, then the other
            ip("netns", "del", namespace, check=False)
        for link in self.links:  # one whose pair never reached its namespace
            if ip("link", "show", link, check=False).returncode == 0:
                ip("link", "del", link, check=False)
        ip("link", "del", self.bridge, check=False)


@dataclass
class Host:
    """A worker host: its namespace, address, folder (home, PLAIT_HOME, temp) and `plait worker`."""

    name: str
    namespace: str
    address: str
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.folder / "worker.log"

    def workers(self) -> list[psutil.Process]:
        if self.process is None:
            return []
        with contextlib.suppress(psutil.NoSuchProcess):
            return psutil.Process(self.process.pid).children(recursive=True)
        return []

    def kill(self) -> None:
        """The host is gone: every process of it killed at once, as a machine that fails."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


class MultiHost:
    """The cluster: network, S3, the backend's namespace and its server, and the worker hosts."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.net = Network()
        self.hosts: dict[str, Host] = {}
        self.moto: Any = None
        self.server: ServerProcess | None = None
        self._server_process: subprocess.Popen[bytes] | None = None
        self.backend_folder = root / "backend"
        self.home = self.backend_folder / "plait"
        self.s3: S3 | None = None

    def start_s3(self) -> S3:
        import logging

        import boto3
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.moto = ThreadedMotoServer(ip_address=self.net.gateway, port=0, verbose=False)
        self.moto.start()
        host, port = self.moto.get_host_and_port()
        self.s3 = S3(f"http://{host}:{port}", "plait-hosts")
        env = self.s3.env
        boto3.client("s3", endpoint_url=self.s3.endpoint, region_name=env["AWS_DEFAULT_REGION"],
                     aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                     aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"]).create_bucket(Bucket=self.s3.bucket)
        return self.s3

    def environment(self, folder: Path) -> dict[str, str]:
        """The variables of a process of one host: its own HOME, PLAIT_HOME and temp folder, and
        the AWS variables of the S3 server; none of this process's plait settings."""
        assert self.s3 is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PLAIT_", "AWS_", "DASK_"))}
        for sub in ("home", "plait", "tmp"):
            (folder / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
        return {**env, **self.s3.env, "HOME": str(folder / "home"), "PLAIT_HOME": str(folder / "plait"),
                "TMPDIR": str(folder / "tmp")}

    def start_server(self) -> ServerProcess:
        namespace, address = self.net.host("backend", 2)
        self.backend_address = address
        folder = self.backend_folder
        env = self.environment(folder)
        (folder / "hosts.yaml").write_text(CLUSTER)
        assert self.s3 is not None
        with os.fdopen(open_file_private(self.home / "server.log"), "ab") as log:
            self._server_process = subprocess.Popen(
                ["ip", "netns", "exec", namespace, sys.executable, "-m", "plait", "server", "--host", address,
                 "--port", "0", "--cluster", str(folder / "hosts.yaml"), "--storage-url", self.s3.url("data")],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=folder,
                start_new_session=True)
        self.server = _wait_until_ready(self.home, self._server_process)
        return self.server

    def start_host(self, name: str, number: int, pool: str, **variables: str) -> Host:
        """A worker host: a namespace, a folder with copies of the cluster file and the TLS files,
        and `plait worker` there, which sees the backend's folder as an empty one."""
        namespace, address = self.net.host(name, number)
        folder = self.root / name
        env = {**self.environment(folder), **variables}
        shutil.copy(self.backend_folder / "hosts.yaml", folder / "cluster.yaml")
        for file in TLS_FILES:  # as an operator copies them to the host
            shutil.copy(self.home / "tls" / file, folder / file)
        host = self.hosts[name] = Host(name, namespace, address, folder)
        hide = 'mount -t tmpfs -o size=1m,mode=0700 plait-hidden "$0" && exec "$@"'
        with open(host.log, "ab") as log:
            host.process = subprocess.Popen(
                ["ip", "netns", "exec", namespace, "sh", "-c", hide, str(self.backend_folder),
                 sys.executable, "-m", "plait", "worker", "--cluster", "cluster.yaml", "--pool", pool,
                 "--scheduler", f"tls://{self.backend_address}:{SCHEDULER_PORT}",
                 "--tls-ca-file", "ca.pem", "--tls-cert", "dask.pem", "--tls-key", "dask-key.pem",
                 "--host-name", name],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=folder,
                start_new_session=True)
        return host

    def close(self) -> None:
        try:
            for host in self.hosts.values():
                host.stop()
        finally:
            try:
                if self._server_process is not None:
                    stop(self._server_process, self.home)
            finally:
                try:
                    for host in self.hosts.values():
                        host.kill()
                    if self.moto is not None:
                        self.moto.stop()
                finally:
                    self.net.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MultiHost]:
    refused = namespaces_refused()
    if refused is not None:
        print(f"skipping the multi-host test: {refused}", file=sys.stderr)
        pytest.skip(f"network namespaces are refused on this machine: {refused}")
    root = tmp_path_factory.mktemp("hosts")
    (root / "hold.py").write_text(HOLD)
    made = MultiHost(root)
    try:
        made.start_s3()
        made.start_server()
        made.start_host("alpha", 3, "cpu")
        made.start_host("beta", 4, "gpu")
        made.start_host("delta", 6, "inflection", **package_cache(root))
        assert made.server is not None
        with made.server.remote() as remote:
            remote.register(str(PROGRAM), str(root / "hold.py"))
        yield made
    finally:
        made.close()


def package_cache(root: Path) -> dict[str, str]:
    """What lets a host build an environment with no route to the package index: this machine's
    uv cache, holding the packages once this process (which reaches the index) has built the
    same spec under a home of its own."""
    from plait import ImageSpec
    from plait.environments import resolve

    resolve(ImageSpec(name="inflection-image", packages=["inflection==0.5.1"]), home=root / "warm")
    found = subprocess.run([sys.executable, "-m", "uv", "cache", "dir"], capture_output=True, text=True,
                           check=True, timeout=30)
    return {"UV_CACHE_DIR": found.stdout.strip(), "UV_OFFLINE": "1"}


def run(cluster: MultiHost, task: str, **inputs: Any) -> tuple[str, dict[str, Any]]:
    """What the task returned, and its node's last attempt."""
    assert cluster.server is not None
    with cluster.server.remote() as remote:
        ran = remote.execute(remote.fetch_task(task), inputs, wait=True, timeout=60)
        assert ran.phase == "SUCCEEDED", (ran.error, logs(cluster))
        (node,) = [n for n in ran.nodes() if n.attempts]
        return str(ran.outputs["o0"]), node.attempts[-1]


def logs(cluster: MultiHost) -> str:
    """The server's and the hosts' logs, for a failure's message."""
    parts = [f"--- server\n{cluster.server.log_tail() if cluster.server else ''}"]
    for host in cluster.hosts.values():
        with contextlib.suppress(OSError):
            parts.append(f"--- {host.name}\n" + "\n".join(host.log.read_text(errors="replace").splitlines()[-30:]))
    return "\n".join(parts)


def eventually(cluster: MultiHost, check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, logs(cluster)
        time.sleep(0.2)


def test_a_gpu_task_runs_only_on_the_gpu_host_and_a_cpu_task_on_the_cpu_host(cluster: MultiHost) -> None:
    alpha, beta = cluster.hosts["alpha"], cluster.hosts["beta"]
    for _ in range(2):
        said, attempt = run(cluster, "pools.where_gpu")
        assert said == "gpu-beta-0" and attempt["pool"] == "gpu"
        assert attempt["worker"].startswith(f"tls://{beta.address}:"), attempt
        said, attempt = run(cluster, "pools.where")
        assert said == "cpu-alpha-0" and attempt["pool"] == "cpu"
        assert attempt["worker"].startswith(f"tls://{alpha.address}:"), attempt


def test_each_host_builds_the_environment_of_its_pool_under_its_own_home(cluster: MultiHost) -> None:
    delta = cluster.hosts["delta"]
    said, attempt = run(cluster, "hold.where_inflection")
    name, word, prefix = said.split(" ")
    assert (name, word, attempt["pool"]) == ("inflection-delta-0", "InItsOwn", "inflection")
    assert attempt["worker"].startswith(f"tls://{delta.address}:"), attempt
    assert Path(prefix).is_relative_to(delta.folder / "plait" / "envs"), prefix
    assert not (cluster.home / "envs").exists()  # the server built nothing


def test_the_hosts_share_nothing_with_the_backend_but_the_network(cluster: MultiHost) -> None:
    assert cluster.s3 is not None
    backend = cluster.backend_folder
    assert any(backend.rglob("*")), "the backend has files of its own"
    for host in cluster.hosts.values():
        workers = [p for p in host.workers() if "distributed.cli.dask_worker" in " ".join(p.cmdline())]
        assert workers, logs(cluster)
        for worker in workers:
            # Its own working folder and PLAIT_HOME; the backend's folder is empty where it looks.
            assert Path(worker.cwd()).is_relative_to(host.folder), worker.cwd()
            assert worker.environ()["PLAIT_HOME"] == str(host.folder / "plait")
            assert os.listdir(f"/proc/{worker.pid}/root{backend}") == []
            assert not [f.path for f in worker.open_files() if Path(f.path).is_relative_to(backend)]
        # The code came through S3: the bundle the server stored there, extracted in the host's
        # own temporary folder.
        assert list((host.folder / "tmp").glob("plait-bundles-*/*")), logs(cluster)
    import s3fs

    fs = s3fs.S3FileSystem(key=cluster.s3.env["AWS_ACCESS_KEY_ID"], secret=cluster.s3.env["AWS_SECRET_ACCESS_KEY"],
                           client_kwargs={"endpoint_url": cluster.s3.endpoint, "region_name": "us-east-1"})
    stored = fs.find(f"{cluster.s3.bucket}/data")
    assert [key for key in stored if "/bundles/" in key], stored
    assert not (backend / "plait" / "data").exists()  # the backend keeps no object store of its own


def test_losing_a_host_mid_run_is_a_system_retry_that_spends_no_user_retry(cluster: MultiHost) -> None:
    assert cluster.server is not None
    alpha = cluster.hosts["alpha"]
    with cluster.server.remote() as remote:
        execution = remote.execute(remote.fetch_task("hold.hold"), {"seconds": 6.0})
        node = None

        def holding() -> bool:
            nonlocal node
            found = [n for n in execution.nodes() if n.attempts]
            if not found:
                return False
            node = found[0]
            return "holding on cpu-alpha-0" in execution.logs(node)

        eventually(cluster, holding)
        alpha.kill()  # the host is gone, mid-run
        gamma = cluster.start_host("gamma", 5, "cpu")  # another CPU host takes over
        ended = execution.wait(timeout=60)
        assert ended.phase == "SUCCEEDED", (ended.error, logs(cluster))
        assert ended.outputs["o0"] == "cpu-gamma-0"
        (node,) = [n for n in ended.nodes() if n.attempts]
        # The first attempt failed as SYSTEM (its worker on alpha died: Dask's KilledWorker), and
        # the second ran on gamma: the task has retries=0, so no user retry was spent.
        first, second = node.attempts
        assert (first["phase"], first["error_kind"], first["pool"]) == ("FAILED", "SYSTEM", "cpu"), first
        assert f"tls://{alpha.address}:" in first["error"]["message"], first
        assert second["phase"] == "SUCCEEDED" and second["worker"].startswith(f"tls://{gamma.address}:"), second
        # Its log came back through S3 from the host that ran it.
        assert "holding on cpu-gamma-0" in ended.logs(node)


def test_plait_worker_refuses_what_it_cannot_run(tmp_path: Path) -> None:
    local = tmp_path / "local.yaml"
    local.write_text("kind: local\n")
    hosts = tmp_path / "hosts.yaml"
    hosts.write_text("kind: hosts\npools: [{name: cpu}]\n")
    for file in TLS_FILES:
        (tmp_path / file).write_text("")
    tls = ["--tls-ca-file", str(tmp_path / "ca.pem"), "--tls-cert", str(tmp_path / "dask.pem"),
           "--tls-key", str(tmp_path / "dask-key.pem")]
    runner = CliRunner()

    def said(*args: str) -> str:
        result = runner.invoke(cli, ["worker", *args, *tls])
        assert result.exit_code == 1, result.output
        return result.output.replace("\n", " ")

    assert (f"{local}: kind: expected hosts for plait worker, found 'local'; the server starts the "
            "workers of a local cluster itself") in said("--cluster", str(local), "--pool", "default")
    assert f"--pool: expected a pool of {hosts} (cpu), found 'gpu'; give one of those" in said(
        "--cluster", str(hosts), "--pool", "gpu")
    assert (f"--scheduler: expected the server's scheduler address, found none ({hosts} says it listens "
            "on 0.0.0.0, every address of the server's machine); give --scheduler tls://<server "
            "address>:8786") in said("--cluster", str(hosts), "--pool", "cpu")
    assert ("--scheduler: expected tls://ADDRESS:PORT (the server's scheduler speaks TLS only), found "
            "'tcp://10.0.0.5:8786'") in said("--cluster", str(hosts), "--pool", "cpu", "--scheduler",
                                            "tcp://10.0.0.5:8786")


def test_the_gpu_workers_of_one_host_each_see_their_own_gpus(tmp_path: Path) -> None:
    from plait.cli.worker import gpu_devices

    assert gpu_devices(1, 3, None) == ["0", "1", "2"]
    assert gpu_devices(2, 2, "3,5,6,7") == ["3,5", "6,7"]
    assert gpu_devices(1, 1, "2") is None and gpu_devices(0, 4, None) is None  # as the host gives them
    (tmp_path / "hosts.yaml").write_text("kind: hosts\npools: [{name: gpu, resources: {gpu: 2}}]\n")
    for file in TLS_FILES:
        (tmp_path / file).write_text("")
    result = CliRunner().invoke(cli, [
        "worker", "--cluster", str(tmp_path / "hosts.yaml"), "--pool", "gpu", "--nworkers", "2",
        "--scheduler", "tls://127.0.0.1:8786", "--tls-ca-file", str(tmp_path / "ca.pem"),
        "--tls-cert", str(tmp_path / "dask.pem"), "--tls-key", str(tmp_path / "dask-key.pem")],
        env={"CUDA_VISIBLE_DEVICES": "0,1,2"})
    assert result.exit_code == 1
    assert ("--nworkers: expected at most 1 workers of 2 GPU each (CUDA_VISIBLE_DEVICES lists 3 devices), "
            "found 2; lower --nworkers or widen CUDA_VISIBLE_DEVICES") in result.output.replace("\n", " ")


def test_the_server_refuses_an_object_store_only_its_machine_has(tmp_path: Path) -> None:
    (tmp_path / "hosts.yaml").write_text("kind: hosts\npools: [{name: cpu}]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAIT_")}
    ran = subprocess.run([sys.executable, "-m", "plait", "server", "--home", str(tmp_path / "home"), "--port", "0",
                          "--cluster", str(tmp_path / "hosts.yaml")], capture_output=True, text=True,
                         env=env, timeout=60)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert ("is of kind hosts, whose workers run on other hosts and share nothing with this one but the "
            "network, and the object store is") in ran.stderr
    assert "give --storage-url (PLAIT_STORAGE_URL) an object store every host reaches" in ran.stderr
