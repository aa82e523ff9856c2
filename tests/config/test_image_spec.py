"""ImageSpec as a task author uses it: describe an image, get a stable name."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from plait.config.image_spec import CopyFileDetection, ImageSpec
from plait.errors import InputError, TypeMismatchError

PANDAS = dict(name="pandas-image", packages=["pandas"], registry="ghcr.io/my-org")


@pytest.fixture(autouse=True)
def outside_any_image(monkeypatch):
    monkeypatch.delenv("PLAIT_IMAGE_NAME", raising=False)
    monkeypatch.delenv("FLYTE_INTERNAL_IMAGE", raising=False)


def test_every_documented_field_is_accepted():
    spec = ImageSpec(
        name="everything",
        python_version="3.11",
        builder="union",
        source_root=".",
        env={"Debug": "True"},
        registry="ghcr.io/my-org",
        packages=["scikit-learn", "tensorflow==2.5.0"],
        conda_packages=["langchain"],
        conda_channels=["conda-forge"],
        requirements="requirements.txt",
        apt_packages=["curl", "wget"],
        cuda="12.1",
        cudnn="8",
        base_image="nvidia/cuda:12.6.1-cudnn-devel-ubuntu22.04",
        platform="linux/arm64",
        pip_index="https://pypi.org/simple",
        pip_extra_index_url=["https://download.pytorch.org/whl/cu118"],
        pip_secret_mounts=[(".netrc", "/root/.netrc")],
        pip_extra_args="--no-deps",
        registry_config="/home/me/.docker/config.json",
        entrypoint=["python"],
        commands=["echo hi"],
        tag_format="{spec_hash}-dev",
        source_copy_mode=CopyFileDetection.NO_COPY,
        copy=["files/input.txt"],
        python_exec="/usr/bin/python3",
        builder_options={"cache": True},
    )
    assert spec.image_name().startswith("ghcr.io/my-org/everything:")
    assert spec.image_name().endswith("-dev")
    assert json.loads(json.dumps(spec.to_spec())) == spec.to_spec()
    assert ImageSpec.from_spec(json.loads(json.dumps(spec.to_spec()))) == spec


def test_image_name_is_registry_name_and_content_tag():
    spec = ImageSpec(**PANDAS)
    repo, tag = spec.image_name().rsplit(":", 1)
    assert repo == "ghcr.io/my-org/pandas-image"
    assert tag == spec.spec_hash() and len(tag) >= 16
    assert ImageSpec(name="local-only").image_name().startswith("local-only:")


def test_image_name_is_the_same_in_another_process():
    code = (
        "from plait.config.image_spec import ImageSpec; "
        "print(ImageSpec(name='pandas-image', packages=['pandas'], registry='ghcr.io/my-org').image_name())"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == ImageSpec(**PANDAS).image_name()


def test_any_change_to_the_contents_changes_the_tag():
    base = ImageSpec(**PANDAS)
    changed = [
        base.with_packages("numpy"),
        base.with_apt_packages("git"),
        base.with_commands("echo hi"),
        ImageSpec(**PANDAS, python_version="3.12"),
        ImageSpec(**PANDAS, env={"A": "1"}),
        ImageSpec(**PANDAS, base_image="python:3.11-slim"),
    ]
    tags = {s.tag() for s in changed}
    assert base.tag() not in tags and len(tags) == len(changed)


def test_how_it_is_built_does_not_change_what_it_is():
    assert ImageSpec(**PANDAS).tag() == ImageSpec(**PANDAS, builder="union").tag()
    assert ImageSpec(**PANDAS).tag() == ImageSpec(**PANDAS).force_push().tag()


def test_requirements_file_contents_are_part_of_the_tag(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "requirements.txt").write_text("pandas\n")
    spec = ImageSpec(name="reqs", requirements="requirements.txt")
    before = spec.tag()
    assert spec.tag() == before
    (tmp_path / "requirements.txt").write_text("pandas\nnumpy\n")
    assert spec.tag() != before


def test_copied_files_are_part_of_the_tag(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "input.txt").write_text("one")
    spec = ImageSpec(name="image-with-copy", copy=["files"])
    before = spec.tag()
    (tmp_path / "files" / "input.txt").write_text("two")
    assert spec.tag() != before


def test_tag_format_wraps_the_hash():
    spec = ImageSpec(name="my-image", packages=["pandas"], tag_format="{spec_hash}-dev")
    assert spec.tag() == f"{spec.spec_hash()}-dev"


def test_with_methods_return_new_specs():
    base = ImageSpec(**PANDAS)
    more = base.with_packages(["numpy", "scipy"]).with_apt_packages("curl").with_commands(["ls"])
    assert base.packages == ("pandas",)
    assert more.packages == ("pandas", "numpy", "scipy")
    assert more.apt_packages == ("curl",) and more.commands == ("ls",)


def test_force_push_marks_a_copy():
    spec = ImageSpec(**PANDAS)
    assert spec.force_push().is_force_push and not spec.is_force_push


def test_is_container_inside_and_outside_built_images(monkeypatch):
    pandas = ImageSpec(**PANDAS)
    tensorflow = ImageSpec(
        name="tf-image", packages=["tensorflow", "pandas"], registry="ghcr.io/my-org"
    )
    # A notebook or local run is in no built image: guarded imports must still run.
    assert pandas.is_container() and tensorflow.is_container()
    monkeypatch.setenv("PLAIT_IMAGE_NAME", tensorflow.image_name())
    assert tensorflow.is_container()
    assert not pandas.is_container()
    monkeypatch.delenv("PLAIT_IMAGE_NAME")
    monkeypatch.setenv("FLYTE_INTERNAL_IMAGE", pandas.image_name())
    assert pandas.is_container() and not tensorflow.is_container()


def test_an_imagespec_can_build_on_another():
    base = ImageSpec(name="base", packages=["pandas"])
    child = ImageSpec(name="child", base_image=base, packages=["scikit-learn"])
    assert ImageSpec.from_spec(json.loads(json.dumps(child.to_spec()))) == child
    assert (
        child.tag()
        != ImageSpec(
            name="child", base_image=base.with_packages("numpy"), packages=["scikit-learn"]
        ).tag()
    )


def test_a_yaml_image_file_mapping_is_accepted():
    # `python_version: 3.11` in YAML arrives as a float
    spec = ImageSpec.from_spec(
        {"python_version": 3.11, "packages": ["sklearn"], "env": {"Debug": "True"}}
    )
    assert spec.python_version == "3.11"


def test_python_version_that_lost_its_zero_says_to_quote_it():
    with pytest.raises(
        InputError, match=r"a number like 3.10 reads as 3.1, so write python_version='3.10'"
    ):
        ImageSpec(python_version=3.10)


def test_image_names_must_be_lower_case():
    with pytest.raises(
        InputError,
        match=r"^ImageSpec\(name='My Image'\): expected a lower-case image name .*write 'my-image'$",
    ):
        ImageSpec(name="My Image")


def test_registry_without_scheme():
    with pytest.raises(
        InputError,
        match=r"registry='https://ghcr.io/my-org'\).*\(no scheme\).*write 'ghcr.io/my-org'",
    ):
        ImageSpec(registry="https://ghcr.io/my-org")


def test_copy_paths_must_stay_inside_the_project():
    with pytest.raises(
        InputError, match=r"copy=\['\.\./secrets'\]\): expected paths relative to the project"
    ):
        ImageSpec(copy=["../secrets"])
    with pytest.raises(InputError, match="expected paths relative to the project"):
        ImageSpec(copy=["/etc/passwd"])


def test_unknown_tag_format_placeholder_is_refused():
    with pytest.raises(
        InputError,
        match=r"tag_format='\{hash\}-dev'\): expected a Docker tag that may use '\{spec_hash\}'",
    ):
        ImageSpec(tag_format="{hash}-dev")


def test_env_values_must_be_strings():
    with pytest.raises(
        InputError,
        match=r"env=\{'DEBUG': True\}\): expected a dict of str to str.*quote the values",
    ):
        ImageSpec(env={"DEBUG": True})  # type: ignore[dict-item]


def test_packages_must_be_strings():
    with pytest.raises(
        TypeMismatchError, match=r"packages=\['pandas', 2\]\): expected a list of str"
    ):
        ImageSpec(packages=["pandas", 2])  # type: ignore[list-item]


def test_platform_names_os_and_arch():
    assert ImageSpec(platform="linux/amd64,linux/arm64").platform == "linux/amd64,linux/arm64"
    with pytest.raises(InputError, match=r"platform='arm64'\): expected 'os/arch'"):
        ImageSpec(platform="arm64")


def test_source_copy_mode_accepts_its_name():
    assert ImageSpec(source_copy_mode="all").source_copy_mode is CopyFileDetection.ALL  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"source_copy_mode='some'\): expected CopyFileDetection"):
        ImageSpec(source_copy_mode="some")  # type: ignore[arg-type]


def test_unknown_spec_fields_are_refused():
    with pytest.raises(InputError, match=r"unknown fields \['pakages'\]"):
        ImageSpec.from_spec({"pakages": ["pandas"]})


def test_specs_are_hashable_and_frozen():
    spec = ImageSpec(**PANDAS, env={"A": "1"})
    assert {spec: 1}[ImageSpec(**PANDAS, env={"A": "1"})] == 1
    with pytest.raises(AttributeError):
        spec.name = "other"  # type: ignore[misc]
