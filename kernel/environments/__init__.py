"""Environments: where a task's code runs, built from its `ImageSpec`.

    env = resolve(ImageSpec(packages=["pandas==2.2.3"]))   # built once, then reused
    subprocess.run([env.python, ...], env={**os.environ, **env.variables()}, cwd=env.workdir)

The embedded builder (`venv`) makes a virtual environment with uv under
`$PLAIT_HOME/envs/<hash>` on this server's Python, with plait and its worker
runtime from the server itself (the base layer, `base.py`); the hash covers
the spec, the files it pulls in and the base layer. What a venv cannot honour
(apt or conda packages, a base image, another Python, CUDA, shell commands) is
refused with the field and the fix (`refusals`); a container builder
(`docker` or `podman`, `container.py`) builds an OCI image from the same spec.

Only the standard library is imported here: uv and the container engine run
as subprocesses.
"""

from __future__ import annotations

from .base import RUNTIME_ROOTS, BaseLayer, current_base
from .container import ContainerImage, build_context, build_image, container_engine, dockerfile
from .errors import BuilderMissing, EnvironmentBuildError, EnvironmentRefused, Refusal
from .refusals import (
    BUILDER_ENV,
    BUILDERS,
    CONTAINER_BUILDERS,
    configured_builder,
    image_of,
    images_in,
    override_images,
    problems_in,
    refusals,
)
from .venv import Environment, env_key, envs_dir, find, resolve

__all__ = [
    "BUILDERS", "BUILDER_ENV", "CONTAINER_BUILDERS", "RUNTIME_ROOTS", "BaseLayer",
    "BuilderMissing", "ContainerImage", "Environment", "EnvironmentBuildError",
    "EnvironmentRefused", "Refusal", "build_context", "build_image", "configured_builder",
    "container_engine", "current_base", "dockerfile", "env_key", "envs_dir", "find", "image_of",
    "images_in", "override_images", "problems_in", "refusals", "resolve",
]
