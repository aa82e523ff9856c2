"""`ImageSpec`: a container image described by its contents, named by their hash.

plait describes images here: the fields travel in task specs and a builder
(`plait.environments`: a uv environment, or an OCI image) turns them into an
image called `image_name()`. The tag is a hash of the fields and of the files
they pull in (`pulled_files`), so the same description always names the same
image and any change names a new one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import InputError, TypeMismatchError

# Set by whoever starts a container built from an ImageSpec (FLYTE_INTERNAL_IMAGE in Flyte).
IMAGE_ENV_VARS = ("PLAIT_IMAGE_NAME", "FLYTE_INTERNAL_IMAGE")

_LIST_FIELDS = (
    "packages",
    "conda_packages",
    "conda_channels",
    "apt_packages",
    "pip_extra_index_url",
    "entrypoint",
    "commands",
    "copy",
)
_STR_FIELDS = (
    "builder",
    "source_root",
    "requirements",
    "cuda",
    "cudnn",
    "pip_index",
    "pip_extra_args",
    "registry_config",
    "tag_format",
    "python_exec",
)
# Fields that say how or where to build, not what is in the image.
_NOT_CONTENT = ("builder", "registry_config", "is_force_push")
_NAME_PART = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_NAME = re.compile(rf"^{_NAME_PART}(?:/{_NAME_PART})*$")
_REGISTRY = re.compile(r"^[a-z0-9.-]+(?::\d+)?(?:/[a-z0-9._-]+)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_PLATFORM = re.compile(r"^[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?$")


class CopyFileDetection(Enum):
    """Which source files go into the image (with `source_root`)."""

    LOADED_MODULES = "loaded_modules"
    ALL = "all"
    NO_COPY = "no_copy"


def _fail(what: str, expected: str, value: Any, fix: str) -> InputError:
    return InputError(f"ImageSpec({what}={value!r}): expected {expected}, got {value!r}; {fix}")


def _as_strs(name: str, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = (value,) if isinstance(value, str) else value
    if not isinstance(items, Sequence) or not all(isinstance(v, str) for v in items):
        raise TypeMismatchError(
            f"ImageSpec({name}={value!r}): expected a list of str, got {value!r}; "
            f"write {name}=['...']",
            entity="ImageSpec",
            name=name,
            expected="list[str]",
            found=type(value).__name__,
        )
    return tuple(items)


def _python_version(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        if value is not None and not re.fullmatch(r"\d+\.\d+(?:\.\d+)?", value):
            raise _fail("python_version", "a version such as '3.11'", value, "write '3.11'")
        return value
    m = re.fullmatch(r"3\.(\d+)", repr(value)) if isinstance(value, float) else None
    if m and int(m[1]) >= 8:  # YAML reads `3.11` as a float; 3.10 would read as 3.1
        return m[0]
    raise _fail(
        "python_version",
        "a str such as '3.11'",
        value,
        "quote it: a number like 3.10 reads as 3.1, so write python_version='3.10'",
    )


# What is never part of an image's files: tool state and caches.
_SKIP_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", ".venv", "venv", "node_modules",
                        ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".ipynb_checkpoints"})


def files_under(folder: Path, python_only: bool = False) -> list[Path]:
    """The files of `folder` that go into an image, in a stable order (links not followed)."""
    found = []
    for where, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in files:
            if name.endswith((".pyc", ".pyo")) or (python_only and not name.endswith(".py")):
                continue
            found.append(Path(where) / name)
    return sorted(found)


def _digest(path: Path, python_only: bool = False) -> str:
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    if path.is_dir():
        h = hashlib.sha256()
        for p in files_under(path, python_only):
            h.update(p.relative_to(path).as_posix().encode() + b"\0" + p.read_bytes())
        return h.hexdigest()
    return "missing"


@dataclass(frozen=True)
class PulledFile:
    """A file or folder an ImageSpec pulls into its image.

    `name` is the path as the spec gives it (relative to the project, the current
    directory by default) and `path` where it is; `python_only` keeps only `.py` files
    of a folder (`source_root` with `CopyFileDetection.LOADED_MODULES`).
    """

    name: str
    path: Path
    python_only: bool = False


@dataclass(frozen=True)
class ImageSpec:
    """A container image for tasks, described by what goes into it."""

    name: str = "plait"
    python_version: str | None = None
    builder: str | None = None
    source_root: str | None = None
    env: dict[str, str] | None = None
    registry: str | None = None
    packages: Sequence[str] | None = None
    conda_packages: Sequence[str] | None = None
    conda_channels: Sequence[str] | None = None
    requirements: str | None = None
    apt_packages: Sequence[str] | None = None
    cuda: str | None = None
    cudnn: str | None = None
    base_image: str | ImageSpec | None = None
    platform: str = "linux/amd64"
    pip_index: str | None = None
    pip_extra_index_url: Sequence[str] | None = None
    pip_secret_mounts: Sequence[tuple[str, str]] | None = None
    pip_extra_args: str | None = None
    registry_config: str | None = None
    entrypoint: Sequence[str] | None = None
    commands: Sequence[str] | None = None
    tag_format: str | None = None
    source_copy_mode: CopyFileDetection | None = None
    copy: Sequence[str] | None = None
    python_exec: str | None = None
    builder_options: dict[str, Any] | None = None
    is_force_push: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            fix = re.sub(r"[^a-z0-9._/-]+", "-", str(self.name).lower()).strip("-._/") or "my-image"
            raise _fail(
                "name", "a lower-case image name such as 'my-image'", self.name, f"write {fix!r}"
            )
        for name in _STR_FIELDS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise TypeMismatchError(
                    f"ImageSpec({name}={value!r}): expected a str, got {type(value).__name__}; "
                    f"pass str({name})",
                    entity="ImageSpec",
                    name=name,
                    expected="str",
                    found=type(value).__name__,
                )
        for name in _LIST_FIELDS:
            set_(self, name, _as_strs(name, getattr(self, name)))
        set_(self, "python_version", _python_version(self.python_version))
        self._check_registry()
        for part in str(self.platform).split(","):
            if not _PLATFORM.match(part):
                raise _fail(
                    "platform",
                    "'os/arch' such as 'linux/amd64'",
                    self.platform,
                    "write 'linux/amd64' or 'linux/arm64'",
                )
        for path in self.copy or ():
            pure = PurePosixPath(path)
            if pure.is_absolute() or ".." in pure.parts or os.path.isabs(path):
                raise _fail(
                    "copy",
                    "paths relative to the project, inside it",
                    list(self.copy or ()),
                    f"move {path!r} under the current directory and give its relative path",
                )
        if self.env is not None:
            if not isinstance(self.env, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in self.env.items()
            ):
                raise _fail(
                    "env",
                    "a dict of str to str",
                    self.env,
                    "quote the values, e.g. {'DEBUG': 'True'}",
                )
            set_(self, "env", dict(self.env))
        if isinstance(self.base_image, Mapping):
            set_(self, "base_image", ImageSpec.from_spec(self.base_image))
        if self.base_image is not None and not isinstance(self.base_image, (str, ImageSpec)):
            raise _fail(
                "base_image", "an image name or an ImageSpec", self.base_image, "pass a str"
            )
        if self.source_copy_mode is not None and not isinstance(
            self.source_copy_mode, CopyFileDetection
        ):
            try:
                set_(
                    self, "source_copy_mode", CopyFileDetection[str(self.source_copy_mode).upper()]
                )
            except KeyError:
                raise _fail(
                    "source_copy_mode",
                    "CopyFileDetection.LOADED_MODULES, ALL or NO_COPY",
                    self.source_copy_mode,
                    "use a CopyFileDetection member",
                ) from None
        if self.pip_secret_mounts is not None:
            mounts = tuple(tuple(m) for m in self.pip_secret_mounts)
            if not all(len(m) == 2 and all(isinstance(p, str) for p in m) for m in mounts):
                raise _fail(
                    "pip_secret_mounts",
                    "a list of (source, target) path pairs",
                    self.pip_secret_mounts,
                    "write [('.netrc', '/root/.netrc')]",
                )
            set_(self, "pip_secret_mounts", mounts)
        if self.builder_options is not None:
            set_(self, "builder_options", dict(self.builder_options))
        self._check_tag_format()

    def _check_registry(self) -> None:
        reg = self.registry
        if reg is None:
            return
        if not isinstance(reg, str) or "://" in reg or not _REGISTRY.match(reg):
            fix = str(reg).split("://")[-1].rstrip("/").lower()
            raise _fail(
                "registry",
                "a lower-case registry such as 'ghcr.io/my-org' (no scheme)",
                reg,
                f"write {fix!r}",
            )

    def _check_tag_format(self) -> None:
        if self.tag_format is None:
            return
        keys = {f for _, f, _, _ in string.Formatter().parse(self.tag_format) if f is not None}
        tag = self.tag_format.replace("{spec_hash}", "h") if keys <= {"spec_hash"} else ""
        if not _TAG.match(tag):
            raise _fail(
                "tag_format",
                "a Docker tag that may use '{spec_hash}', such as '{spec_hash}-dev'",
                self.tag_format,
                "use only '{spec_hash}', letters, digits, '_', '.' and '-'",
            )

    def __hash__(self) -> int:
        return hash(json.dumps(self._content(), sort_keys=True))

    def pulled_files(self, root: str | os.PathLike[str] | None = None) -> list[PulledFile]:
        """The files this spec pulls in: `requirements`, the `source_root` tree (unless
        `source_copy_mode` is NO_COPY) and each `copy` path (relative to `source_root`).

        Relative paths are read from `root` (default: the current directory).
        """
        base = Path(root) if root is not None else None

        def at(name: Path) -> Path:
            return name if base is None or name.is_absolute() else base / name

        pulled = []
        if self.requirements:
            pulled.append(PulledFile(Path(self.requirements).as_posix(), at(Path(self.requirements))))
        source = Path(self.source_root or ".")
        if self.source_root and self.source_copy_mode is not CopyFileDetection.NO_COPY:
            python_only = self.source_copy_mode is CopyFileDetection.LOADED_MODULES
            pulled.append(PulledFile(source.as_posix(), at(source), python_only))
        pulled += [PulledFile((source / p).as_posix(), at(source / p)) for p in self.copy or ()]
        return pulled

    def _content(self, root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
        spec = self.to_spec()
        for name in _NOT_CONTENT:
            spec.pop(name, None)
        files = {f.name: _digest(f.path, f.python_only) for f in self.pulled_files(root)}
        spec["files"] = files
        return spec

    def spec_hash(self, root: str | os.PathLike[str] | None = None) -> str:
        """A hash of everything that goes into the image (fields and the files they pull in,
        read from `root`, the current directory by default)."""
        raw = hashlib.sha256(json.dumps(self._content(root), sort_keys=True).encode()).digest()
        return base64.b32encode(raw[:16]).decode().rstrip("=").lower()

    def tag(self, root: str | os.PathLike[str] | None = None) -> str:
        h = self.spec_hash(root)
        return self.tag_format.format(spec_hash=h) if self.tag_format else h

    def image_name(self, root: str | os.PathLike[str] | None = None) -> str:
        """`[registry/]name:tag`, the same on every machine for the same description (files
        are read from `root`, the current directory by default)."""
        repo = f"{self.registry}/{self.name}" if self.registry else self.name
        return f"{repo}:{self.tag(root)}"

    def is_container(self) -> bool:
        """Whether this code runs in the image built from this spec.

        An image or environment that plait builds names its spec in
        PLAIT_IMAGE_NAME (`plait.environments`). Outside any built image (a
        notebook, a local run, a worker in the current environment) every spec
        answers True, as in Flyte, so that guarded imports are available
        wherever the task may run locally.
        """
        current = next((os.environ[v] for v in IMAGE_ENV_VARS if os.environ.get(v)), None)
        return current is None or current == self.image_name()

    def with_packages(self, packages: str | Sequence[str]) -> ImageSpec:
        return replace(
            self, packages=(*(self.packages or ()), *(_as_strs("packages", packages) or ()))
        )

    def with_apt_packages(self, apt_packages: str | Sequence[str]) -> ImageSpec:
        extra = _as_strs("apt_packages", apt_packages) or ()
        return replace(self, apt_packages=(*(self.apt_packages or ()), *extra))

    def with_commands(self, commands: str | Sequence[str]) -> ImageSpec:
        return replace(
            self, commands=(*(self.commands or ()), *(_as_strs("commands", commands) or ()))
        )

    def force_push(self) -> ImageSpec:
        """A copy that the builder pushes even if the image already exists."""
        return replace(self, is_force_push=True)

    def to_spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = [list(v) if isinstance(v, tuple) else v for v in value]
            elif isinstance(value, ImageSpec):
                value = value.to_spec()
            elif isinstance(value, CopyFileDetection):
                value = value.name
            elif isinstance(value, dict):
                value = dict(value)
            out[f.name] = value
        return out

    @classmethod
    def from_spec(cls, d: Mapping[str, Any]) -> ImageSpec:
        """Build from `to_spec()` output or from an image YAML file's mapping."""
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise InputError(
                f"ImageSpec.from_spec: unknown fields {sorted(unknown)}; expected some of "
                f"{', '.join(f.name for f in fields(cls))}"
            )
        return cls(**d)
