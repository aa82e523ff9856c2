"""What the venv builder cannot honour is refused with the field, what was found and the fix."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from plait.config.image_spec import ImageSpec
from plait.environments import (
    EnvironmentRefused,
    configured_builder,
    images_in,
    override_images,
    problems_in,
    refusals,
)
from plait.errors import InputError
from plait.task_types.container import ContainerTask

MINOR = f"{sys.version_info.major}.{sys.version_info.minor}"
OR_CONTAINER = ("or configure a container builder (`plait build --builder docker`; "
                "PLAIT_BUILDER=docker for the server)")

REFUSED = [
    ({"apt_packages": ["curl", "wget"]}, "apt_packages",
     "ImageSpec(apt_packages=['curl', 'wget']): the venv builder installs Python packages only, "
     "so it expected no apt_packages, got ['curl', 'wget']; install them on the workers' machines "
     f"and drop apt_packages, {OR_CONTAINER}"),
    ({"conda_packages": ["langchain"]}, "conda_packages",
     "ImageSpec(conda_packages=['langchain']): the venv builder installs packages from the Python "
     "package index only, so it expected no conda_packages, got ['langchain']; list their PyPI "
     f"names in packages=[...], {OR_CONTAINER}"),
    ({"conda_channels": ["conda-forge"]}, "conda_channels",
     "ImageSpec(conda_channels=['conda-forge']): the venv builder installs packages from the "
     "Python package index only, so it expected no conda_channels, got ['conda-forge']; drop "
     f"conda_channels, {OR_CONTAINER}"),
    ({"base_image": "nvidia/cuda:12.6.1-cudnn-devel-ubuntu22.04"}, "base_image",
     "ImageSpec(base_image='nvidia/cuda:12.6.1-cudnn-devel-ubuntu22.04'): the venv builder builds "
     "on this server's Python, not on an image, so it expected no base_image, got "
     f"'nvidia/cuda:12.6.1-cudnn-devel-ubuntu22.04'; drop base_image, {OR_CONTAINER}"),
    ({"python_version": "3.9"}, "python_version",
     "ImageSpec(python_version='3.9'): the venv builder makes environments of this server's "
     f"Python (they share plait and its Dask runtime with it), so it expected '{MINOR}', got "
     f"'3.9'; write python_version='{MINOR}' or leave it out, {OR_CONTAINER}"),
    ({"cuda": "12.1"}, "cuda",
     "ImageSpec(cuda='12.1'): the venv builder installs no CUDA libraries of its own, so it "
     "expected no cuda, got '12.1'; use CUDA-enabled wheels through packages (torch's wheels, for "
     f"one, bring their CUDA libraries) and drop cuda, {OR_CONTAINER}"),
    ({"cudnn": "8"}, "cudnn",
     "ImageSpec(cudnn='8'): the venv builder installs no CUDA libraries of its own, so it "
     "expected no cudnn, got '8'; use CUDA-enabled wheels through packages (torch's wheels, for "
     f"one, bring their CUDA libraries) and drop cudnn, {OR_CONTAINER}"),
    ({"commands": ["echo hi"]}, "commands",
     "ImageSpec(commands=['echo hi']): the venv builder runs no shell commands, so it expected no "
     "commands, got ['echo hi']; commands run only in a container image: configure a container "
     "builder (`plait build --builder docker`; PLAIT_BUILDER=docker for the server), or drop them"),
]


@pytest.mark.parametrize(("fields", "field", "message"), REFUSED, ids=[r[1] for r in REFUSED])
def test_each_field_a_venv_cannot_honour_is_refused(fields: dict[str, Any], field: str,
                                                    message: str) -> None:
    found = refusals(ImageSpec(name="refused", packages=["pandas"], **fields))
    assert [(r.field, r.message) for r in found] == [(field, message)]
    assert refusals(ImageSpec(name="refused", **fields), "docker") == []


def test_what_a_venv_can_make_is_not_refused() -> None:
    spec = ImageSpec(name="fine", packages=["pandas"], python_version=MINOR, env={"A": "1"},
                     pip_extra_index_url=["https://packages.example.com/simple"],
                     pip_extra_args="--no-deps", requirements="requirements.txt", copy=["data"])
    assert refusals(spec) == []
    same = ".".join(map(str, sys.version_info[:3]))
    assert refusals(ImageSpec(python_version=same)) == []
    other_patch = f"{MINOR}.{sys.version_info.micro + 1}"
    assert [r.field for r in refusals(ImageSpec(python_version=other_patch))] == ["python_version"]


def test_an_image_name_needs_a_container_builder() -> None:
    (found,) = refusals("ghcr.io/example-org/scorer:1.0")
    assert found.field == "container_image"
    assert found.message == (
        "container_image='ghcr.io/example-org/scorer:1.0': names a container image, which only a "
        "container builder can run; the venv builder expected a plait.ImageSpec, got an image "
        f"name; describe the environment as plait.ImageSpec(packages=[...]), {OR_CONTAINER}")
    assert refusals("ghcr.io/example-org/scorer:1.0", "podman") == []


def test_every_problem_is_in_the_error() -> None:
    error = EnvironmentRefused(refusals(ImageSpec(apt_packages=["curl"], commands=["ls"])))
    assert [r.field for r in error.refusals] == ["apt_packages", "commands"]
    assert str(error).startswith("ImageSpec(apt_packages=['curl']): ") and "; ImageSpec(commands=" in str(error)


def test_the_builder_is_venv_unless_configured() -> None:
    assert configured_builder({}) == "venv"
    assert configured_builder({"PLAIT_BUILDER": "docker"}) == "docker"
    with pytest.raises(InputError, match=r"^PLAIT_BUILDER='kaniko': expected one of venv, docker, "
                       r"podman, got 'kaniko'; unset it for the venv builder, or write "
                       r"PLAIT_BUILDER=docker$"):
        configured_builder({"PLAIT_BUILDER": "kaniko"})


def test_images_are_found_where_specs_name_them(images_module: Any) -> None:
    m = images_module
    assert [p for p, _ in images_in(m.inflection_version.to_spec())] == ["settings.container_image"]
    assert images_in(m.plain.to_spec()) == []
    assert [p for p, _ in images_in(m.multi_image.to_spec())] == ["nodes[1].overrides.container_image"]
    # a raw container runs its own command in its image: not an environment for Python code
    raw = ContainerTask(name="echo", image="alpine:3.20", command=["echo", "hi"])
    assert images_in(raw.to_spec()) == []


def test_problems_are_named_at_their_path_in_the_spec(images_module: Any) -> None:
    spec = images_module.multi_image.to_spec()
    spec["nodes"][1]["overrides"]["container_image"]["apt_packages"] = ["curl"]
    (found,) = problems_in(spec)
    assert found.field == "nodes[1].overrides.container_image.apt_packages"
    named = images_module.plain.to_spec()
    named["settings"]["container_image"] = "python:3.11-slim"
    assert [p.field for p in problems_in(named)] == ["settings.container_image"]
    broken = images_module.plain.to_spec()
    broken["settings"]["container_image"] = {"pakages": ["six"]}
    (found,) = problems_in(broken)
    assert found.field == "settings.container_image" and "unknown fields ['pakages']" in found.message


def test_an_image_override_replaces_every_task_image(images_module: Any) -> None:
    specs = [e.to_spec() for e in (images_module.inflection_version, images_module.plain,
                                   images_module.multi_image)]
    image = ImageSpec(name="override", packages=["toposort==1.10"])
    out = override_images(specs, image)
    assert out[0]["settings"]["container_image"] == image.to_spec()
    assert out[1]["settings"]["container_image"] == image.to_spec()
    assert out[2] == specs[2]  # a workflow has no image of its own
    assert specs[1]["settings"]["container_image"] is None  # the input is unchanged
