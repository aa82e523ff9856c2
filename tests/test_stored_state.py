"""What plait 0.1.0 stored still loads after the modules were regrouped.

`tests/resources/stored_0_1_0/` holds pickles written by plait 0.1.0 (before
the layer regroup): a task and a workflow defined in a notebook cell, shipped
by value as the backend stores them, and a local cache entry. They name the
classes' old modules (`plait.tasks`, `plait.workflows`, `plait.files`,
`plait.resources`); each is loaded in a fresh interpreter, as a worker or a
new kernel would.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

STORED = Path(__file__).parent / "resources" / "stored_0_1_0"


def run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=STORED)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_a_notebook_task_and_workflow_registered_by_0_1_0_load_and_run() -> None:
    assert b"plait.tasks" in (STORED / "notebook_task.pkl").read_bytes()
    printed = run(
        "import cloudpickle\n"
        "task = cloudpickle.loads(open('notebook_task.pkl', 'rb').read())\n"
        "wf = cloudpickle.loads(open('notebook_workflow.pkl', 'rb').read())\n"
        "print(type(task).__module__, task(x=3), wf(x=1.5))\n"
    )
    assert printed == "plait.sdk.tasks 6.0 6.0"


def test_a_local_cache_entry_of_0_1_0_loads() -> None:
    printed = run(
        "import pickle, plait\n"
        "entry = pickle.loads(open('local_cache_entry.pkl', 'rb').read())\n"
        "print(type(entry['o0']) is plait.FlyteFile, entry['o0'].path, entry['o1'] == plait.Resources(cpu='2', mem='1Gi'))\n"
    )
    assert printed == "True /tmp/does-not-matter.csv True"
