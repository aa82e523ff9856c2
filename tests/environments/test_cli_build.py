"""`plait build` and `plait run --remote --image`, run as a user runs them: real processes.

`plait build` builds in the session's shared PLAIT_HOME (conftest.py), so the
images resources/images.py names are built once for all the tests here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from env_specs import IMAGES, INFLECTION, TOPOSORT
from plait.config.image_spec import ImageSpec
from plait.environments import dockerfile, env_key, envs_dir

sys.path.insert(0, str(Path(__file__).parents[1] / "backend"))

from server_fixture import ServerProcess, running_server  # noqa: E402

INFLECTION_USERS = "(task images.inflection_version, task images.shout)"
NODE_USERS = "(workflow images.multi_image nodes[1])"


def plait(*args: str, home: Path, cwd: Path | None = None,
          env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("PLAIT_BUILDER", "PLAIT_ENDPOINT", "PLAIT_TOKEN")}
    return subprocess.run(
        [sys.executable, "-m", "plait", *args], capture_output=True, text=True, timeout=180,
        cwd=cwd, env={**environ, "PLAIT_HOME": str(home), **(env or {})},
    )


def test_build_makes_each_image_of_an_entity_once_then_reuses_it(envs_home: Path) -> None:
    first = plait("build", str(IMAGES), "multi_image", home=envs_home)
    assert first.returncode == 0, first.stderr
    inflection_path = envs_dir(envs_home) / env_key(INFLECTION)
    toposort_path = envs_dir(envs_home) / env_key(TOPOSORT)
    lines = first.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0] in (f"{inflection_path}  built  {INFLECTION_USERS}", f"{inflection_path}  reused  {INFLECTION_USERS}")
    assert lines[1] in (f"{toposort_path}  built  {NODE_USERS}",
                        f"{toposort_path}  reused  {NODE_USERS}")
    again = plait("build", str(IMAGES), "multi_image", home=envs_home)
    assert again.stdout.splitlines() == [f"{inflection_path}  reused  {INFLECTION_USERS}",
                                         f"{toposort_path}  reused  {NODE_USERS}"]


def test_build_of_an_entity_without_images_builds_nothing(envs_home: Path) -> None:
    found = plait("build", str(IMAGES), "default_only", home=envs_home)
    assert found.returncode == 0 and found.stdout == ""
    assert found.stderr.strip() == ("no task of `default_only` names a container_image: they run "
                                    "in the default environment; nothing to build")


def test_build_an_image_yaml(envs_home: Path, tmp_path: Path) -> None:
    (tmp_path / "image.yaml").write_text("name: inflection-image\npackages:\n  - inflection==0.5.1\n")
    found = plait("build", "--image", "image.yaml", home=envs_home, cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    path = envs_dir(envs_home) / env_key(INFLECTION)
    assert found.stdout.strip() in (f"{path}  built  (--image)", f"{path}  reused  (--image)")
    # the same file for every task of an entity instead of theirs
    instead = plait("build", "--image", "image.yaml", str(IMAGES), "multi_image",
                    home=envs_home, cwd=tmp_path)
    assert instead.returncode == 0, instead.stderr
    assert instead.stdout.splitlines() == [
        f"{path}  reused  (task images.inflection_version, task images.plain, task images.shout)",
        f"{envs_dir(envs_home) / env_key(TOPOSORT)}  reused  {NODE_USERS}",
    ]


def test_build_refuses_what_a_venv_cannot_make(tmp_path: Path) -> None:
    (tmp_path / "image.yaml").write_text("apt_packages: [curl]\npython_version: 3.11\n")
    found = plait("build", "--image", "image.yaml", home=tmp_path / "home", cwd=tmp_path)
    assert found.returncode == 1
    assert "Error: EnvironmentRefused: ImageSpec(apt_packages=['curl']): the venv builder " in found.stderr
    assert not (tmp_path / "home" / "envs").exists()


def test_build_with_docker_dry_run_shows_each_dockerfile(tmp_path: Path) -> None:
    found = plait("build", "--builder", "docker", "--dry-run", str(IMAGES), "multi_image",
                  home=tmp_path / "home", env={"PATH": str(tmp_path)})  # no engine needed
    assert found.returncode == 0, found.stderr
    assert found.stdout == (
        f"# {INFLECTION.image_name()}  would be built by docker  {INFLECTION_USERS}\n{dockerfile(INFLECTION)}"
        f"# {TOPOSORT.image_name()}  would be built by docker  {NODE_USERS}\n{dockerfile(TOPOSORT)}"
    )


def test_a_venv_dry_run_builds_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    found = plait("build", "--dry-run", str(IMAGES), "multi_image", home=home)
    assert found.returncode == 0, found.stderr
    assert found.stdout.splitlines()[0] == f"{envs_dir(home) / env_key(INFLECTION)}  would be built  {INFLECTION_USERS}"
    assert not envs_dir(home).exists()


@pytest.mark.parametrize(("args", "message"), [
    (("--image", "missing.yaml"), "no such file: missing.yaml; give an ImageSpec YAML file or an image name"),
    (("--image", "list.yaml"), "list.yaml should map ImageSpec fields to values (packages: [...], env: {...}), found list"),
    (("--image", "typo.yaml"), "typo.yaml: ImageSpec.from_spec: unknown fields ['pakages']"),
    ((), "give FILE ENTITY (the tasks' images) or --image IMAGE.yaml"),
])
def test_build_says_what_is_wrong_with_its_arguments(tmp_path: Path, args: tuple[str, ...],
                                                     message: str) -> None:
    (tmp_path / "list.yaml").write_text("- six\n")
    (tmp_path / "typo.yaml").write_text("pakages: [six]\n")
    found = plait("build", *args, home=tmp_path / "home", cwd=tmp_path)
    assert found.returncode == 2 and message in " ".join(found.stderr.split()), found.stderr


def test_image_is_for_remote_runs(tmp_path: Path) -> None:
    (tmp_path / "image.yaml").write_text("packages: [inflection==0.5.1]\n")
    found = plait("run", "--image", "image.yaml", str(IMAGES), "default_only", home=tmp_path,
                  cwd=tmp_path)
    assert found.returncode == 2
    assert ("--image applies to --remote runs: a local run uses this Python environment; add "
            "--remote, or drop --image") in " ".join(found.stderr.split())


# ------------------------------------------------------------------ plait run --remote --image


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("plait-server-home")) as started:
        yield started


def run_remote(server: ServerProcess, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return plait("run", "--remote", *args, home=server.home, cwd=cwd,
                 env={"PLAIT_ENDPOINT": server.url, "PLAIT_TOKEN": server.token})


def test_run_remote_with_an_image_registers_the_tasks_with_it(server: ServerProcess,
                                                               tmp_path: Path) -> None:
    (tmp_path / "image.yaml").write_text("name: override\npackages: [toposort==1.10]\n")
    found = run_remote(server, tmp_path, "--image", "image.yaml", str(IMAGES), "multi_image")
    assert found.returncode == 0, found.stderr + server.log_tail()
    remote = server.remote()
    image = ImageSpec(name="override", packages=["toposort==1.10"])
    for task in ("images.inflection_version", "images.shout", "images.plain"):
        assert remote.fetch_task(task).spec["settings"]["container_image"] == image.to_spec()
    # without --image the tasks keep their own: another version of the same code
    mine = run_remote(server, tmp_path, str(IMAGES), "multi_image")
    assert mine.returncode == 0, mine.stderr
    latest = remote.fetch_task("images.inflection_version")
    assert latest.spec["settings"]["container_image"] == INFLECTION.to_spec()


def test_run_remote_with_a_refused_image_names_the_field(server: ServerProcess, tmp_path: Path) -> None:
    (tmp_path / "image.yaml").write_text("apt_packages: [curl]\n")
    found = run_remote(server, tmp_path, "--image", "image.yaml", str(IMAGES), "multi_image")
    assert found.returncode == 1
    said = " ".join(found.stderr.split())
    assert "(task `images.inflection_version`): ImageSpec(apt_packages=['curl']): the venv builder installs " \
           "Python packages only" in said, found.stderr
