"""`FlyteFile` and `FlyteDirectory`: files that travel between tasks.

A task may return a path in its working directory; before that directory is
removed the file is moved into the execution's data folder (locally under
`$PLAIT_HOME/data`), so downstream tasks and the caller can still read it.
Paths and `str` values are accepted wherever a file is expected. The content
hash of a file stands for it in cache keys.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from ..errors import UserError
from ..typesys import ValueTypeError, value_type_name


class _PathValue(os.PathLike):  # type: ignore[type-arg]
    __plait_file_kind__: ClassVar[str] = "file"
    __plait_format__: ClassVar[str] = ""
    _variants: ClassVar[dict[str, type]] = {}

    def __init__(self, path: str | os.PathLike[str], remote_path: str | None = None) -> None:
        self.path = os.fspath(path)
        self.remote_path = remote_path

    # typed variants: FlyteFile["csv"]
    def __class_getitem__(cls, fmt: Any) -> type:
        fmt = fmt if isinstance(fmt, str) else getattr(fmt, "__name__", str(fmt))
        key = f"{cls.__name__}[{fmt}]"
        variant = _PathValue._variants.get(key)
        if variant is None:
            variant = type(cls.__name__, (cls,), {"__plait_format__": fmt, "__module__": cls.__module__})
            _PathValue._variants[key] = variant
        return variant

    def __fspath__(self) -> str:
        return self.path

    def __str__(self) -> str:
        return self.path

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _PathValue):
            return self.path == other.path
        if isinstance(other, (str, os.PathLike)):
            return self.path == os.fspath(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.path)

    def __reduce__(self) -> Any:
        base = type(self).__mro__[1] if self.__plait_format__ else type(self)
        return (_rebuild, (base.__name__, self.__plait_format__, self.path, self.remote_path))

    def download(self) -> str:
        """Local path of the data (already local in local runs)."""
        if not os.path.exists(self.path):
            raise UserError(f"{type(self).__name__} {self.path!r} does not exist")
        return self.path

    # ---- hooks used by the type system and the engine
    @classmethod
    def __plait_check__(cls, value: Any) -> Any:
        if isinstance(value, _PathValue) and value.__plait_file_kind__ == cls.__plait_file_kind__:
            return value if isinstance(value, cls) else cls(value.path, value.remote_path)
        if isinstance(value, (str, os.PathLike)) and not isinstance(value, _PathValue):
            return cls(value)
        raise ValueTypeError(cls.__name__, value_type_name(value))

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        """As a field of a pydantic model: a path, a file object or `{"path": ...}` (its JSON
        form) is taken; the files travel with the model (see `plait.sdk.model_files`)."""
        from pydantic_core import core_schema

        def validate(value: Any) -> Any:
            if isinstance(value, dict) and isinstance(value.get("path"), str):
                return cls(value["path"], value.get("remote_path"))
            try:
                return cls.__plait_check__(value)
            except ValueTypeError:
                raise ValueError(f"expected a {cls.__name__}, a path or {{'path': ...}}, "
                                 f"got {type(value).__name__}") from None

        return core_schema.no_info_plain_validator_function(
            validate, serialization=core_schema.plain_serializer_function_ser_schema(
                lambda v: {"path": v.path}, when_used="json"))

    def __plait_literal__(self) -> dict[str, Any]:
        return {"path": self.path, "format": self.__plait_format__}

    def __plait_persist__(self, ctx: Any, data_dir: Callable[[], str]) -> Any:
        """Move out of the task's working directory before it is removed."""
        if ctx is None or not ctx.owns(self.path):
            return self
        dest = os.path.join(data_dir(), os.path.basename(self.path.rstrip(os.sep)) or "data")
        if os.path.lexists(dest):
            if os.path.isdir(dest):
                shutil.rmtree(dest)
            else:
                os.remove(dest)
        shutil.move(self.path, dest)
        return type(self)(dest, self.remote_path)


def _rebuild(kind: str, fmt: str, path: str, remote: str | None) -> Any:
    cls: Any = FlyteFile if kind == "FlyteFile" else FlyteDirectory
    if fmt:
        cls = cls[fmt]
    return cls(path, remote)


class FlyteFile(_PathValue):
    """A file passed between tasks; `open()` it or use it as a path."""

    __plait_file_kind__ = "file"

    def open(self, mode: str = "r", **kwargs: Any) -> Any:
        if "w" in mode or "a" in mode:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        return open(self.path, mode, **kwargs)  # noqa: SIM115 - the caller closes it

    def __plait_hash__(self) -> str:
        digest = hashlib.sha256()
        try:
            with open(self.path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
        except FileNotFoundError:
            return "missing:" + self.path
        return "file:" + digest.hexdigest()

    @classmethod
    def new_remote_file(cls, name: str | None = None) -> FlyteFile:
        from .context import current_context

        return cls(os.path.join(current_context().working_directory, name or "file"))


class FlyteDirectory(_PathValue):
    """A directory passed between tasks."""

    __plait_file_kind__ = "directory"

    def listdir(self) -> list[str]:
        return sorted(os.path.join(self.path, n) for n in os.listdir(self.path))

    def __plait_hash__(self) -> str:
        digest = hashlib.sha256()
        root = Path(self.path)
        if not root.exists():
            return "missing:" + self.path
        for p in sorted(root.rglob("*")):
            digest.update(str(p.relative_to(root)).encode())
            if p.is_file():
                digest.update(p.read_bytes())
        return "dir:" + digest.hexdigest()

    @classmethod
    def new_remote(cls, name: str | None = None) -> FlyteDirectory:
        from .context import current_context

        path = os.path.join(current_context().working_directory, name or "dir")
        os.makedirs(path, exist_ok=True)
        return cls(path)
