"""Module paths of plait 0.1.0 that moved when the package was grouped by layer.

Pickles record classes and functions by module path (registered notebook
functions, local cache entries), executed notebooks import
`plait.notebook_task`, and Flyte programs import `plait.accelerators` where
flytekit keeps its accelerators. So an old path still imports: it resolves to
the module that now holds the code, as one module object under both names.
The finder sits at the end of `sys.meta_path`, so it is asked only about names
that no folder holds.
"""

from __future__ import annotations

import importlib
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

MOVED: dict[str, str] = {
    "plait.literals": "plait.model.literals",
    "plait.cache": "plait.config.cache",
    "plait.settings": "plait.config.settings",
    "plait.resources": "plait.config.resources",
    "plait.accelerators": "plait.config.accelerators",
    "plait.image_spec": "plait.config.image_spec",
    "plait.security": "plait.config.security",
    "plait.schedules": "plait.config.schedules",
    "plait.notify": "plait.config.notify",
    "plait.concurrency": "plait.config.concurrency",
    "plait.entity": "plait.sdk.entity",
    "plait.interface": "plait.sdk.interface",
    "plait.promise": "plait.sdk.promise",
    "plait.compiler": "plait.sdk.compiler",
    "plait.tasks": "plait.sdk.tasks",
    "plait.workflows": "plait.sdk.workflows",
    "plait.dynamic_workflows": "plait.sdk.dynamic",
    "plait.maptask": "plait.sdk.maptask",
    "plait.branches": "plait.sdk.branches",
    "plait.nodes": "plait.sdk.nodes",
    "plait.launch_plan": "plait.sdk.launch_plan",
    "plait.context": "plait.sdk.context",
    "plait.files": "plait.sdk.files",
    "plait.shell": "plait.task_types.shell",
    "plait.container": "plait.task_types.container",
    "plait.notebook_task": "plait.task_types.notebook_task",
    "plait.actors": "plait.task_types.actors",
    "plait.engine": "plait.run.engine",
    "plait.local_cache": "plait.run.local_cache",
    "plait.bundle": "plait.remote.bundle",
    "plait.magics": "plait.notebook.magics",
    "plait.export": "plait.notebook.export",
    "plait.notebook.remote": "plait.notebook.remote_magics",
}


class _Alias:
    """Finder and loader: an old module name loads as the module that replaced it."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if name not in MOVED:
            return None
        return ModuleSpec(name, self)

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        module = importlib.import_module(MOVED[spec.name])
        sys.modules[spec.name] = module
        return module

    def exec_module(self, module: ModuleType) -> None:
        """The module ran when it was imported under its own name."""


def install() -> None:
    """Let the old paths import (once per process)."""
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.append(_Alias())
