"""`@task`: a typed Python function that runs as one unit, locally or on a worker."""

from __future__ import annotations

import functools
import inspect
import textwrap
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..config.settings import TaskSettings, build_settings
from ..errors import UserError
from ..model.keys import content_version
from .entity import Entity, description_of, qualified_name, version_for_cache
from .interface import Interface, interface_from_function


class PythonFunctionTask(Entity):
    """The task made by `@task`: calls `function` with typed inputs."""

    kind = "task"
    task_type = "python-task"

    def __init__(
        self,
        function: Callable[..., Any],
        settings: TaskSettings,
        *,
        name: str | None = None,
        interface: Interface | None = None,
        docs: Any = None,
        deprecated: str = "",
        enable_deck: bool = False,
        node_dependency_hints: Any = None,
        environment_name: str | None = None,
    ) -> None:
        self.function = function
        self.name = name or qualified_name(function)
        self.interface = interface or interface_from_function(function, "task")
        self.settings = settings
        self.docs = description_of(function, docs)
        self.deprecated = deprecated or ""
        self.enable_deck = enable_deck
        self.node_dependency_hints = list(node_dependency_hints or [])
        self.environment_name = environment_name
        self._source: str | None = None
        functools.update_wrapper(self, function)  # type: ignore[arg-type]

    # The engine calls this with checked keyword inputs and converts the result.
    def invoke(self, kwargs: dict[str, Any]) -> Any:
        result = self.function(**kwargs)
        if inspect.isgenerator(result):  # `-> Iterator[T]`: yielded while the attempt runs
            return list(result)
        return result

    def warn_if_deprecated(self) -> None:
        if self.deprecated:
            warnings.warn(
                f"task `{self.name}` is deprecated: {self.deprecated}",
                FutureWarning,
                stacklevel=4,
            )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.warn_if_deprecated()
        return super().__call__(*args, **kwargs)

    @property
    def source(self) -> str:
        if self._source is None:
            try:
                self._source = textwrap.dedent(inspect.getsource(self.function))
            except (OSError, TypeError):
                self._source = getattr(self.function, "__plait_source__", "") or ""
        return self._source

    def to_spec(self) -> dict[str, Any]:
        body = {
            "kind": self.kind,
            "task_type": self.task_type,
            "name": self.name,
            "interface": self.interface.to_spec(),
            "settings": self.settings.to_spec(),
            "docs": self.docs,
            "deprecated": self.deprecated,
            "enable_deck": self.enable_deck,
            "environment_name": self.environment_name,
            "code": {
                "module": getattr(self.function, "__module__", ""),
                "qualname": getattr(self.function, "__qualname__", ""),
                "source_hash": content_version({"src": self.source}),
            },
        }
        if self.settings.cache is not None:
            # The backend cannot run a policy (it has no source); it reads the version.
            body["settings"]["cache"]["resolved_version"] = self.cache_version()
        body["version"] = content_version(body)
        return body

    def cache_version(self) -> str | None:
        """The cache version in force: explicit, or derived by the cache policies."""
        if self.settings.cache is None:
            return None
        return version_for_cache(self, self.settings.cache)


_TASK_PARAMS = (
    "accelerator cache cache_serialize cache_version cache_ignore_input_vars container_image "
    "deprecated docs enable_deck environment interruptible limits requests retries "
    "secret_requests timeout pod_template pod_template_name task_config node_dependency_hints"
).split()
# Parameters that describe the task itself rather than how it runs.
TASK_ONLY_PARAMS = ("docs", "deprecated", "enable_deck", "node_dependency_hints", "name", "task_resolver")


def check_params(decorator: str, params: dict[str, Any], allowed: Any = None) -> None:
    known = set(_TASK_PARAMS if allowed is None else allowed)
    unknown = sorted(set(params) - known - set(TASK_ONLY_PARAMS))
    if unknown:
        raise UserError(f"{decorator} got unknown parameter(s) {unknown}; known: {sorted(known)}")


def build_task(
    cls: type[PythonFunctionTask],
    fn: Callable[..., Any],
    params: dict[str, Any],
    kind: str = "task",
    adjust: Callable[[TaskSettings], TaskSettings] | None = None,
    **extra: Any,
) -> Any:
    """Construct a task of `cls` from decorator parameters (settings validated here)."""
    if isinstance(fn, Entity):
        raise UserError(f"@{kind} applied to `{fn.name}`, which is already a task")
    owner = f"{kind} `{qualified_name(fn)}`"
    settings = build_settings(owner, **{k: v for k, v in params.items() if k not in TASK_ONLY_PARAMS})
    return cls(
        fn,
        adjust(settings) if adjust is not None else settings,
        name=params.get("name"),
        docs=params.get("docs"),
        deprecated=params.get("deprecated", ""),
        enable_deck=params.get("enable_deck", False),
        node_dependency_hints=params.get("node_dependency_hints"),
        **extra,
    )


def task(_fn: Callable[..., Any] | None = None, **params: Any) -> Any:
    """Make a typed task from a function: `@task` or `@task(retries=2, cache=True, ...)`."""
    check_params("@task", params)

    def wrap(fn: Callable[..., Any]) -> PythonFunctionTask:
        return build_task(PythonFunctionTask, fn, params)  # type: ignore[no-any-return]

    return wrap(_fn) if _fn is not None else wrap


@dataclass(frozen=True)
class TaskMetadata:
    """Settings for tasks that are not decorated functions (ContainerTask, ShellTask)."""

    cache: bool = False
    cache_serialize: bool = False
    cache_version: str = ""
    cache_ignore_input_vars: tuple[str, ...] = ()
    interruptible: bool | None = None
    deprecated: str = ""
    retries: int = 0
    timeout: Any = None

    def settings(self, owner: str, **extra: Any) -> TaskSettings:
        return build_settings(
            owner,
            cache=self.cache,
            cache_serialize=self.cache_serialize,
            cache_version=self.cache_version,
            cache_ignore_input_vars=self.cache_ignore_input_vars,
            interruptible=self.interruptible,
            retries=self.retries,
            timeout=self.timeout,
            **extra,
        )


class ReferenceTask(PythonFunctionTask):
    """A task registered elsewhere, known here by name, version and interface."""

    kind = "task"
    task_type = "reference"

    def __init__(self, project: str, domain: str, name: str, version: str, fn: Callable[..., Any]) -> None:
        super().__init__(fn, TaskSettings(), name=name)
        self.reference = {"project": project, "domain": domain, "name": name, "version": version}

    def invoke(self, kwargs: dict[str, Any]) -> Any:
        raise UserError(
            f"reference task `{self.name}` (version {self.reference['version']}) has no "
            "code here: it runs only on a plait backend where it is registered. Run the "
            "workflow with `plait run --remote`, or call a local task in its place for tests"
        )

    def to_spec(self) -> dict[str, Any]:
        spec = super().to_spec()
        spec["reference"] = self.reference
        return spec

    def node_spec(self) -> dict[str, Any]:
        """What a workflow node calling this reference carries: the exact identity it runs."""
        return {"reference": dict(self.reference)}


def reference_task(project: str, domain: str, name: str, version: str) -> Callable[[Callable[..., Any]], ReferenceTask]:
    """Declare a registered task by its identity; the decorated function gives its interface."""

    def wrap(fn: Callable[..., Any]) -> ReferenceTask:
        return ReferenceTask(project, domain, name, version, fn)

    return wrap
