"""`current_context()`: what a running task knows about its execution.

Each attempt gets its own context. The working directory is created on
first use and removed when the attempt ends, so tasks that never ask for it
pay nothing and nothing is left behind in the temporary folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import UserError


@dataclass(frozen=True)
class ExecutionId:
    name: str
    project: str = "local"
    domain: str = "development"

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class TaskId:
    name: str
    version: str = "local"


def _joined(group: str | None, key: str | None) -> str:
    """`GROUP_KEY` as Flyte names a secret's variable (upper case, `-` and `.` as `_`)."""
    parts = [p for p in (group, key) if p]
    return "_".join(parts).upper().replace("-", "_").replace(".", "_")


class Secrets:
    """The secrets a task reads: `current_context().secrets.get(group, key)`.

    Locally they come from the environment: `_FSEC_<GROUP>_<KEY>` (Flyte's name),
    `PLAIT_SECRET_<GROUP>_<KEY>` or `<GROUP>_<KEY>`. On the backend the worker gives each
    attempt exactly the secrets its task requests (`given`, by `GROUP_KEY`), and nothing else.
    """

    def __init__(self, given: Mapping[str, str] | None = None, files_dir: str | None = None,
                 task: str = "") -> None:
        self._given = dict(given) if given is not None else None
        self._files_dir = files_dir
        self._task = task

    def __repr__(self) -> str:  # never the values
        names = "the environment" if self._given is None else f"{len(self._given)} requested secrets"
        return f"Secrets(from {names})"

    def get(self, group: str | None = None, key: str | None = None, *, env_var: str | None = None) -> str:
        if self._given is not None:
            found = self._given.get(_joined(group, key)) if (group or key) else None
            if found is None and env_var:
                found = os.environ.get(env_var)
            if found is not None:
                return found
            raise UserError(
                f"task `{self._task}` did not request secret group={group!r} key={key!r}; add "
                f"plait.Secret(group={group!r}, key={key!r}) to its secret_requests"
            )
        names = []
        if env_var:
            names.append(env_var)
        joined = _joined(group, key)
        if joined:
            names += [f"_FSEC_{joined}", f"PLAIT_SECRET_{joined}", joined]
        for n in names:
            value = os.environ.get(n)
            if value is not None:
                return value
        raise UserError(
            f"secret group={group!r} key={key!r} is not set; locally, export one of "
            f"{names} (declare it in the task's secret_requests for remote runs)"
        )

    def get_secrets_env_var(self, group: str | None = None, key: str | None = None) -> str:
        """The variable a secret requested with an environment mount is in: `_FSEC_<GROUP>_<KEY>`."""
        return f"_FSEC_{_joined(group, key)}"

    def get_secrets_file(self, group: str | None = None, key: str | None = None) -> str:
        """The file a secret requested with a file mount is in: `<dir>/<group>/<key>` in lower
        case, where `<dir>` is the attempt's own folder on the backend, else
        `$FLYTE_SECRETS_DEFAULT_DIR` or `/etc/secrets` (Flyte's layout)."""
        root = self._files_dir or os.environ.get("FLYTE_SECRETS_DEFAULT_DIR") or os.path.join(os.sep, "etc", "secrets")
        return os.path.join(root, *[p.lower() for p in (group, key) if p])


class ExecutionParameters:
    """The context of one task attempt (or of the process, outside any task)."""

    def __init__(
        self,
        execution_id: ExecutionId,
        task_name: str = "",
        attempt: int = 1,
        node_id: str = "",
        tmp_root: str | None = None,
        raw_output_prefix: str = "",
    ) -> None:
        self.execution_id = execution_id
        self._task_name = task_name
        self.attempt_number = attempt
        self.node_id = node_id
        self.raw_output_prefix = raw_output_prefix
        self._tmp_root = tmp_root
        self._workdir: str | None = None
        self._secrets: Secrets | None = None

    @property
    def secrets(self) -> Secrets:
        return self._secrets if self._secrets is not None else Secrets()

    def provide_secrets(self, given: Mapping[str, str], files_dir: str | None = None) -> None:
        """Have `secrets` answer with these secrets only (by `GROUP_KEY`), their files in
        `files_dir`: what the backend's worker gives an attempt, as its task requested."""
        self._secrets = Secrets(given, files_dir, self._task_name)

    @property
    def logging(self) -> Any:
        return _logger()

    @property
    def task_name(self) -> str:
        return self._task_name

    @property
    def task_id(self) -> TaskId:
        return TaskId(self._task_name)

    @property
    def execution_date(self) -> Any:
        import datetime as _dt

        return _dt.datetime.now(_dt.timezone.utc)

    @property
    def working_directory(self) -> str:
        if self._workdir is None:
            self._workdir = tempfile.mkdtemp(prefix="plait-task-", dir=self._tmp_root)
        return self._workdir

    def cleanup(self) -> None:
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def owns(self, path: str) -> bool:
        """Is `path` inside this attempt's working directory?"""
        if self._workdir is None:
            return False
        root = os.path.realpath(self._workdir)
        return os.path.realpath(path).startswith(root + os.sep)

    def __repr__(self) -> str:
        return (
            f"ExecutionParameters(execution_id={self.execution_id.name!r}, "
            f"task={self.task_name!r}, attempt={self.attempt_number})"
        )


def _logger() -> Any:
    import logging

    return logging.getLogger("plait.task")


_state = threading.local()
_process_context: ExecutionParameters | None = None
_process_lock = threading.Lock()


def push(ctx: ExecutionParameters) -> None:
    stack = getattr(_state, "stack", None)
    if stack is None:
        stack = _state.stack = []
    stack.append(ctx)


def pop() -> ExecutionParameters:
    ctx: ExecutionParameters = _state.stack.pop()
    return ctx


def current_context() -> ExecutionParameters:
    """The running task's context; outside a task, a process-wide one."""
    stack = getattr(_state, "stack", None)
    if stack:
        return stack[-1]  # type: ignore[no-any-return]
    global _process_context
    with _process_lock:
        if _process_context is None:
            _process_context = ExecutionParameters(ExecutionId("local-session"))
            import atexit

            atexit.register(_process_context.cleanup)
        return _process_context
