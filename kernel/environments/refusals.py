"""What the venv builder cannot honour, and where images are named in registered specs.

A virtual environment holds Python packages on this machine's Python; apt and
conda packages, a base image, another Python, a CUDA toolkit or shell
commands need a container builder. `refusals` names each such field with what
was found and the fix; `problems_in` does the same for every image a
registered spec names, at its path in the spec (the backend answers 422 with
it at registration).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..config.image_spec import ImageSpec
from ..errors import InputError, UserError
from .errors import Refusal

BUILDER_ENV = "PLAIT_BUILDER"  # the server's builder: venv (the default), docker or podman
CONTAINER_BUILDERS = ("docker", "podman")
BUILDERS = ("venv", *CONTAINER_BUILDERS)
# Task types whose image is not an environment for Python code: they run their own command in it.
OWN_IMAGE_TASK_TYPES = frozenset({"raw-container"})
# Spec kinds whose settings hold a container_image that runs Python code.
_RUNNABLE_KINDS = frozenset({"task", "dynamic"})

CONTAINER_FIX = ("or configure a container builder (`plait build --builder docker`; "
                 f"{BUILDER_ENV}=docker for the server)")


def configured_builder(env: Mapping[str, str] | None = None) -> str:
    """The builder this process uses for environments: `$PLAIT_BUILDER`, or `venv`."""
    value = (os.environ if env is None else env).get(BUILDER_ENV) or "venv"
    if value not in BUILDERS:
        raise InputError(
            f"{BUILDER_ENV}={value!r}: expected one of {', '.join(BUILDERS)}, got {value!r}; "
            f"unset it for the venv builder, or write {BUILDER_ENV}=docker"
        )
    return value


def _python_refusal(version: str) -> Refusal | None:
    ours = ".".join(map(str, sys.version_info[:3]))
    minor = ".".join(ours.split(".")[:2])
    if version in (minor, ours):
        return None
    return Refusal(
        "python_version",
        f"ImageSpec(python_version={version!r}): the venv builder makes environments of this "
        f"server's Python (they share plait and its Dask runtime with it), so it expected "
        f"{minor!r}, got {version!r}; write python_version={minor!r} or leave it out, "
        f"{CONTAINER_FIX}",
    )


def refusals(spec: ImageSpec | str, builder: str = "venv") -> list[Refusal]:
    """What `builder` cannot make of `spec` (an ImageSpec, or an image name); [] when it can."""
    if builder in CONTAINER_BUILDERS:
        return []
    if isinstance(spec, str):
        return [Refusal(
            "container_image",
            f"container_image={spec!r}: names a container image, which only a container builder "
            "can run; the venv builder expected a plait.ImageSpec, got an image name; describe "
            f"the environment as plait.ImageSpec(packages=[...]), {CONTAINER_FIX}",
        )]
    out = []

    def refuse(field: str, what: str, fix: str) -> None:
        value = getattr(spec, field)
        shown = list(value) if isinstance(value, tuple) else value
        if isinstance(shown, ImageSpec):
            shown = shown.image_name()
        out.append(Refusal(
            field,
            f"ImageSpec({field}={shown!r}): the venv builder {what}, so it expected no {field}, "
            f"got {shown!r}; {fix}",
        ))

    if spec.apt_packages:
        refuse("apt_packages", "installs Python packages only",
               f"install them on the workers' machines and drop apt_packages, {CONTAINER_FIX}")
    if spec.conda_packages:
        refuse("conda_packages", "installs packages from the Python package index only",
               f"list their PyPI names in packages=[...], {CONTAINER_FIX}")
    if spec.conda_channels:
        refuse("conda_channels", "installs packages from the Python package index only",
               f"drop conda_channels, {CONTAINER_FIX}")
    if spec.base_image is not None:
        refuse("base_image", "builds on this server's Python, not on an image",
               f"drop base_image, {CONTAINER_FIX}")
    if spec.python_version is not None:
        found = _python_refusal(spec.python_version)
        if found is not None:
            out.append(found)
    for field in ("cuda", "cudnn"):
        if getattr(spec, field):
            refuse(field, "installs no CUDA libraries of its own",
                   "use CUDA-enabled wheels through packages (torch's wheels, for one, bring "
                   f"their CUDA libraries) and drop {field}, {CONTAINER_FIX}")
    if spec.commands:
        refuse("commands", "runs no shell commands",
               "commands run only in a container image: configure a container builder "
               f"(`plait build --builder docker`; {BUILDER_ENV}=docker for the server), or drop them")
    return out


def missing_files(spec: ImageSpec, root: str | os.PathLike[str] | None = None) -> list[Refusal]:
    """The files the spec names (requirements, source_root, copy) that are not there."""
    out = []
    for f in spec.pulled_files(root):
        if f.path.exists():
            continue
        field = ("requirements" if spec.requirements and f.name == Path(spec.requirements).as_posix()
                 else "source_root" if spec.source_root and f.name == Path(spec.source_root).as_posix()
                 else "copy")
        value = getattr(spec, field)
        shown = list(value) if isinstance(value, tuple) else value
        folder = Path(root) if root is not None else Path.cwd()
        out.append(Refusal(
            field,
            f"ImageSpec({field}={shown!r}): expected {f.name!r} in {folder}, found nothing "
            f"there; create it, or build from the folder the spec's paths are relative to",
        ))
    return out


# ------------------------------------------------------------------ images in specs


def _nodes(nodes: Any, path: str) -> Iterator[tuple[str, Any]]:
    for j, node in enumerate(nodes if isinstance(nodes, list) else []):
        if not isinstance(node, Mapping):
            continue
        overrides = node.get("overrides")
        if isinstance(overrides, Mapping) and overrides.get("container_image") is not None:
            yield f"{path}[{j}].overrides.container_image", overrides["container_image"]
        branch = node.get("branch")
        cases = branch.get("cases") if isinstance(branch, Mapping) else None
        for k, case in enumerate(cases if isinstance(cases, list) else []):
            if isinstance(case, Mapping):
                yield from _nodes(case.get("nodes"), f"{path}[{j}].branch.cases[{k}].nodes")


def images_in(spec: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(path in the spec, value) of every image a registered spec names for Python code: a
    task's `settings.container_image` and a workflow node's `overrides.container_image`.

    A raw-container task runs its own command in its image: that image is not an environment.
    A reference (an entity registered elsewhere) was checked where it was registered.
    """
    found: list[tuple[str, Any]] = []
    if "reference" in spec:
        return found
    settings = spec.get("settings")
    if (spec.get("kind") in _RUNNABLE_KINDS and isinstance(settings, Mapping)
            and spec.get("task_type") not in OWN_IMAGE_TASK_TYPES
            and settings.get("container_image") is not None):
        found.append(("settings.container_image", settings["container_image"]))
    found.extend(_nodes(spec.get("nodes"), "nodes"))
    return found


def image_of(value: Any) -> ImageSpec | str:
    """A spec's `container_image` (an image name or `ImageSpec.to_spec()`) as an object."""
    if isinstance(value, (str, ImageSpec)):
        return value
    if isinstance(value, Mapping):
        return ImageSpec.from_spec(value)
    raise InputError(
        f"container_image={value!r}: expected an image name or an ImageSpec's fields, got "
        f"{type(value).__name__}; pass plait.ImageSpec(...) or a str"
    )


def problems_in(spec: Mapping[str, Any], builder: str = "venv") -> list[Refusal]:
    """Every image of a registered spec that `builder` cannot make, at its path in the spec
    (`settings.container_image.apt_packages`, ...)."""
    out = []
    for path, value in images_in(spec):
        try:
            image = image_of(value)
        except UserError as exc:
            out.append(Refusal(path, str(exc)))
            continue
        for refusal in refusals(image, builder):
            where = path if isinstance(image, str) else f"{path}.{refusal.field}"
            out.append(Refusal(where, refusal.message))
    return out


def override_images(specs: Sequence[Mapping[str, Any]], image: ImageSpec | str) -> list[dict[str, Any]]:
    """`specs` with the image of every task that runs Python code replaced by `image`
    (`plait run --remote --image`); other specs as they are."""
    value = image.to_spec() if isinstance(image, ImageSpec) else image
    out = []
    for spec in specs:
        settings = spec.get("settings")
        if (spec.get("kind") in _RUNNABLE_KINDS and isinstance(settings, Mapping)
                and spec.get("task_type") not in OWN_IMAGE_TASK_TYPES and "reference" not in spec):
            spec = {**spec, "settings": {**settings, "container_image": value}}
        out.append(dict(spec))
    return out
