"""`plait create secret`, `plait get secrets`, `plait delete secret` against the backend's real API
over HTTP (the app served by uvicorn on a loopback port, a real SQLite store)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from plait.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
from fakes import served_api  # noqa: E402

TOKEN = "cli-secrets-token"
VALUE = "v-cli-s3cr3t-0123456789"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """(url, home) of a served API."""
    with served_api(tmp_path_factory.mktemp("cli-secrets") / "home", TOKEN) as served:
        yield served.url, served.home


@pytest.fixture
def plait_cli(api: Any) -> Iterator[Any]:
    url, _ = api

    def run(*args: str, input: str | bytes | None = None) -> Result:
        options = {"remote": {"endpoint": url, "token": TOKEN, "autostart": False}}
        return CliRunner().invoke(main, list(args), obj=options, input=input, env={"COLUMNS": "200"})

    yield run
    from plait.remote import Remote

    with Remote(url, token=TOKEN, autostart=False) as remote:  # leave the store empty for the next test
        for found in remote.list_secrets():
            remote.delete_secret(found["name"], domain=found["domain"])


def _stored(api: Any) -> dict[str, str]:
    """name -> value, read back as the executor does."""
    from plait.backend import secrets
    from plait.backend.store import Database
    from plait.backend.store import queries as q

    url, home = api
    db = Database(f"sqlite:///{home / 'plait.db'}")
    try:
        with db.session() as s:
            names = [r.name for r in q.list_secrets(s, "default")]
            tokens = q.secret_tokens(s, "default", "development", names)
    finally:
        db.dispose()
    return {n: secrets.decrypt(t, n, "here", home) for n, (t, _) in tokens.items()}


def test_the_value_is_asked_for_hidden_at_a_terminal(plait_cli: Any, api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("plait.cli.secrets._interactive", lambda: True)
    out = plait_cli("create", "secret", "db/password", "--project", "default", input=VALUE + "\n")
    assert out.exit_code == 0, out.output
    assert out.output == "Enter secret value: \ncreated secret db/password in project default (every domain)\n"
    assert VALUE not in out.output  # the prompt does not echo it
    assert _stored(api) == {"db/password": VALUE}


def test_a_piped_value_loses_only_its_final_newline(plait_cli: Any, api: Any) -> None:
    out = plait_cli("create", "secret", "API_KEY", "--domain", "development", input=f"{VALUE}\n")
    assert out.exit_code == 0, out.output
    assert out.output == "created secret API_KEY in project default, domain development\n"
    assert plait_cli("create", "secret", "--name", "two", "--value-file", "-", input="a\nb\n\n").exit_code == 0
    assert _stored(api) == {"API_KEY": VALUE, "two": "a\nb\n"}


def test_a_file_is_stored_as_it_is(plait_cli: Any, api: Any, tmp_path: Path) -> None:
    key = tmp_path / "id_key"
    key.write_text("-----BEGIN KEY-----\nabc\n-----END KEY-----\n")
    out = plait_cli("create", "secret", "ssh_key", "--from-file", str(key))
    assert out.exit_code == 0, out.output
    assert _stored(api) == {"ssh_key": key.read_text()}
    binary = tmp_path / "blob"
    binary.write_bytes(b"\xff\xfe\x00")
    out = plait_cli("create", "secret", "blob", "-f", str(binary))
    assert out.exit_code == 1
    assert f"--from-file {binary} is not UTF-8 text (byte 0 is 0xff); a secret is text" in out.output
    out = plait_cli("create", "secret", "gone", "-f", str(tmp_path / "nothing"))
    assert out.exit_code == 1 and "cannot read it (No such file or directory)" in out.output


def test_an_existing_secret_needs_overwrite_and_the_refusal_says_so(plait_cli: Any, api: Any) -> None:
    assert plait_cli("create", "secret", "k", input="one").exit_code == 0
    out = plait_cli("create", "secret", "k", input="two")
    assert out.exit_code == 1
    assert "secret `k` already exists in project `default` (every domain); replace its value with " \
           "`plait create secret k --project default --overwrite`" in out.output
    out = plait_cli("create", "secret", "k", "--overwrite", input="two")
    assert (out.exit_code, out.output) == (0, "updated secret k in project default (every domain)\n")
    assert _stored(api) == {"k": "two"}


def test_empty_values_and_bad_names_are_refused(plait_cli: Any) -> None:
    out = plait_cli("create", "secret", "k", input="")
    assert out.exit_code == 1 and "the secret's value is empty" in out.output
    out = plait_cli("create", "secret", "not a name", input="v")
    assert out.exit_code == 1 and "secret name 'not a name' is not valid" in out.output
    out = plait_cli("create", "secret", input="v")
    assert out.exit_code == 2 and "give the secret's name: plait create secret NAME" in out.output


def test_get_lists_names_and_dates_never_values(plait_cli: Any) -> None:
    plait_cli("create", "secret", "db/password", input=VALUE)
    plait_cli("create", "secret", "API_KEY", "--domain", "staging", input=VALUE)
    out = plait_cli("get", "secrets")
    assert out.exit_code == 0, out.output
    assert "Secrets of project default" in out.output
    assert "NAME" in out.output and "DOMAIN" in out.output and "UPDATED" in out.output
    assert "db/password" in out.output and "(every domain)" in out.output and "staging" in out.output
    assert VALUE not in out.output
    only = plait_cli("get", "secrets", "--domain", "development")
    assert "db/password" in only.output and "API_KEY" not in only.output


def test_delete_removes_the_secret_of_exactly_that_scope(plait_cli: Any, api: Any) -> None:
    plait_cli("create", "secret", "API_KEY", "--domain", "staging", input=VALUE)
    out = plait_cli("delete", "secret", "API_KEY")
    assert out.exit_code == 1
    assert "secret `API_KEY` does not exist in project `default` (every domain)" in out.output
    out = plait_cli("delete", "secret", "API_KEY", "--domain", "staging")
    assert (out.exit_code, out.output) == (0, "deleted secret API_KEY of project default, domain staging\n")
    assert _stored(api) == {}
