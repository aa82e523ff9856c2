"""`plait server` on an external Dask scheduler that speaks TLS, and one that does not.

The embedded cluster makes its own certificates (test_local_users.py); an
external tls:// scheduler needs the client's: `--dask-tls-ca-file`,
`--dask-tls-cert`, `--dask-tls-key` (or PLAIT_DASK_TLS_*). Without them a
tls:// address is refused at start with a message that names them; a tcp://
address works as before (test_chaos.py runs on plain-tcp schedulers).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from plait.backend.security import ensure_cluster_tls
from processes import BIN, Processes

PROGRAMS = Path(__file__).parent.parent / "resources" / "security" / "programs.py"


def test_an_external_tls_scheduler_is_used_with_the_clients_certificate(tmp_path: Path) -> None:
    tls = ensure_cluster_tls(tmp_path / "cluster")  # the external cluster's CA and certificate
    files = ["--tls-ca-file", str(tls.ca_file), "--tls-cert", str(tls.cert), "--tls-key", str(tls.key)]
    with Processes(tmp_path / "procs") as procs:
        info = tmp_path / "scheduler.json"
        scheduler = procs.start("scheduler", [
            str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0", "--protocol", "tls",
            "--no-dashboard", "--scheduler-file", str(info), *files])
        address = str(scheduler.wait_for(
            lambda: info.exists() and json.loads(info.read_text() or "{}").get("address"),
            "write its scheduler file"))
        assert address.startswith("tls://")
        worker = procs.start("worker", [
            str(BIN / "dask"), "worker", address, "--nworkers", "1", "--nthreads", "1", "--name", "w1",
            "--no-dashboard", "--local-directory", str(tmp_path / "w1"), *files])
        procs.wait_registered(worker)
        server = procs.server(tmp_path / "home", address, extra_args=(
            "--dask-tls-ca-file", str(tls.ca_file), "--dask-tls-cert", str(tls.cert),
            "--dask-tls-key", str(tls.key)))
        with server.remote() as remote:
            remote.register(str(PROGRAMS))
            run = remote.execute(remote.fetch_task("programs.environment"), {"names": ["PLAIT_HOME"]})
            run.wait(timeout=60)
            assert run.phase == "SUCCEEDED", (run.error, server.process.tail())
            assert run.outputs == {"o0": {"PLAIT_HOME": "<unset>"}}
            assert remote.health()["dask_scheduler"] == address


def test_a_tls_scheduler_without_the_clients_certificate_is_refused_at_start(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "plait", "server", "--port", "0", "--home", str(tmp_path / "home"),
         "--dask-scheduler", "tls://127.0.0.1:9", "--dask-tls-cert", str(tmp_path / "client.pem")],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "plait server: the Dask scheduler tls://127.0.0.1:9 speaks TLS and needs this client's "
        "certificate: give --dask-tls-ca-file, --dask-tls-cert, --dask-tls-key (or "
        "PLAIT_DASK_TLS_CA_FILE, PLAIT_DASK_TLS_CERT, PLAIT_DASK_TLS_KEY); found --dask-tls-cert")
