"""`plait.Remote`'s secret methods against the backend's real API over HTTP (the app served by
uvicorn on a loopback port, a real SQLite store; no executor is needed for secrets)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plait.errors import TypeMismatchError
from plait.remote import Remote, RemoteUserError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
from fakes import served_api  # noqa: E402

TOKEN = "remote-secrets-token"
VALUE = "v-remote-0123456789"


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with served_api(tmp_path_factory.mktemp("remote-secrets") / "home", TOKEN) as served:
        yield served.url


@pytest.fixture
def remote(api_url: str) -> Iterator[Remote]:
    with Remote(api_url, token=TOKEN, autostart=False) as client:
        yield client
        for found in client.list_secrets():
            client.delete_secret(found["name"], domain=found["domain"])


def test_create_list_and_delete_a_secret(remote: Remote) -> None:
    made = remote.create_secret("db/password", VALUE)
    assert (made["name"], made["project"], made["domain"]) == ("db/password", "default", None)
    remote.create_secret("API_KEY", VALUE, domain="staging")
    listed = remote.list_secrets()
    assert [(s["name"], s["domain"]) for s in listed] == [("API_KEY", "staging"), ("db/password", None)]
    assert all(set(s) == {"name", "project", "domain", "created_at", "updated_at"} for s in listed)
    assert [s["name"] for s in remote.list_secrets(domain="development")] == ["db/password"]
    remote.delete_secret("db/password")
    remote.delete_secret("API_KEY", domain="staging")
    assert remote.list_secrets() == []


def test_an_existing_secret_is_an_error_unless_overwritten(remote: Remote) -> None:
    first = remote.create_secret("API_KEY", VALUE)
    with pytest.raises(RemoteUserError, match="secret `API_KEY` already exists in project `default` "
                                              r"\(every domain\); replace its value") as caught:
        remote.create_secret("API_KEY", "other")
    assert caught.value.status == 409
    again = remote.create_secret("API_KEY", "other", overwrite=True)
    assert again["created_at"] == first["created_at"] and again["updated_at"] > first["updated_at"]
    fresh = remote.create_secret("new/one", VALUE, overwrite=True)  # overwrite also creates
    assert fresh["name"] == "new/one"


def test_bad_names_values_and_scopes_are_named(remote: Remote) -> None:
    with pytest.raises(RemoteUserError, match=r"secret name 'a b' is not valid") as caught:
        remote.create_secret("a b", VALUE)
    assert caught.value.status == 422
    with pytest.raises(RemoteUserError, match="`value`: the value is empty"):
        remote.create_secret("k", "")
    with pytest.raises(TypeMismatchError, match="expected the value as str, got bytes; decode bytes first"):
        remote.create_secret("k", b"bytes")  # type: ignore[arg-type]
    with pytest.raises(RemoteUserError, match="project `elsewhere` does not exist"):
        remote.create_secret("k", VALUE, project="elsewhere")
    with pytest.raises(RemoteUserError, match="secret `k` does not exist in project `default` "):
        remote.delete_secret("k")


def test_the_remotes_project_is_the_default_scope(api_url: str, remote: Remote) -> None:
    remote.request("POST", "/api/v1/projects", json_body={"name": "team-a"})
    with Remote(api_url, project="team-a", domain="staging", token=TOKEN, autostart=False) as team:
        made: dict[str, Any] = team.create_secret("k", VALUE)
        assert (made["project"], made["domain"]) == ("team-a", None)  # every domain unless told
        assert [s["name"] for s in team.list_secrets()] == ["k"]
        assert remote.list_secrets() == []  # not the default project's
        team.delete_secret("k")


def test_a_value_is_never_in_an_answer(remote: Remote) -> None:
    answers = [remote.create_secret("db/password", VALUE), remote.list_secrets(),
               remote.create_secret("db/password", VALUE + "2", overwrite=True)]
    assert VALUE not in repr(answers)
