"""`plait server` with a stand-in for the Kubernetes API (tests have none), which plays the
dask-kubernetes operator with real processes: what the executor creates is recorded, and each
DaskCluster and DaskWorkerGroup is run as its pods would run, from their containers' own
`args` and `env`, on loopback, with TLS_DIR read from this test's certificate folder.

    python kube_standin.py RECORD.jsonl TLS_FOLDER plait-server-args...
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from plait.backend.compute import kubernetes
from plait.backend.compute.manifests import TLS_DIR

RECORD, TLS_FOLDER = Path(sys.argv[1]), sys.argv[2]
DASK = str(Path(sys.executable).parent / "dask")


class OperatorStandIn:
    def __init__(self) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []
        self.address: str | None = None

    def note(self, op: str, resource: dict[str, Any]) -> None:
        with RECORD.open("a") as out:
            out.write(json.dumps({"op": op, "resource": resource}) + "\n")

    def exists(self, resource: dict[str, Any]) -> bool:
        self.note("exists", resource)
        return False

    def create(self, resource: dict[str, Any]) -> None:
        self.note("create", resource)
        if resource["kind"] == "DaskCluster":
            port = _free_port()
            self.address = f"tls://127.0.0.1:{port}"
            pod = resource["spec"]["scheduler"]["spec"]["containers"][0]
            args = [a if a != "0.0.0.0" else "127.0.0.1" for a in pod["args"]]  # the pod's network
            self.start(args + ["--port", str(port), "--dashboard-address", "127.0.0.1:0"], pod["env"])
            self.wait_for_scheduler(port)
        else:
            worker = resource["spec"]["worker"]
            pod = worker["spec"]["containers"][0]
            for i in range(worker["replicas"]):
                name = f"{resource['metadata']['name']}-{i}"
                args = [a.replace("$(DASK_WORKER_NAME)", name) for a in pod["args"]]
                args = [*args[:args.index("--dashboard")], "--no-dashboard", "--host", "127.0.0.1"]
                self.start(args, pod["env"], scheduler=self.address)

    def start(self, args: list[str], env: list[dict[str, str]], scheduler: str | None = None) -> None:
        variables = {e["name"]: e["value"].replace(TLS_DIR, TLS_FOLDER) for e in env}
        if scheduler is not None:
            variables["DASK_SCHEDULER_ADDRESS"] = scheduler  # the Service's name, resolved
        assert args[0] == "dask"
        self.processes.append(subprocess.Popen([DASK, *args[1:]], env={**os.environ, **variables},
                                               stdin=subprocess.DEVNULL))

    @staticmethod
    def wait_for_scheduler(port: int) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError("the stand-in's scheduler did not start")

    def delete(self, resource: dict[str, Any]) -> None:
        self.note("delete", resource)
        for process in self.processes:  # the operator removes the pods
            process.terminate()
        for process in self.processes:
            process.wait(timeout=30)

    def scheduler_address(self, cluster: Any) -> str:
        assert self.address is not None
        return self.address


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    kubernetes.default_api = OperatorStandIn
    from plait.cli import main

    main(sys.argv[3:], prog_name="plait")
