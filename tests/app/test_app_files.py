"""Apps declared in a file: `load_apps`, and the spec the backend stores (`to_spec`/`from_spec`).

The spec lists each included file with its SHA-256 and carries a digest of the
whole, so a redeploy with the same code is recognised as a no-op and a changed
file is not.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import plait
import pytest
from plait.app import App, AppNotFoundError, load_app, load_apps
from plait.errors import InputError

APPS = Path(__file__).resolve().parents[1] / "resources" / "apps"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the apps folder, free to edit."""
    return Path(shutil.copytree(APPS, tmp_path / "apps"))


def test_load_apps_finds_every_app_a_file_declares_in_order(folder: Path) -> None:
    apps = load_apps(folder / "serving.py")
    assert [a.name for a in apps] == ["churn-scores", "churn-scoring-api"]
    assert load_app(folder / "serving.py", "churn-scoring-api") is not None
    with pytest.raises(AppNotFoundError, match=r"serving.py declares no app named 'scoring'; it declares: "
                                               r"churn-scores, churn-scoring-api; pass one of those names"):
        load_app(folder / "serving.py", "scoring")


def test_load_apps_refuses_what_is_not_a_python_file(folder: Path) -> None:
    with pytest.raises(InputError, match=r"expected a Python file \(.py\) declaring plait.app.App objects, "
                                         r"got '.*data' \(a folder\)"):
        load_apps(folder / "data")
    with pytest.raises(InputError, match=r"\(no such file\)"):
        load_apps(folder / "missing.py")


def test_a_declaration_error_in_the_file_surfaces_when_it_is_loaded(folder: Path) -> None:
    with pytest.raises(TypeError, match=r"App 'wsgi-by-mistake': framework_app expects an ASGI app .*got "
                                        r"<function wsgi_app>; it looks like a WSGI app"):
        load_apps(folder / "bad_not_asgi.py")


def test_the_spec_lists_files_with_their_sha256_and_names_the_framework_app(folder: Path) -> None:
    page, scoring = load_apps(folder / "serving.py")
    spec = page.to_spec()
    digest = hashlib.sha256((folder / "scores_page.py").read_bytes()).hexdigest()
    assert spec["files"][0] == {"path": "scores_page.py", "sha256": digest}
    assert [f["path"] for f in spec["files"]] == ["scores_page.py", "data/thresholds.json"]  # the folder's files
    assert page.include == ["scores_page.py", "data"]
    assert spec["args"] == ["panel", "serve", "scores_page.py", "--port", "8080", "--address", "0.0.0.0"]
    assert spec["inputs"] == [{"name": "region", "value": {"literal": "eu"}, "download": False,
                               "env_var": "SCORES_REGION"}]
    api = scoring.to_spec()
    assert api["framework_app"] == "serving:api"
    assert [f["path"] for f in api["files"]] == ["serving.py"]  # the declaring file travels with it
    assert api["inputs"][0]["value"]["artifact_query"]["artifact"] == "churn-model"
    assert api["inputs"][0]["value"]["artifact_query"]["partitions"] == {"region": {"value": "eu"}}
    assert (api["min_replicas"], api["max_replicas"], api["scaledown_after"]) == (1, 3, 900.0)
    assert api["requires_auth"] is False
    assert api["secrets"][0]["env_var"] == "SCORING_API_KEY"
    assert api["container_image"]["packages"] == ["fastapi", "uvicorn", "scikit-learn"]
    assert json.loads(json.dumps(api)) == api


def test_from_spec_reads_back_the_same_spec(folder: Path) -> None:
    for app in load_apps(folder / "serving.py"):
        spec = json.loads(json.dumps(app.to_spec()))
        again = App.from_spec(spec)
        assert again.to_spec() == spec
        assert (again.name, again.port, again.requires_auth) == (app.name, app.port, app.requires_auth)
    scoring = App.from_spec(load_apps(folder / "serving.py")[1].to_spec())
    assert scoring.framework_app == "serving:api"
    assert scoring.inputs[0].value.artifact.name == "churn-model"
    assert scoring.inputs[0].value.partitions == {"region": "eu"}
    assert scoring.limits == plait.Resources(cpu="2", mem="2Gi")


def test_the_digest_changes_with_an_included_file_and_only_then(folder: Path) -> None:
    before = {a.name: a.digest() for a in load_apps(folder / "serving.py")}
    assert {a.name: a.digest() for a in load_apps(folder / "serving.py")} == before  # unchanged: a no-op
    page = folder / "scores_page.py"
    page.write_text(page.read_text() + "\n# restyled\n")
    after = {a.name: a.digest() for a in load_apps(folder / "serving.py")}
    assert after["churn-scores"] != before["churn-scores"]
    assert after["churn-scoring-api"] == before["churn-scoring-api"]
    (folder / "data" / "labels.json").write_text("{}")  # a new file in an included folder
    assert load_apps(folder / "serving.py")[0].digest() != after["churn-scores"]


def test_the_framework_app_entrypoint_serves_from_a_folder_of_the_spec_files(folder: Path, tmp_path: Path) -> None:
    """As a replica runs it: the spec's files in a working directory, uvicorn given `framework_app`."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    spec = load_apps(folder / "serving.py")[1].to_spec()
    workdir = tmp_path / "replica"
    workdir.mkdir()
    shutil.copy(folder / "serving.py", workdir)  # the spec's files: here the declaring file
    (workdir / "data").mkdir()  # and what its other app's include names, since the file declares both
    shutil.copy(folder / "data" / "thresholds.json", workdir / "data")
    shutil.copy(folder / "scores_page.py", workdir)
    assert [f["path"] for f in spec["files"]] == ["serving.py"]
    assert hashlib.sha256((workdir / "serving.py").read_bytes()).hexdigest() == spec["files"][0]["sha256"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = [sys.executable, "-m", "uvicorn", spec["framework_app"], "--host", "127.0.0.1", "--port", str(port)]
    env = {**os.environ, "PYTHONPATH": ""}
    process = subprocess.Popen(argv, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline, answer = time.monotonic() + 60, None
        while time.monotonic() < deadline and answer is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/score?tenure_months=30&monthly_spend=50",
                                            timeout=5) as response:
                    answer = json.loads(response.read())
            except OSError:
                assert process.poll() is None, process.communicate()[0].decode()
                time.sleep(0.2)
        assert answer == {"churn": pytest.approx(0.4)}
    finally:
        process.terminate()
        process.wait(timeout=10)
