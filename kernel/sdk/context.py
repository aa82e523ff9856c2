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
    """`GROUP_KEY` as plait names a secret's variable (upper case, `-` and `.` as `_`)."""
    parts = [p for p in (group, key) if p]
    return "_".join(parts).upper().replace("-", "_").replace(".", "_")


class SecretNotFoundError(UserError, ValueError):
    """A secret a task reads is not there (a ValueError, as Flyte raises)."""


class SecretsManager:
    """The secrets a task reads: `current_context().secrets.get(group, key)`.

    Flyte's resolution, with its names: the variable `_FSEC_<GROUP>[_<GROUP_VERSION>]_<KEY>`
    (each part upper-cased, nothing else changed: `get_secrets_env_var`), then the file
    `<dir>/<group>[/<group_version>]/<key>` in lower case (`get_secrets_file`, `<dir>` being
    `$FLYTE_SECRETS_DEFAULT_DIR` or `/etc/secrets`). The prefixes follow
    `FLYTE_SECRETS_ENV_PREFIX` and `FLYTE_SECRETS_FILE_PREFIX` as in Flyte. Locally plait also
    reads its own spellings: `_FSEC_`/`PLAIT_SECRET_`/no prefix with `-` and `.` as `_`.

    On the backend the worker gives each attempt exactly the secrets its task requests
    (`given`, by plait's `GROUP_KEY`), and nothing else. Tests use the class as in Flyte
    (`plait.testing.SecretsManager`): set the variable `get_secrets_env_var` names, or patch
    `SecretsManager.get`.
    """

    def __init__(self, secrets_cfg: Any = None, *, given: Mapping[str, str] | None = None,
                 files_dir: str | None = None, task: str = "") -> None:
        self._given = dict(given) if given is not None else None
        self._files_dir = files_dir or getattr(secrets_cfg, "default_dir", None)
        self._env_prefix = getattr(secrets_cfg, "env_prefix", None)
        self._file_prefix = getattr(secrets_cfg, "file_prefix", None)
        self._task = task

    def __repr__(self) -> str:  # never the values
        names = "the environment" if self._given is None else f"{len(self._given)} requested secrets"
        return f"SecretsManager(from {names})"

    def __getattr__(self, group: str) -> _GroupSecrets:
        """`secrets.my_group.my_key`: Flyte's attribute spelling of `get("my_group", "my_key")`."""
        if group.startswith("_"):
            raise AttributeError(group)
        return _GroupSecrets(self, group)

    def get(self, group: str | None = None, key: str | None = None, group_version: str | None = None,
            encode_mode: str = "r", *, env_var: str | None = None) -> Any:
        if self._given is not None:
            found = self._given.get(_joined(group, key)) if (group or key) else None
            if found is None and env_var:
                found = os.environ.get(env_var)
            if found is not None:
                return found
            raise SecretNotFoundError(
                f"task `{self._task}` did not request secret group={group!r} key={key!r}; add "
                f"plait.Secret(group={group!r}, key={key!r}) to its secret_requests"
            )
        names = []
        if env_var:
            names.append(env_var)
        joined = _joined(group, key)
        if joined:
            names.append(self.get_secrets_env_var(group, key, group_version))
            names += [f"_FSEC_{joined}", f"PLAIT_SECRET_{joined}", joined]
        names = list(dict.fromkeys(names))
        for n in names:
            value = os.environ.get(n)
            if value is not None:
                return value
        path = self.get_secrets_file(group, key, group_version) if joined else ""
        if path and os.path.isfile(path):
            with open(path, encode_mode) as handle:
                return handle.read().strip()
        raise SecretNotFoundError(
            f"secret group={group!r} key={key!r} is not set; locally, export one of "
            f"{names} or write the file {path} (declare it in the task's secret_requests for "
            "remote runs)"
        )

    def get_secrets_env_var(self, group: str | None = None, key: str | None = None,
                            group_version: str | None = None) -> str:
        """The variable a secret requested with an environment mount is in, as Flyte names it:
        `_FSEC_<GROUP>[_<GROUP_VERSION>]_<KEY>`, upper case."""
        prefix = self._env_prefix if self._env_prefix is not None else os.environ.get(
            "FLYTE_SECRETS_ENV_PREFIX", "_FSEC_")
        return prefix.strip() + "_".join(p.upper() for p in (group, group_version, key) if p)

    def get_secrets_file(self, group: str | None = None, key: str | None = None,
                         group_version: str | None = None) -> str:
        """The file a secret requested with a file mount is in: `<dir>/<group>[/<version>]/<key>`
        in lower case, where `<dir>` is the attempt's own folder on the backend, else
        `$FLYTE_SECRETS_DEFAULT_DIR` or `/etc/secrets` (Flyte's layout)."""
        root = self._files_dir or os.environ.get("FLYTE_SECRETS_DEFAULT_DIR") or os.path.join(os.sep, "etc", "secrets")
        parts = [p.lower() for p in (group, group_version, key) if p]
        prefix = self._file_prefix if self._file_prefix is not None else os.environ.get(
            "FLYTE_SECRETS_FILE_PREFIX", "")
        if parts:
            parts[-1] = prefix.strip() + parts[-1]
        return os.path.join(root.strip(), *parts)


class _GroupSecrets:
    """The keys of one group, read as attributes."""

    def __init__(self, manager: SecretsManager, group: str) -> None:
        self._manager = manager
        self._group = group

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        return self._manager.get(self._group, key)


Secrets = SecretsManager  # the name plait used first


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
        self._secrets: SecretsManager | None = None
        self._checkpoint: Any = None  # made on first use (see `checkpoint`)

    @property
    def secrets(self) -> SecretsManager:
        return self._secrets if self._secrets is not None else SecretsManager()

    @property
    def checkpoint(self) -> Any:
        """This attempt's checkpoint (`plait.sdk.checkpoint`): `read()` what the attempt before
        saved, `write(bytes)` this one's. Locally it is kept beside the node's data; the
        backend's worker provides one in the object store."""
        if self._checkpoint is None:
            from .checkpoint import local_checkpoint

            self._checkpoint = local_checkpoint(self.execution_id.name, self.node_id, self.attempt_number)
        return self._checkpoint

    def provide_checkpoint(self, checkpoint: Any) -> None:
        """Use `checkpoint` for this attempt (the worker's, in the object store)."""
        self._checkpoint = checkpoint

    def provide_secrets(self, given: Mapping[str, str], files_dir: str | None = None) -> None:
        """Have `secrets` answer with these secrets only (by `GROUP_KEY`), their files in
        `files_dir`: what the backend's worker gives an attempt, as its task requested."""
        self._secrets = SecretsManager(given=given, files_dir=files_dir, task=self._task_name)

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
        if self._checkpoint is not None:
            self._checkpoint.cleanup()
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
