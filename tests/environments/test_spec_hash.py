"""An environment's hash: the spec's contents, the files it pulls in, and the base layer."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from plait.config.image_spec import CopyFileDetection, ImageSpec
from plait.environments import current_base, env_key


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "src" / "__pycache__").mkdir(parents=True)
    (tmp_path / "src" / "model.py").write_text("WEIGHTS = 1\n")
    (tmp_path / "src" / "notes.md").write_text("draft\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_source_root_tree_is_part_of_the_hash_but_caches_are_not(project: Path) -> None:
    spec = ImageSpec(name="code", source_root="src")
    before = spec.spec_hash()
    (project / "src" / "__pycache__" / "model.cpython-311.pyc").write_bytes(b"\0\1")
    assert spec.spec_hash() == before
    (project / "src" / "model.py").write_text("WEIGHTS = 2\n")
    assert spec.spec_hash() != before


def test_the_copy_mode_says_which_source_files_count(project: Path) -> None:
    no_copy = ImageSpec(name="code", source_root="src", source_copy_mode=CopyFileDetection.NO_COPY)
    modules = ImageSpec(name="code", source_root="src",
                        source_copy_mode=CopyFileDetection.LOADED_MODULES)
    before = (no_copy.spec_hash(), modules.spec_hash())
    (project / "src" / "notes.md").write_text("final\n")  # not Python: not in LOADED_MODULES
    assert (no_copy.spec_hash(), modules.spec_hash()) == before
    (project / "src" / "model.py").write_text("WEIGHTS = 3\n")
    assert no_copy.spec_hash() == before[0] and modules.spec_hash() != before[1]
    assert [f.name for f in modules.pulled_files()] == ["src"]
    assert modules.pulled_files()[0].python_only


def test_files_are_read_from_a_root_as_from_the_current_directory(project: Path,
                                                                   tmp_path_factory: pytest.TempPathFactory
                                                                   ) -> None:
    spec = ImageSpec(name="code", source_root="src", copy=["model.py"])
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    assert spec.spec_hash(root=project) == spec.spec_hash()
    assert spec.spec_hash(root=elsewhere) != spec.spec_hash()  # the files are missing there
    assert spec.image_name(root=project) == spec.image_name()


def test_the_base_layer_is_part_of_the_environment_hash(project: Path) -> None:
    spec = ImageSpec(name="inflection-image", packages=["inflection==0.5.1"])
    base = current_base()
    assert env_key(spec) == env_key(ImageSpec(name="inflection-image", packages=["inflection==0.5.1"]))
    assert env_key(spec) != env_key(spec.with_packages("toposort==1.10"))
    for change in ({"python": "3.99.0"}, {"runtime": (("cloudpickle", "0.1"),)},
                   {"site_dirs": ("/elsewhere",)}, {"plait_version": "9.9"}):
        assert env_key(spec, base=dataclasses.replace(base, **change)) != env_key(spec, base=base)
    # how it is built and where it is pushed are not what is in it
    assert env_key(spec) == env_key(dataclasses.replace(spec, builder="docker"))
