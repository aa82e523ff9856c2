"""`workspace.yaml`: what a browser workspace (code-server) is made of.

The spec is plain data checked here, once, before anything is created: the CLI,
`plait.Remote`, the lab's form and the backend all parse a workspace's fields
with `parse_spec`, so a bad file gets the same error everywhere, naming the
field, what it should be, what was found and how to fix it. The fields follow
the reference's `workspace.yaml` (name, description, project, domain,
container_image, resources, accelerator, on_startup, ttl_seconds, secrets),
plus `working_dir`, the folder that is saved and restored across restarts.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from ..errors import InputError, UserError
from .accelerators import accelerator_from
from .image_spec import ImageSpec
from .resources import Resources, parse_cpu, parse_memory

__all__ = [
    "SecretMount",
    "WorkspaceSpec",
    "WorkspaceSpecError",
    "load_spec",
    "parse_spec",
    "template",
]

NAME_RULE = "1 to 63 lower-case letters, digits, '-' or '_', starting with a letter or a digit"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}\Z")
# A project or domain is part of the workspace's URL path: no '/', no '.' or '..' alone.
_SCOPE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}\Z")
# The backend's secret names: a key or group/key, each of these characters.
_SECRET_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*\Z")
_ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
_RESOURCE_KEYS = ("cpu", "mem", "gpu")
DEFAULT_RESOURCES: dict[str, str | None] = {"cpu": "2", "mem": "4Gi", "gpu": None}
DEFAULT_TTL = 1200


class WorkspaceSpecError(InputError):
    """A workspace's fields are not a valid spec; `field` names the one at fault
    (dotted for nested ones: `resources.mem`, `secrets[0].key`; empty for the file)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def _found(value: Any) -> str:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return repr(value)
    text = repr(value)
    kind = type(value).__name__
    return f"a {kind} {text}" if len(text) <= 60 else f"a {kind}"


def _error(source: str, name: str, expected: str, value: Any, fix: str) -> WorkspaceSpecError:
    where = f"{source}: {name}" if name else source
    return WorkspaceSpecError(
        f"{where}: expected {expected}, found {_found(value)}; {fix}", field=name
    )


def _unknown_key(
    source: str, prefix: str, key: Any, allowed: tuple[str, ...]
) -> WorkspaceSpecError:
    close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
    fix = f"did you mean {close[0]!r}?" if close else f"remove {str(key)!r}"
    name = f"{prefix}{key}"
    return WorkspaceSpecError(
        f"{source}: unknown field {name!r}: expected one of {', '.join(allowed)}; {fix}",
        field=name,
    )


@dataclass(frozen=True)
class SecretMount:
    """A secret from the backend's store, given to the workspace as an environment variable.

    `env_var` defaults to the key upper-cased (characters a variable name cannot hold
    become `_`): `key: db/password` is `DB_PASSWORD`.
    """

    key: str
    env_var: str | None = None

    def __post_init__(self) -> None:
        if self.env_var is None and isinstance(self.key, str):
            var = re.sub(r"[^A-Za-z0-9_]", "_", self.key).upper()
            object.__setattr__(self, "env_var", var if _ENV_VAR.match(var) else "_" + var)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "env_var": self.env_var}


@dataclass(frozen=True)
class WorkspaceSpec:
    """A workspace as `workspace.yaml` describes it, checked (build one with `parse_spec`).

    `container_image` is None (the server's own Python environment), an image name,
    or a dict of `ImageSpec` fields that the backend builds as it builds task images.
    """

    name: str
    description: str = ""
    project: str = "default"
    domain: str = "development"
    container_image: str | dict[str, Any] | None = None
    resources: dict[str, str | None] = field(default_factory=lambda: dict(DEFAULT_RESOURCES))
    accelerator: str | None = None
    on_startup: tuple[str, ...] = ()
    ttl_seconds: int = DEFAULT_TTL
    secrets: tuple[SecretMount, ...] = ()
    working_dir: str = "workspace"

    def image_spec(self) -> ImageSpec | None:
        """The `ImageSpec` that `container_image` describes, or None when it is not a dict."""
        if isinstance(self.container_image, dict):
            return ImageSpec(**self.container_image)
        return None

    def to_dict(self) -> dict[str, Any]:
        """The fields as JSON-able data; `parse_spec(spec.to_dict()) == spec`."""
        image = self.container_image
        return {
            "name": self.name,
            "description": self.description,
            "project": self.project,
            "domain": self.domain,
            "container_image": dict(image) if isinstance(image, dict) else image,
            "resources": dict(self.resources),
            "accelerator": self.accelerator,
            "on_startup": list(self.on_startup),
            "ttl_seconds": self.ttl_seconds,
            "secrets": [s.to_dict() for s in self.secrets],
            "working_dir": self.working_dir,
        }


FIELDS: tuple[str, ...] = tuple(f.name for f in fields(WorkspaceSpec))
_IMAGE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ImageSpec))


# ------------------------------------------------------------------ the fields


def _text(source: str, name: str, value: Any, default: str) -> str:
    if value is None:
        return default
    if not isinstance(value, str):
        raise _error(source, name, "a str", value, f"quote it: {name}: {json.dumps(str(value))}")
    return value


def _check_name(source: str, value: Any) -> str:
    if value is None:
        raise _error(source, "name", NAME_RULE, value, "add a line such as `name: my-workspace`")
    if not isinstance(value, str) or not _NAME.match(value):
        slug = re.sub(r"[^a-z0-9_-]+", "-", str(value).lower()).strip("-_")[:63] or "my-workspace"
        raise _error(source, "name", NAME_RULE, value, f"write `name: {slug}`")
    return value


def _check_scope(source: str, name: str, value: Any, default: str) -> str:
    text = _text(source, name, value, default)
    if not _SCOPE.match(text):
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.")[:63] or default
        raise _error(
            source,
            name,
            f"a {name} name of letters, digits, '_', '-' or '.' (at most 63, not starting with '.')",
            value,
            f"write `{name}: {slug}`",
        )
    return text


def _check_image(source: str, value: Any) -> str | dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip() or value != value.strip():
            raise _error(
                source,
                "container_image",
                "an image name such as 'ghcr.io/org/image:tag'",
                value,
                "write the image name without spaces, or null for the server's environment",
            )
        return value
    if not isinstance(value, Mapping):
        raise _error(
            source,
            "container_image",
            "null, an image name or a mapping of ImageSpec fields",
            value,
            "write `container_image: null` or ImageSpec fields such as `name:` and `packages:`",
        )
    for key in value:
        if key not in _IMAGE_FIELDS:
            raise _unknown_key(source, "container_image.", key, _IMAGE_FIELDS)
    fields_ = dict(value)
    try:
        ImageSpec(**fields_)
    except (UserError, TypeError) as e:
        bad = re.match(r"ImageSpec\((\w+)=", str(e))
        name = f"container_image.{bad[1]}" if bad else "container_image"
        raise WorkspaceSpecError(f"{source}: container_image: {e}", field=name) from None
    try:
        json.dumps(fields_)
    except (TypeError, ValueError):
        raise _error(
            source,
            "container_image",
            "ImageSpec fields with plain values (str, numbers, lists, mappings)",
            value,
            "quote dates and other values YAML reads as objects",
        ) from None
    return fields_


def _quantity_text(value: Any) -> Any:
    if isinstance(value, bool):
        return value  # refused by Resources with the type it found
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value).removesuffix(".0") if value.is_integer() else repr(value)
    return value


def _check_resources(source: str, value: Any) -> dict[str, str | None]:
    if value is None:
        return dict(DEFAULT_RESOURCES)
    if not isinstance(value, Mapping):
        raise _error(
            source,
            "resources",
            "a mapping with cpu, mem and gpu",
            value,
            'write `resources: {cpu: "2", mem: "4Gi", gpu: null}`',
        )
    out = dict(DEFAULT_RESOURCES)
    for key, raw in value.items():
        if key not in _RESOURCE_KEYS:
            raise _unknown_key(source, "resources.", key, _RESOURCE_KEYS)
        quantity = _quantity_text(raw)
        name = f"resources.{key}"
        try:
            Resources(**{key: quantity})
        except UserError as e:  # InputError or TypeMismatchError
            raise WorkspaceSpecError(f"{source}: {name}: {e}", field=name) from None
        if quantity is not None:
            amount = parse_memory(quantity) if key == "mem" else parse_cpu(quantity, name=key)
            if key == "gpu" and amount != int(amount):
                raise _error(
                    source, name, "a whole number of GPUs", raw, "write 1, 2, ... or null"
                )
            if key != "gpu" and amount <= 0:
                fix = "write at least '100m'" if key == "cpu" else "write at least '256Mi'"
                raise _error(source, name, f"a {key} amount above 0", raw, fix)
        out[key] = quantity
    return out


def _check_accelerator(source: str, value: Any, resources: Mapping[str, Any]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _error(
            source,
            "accelerator",
            "a GPU device name such as 'nvidia-l4' or null",
            value,
            "write `accelerator: nvidia-l4` or `accelerator: null`",
        )
    try:
        accelerator_from(value)
    except UserError as e:
        raise WorkspaceSpecError(f"{source}: accelerator: {e}", field="accelerator") from None
    gpu = resources.get("gpu")
    if gpu is None or parse_cpu(gpu, name="gpu") < 1:
        raise _error(
            source,
            "resources.gpu",
            f"at least 1 GPU for `accelerator: {value}`",
            gpu,
            'set `resources.gpu: "1"` or remove the accelerator',
        )
    return value


def _check_startup(source: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if isinstance(items, list) and all(isinstance(v, str) for v in items):
        return tuple(v for v in items if v.strip())
    raise _error(
        source,
        "on_startup",
        "null, a shell command or a list of shell commands",
        value,
        "write `on_startup: pip install -r requirements.txt` or a list of quoted commands",
    )


def _check_ttl(source: str, value: Any) -> int:
    if value is None:
        return DEFAULT_TTL
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _error(
            source,
            "ttl_seconds",
            "a whole number of seconds above 0",
            value,
            f"write `ttl_seconds: {DEFAULT_TTL}` (idle seconds before the workspace stops)",
        )
    return value


def _check_secrets(source: str, value: Any) -> tuple[SecretMount, ...]:
    if value is None:
        return ()
    example = "write a list such as `secrets: [{key: my_secret, env_var: MY_SECRET}]`"
    if not isinstance(value, list):
        raise _error(source, "secrets", "a list of {key, env_var} mappings", value, example)
    mounts: list[SecretMount] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(value):
        at = f"secrets[{i}]"
        if isinstance(item, str):
            raise _error(source, at, "a mapping {key, env_var}", item, f"write `- key: {item}`")
        if not isinstance(item, Mapping):
            raise _error(source, at, "a mapping {key, env_var}", item, example)
        for unknown in item:
            if unknown not in ("key", "env_var"):
                raise _unknown_key(source, f"{at}.", unknown, ("key", "env_var"))
        key = item.get("key")
        parts = key.split("/") if isinstance(key, str) else []
        if not isinstance(key, str) or not (
            1 <= len(parts) <= 2 and all(_SECRET_SEGMENT.match(p) for p in parts)
        ):
            raise _error(
                source,
                f"{at}.key",
                "the name of a secret in the server's store (a key or group/key of letters, "
                "digits, '_', '-', '.')",
                key,
                "write the key given to `plait create secret`; `plait get secrets` lists them",
            )
        env_var = item.get("env_var")
        if env_var is not None and (not isinstance(env_var, str) or not _ENV_VAR.match(env_var)):
            fix = re.sub(r"\W", "_", str(env_var)).upper()
            raise _error(
                source,
                f"{at}.env_var",
                "an environment variable name such as 'MY_SECRET' or null",
                env_var,
                f"write `env_var: {fix}`",
            )
        mount = SecretMount(key, env_var)
        assert mount.env_var is not None  # set from the key when not given
        if mount.env_var in seen:
            raise _error(
                source,
                f"{at}.env_var",
                "a variable no other secret of this workspace uses",
                mount.env_var,
                f"secret {seen[mount.env_var]!r} already sets it; give one of them another env_var",
            )
        seen[mount.env_var] = key
        mounts.append(mount)
    return tuple(mounts)


def _check_working_dir(source: str, value: Any) -> str:
    if value is None:
        return "workspace"
    expected = "a folder relative to the workspace's home, such as 'workspace' or 'src/app'"
    if not isinstance(value, str):
        raise _error(source, "working_dir", expected, value, "write `working_dir: workspace`")
    pure = PurePosixPath(value)
    bad = (
        not value.strip()
        or "\\" in value
        or "\x00" in value
        or pure.is_absolute()
        or os.path.isabs(value)
        or ".." in pure.parts
        or not pure.parts
    )
    if bad:
        tail = [p for p in pure.parts if p not in ("/", "..")]
        fix = "/".join(tail) if tail else "workspace"
        raise _error(
            source,
            "working_dir",
            expected + ", inside it (not absolute, no '..')",
            value,
            f"write `working_dir: {fix}`",
        )
    return pure.as_posix()


# ------------------------------------------------------------------ entry points


def parse_spec(data: Mapping[str, Any], *, source: str = "workspace.yaml") -> WorkspaceSpec:
    """Check a workspace's fields (a parsed `workspace.yaml`, or `to_dict()` output).

    Raises `WorkspaceSpecError` for the first problem, naming the field; `source` says
    where the fields come from in that message.
    """
    if not isinstance(data, Mapping):
        raise _error(
            source,
            "",
            "a mapping of workspace fields (name, resources, ...)",
            data,
            "start from `plait create workspace-config --init base_image workspace.yaml`",
        )
    for key in data:
        if key not in FIELDS:
            raise _unknown_key(source, "", key, FIELDS)
    resources = _check_resources(source, data.get("resources"))
    return WorkspaceSpec(
        name=_check_name(source, data.get("name")),
        description=_text(source, "description", data.get("description"), ""),
        project=_check_scope(source, "project", data.get("project"), "default"),
        domain=_check_scope(source, "domain", data.get("domain"), "development"),
        container_image=_check_image(source, data.get("container_image")),
        resources=resources,
        accelerator=_check_accelerator(source, data.get("accelerator"), resources),
        on_startup=_check_startup(source, data.get("on_startup")),
        ttl_seconds=_check_ttl(source, data.get("ttl_seconds")),
        secrets=_check_secrets(source, data.get("secrets")),
        working_dir=_check_working_dir(source, data.get("working_dir")),
    )


def load_spec(path: str | os.PathLike[str]) -> WorkspaceSpec:
    """Read and check a `workspace.yaml` file."""
    import yaml  # only readers of files need it

    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise WorkspaceSpecError(
            f"{source}: cannot read the workspace file ({e.strerror or e}); check the path, or "
            f"write one with `plait create workspace-config --init base_image {source}`"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e)
        raise WorkspaceSpecError(
            f"{source}: not valid YAML{at}: {problem}; fix the indentation or quote the value"
        ) from None
    return parse_spec(data, source=source)


_TEMPLATE = """\
# A plait workspace: VS Code in the browser, run by the plait server.
# Create and start it with `plait create workspace {file}`.
name: {name}
description: my workspace description
# The project and domain the workspace belongs to (they must exist on the server).
project: {project}
domain: {domain}
{image}
# What the workspace may use. Quantities as for tasks: cpu "500m" or "2", mem "512Mi" or "4Gi".
resources:
  cpu: "2"
  mem: "4Gi"
  gpu: null
# A GPU type such as nvidia-l4 (needs resources.gpu).
accelerator: null
# Shell commands run before the workspace reports ACTIVE: one string or a list.
on_startup: null
# Seconds without any traffic before the workspace stops (it saves its files first).
ttl_seconds: {ttl}
# Secrets from the server's store (`plait create secret`), as environment variables:
#   - key: my_secret
#     env_var: MY_SECRET   # optional; the key upper-cased when left out
secrets: []
# The folder (relative to the workspace's home) that is saved on stop and restored on start.
working_dir: workspace
"""

_BASE_IMAGE = """\
# null: the server's own Python environment (with plait); or an image name.
container_image: null"""

_CUSTOM_IMAGE = """\
# ImageSpec fields: the server builds this environment as it builds task images.
container_image:
  name: {name}-image
  packages:
    - pandas
    - scikit-learn"""


def template(
    kind: Literal["base_image", "custom_image"],
    *,
    name: str = "my-workspace",
    project: str = "default",
    domain: str = "development",
) -> str:
    """A commented `workspace.yaml` with the default values, which `load_spec` accepts."""
    if kind == "base_image":
        image = _BASE_IMAGE
    elif kind == "custom_image":
        image = _CUSTOM_IMAGE.format(name=name)
    else:
        raise WorkspaceSpecError(
            f"template({kind!r}): expected 'base_image' or 'custom_image', found {kind!r}; "
            "pick one of them",
            field="kind",
        )
    _check_name("template", name)
    return _TEMPLATE.format(
        file="workspace.yaml", name=name, project=project, domain=domain, image=image,
        ttl=DEFAULT_TTL,
    )
