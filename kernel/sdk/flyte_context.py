"""`FlyteContextManager.current_context()`: the Flyte context programs reach for.

Flyte programs use the context for three things, and plait answers each from
what it already has rather than keeping a second state:

- `ctx.file_access`: scratch paths and copies (`get_random_local_path`,
  `put_data`, `get_data`). Inside a task, local paths lie in the attempt's
  working directory, so a file made there and returned as a `FlyteFile` is
  kept like any other; "remote" paths lie in the node's data folder (on the
  backend, the attempt's folder in the object store).
- `ctx.user_space_params`: what `plait.current_context()` returns.
- `ctx.compilation_state`: the nodes of the workflow being defined (None
  outside a workflow body), which decorators read to order the nodes they add.

Every property is read when asked, so a context taken at the top of a
decorator still sees the nodes added after it.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..errors import UserError
from . import context as _ctx
from .compiler import current_builder


def _protocol(path: str) -> str:
    """`s3` for `s3://bucket/key`; `file` for plain paths and `file://` URLs."""
    head, sep, _ = str(path).partition("://")
    return head if sep and head not in ("file", "local") else "file"


def _local(path: str) -> str:
    text = os.fspath(path)
    return text[len("file://"):] if text.startswith("file://") else text


def _copy(src: str, dst: str, is_multipart: bool) -> None:
    """Copy a file or, with `is_multipart`, a folder's contents (into `dst`), between
    local paths or through fsspec when either side is a remote URL."""
    if _protocol(src) != "file" or _protocol(dst) != "file":
        import fsspec

        if _protocol(dst) == "file":
            fs = fsspec.core.url_to_fs(src)[0]
            os.makedirs(_local(dst) if is_multipart else os.path.dirname(_local(dst)) or ".", exist_ok=True)
            fs.get(src, _local(dst), recursive=is_multipart)
        else:
            fs = fsspec.core.url_to_fs(dst)[0]
            fs.put(_local(src), dst, recursive=is_multipart)
        return
    src, dst = _local(src), _local(dst)
    if not os.path.exists(src):
        raise UserError(f"file_access: {src!r} does not exist; nothing to copy to {dst!r}")
    if os.path.isdir(src):
        if not is_multipart:
            raise UserError(f"file_access: {src!r} is a folder; pass is_multipart=True to copy a folder")
        shutil.copytree(src, dst, dirs_exist_ok=True)
        return
    if os.path.isdir(dst) or dst.endswith(os.sep):
        dst = os.path.join(dst, os.path.basename(src))
    os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
    shutil.copyfile(src, dst)


class FileAccessProvider:
    """`ctx.file_access`: scratch paths and copies, as Flyte's provider offers them.

    Without fixed folders it follows the running task: local paths under the
    attempt's working directory (removed when the attempt ends, unless a file is
    returned), remote paths under the node's data folder; outside a task, under
    one temporary folder for the process.
    """

    def __init__(self, local_sandbox_dir: str | os.PathLike[str] | None = None,
                 raw_output_prefix: str | None = None) -> None:
        self._sandbox = os.fspath(local_sandbox_dir) if local_sandbox_dir is not None else None
        self._raw = raw_output_prefix

    @property
    def local_sandbox_dir(self) -> str:
        folder = self._sandbox or os.path.join(_ctx.current_context().working_directory, "local")
        os.makedirs(folder, exist_ok=True)
        return folder

    @property
    def raw_output_prefix(self) -> str:
        if self._raw is not None:
            return self._raw
        params = _ctx.current_context()
        if params.raw_output_prefix:
            return params.raw_output_prefix
        if not params.node_id:  # outside a task: beside the scratch files
            return os.path.join(params.working_directory, "raw")
        from ..model.home import local_data_dir

        return str(local_data_dir(params.execution_id.name, params.node_id) / "raw")

    @staticmethod
    def get_random_string() -> str:
        return uuid.uuid4().hex

    @staticmethod
    def is_remote(path: str | os.PathLike[str]) -> bool:
        return _protocol(os.fspath(path)) != "file"

    def get_random_local_path(self, file_path_or_file_name: str | os.PathLike[str] | None = None) -> str:
        """A path that does not exist yet, in a fresh folder of the sandbox; its file name
        is the base name of `file_path_or_file_name` when given."""
        folder = os.path.join(self.local_sandbox_dir, self.get_random_string())
        os.makedirs(folder, exist_ok=True)
        name = os.path.basename(os.fspath(file_path_or_file_name).rstrip("/")) if file_path_or_file_name else ""
        return os.path.join(folder, name or self.get_random_string())

    def get_random_local_directory(self) -> str:
        """A new, empty folder in the sandbox."""
        path = os.path.join(self.local_sandbox_dir, self.get_random_string())
        os.makedirs(path, exist_ok=True)
        return path

    def get_random_remote_path(self, file_path_or_file_name: str | os.PathLike[str] | None = None) -> str:
        name = os.path.basename(os.fspath(file_path_or_file_name).rstrip("/")) if file_path_or_file_name else ""
        return self._join(self.raw_output_prefix, self.get_random_string(), name or self.get_random_string())

    def get_random_remote_directory(self) -> str:
        path = self._join(self.raw_output_prefix, self.get_random_string())
        if not self.is_remote(path):
            os.makedirs(path, exist_ok=True)
        return path

    @staticmethod
    def _join(root: str, *parts: str) -> str:
        return "/".join([root.rstrip("/"), *parts]) if FileAccessProvider.is_remote(root) else os.path.join(root, *parts)

    def exists(self, path: str | os.PathLike[str]) -> bool:
        text = os.fspath(path)
        if self.is_remote(text):
            import fsspec

            fs, root = fsspec.core.url_to_fs(text)
            return bool(fs.exists(root))
        return os.path.exists(_local(text))

    def put_data(self, local_path: str | os.PathLike[str], remote_path: str | os.PathLike[str],
                 is_multipart: bool = False, **_: Any) -> str:
        """Copy `local_path` (a folder with `is_multipart`) to `remote_path`; returns `remote_path`."""
        _copy(os.fspath(local_path), os.fspath(remote_path), is_multipart)
        return os.fspath(remote_path)

    def get_data(self, remote_path: str | os.PathLike[str], local_path: str | os.PathLike[str],
                 is_multipart: bool = False, **_: Any) -> str:
        """Copy `remote_path` (a folder with `is_multipart`) to `local_path`; returns `local_path`."""
        _copy(os.fspath(remote_path), os.fspath(local_path), is_multipart)
        return os.fspath(local_path)

    def put_raw_data(self, lpath: Any, upload_prefix: str | None = None, file_name: str | None = None,
                     **_: Any) -> str:
        """Store bytes, text or a local file under the raw output prefix; returns where."""
        folder = upload_prefix or self._join(self.raw_output_prefix, self.get_random_string())
        if isinstance(lpath, (bytes, str)) and not (isinstance(lpath, str) and os.path.exists(lpath)):
            staged = self.get_random_local_path(file_name)
            with open(staged, "wb") as handle:
                handle.write(lpath if isinstance(lpath, bytes) else lpath.encode())
            lpath = staged
        source = os.fspath(lpath)
        target = self._join(folder, file_name or os.path.basename(source.rstrip("/")))
        return self.put_data(source, target, is_multipart=os.path.isdir(source))

    def upload(self, file_path: str, to_path: str) -> str:
        return self.put_data(file_path, to_path)

    def download(self, remote_path: str, local_path: str) -> str:
        return self.get_data(remote_path, local_path)

    def upload_directory(self, local_path: str, remote_path: str) -> str:
        return self.put_data(local_path, remote_path, is_multipart=True)

    def download_directory(self, remote_path: str, local_path: str) -> str:
        return self.get_data(remote_path, local_path, is_multipart=True)


@dataclass(frozen=True)
class CompilationState:
    """The workflow being defined: `nodes` in the order they were added (the live list,
    so nodes added later show up), `prefix` as in Flyte (plait node ids need none)."""

    builder: Any
    prefix: str = ""

    @property
    def nodes(self) -> list[Any]:
        return self.builder.nodes  # type: ignore[no-any-return]

    def add_node(self, node: Any) -> None:
        self.builder.nodes.append(node)


class ExecutionState:
    """`ctx.execution_state`: whether a task is running, and its parameters."""

    class Mode:
        TASK_EXECUTION = 1
        LOCAL_WORKFLOW_EXECUTION = 2
        LOCAL_TASK_EXECUTION = 3

    @property
    def user_space_params(self) -> _ctx.ExecutionParameters:
        return _ctx.current_context()

    @property
    def working_dir(self) -> str:
        return _ctx.current_context().working_directory

    @property
    def mode(self) -> int | None:
        return self.Mode.TASK_EXECUTION if _in_task() else None

    def is_local_execution(self) -> bool:
        return True


def _in_task() -> bool:
    return bool(getattr(_ctx._state, "stack", None))


class FlyteContext:
    """What `FlyteContextManager.current_context()` returns (see the module's docstring)."""

    def __init__(self, file_access: FileAccessProvider | None = None) -> None:
        self.file_access = file_access if file_access is not None else FileAccessProvider()
        self.execution_state = ExecutionState()
        self.serialization_settings = None

    @property
    def user_space_params(self) -> _ctx.ExecutionParameters:
        """The running task's parameters: what `plait.current_context()` returns."""
        return _ctx.current_context()

    @property
    def compilation_state(self) -> CompilationState | None:
        """The workflow (or dynamic body) being defined on this thread, else None."""
        builder = current_builder()
        return CompilationState(builder) if builder is not None else None

    @property
    def checkpoint(self) -> Any:
        return _ctx.current_context().checkpoint

    def with_file_access(self, file_access: FileAccessProvider) -> _Builder:
        """A copy of this context with other file access: `.build()` it, or hand it to
        `FlyteContextManager.with_context`."""
        return _Builder(file_access)

    def new_builder(self) -> _Builder:
        return _Builder(self.file_access)

    @staticmethod
    def current_context() -> FlyteContext:
        return FlyteContextManager.current_context()


@dataclass
class _Builder:
    file_access: FileAccessProvider

    def build(self) -> FlyteContext:
        return FlyteContext(self.file_access)


_DEFAULT = FlyteContext()
_stack = threading.local()


class FlyteContextManager:
    """Flyte's entry point to the context: `FlyteContextManager.current_context()`."""

    @staticmethod
    def current_context() -> FlyteContext:
        stack = getattr(_stack, "items", None)
        return stack[-1] if stack else _DEFAULT

    @staticmethod
    def push_context(ctx: FlyteContext | _Builder, *_: Any, **__: Any) -> FlyteContext:
        built = ctx.build() if isinstance(ctx, _Builder) else ctx
        if not hasattr(_stack, "items"):
            _stack.items = []
        _stack.items.append(built)
        return built

    @staticmethod
    def pop_context() -> FlyteContext:
        stack = getattr(_stack, "items", None)
        if not stack:
            raise UserError("FlyteContextManager.pop_context(): no context was pushed on this thread")
        return stack.pop()  # type: ignore[no-any-return]

    @staticmethod
    @contextmanager
    def with_context(ctx: FlyteContext | _Builder) -> Iterator[FlyteContext]:
        """`with FlyteContextManager.with_context(ctx.with_file_access(fa)) as ctx2:` uses
        the given context inside the block."""
        built = FlyteContextManager.push_context(ctx)
        try:
            yield built
        finally:
            FlyteContextManager.pop_context()
