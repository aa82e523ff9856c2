"""The embedded builder: an ImageSpec becomes a uv virtual environment, built once, reused.

Real uv builds of small pinned packages in a PLAIT_HOME shared by the session
(conftest.py); each test that needs a new environment uses a spec of its own.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import cloudpickle
import plait
import pytest
from env_specs import IMAGES, INFLECTION, TOPOSORT
from plait.config.image_spec import ImageSpec
from plait.environments import (
    Environment,
    EnvironmentBuildError,
    EnvironmentRefused,
    env_key,
    envs_dir,
    resolve,
)
from plait.environments import venv as venv_builder

PROBE = """
import json, sys, inflection, plait, cloudpickle
print(json.dumps({"inflection": inflection.__version__, "inflection_file": inflection.__file__, "plait": plait.__file__,
                  "cloudpickle": cloudpickle.__file__, "python": list(sys.version_info[:3]),
                  "prefix": sys.prefix}))
"""


def in_env(env: Environment, code: str, cwd: Path | None = None,
           extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("PLAIT_IMAGE_NAME", "PYTHONPATH")}
    return subprocess.run([str(env.python), "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=cwd, env={**environ, **(extra or {})})


def leftovers(home: Path) -> list[str]:
    return sorted(p.name for p in envs_dir(home).glob(".building-*"))


def test_an_environment_has_its_packages_and_plait_from_the_server(inflection_env: Environment) -> None:
    assert inflection_env.path == envs_dir(inflection_env.path.parent.parent) / inflection_env.key
    found = in_env(inflection_env, PROBE)
    assert found.returncode == 0, found.stderr
    seen = json.loads(found.stdout)
    # the spec's package (the server has none) is the environment's own
    assert seen["inflection"] == "0.5.1" and Path(seen["inflection_file"]).is_relative_to(inflection_env.path)
    # plait and the pickling/Dask runtime are exactly the server's
    assert seen["plait"] == plait.__file__ and seen["cloudpickle"] == cloudpickle.__file__
    assert seen["python"] == list(sys.version_info[:3])
    assert Path(seen["prefix"]) == inflection_env.path
    assert (inflection_env.path / "build.log").read_text().count("$ ") == 2  # uv venv, uv pip install


def test_an_unchanged_spec_resolves_to_the_same_folder_without_building(
    inflection_env: Environment, envs_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_build() -> str:
        raise AssertionError("an unchanged spec must not be built again")

    monkeypatch.setattr(venv_builder, "uv_bin", no_build)
    again = ImageSpec(name="inflection-image", packages=["inflection==0.5.1"])  # equal, not the same object
    times = []
    for _ in range(21):
        start = time.perf_counter()
        found = resolve(again, home=envs_home)
        times.append(time.perf_counter() - start)
        assert found.path == inflection_env.path and not found.built
    # the benchmark (benchmarks/environments.py) prints the figure; this is the limit
    assert statistics.median(times) <= 0.05, times


def test_concurrent_resolves_in_threads_build_once(envs_home: Path) -> None:
    spec = ImageSpec(name="threads", packages=["toposort==1.10"], env={"CASE": "threads"})
    start = threading.Barrier(4)
    results: list[Environment] = []

    def build() -> None:
        start.wait()
        results.append(resolve(spec, home=envs_home))

    threads = [threading.Thread(target=build) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == 4 and len({r.path for r in results}) == 1
    assert sum(r.built for r in results) == 1
    assert leftovers(envs_home) == []


def test_concurrent_resolves_in_two_processes_build_once(envs_home: Path, tmp_path: Path) -> None:
    go = tmp_path / "go"
    script = (
        "import os, sys, time\n"
        "from plait.config.image_spec import ImageSpec\n"
        "from plait.environments import resolve\n"
        f"while not os.path.exists({str(go)!r}): time.sleep(0.005)\n"
        "env = resolve(ImageSpec(name='processes', packages=['toposort==1.10'], "
        f"env={{'CASE': 'processes'}}), home={str(envs_home)!r})\n"
        "print(env.built, env.path)\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    time.sleep(0.5)  # both are waiting for the word
    go.touch()
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    answers = [out.split() for out, _ in outs]
    assert sorted(a[0] for a in answers) == ["False", "True"]
    assert answers[0][1] == answers[1][1]
    assert leftovers(envs_home) == []


def test_a_failed_build_keeps_its_log_leaves_nothing_and_is_tried_again(envs_home: Path) -> None:
    bad = ImageSpec(name="bad-image", packages=["plait-no-such-package-xyz==1.0"])
    key = env_key(bad)
    log = envs_dir(envs_home) / f"{key}.failed.log"
    with pytest.raises(EnvironmentBuildError) as failed:
        resolve(bad, home=envs_home)
    message = str(failed.value)
    assert message.startswith(
        f"building the environment of ImageSpec(name='bad-image') ({bad.image_name()}) failed: "
        f"`uv pip install` exited with 1; fix the spec and try again (log: {log}). The "
        "builder's last lines:\n")
    assert "plait-no-such-package-xyz was not found in the package registry" in message
    assert failed.value.log == str(log) and failed.value.tail in message
    assert "plait-no-such-package-xyz was not found" in log.read_text()
    assert not (envs_dir(envs_home) / key).exists() and leftovers(envs_home) == []

    first = log.stat().st_mtime_ns
    time.sleep(0.01)
    with pytest.raises(EnvironmentBuildError, match="not found in the package registry"):
        resolve(bad, home=envs_home)  # the same spec again: built again, not remembered as failed
    assert log.stat().st_mtime_ns != first

    fixed = ImageSpec(name="bad-image", packages=["toposort==1.10"])
    env = resolve(fixed, home=envs_home)
    assert env.built and env.key != key and (env.path / "plait-env.json").is_file()


def test_a_package_of_the_worker_runtime_stays_at_the_server_version(envs_home: Path) -> None:
    pinned = ImageSpec(name="old-cloudpickle", packages=["cloudpickle==2.2.1"])
    with pytest.raises(EnvironmentBuildError, match=(
            rf"failed: `uv pip install` exited with 1; plait's worker runtime needs "
            rf"cloudpickle=={cloudpickle.__version__} \(the server's versions\): match them or "
            r"drop your pins; fix the spec")):
        resolve(pinned, home=envs_home)


def test_is_container_is_true_only_in_the_environment_of_its_spec(
    inflection_env: Environment, envs_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PLAIT_IMAGE_NAME", raising=False)
    monkeypatch.delenv("FLYTE_INTERNAL_IMAGE", raising=False)
    # outside any built environment every spec answers True, as in the reference (guarded
    # imports run in a local run)
    assert INFLECTION.is_container() and TOPOSORT.is_container()
    check = ("from plait.config.image_spec import ImageSpec as I; "
             "print(I(name='inflection-image', packages=['inflection==0.5.1']).is_container(), "
             "I(name='toposort-image', packages=['toposort==1.10']).is_container())")
    assert in_env(inflection_env, check).stdout.split() == ["True", "False"]
    # the variables a pool gives its workers say the same
    assert inflection_env.variables()["PLAIT_IMAGE_NAME"] == INFLECTION.image_name()
    assert inflection_env.variables({"PATH": "/usr/bin"})["PATH"] == f"{inflection_env.path}/bin:/usr/bin"

    # a task whose import is guarded by is_container(), run in each environment
    task = "import images; print(images.inflection_version.function())"
    toposort_env = resolve(TOPOSORT, home=envs_home)
    assert in_env(inflection_env, task, cwd=IMAGES.parent).stdout.strip() == "0.5.1"
    assert in_env(toposort_env, task, cwd=IMAGES.parent).stdout.strip() == "not in inflection-image"


def test_the_files_a_spec_pulls_in_go_into_the_environment(envs_home: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "src" / "files").mkdir(parents=True)
    (project / "requirements.txt").write_text("toposort==1.10\n")
    (project / "src" / "helpers.py").write_text("VALUE = 42\n")
    (project / "src" / "files" / "input.txt").write_text("one")
    spec = ImageSpec(name="with-files", requirements="requirements.txt", source_root="src",
                     copy=["files/input.txt"])
    env = resolve(spec, home=envs_home, root=project)  # read from `root`, not the cwd
    assert env.built
    assert (env.workdir / "requirements.txt").read_text() == "toposort==1.10\n"
    assert (env.workdir / "src" / "files" / "input.txt").read_text() == "one"
    code = ("import helpers, toposort; print(helpers.VALUE, open('src/files/input.txt').read()); "
            "from plait.config.image_spec import ImageSpec as I; "
            "print(I(name='with-files', requirements='requirements.txt', source_root='src', "
            "copy=['files/input.txt']).is_container())")
    found = in_env(env, code, cwd=env.workdir)
    assert found.stdout.split() == ["42", "one", "True"], found.stderr

    (project / "src" / "files" / "input.txt").write_text("two")
    assert env_key(spec, root=project) != env.key  # another file, another environment


def test_what_a_venv_cannot_honour_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with pytest.raises(EnvironmentRefused, match=r"^ImageSpec\(apt_packages=\['curl'\]\): the "
                       r"venv builder installs Python packages only"):
        resolve(ImageSpec(name="apt", apt_packages=["curl"], packages=["six"]), home=home)
    with pytest.raises(EnvironmentRefused, match=(
            r"^ImageSpec\(requirements='missing.txt'\): expected 'missing.txt' in .*, found "
            r"nothing there; create it, or build from the folder the spec's paths are relative to$")):
        resolve(ImageSpec(name="reqs", requirements="missing.txt"), home=home, root=tmp_path)
    assert not (home / "envs").exists()
