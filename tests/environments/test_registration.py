"""Registration refuses an image the server's builder cannot make: a 422 naming the field.

The HTTP API with a real SQLite database and object store, and the recording
executor of the backend's API tests (nothing runs).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "backend"))

from fakes import PYTHON, RecordingExecutor  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from plait.backend.api import create_app  # noqa: E402
from plait.backend.config import Settings  # noqa: E402
from plait.backend.storage import ObjectStore  # noqa: E402
from plait.backend.store import Database  # noqa: E402
from plait.config.image_spec import ImageSpec  # noqa: E402

TOKEN = "test-token-0123456789"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings.from_env(env={}, home=str(tmp_path / "home"))
    db = Database(settings.database_url)
    db.migrate()
    app = create_app(settings, db, ObjectStore(settings.storage_url), RecordingExecutor(),
                     token=TOKEN)
    with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        yield c
    db.dispose()


def register(client: TestClient, *specs: dict[str, Any]) -> Any:
    return client.post("/api/v1/register", json={"python_version": PYTHON, "specs": list(specs)})


def with_image(spec: dict[str, Any], image: Any) -> dict[str, Any]:
    value = image.to_spec() if isinstance(image, ImageSpec) else image
    return {**spec, "settings": {**spec["settings"], "container_image": value}}


def test_an_image_a_venv_can_make_is_registered(client: TestClient, images_module: Any) -> None:
    m = images_module
    answer = register(client, m.inflection_version.to_spec(), m.shout.to_spec(), m.plain.to_spec(),
                      m.multi_image.to_spec())
    assert answer.status_code == 201, answer.json()


@pytest.mark.parametrize("field", ["apt_packages", "conda_packages", "base_image", "python_version",
                                   "cuda", "commands"])
def test_what_a_venv_cannot_honour_is_a_422_naming_the_field(client: TestClient, images_module: Any,
                                                            field: str) -> None:
    value = {"apt_packages": ["curl"], "conda_packages": ["langchain"], "base_image": "ubuntu:24.04",
             "python_version": "3.9", "cuda": "12.1", "commands": ["echo hi"]}[field]
    spec = with_image(images_module.plain.to_spec(), ImageSpec(name="refused", **{field: value}))
    answer = register(client, images_module.inflection_version.to_spec(), spec)
    assert answer.status_code == 422
    body = answer.json()
    assert body["field"] == f"specs[1].settings.container_image.{field}"
    assert body["message"].startswith(f"specs[1] (task `images.plain`): ImageSpec({field}={value!r}): ")
    assert "configure a container builder (`plait build --builder docker`" in body["message"]
    assert client.get("/api/v1/tasks").json()["items"] == []  # nothing of it was stored


def test_an_image_name_is_refused_unless_a_container_builder_is_configured(
    client: TestClient, images_module: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = with_image(images_module.plain.to_spec(), "ghcr.io/example-org/scorer:1.0")
    answer = register(client, spec)
    assert answer.status_code == 422 and answer.json() == {
        "error": "invalid_field",
        "field": "specs[0].settings.container_image",
        "message": "specs[0] (task `images.plain`): container_image='ghcr.io/example-org/scorer:1.0': "
                   "names a container image, which only a container builder can run; the venv "
                   "builder expected a plait.ImageSpec, got an image name; describe the environment "
                   "as plait.ImageSpec(packages=[...]), or configure a container builder (`plait "
                   "build --builder docker`; PLAIT_BUILDER=docker for the server)",
    }
    monkeypatch.setenv("PLAIT_BUILDER", "docker")
    assert register(client, spec).status_code == 201


def test_a_node_override_is_checked_at_its_path(client: TestClient, images_module: Any) -> None:
    workflow = images_module.multi_image.to_spec()
    workflow["nodes"][1]["overrides"]["container_image"]["apt_packages"] = ["git"]
    tasks = [e.to_spec() for e in (images_module.inflection_version, images_module.shout, images_module.plain)]
    answer = register(client, *tasks, workflow)
    assert answer.status_code == 422
    assert answer.json()["field"] == "specs[3].nodes[1].overrides.container_image.apt_packages"


def test_a_raw_container_keeps_its_image(client: TestClient) -> None:
    from plait.task_types.container import ContainerTask

    raw = ContainerTask(name="echo", image="alpine:3.20", command=["echo", "hi"])
    assert register(client, raw.to_spec()).status_code == 201
