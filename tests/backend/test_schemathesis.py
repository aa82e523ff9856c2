"""Generated requests to every GET and POST route never make the server fail (no 5xx).

Schemathesis reads the app's own OpenAPI document and sends what it allows
(and some of what it forbids) through ASGI, with the bearer token, against a
real SQLite database. Specs are registered first so that some generated
names can meet real rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import plait
import pytest
import schemathesis
from fakes import PYTHON, RecordingExecutor
from hypothesis import HealthCheck, settings
from plait.backend.api import create_app
from plait.backend.config import Settings
from plait.backend.server import openapi_document
from plait.backend.storage import ObjectStore
from plait.backend.store import Database

TOKEN = "schemathesis-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@plait.task
def add(a: int, b: int = 2) -> int:
    """Add two numbers."""
    return a + b


@plait.workflow
def total(a: int) -> int:
    return add(a=a)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One app and database for every operation: what one request creates, others may meet."""
    config = Settings.from_env(env={}, home=str(tmp_path_factory.mktemp("schemathesis")))
    db = Database(config.database_url)
    db.migrate()
    app = create_app(config, db, ObjectStore(config.storage_url), RecordingExecutor(), token=TOKEN)
    from fastapi.testclient import TestClient

    with TestClient(app, headers=AUTH) as client:
        body = {"python_version": PYTHON, "version": "v1", "specs": [add.to_spec(), total.to_spec()]}
        assert client.post("/api/v1/register", json=body).status_code == 201
    yield app
    db.dispose()


# The document `plait server openapi` writes; building it touches no database or cluster.
# (A schema loaded lazily from a fixture would be nicer, but schemathesis' lazy loader
# does not run under pytest 9.)
schema = schemathesis.openapi.from_dict(openapi_document()).include(method=["GET", "POST"])


@pytest.fixture
def statuses() -> Iterator[list[int]]:
    """Statuses seen by one operation's examples; some must get past authentication."""
    seen: list[int] = []
    yield seen
    assert any(status != 401 for status in seen), "every generated request was refused with 401"


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_makes_the_server_fail(case: Any, app: Any, statuses: list[int]) -> None:
    # Negative cases may drop the Authorization header on purpose: 401 is right for them.
    response = case.call(app=app, headers=AUTH)
    statuses.append(response.status_code)
    assert response.status_code < 500, (case.method, case.formatted_path, response.text)
