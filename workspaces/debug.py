"""Debug workspaces: a failed node's task, its code and its inputs, ready to re-run in VS Code.

    debug = prepare_debug(db, storage, "ex-12ab", "n1")     # DebugRefused: why not
    debug.spec                # the workspace spec: the task's environment, named debug-n1-ex-12ab
    debug.seed(storage)       # its working directory, saved where a start restores it from

The working directory holds:

    code/                     the registered code bundle, as the worker extracts it
                              (or task.pkl, for a task shipped by value from a notebook)
    inputs/inputs.json        the node's value refs; the pickles and datasets they name in
                              inputs/blobs/, each ref's `uri` pointing there
    debug_<task>.py           loads the inputs under the task's types and calls its function
    .vscode/launch.json       "Debug <task> (node <node>)": that script under the debugger

Running `python debug_<task>.py` in the workspace raises what the node raised.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plait.backend.storage import ObjectStore
    from plait.backend.store import Database

DEBUGGABLE = ("FAILED", "TIMED_OUT")


class DebugRefused(ValueError):
    """The node cannot be reproduced in a workspace; `field` is the request's part at fault."""

    def __init__(self, message: str, field: str = "node") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Debug:
    spec: dict[str, Any]
    origin: dict[str, Any]
    files: dict[str, bytes]  # path in the working directory -> content
    bundle: bytes | None  # the code bundle (tar.gz), extracted into code/

    def seed(self, storage: ObjectStore) -> None:
        """Save the working directory where the workspace's first start restores it from."""
        from .manager import storage_prefix
        from .sync import WorkspaceSync

        staging = Path(tempfile.mkdtemp(prefix="plait-debug-"))
        try:
            if self.bundle is not None:
                (staging / "code").mkdir()
                with tarfile.open(fileobj=io.BytesIO(self.bundle), mode="r:gz") as tar:
                    tar.extractall(staging / "code", filter="data")
            for relative, content in self.files.items():
                target = staging / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
            WorkspaceSync(storage, storage_prefix(self.spec["project"], self.spec["domain"], self.spec["name"]),
                          staging).save()
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def default_name(node_id: str, execution_id: str) -> str:
    text = re.sub(r"[^a-z0-9_-]+", "-", f"debug-{node_id}-{execution_id}".lower()).strip("-_")
    return text[:63].rstrip("-_")


def _identifier(name: str) -> str:
    return re.sub(r"\W+", "_", name.rsplit(".", 1)[-1]).strip("_") or "task"


def _copy_blobs(storage: ObjectStore, ref: Any, files: dict[str, bytes]) -> Any:
    """The ref with each `uri` it names downloaded into blobs/ and pointing there."""
    if not isinstance(ref, dict):
        return ref
    out = dict(ref)
    if isinstance(ref.get("collection"), list):
        out["collection"] = [_copy_blobs(storage, item, files) for item in ref["collection"]]
    if isinstance(ref.get("mapping"), dict):
        out["mapping"] = {k: _copy_blobs(storage, v, files) for k, v in ref["mapping"].items()}
    if isinstance(ref.get("uri"), str):
        local = f"blobs/{len(files):04d}-{Path(ref['uri']).name}"
        files[f"inputs/{local}"] = storage.get_bytes(ref["uri"])
        out["uri"] = local
    return out


def script(task: str, node_id: str, execution_id: str, code: dict[str, Any]) -> str:
    """The generated `debug_<task>.py`: it loads the inputs and calls the task's function."""
    if code.get("bundle") and not code.get("pickle"):
        load = (f"from {code['module']} import {code['qualname'].split('.')[0]} as _top\n"
                f"task = _top" + "".join(f".{part}" for part in code["qualname"].split(".")[1:]) + "\n")
    else:
        load = ("import cloudpickle\n\n"
                "task = cloudpickle.loads((HERE / \"code\" / \"task.pkl\").read_bytes())\n")
    return f'''"""Reproduce node {node_id} of execution {execution_id}: task {task} with the inputs it got.

Run it with `python {Path(f"debug_{_identifier(task)}.py").name}`, or press F5 in VS Code (the launch
configuration "Debug {task} (node {node_id})") to stop at the failure under the debugger.
"""

import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "code"))

from plait.run.debug_inputs import load_inputs  # noqa: E402

{load}
inputs = load_inputs(HERE / "inputs", task)
print(f"calling {task} with {{', '.join(inputs)}}", flush=True)
function = getattr(task, "function", task)
result = function(**inputs)  # node {node_id} failed here on the backend
print(result)
'''


def launch_json(task: str, node_id: str, script_name: str) -> str:
    config = {"version": "0.2.0", "configurations": [{
        "name": f"Debug {task} (node {node_id})", "type": "debugpy", "request": "launch",
        "program": f"${{workspaceFolder}}/{script_name}", "cwd": "${workspaceFolder}",
        "console": "integratedTerminal", "justMyCode": False}]}
    return json.dumps(config, indent=2) + "\n"


def prepare_debug(db: Database, storage: ObjectStore, execution_id: str, node_id: str, *,
                  name: str | None = None) -> Debug:
    """What a debug workspace of `node_id` needs (nothing is stored yet), or DebugRefused."""
    from plait.backend.store import queries
    from plait.backend.store.queries import workspaces as wq

    with db.session(readonly=True) as s:
        execution = queries.get_execution(s, execution_id)
        node = queries.get_node(s, execution_id, node_id)
        if node.phase not in DEBUGGABLE:
            raise DebugRefused(f"node {node_id} of execution {execution_id} is {node.phase}; a debug workspace "
                               f"reproduces a node that failed ({', '.join(DEBUGGABLE)})")
        if node.kind != "task" or not node.entity_name:
            raise DebugRefused(f"node {node_id} of execution {execution_id} is a {node.kind or 'node'}, not a "
                               "task; debug the failed task node inside it")
        version = queries.node_entity_versions(s, execution, [node]).get(node.path)
        entity = queries.get_entity(s, "task", execution.project, execution.domain, node.entity_name, version)
        workspace_name = name or default_name(node_id, execution_id)
        try:
            wq.get_workspace(s, execution.project, execution.domain, workspace_name)
        except LookupError:
            pass
        else:
            raise DebugRefused(f"a workspace `{workspace_name}` exists already; open it, or give another name",
                               field="name")
    code = dict(entity.spec.get("code") or {})
    bundle = None
    files: dict[str, bytes] = {}
    if code.get("bundle") and not code.get("pickle"):
        bundle = storage.get_bytes(f"bundles/{code['bundle']}.tar.gz")
    elif code.get("pickle"):
        files["code/task.pkl"] = storage.get_bytes(f"functions/{code['pickle']}.pkl")
        if code.get("bundle"):
            bundle = storage.get_bytes(f"bundles/{code['bundle']}.tar.gz")
    else:
        raise DebugRefused(f"task {entity.name} has no registered code (bundle or pickle); register it again")
    refs = {k: _copy_blobs(storage, v, files) for k, v in (node.inputs or {}).items()}
    files["inputs/inputs.json"] = (json.dumps(refs, indent=2) + "\n").encode()
    script_name = f"debug_{_identifier(entity.name)}.py"
    files[script_name] = script(entity.name, node_id, execution_id, code).encode()
    files[".vscode/launch.json"] = launch_json(entity.name, node_id, script_name).encode()
    settings = entity.spec.get("settings") or {}
    requests = {k: v for k, v in (settings.get("requests") or {}).items() if k in ("cpu", "mem", "gpu") and v}
    error = (node.error or {}).get("message") or node.phase
    spec = {"name": workspace_name, "project": execution.project, "domain": execution.domain,
            "description": f"Debug {entity.name} (node {node_id} of {execution_id}): {error}"[:500],
            "container_image": settings.get("container_image"),
            "resources": {"cpu": requests.get("cpu", "1"), "mem": requests.get("mem", "2Gi"),
                          "gpu": requests.get("gpu")},
            "accelerator": settings.get("accelerator") if isinstance(settings.get("accelerator"), str) else None,
            "ttl_seconds": 3600}
    origin = {"execution_id": execution_id, "node_id": node_id, "task": entity.name,
              "task_version": entity.version, "script": script_name}
    return Debug(spec=spec, origin=origin, files=files, bundle=bundle)
