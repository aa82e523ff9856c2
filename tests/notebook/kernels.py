"""Helpers to drive real kernels like a frontend does (imported by the notebook tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KERNEL = "plait-test-python"
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def kernel_manager(kernel_dirs: list[str], **kwargs: Any) -> Any:
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    return KernelManager(kernel_name=KERNEL, kernel_spec_manager=KernelSpecManager(kernel_dirs=kernel_dirs),
                         **kwargs)


@dataclass
class Reply:
    """What one execute request produced, as a frontend would see it."""

    status: str
    outputs: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    execution_count: int | None = None  # the N of the cell's `In [N]`

    @property
    def stdout(self) -> str:
        return "".join(o["text"] for o in self.outputs if o.get("name") == "stdout")

    @property
    def stderr(self) -> str:
        return "".join(o["text"] for o in self.outputs if o.get("name") == "stderr")

    @property
    def error(self) -> dict[str, Any] | None:
        return next((o for o in self.outputs if o["output_type"] == "error"), None)

    def value(self) -> str | None:
        for o in self.outputs:
            if o["output_type"] == "execute_result":
                return str(o["data"]["text/plain"])
        return None

    def displays(self, mime: str) -> list[Any]:
        return [o["data"][mime] for o in self.outputs
                if o["output_type"] in ("display_data", "update_display_data", "execute_result")
                and mime in o["data"]]

    def widget_states(self) -> dict[str, dict[str, Any]]:
        """Widget models by comm id, built from comm_open and update messages."""
        states: dict[str, dict[str, Any]] = {}
        for msg in self.messages:
            content = msg["content"]
            if msg["msg_type"] == "comm_open":
                states[content["comm_id"]] = dict(content["data"].get("state", {}))
            elif msg["msg_type"] == "comm_msg" and content["data"].get("method") == "update":
                states.setdefault(content["comm_id"], {}).update(content["data"].get("state", {}))
        return states


class Kernel:
    """A running kernel; `run(code)` executes a cell and collects its iopub messages."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def run(self, code: str, timeout: float = 60) -> Reply:
        msg_id = self.client.execute(code)
        reply = Reply("unknown")
        while True:
            msg = self.client.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            reply.messages.append(msg)
            if kind == "status" and content["execution_state"] == "idle":
                break
            if kind == "stream":
                reply.outputs.append({"output_type": "stream", "name": content["name"], "text": content["text"]})
            elif kind in ("display_data", "update_display_data", "execute_result"):
                reply.outputs.append({"output_type": kind, "data": content["data"]})
            elif kind == "error":
                reply.outputs.append({"output_type": "error", **content})
        while True:  # skip replies to requests made by others (e.g. comm_info)
            shell = self.client.get_shell_msg(timeout=timeout)
            if shell["parent_header"].get("msg_id") == msg_id:
                break
        reply.status = shell["content"]["status"]
        reply.execution_count = shell["content"].get("execution_count")
        return reply

    def ok(self, code: str) -> Reply:
        reply = self.run(code)
        assert reply.status == "ok", reply.error or reply.stderr
        return reply


def execute_notebook(path: Path, kernel_dirs: list[str], timeout: float = 60) -> Any:
    """Run a notebook headless in its own folder, as `jupyter nbconvert --execute` would."""
    import nbclient
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    client = nbclient.NotebookClient(
        nb, km=kernel_manager(kernel_dirs), timeout=timeout,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    return nb
