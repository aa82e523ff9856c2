"""plait: typed tasks and workflows for notebooks, run locally or on Dask.

`import plait` is cheap: every public name below is resolved on first use
(PEP 562), so a kernel or a task image pays only for what it touches.
Programs written for the Flyte/Union SDK run with ``import plait as union``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import _moved

__version__ = "0.1.0"

_moved.install()  # module paths of 0.1.0 (in pickles and notebooks) still import

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
    "task": "sdk.tasks",
    "PythonFunctionTask": "sdk.tasks",
    "TaskMetadata": "sdk.tasks",
    "reference_task": "sdk.tasks",
    "workflow": "sdk.workflows",
    "Workflow": "sdk.workflows",
    "ImperativeWorkflow": "sdk.workflows",
    "WorkflowFailurePolicy": "sdk.workflows",
    "dynamic": "sdk.dynamic",
    "eager": "sdk.eager",
    "EagerException": "sdk.eager",
    "map": "sdk.maptask",
    "map_task": "sdk.maptask",
    "conditional": "sdk.branches",
    "create_node": "sdk.nodes",
    "sleep": "sdk.gates",
    "wait_for_input": "sdk.gates",
    "approve": "sdk.gates",
    "kwtypes": "sdk.interface",
    "LaunchPlan": "sdk.launch_plan",
    "reference_launch_plan": "sdk.launch_plan",
    # local runs
    "rerun": "run.reruns",
    # caching
    "Cache": "config.cache",
    "CachePolicy": "config.cache",
    "CacheFunctionBody": "config.cache",
    "HashMethod": "config.cache",
    # data
    "FlyteFile": "sdk.files",
    "FlyteDirectory": "sdk.files",
    "StructuredDataset": "types.structured",
    "StructuredDatasetEncoder": "types.structured",
    "StructuredDatasetDecoder": "types.structured",
    "StructuredDatasetTransformerEngine": "types.structured",
    "StructuredDatasetType": "extend",
    "Literal": "extend",
    "Scalar": "extend",
    "LiteralType": "extend",
    "Blob": "extend",
    "BlobMetadata": "extend",
    "BlobType": "extend",
    "current_context": "sdk.context",
    "ExecutionParameters": "sdk.context",
    "FlyteContext": "sdk.flyte_context",
    "FlyteContextManager": "sdk.flyte_context",
    "BatchSize": "sdk.batch_size",
    # other task types
    "ShellTask": "task_types.shell",
    "OutputLocation": "task_types.shell",
    "ContainerTask": "task_types.container",
    # environments and hardware
    "Resources": "config.resources",
    "GPUAccelerator": "config.resources",
    "A10G": "config.resources",
    "L4": "config.resources",
    "K80": "config.resources",
    "M60": "config.resources",
    "P4": "config.resources",
    "P100": "config.resources",
    "T4": "config.resources",
    "V100": "config.resources",
    "A100": "config.resources",
    "A100_80GB": "config.resources",
    "L40S": "config.resources",
    "PodTemplate": "config.resources",
    "ImageSpec": "config.image_spec",
    "ActorEnvironment": "task_types.actors",
    "actor_cache": "task_types.actors",
    # launch plan settings
    "CronSchedule": "config.schedules",
    "FixedRate": "config.schedules",
    "Email": "config.notify",
    "Slack": "config.notify",
    "PagerDuty": "config.notify",
    "WorkflowExecutionPhase": "config.notify",
    "ConcurrencyPolicy": "config.concurrency",
    "ConcurrencyLimitBehavior": "config.concurrency",
    "Secret": "config.security",
    "SecurityContext": "config.security",
    "AuthRole": "config.security",
    "Labels": "config.security",
    "Annotations": "config.security",
    "RawOutputDataConfig": "config.security",
    # artifacts
    "Artifact": "artifacts",
    "Granularity": "artifacts",
    "Inputs": "artifacts",
    "OnArtifact": "artifacts",
    "catalog": "artifacts",
    # notebooks
    "NotebookTask": "task_types.notebook_task",
    "record": "task_types.notebook_task",
    # the backend client
    "Remote": "remote",
    "UnionRemote": "remote",
    "FlyteRemote": "remote",
    "RemoteExecution": "remote",
    "RemoteEntity": "remote",
    "ModelCard": "artifacts",
    "DataCard": "artifacts",
}

# public submodules, imported on first use: `union.app.App(...)`, `plait.widgets.widget_for(...)`
_SUBMODULES: dict[str, str] = {
    "app": "app",
    "dashboards": "dashboards",
    "widgets": "dashboards.widgets",
}

__all__ = sorted([*_EXPORTS, *_SUBMODULES, "__version__"])


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        submodule = importlib.import_module(f"{__name__}.{_SUBMODULES[name]}")
        globals()[name] = submodule
        return submodule
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
    from .notebook.magics import load_ipython_extension as load

    load(ipython)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .artifacts import Artifact, DataCard, Granularity, Inputs, ModelCard, OnArtifact, catalog
    from .config.cache import Cache, CacheFunctionBody, CachePolicy, HashMethod
    from .config.concurrency import ConcurrencyLimitBehavior, ConcurrencyPolicy
    from .config.image_spec import ImageSpec
    from .config.notify import Email, PagerDuty, Slack, WorkflowExecutionPhase
    from .config.resources import (
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
    from .config.schedules import CronSchedule, FixedRate
    from .config.security import (
        Annotations,
        AuthRole,
        Labels,
        RawOutputDataConfig,
        Secret,
        SecurityContext,
    )
    from .errors import (
        CompileError,
        FlyteError,
        FlyteRecoverableException,
        PlaitError,
        TaskTimeoutError,
        TypeMismatchError,
        UserError,
    )
    from .extend import (
        Blob,
        BlobMetadata,
        BlobType,
        Literal,
        LiteralType,
        Scalar,
        StructuredDatasetType,
    )
    from .remote import FlyteRemote, Remote, RemoteEntity, RemoteExecution, UnionRemote
    from .run.reruns import rerun
    from .sdk.batch_size import BatchSize
    from .sdk.branches import conditional
    from .sdk.context import ExecutionParameters, current_context
    from .sdk.dynamic import dynamic
    from .sdk.eager import EagerException, eager
    from .sdk.files import FlyteDirectory, FlyteFile
    from .sdk.flyte_context import FlyteContext, FlyteContextManager
    from .sdk.gates import approve, sleep, wait_for_input
    from .sdk.interface import kwtypes
    from .sdk.launch_plan import LaunchPlan, reference_launch_plan
    from .sdk.maptask import map, map_task
    from .sdk.nodes import create_node
    from .sdk.tasks import PythonFunctionTask, TaskMetadata, reference_task, task
    from .sdk.workflows import ImperativeWorkflow, Workflow, WorkflowFailurePolicy, workflow
    from .task_types.actors import ActorEnvironment, actor_cache
    from .task_types.container import ContainerTask
    from .task_types.notebook_task import NotebookTask, record
    from .task_types.shell import OutputLocation, ShellTask
    from .types.structured import (
        StructuredDataset,
        StructuredDatasetDecoder,
        StructuredDatasetEncoder,
        StructuredDatasetTransformerEngine,
    )
