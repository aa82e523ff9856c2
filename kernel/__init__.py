"""plait: typed tasks and workflows for notebooks, run locally or on Dask.

`import plait` is cheap: every public name below is resolved on first use
(PEP 562), so a kernel or a task image pays only for what it touches.
Programs written for the Flyte/Union SDK run with ``import plait as union``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module (relative to this package) that defines it
_EXPORTS: dict[str, str] = {
    # errors
    "PlaitError": "errors",
    "UserError": "errors",
    "CompileError": "errors",
    "TypeMismatchError": "errors",
    "FlyteError": "errors",
    "FlyteRecoverableException": "errors",
    "TaskTimeoutError": "errors",
    # tasks and workflows
    "task": "tasks",
    "PythonFunctionTask": "tasks",
    "TaskMetadata": "tasks",
    "reference_task": "tasks",
    "workflow": "workflows",
    "Workflow": "workflows",
    "ImperativeWorkflow": "workflows",
    "WorkflowFailurePolicy": "workflows",
    "dynamic": "dynamic_workflows",
    "map": "maptask",
    "map_task": "maptask",
    "conditional": "branches",
    "create_node": "nodes",
    "kwtypes": "interface",
    "LaunchPlan": "launch_plan",
    "reference_launch_plan": "launch_plan",
    # caching
    "Cache": "cache",
    "CachePolicy": "cache",
    "CacheFunctionBody": "cache",
    "HashMethod": "cache",
    # data
    "FlyteFile": "files",
    "FlyteDirectory": "files",
    "current_context": "context",
    "ExecutionParameters": "context",
    # other task types
    "ShellTask": "shell",
    "OutputLocation": "shell",
    "ContainerTask": "container",
    # environments and hardware
    "Resources": "resources",
    "GPUAccelerator": "resources",
    "A10G": "resources",
    "L4": "resources",
    "K80": "resources",
    "M60": "resources",
    "P4": "resources",
    "P100": "resources",
    "T4": "resources",
    "V100": "resources",
    "A100": "resources",
    "A100_80GB": "resources",
    "L40S": "resources",
    "PodTemplate": "resources",
    "ImageSpec": "image_spec",
    "ActorEnvironment": "actors",
    "actor_cache": "actors",
    # launch plan settings
    "CronSchedule": "schedules",
    "FixedRate": "schedules",
    "Email": "notify",
    "Slack": "notify",
    "PagerDuty": "notify",
    "WorkflowExecutionPhase": "notify",
    "ConcurrencyPolicy": "concurrency",
    "ConcurrencyLimitBehavior": "concurrency",
    "Secret": "security",
    "SecurityContext": "security",
    "AuthRole": "security",
    "Labels": "security",
    "Annotations": "security",
    "RawOutputDataConfig": "security",
    # artifacts
    "Artifact": "artifacts",
    "Granularity": "artifacts",
    "Inputs": "artifacts",
    "OnArtifact": "artifacts",
    # notebooks
    "NotebookTask": "notebook_task",
    "record": "notebook_task",
    # the backend client
    "Remote": "remote",
    "RemoteExecution": "remote",
    "RemoteEntity": "remote",
    "ModelCard": "artifacts",
    "DataCard": "artifacts",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'plait' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return __all__


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext plait`: register the plait magics."""
    from .magics import load_ipython_extension as load

    load(ipython)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .actors import ActorEnvironment, actor_cache
    from .artifacts import Artifact, DataCard, Granularity, Inputs, ModelCard, OnArtifact
    from .branches import conditional
    from .cache import Cache, CacheFunctionBody, CachePolicy, HashMethod
    from .concurrency import ConcurrencyLimitBehavior, ConcurrencyPolicy
    from .container import ContainerTask
    from .context import ExecutionParameters, current_context
    from .dynamic_workflows import dynamic
    from .errors import (
        CompileError,
        FlyteError,
        FlyteRecoverableException,
        PlaitError,
        TaskTimeoutError,
        TypeMismatchError,
        UserError,
    )
    from .files import FlyteDirectory, FlyteFile
    from .image_spec import ImageSpec
    from .interface import kwtypes
    from .launch_plan import LaunchPlan, reference_launch_plan
    from .maptask import map, map_task
    from .nodes import create_node
    from .notebook_task import NotebookTask, record
    from .notify import Email, PagerDuty, Slack, WorkflowExecutionPhase
    from .remote import Remote, RemoteEntity, RemoteExecution
    from .resources import (
        A10G,
        A100,
        A100_80GB,
        K80,
        L4,
        L40S,
        M60,
        P4,
        P100,
        T4,
        V100,
        GPUAccelerator,
        PodTemplate,
        Resources,
    )
    from .schedules import CronSchedule, FixedRate
    from .security import (
        Annotations,
        AuthRole,
        Labels,
        RawOutputDataConfig,
        Secret,
        SecurityContext,
    )
    from .shell import OutputLocation, ShellTask
    from .tasks import PythonFunctionTask, TaskMetadata, reference_task, task
    from .workflows import ImperativeWorkflow, Workflow, WorkflowFailurePolicy, workflow
