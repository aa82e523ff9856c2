"""The secret store: queries on SQLite and PostgreSQL, encryption at rest, the key and its file,
what the executor puts in an attempt's payload, and how the worker masks values."""

from __future__ import annotations

import os
import pickle
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from hypothesis import given, settings
from hypothesis import strategies as st
from plait import Secret, task
from plait.backend import secrets
from plait.backend.execution import worker
from plait.backend.store import Database
from plait.backend.store import queries as q
from plait.model.specs import spec_of
from sqlalchemy import text

VALUE = "correct horse battery staple"


@pytest.fixture(autouse=True)
def no_key_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(secrets.KEY_ENV, raising=False)


# ------------------------------------------------------------------ queries and encryption


def test_a_secret_round_trips_and_the_row_holds_only_its_token(db: Database, tmp_path: Path) -> None:
    home = tmp_path / "home"
    with db.session() as s:
        q.create_secret(s, project="default", domain=None, name="db/password",
                        encrypted_value=secrets.encrypt(VALUE, home))
        q.create_secret(s, project="default", domain="staging", name="db/password",
                        encrypted_value=secrets.encrypt("staging's", home))
    with db.session() as s:
        raw = s.execute(text("SELECT project, domain, name, encrypted_value FROM secrets")).all()
        assert VALUE not in repr(raw)
        assert sorted((r[1], r[2]) for r in raw) == [("", "db/password"), ("staging", "db/password")]
        tokens = q.secret_tokens(s, "default", "development", ["db/password", "nothing"])
        staging = q.secret_tokens(s, "default", "staging", ["db/password"])
    token, scope = tokens["db/password"]
    assert (list(tokens), scope) == (["db/password"], None)
    assert secrets.decrypt(token, "db/password", "here", home) == VALUE
    assert secrets.decrypt(staging["db/password"][0], "db/password", "here", home) == "staging's"
    with db.session() as s:
        assert q.secret_names(s, "default", "production") == {"db/password"}
        record, created = q.put_secret(s, project="default", domain=None, name="db/password",
                                       encrypted_value=secrets.encrypt("new", home))
        assert not created and record.updated_at >= record.created_at
        with pytest.raises(q.Conflict, match="already exists in project `default` \\(every domain\\)"):
            q.create_secret(s, project="default", domain=None, name="db/password", encrypted_value="x")
        q.delete_secret(s, project="default", domain="staging", name="db/password")
        with pytest.raises(q.NotFound, match="secret `db/password` does not exist in project `default`, domain"):
            q.delete_secret(s, project="default", domain="staging", name="db/password")
        assert [(r.name, r.domain) for r in q.list_secrets(s, "default")] == [("db/password", None)]


def test_another_key_cannot_read_a_value(tmp_path: Path) -> None:
    token = secrets.encrypt(VALUE, tmp_path / "one")
    with pytest.raises(secrets.SecretKeyError, match=(
            r"secret db/password of project p cannot be decrypted with the store's key "
            r"\(.*/two/secrets.key\): the key changed since the secret was stored")):
        secrets.decrypt(token, "db/password", "project p", tmp_path / "two")


def test_the_key_file_is_private_and_made_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    previous = os.umask(0)
    try:
        found = []
        threads = [threading.Thread(target=lambda: found.append(secrets.ensure_key_file(home).read_bytes()))
                   for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        os.umask(previous)
    path = home / "secrets.key"
    assert len(set(found)) == 1 and Fernet(found[0].strip())  # one key, the same for every caller
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert [p.name for p in home.iterdir()] == ["secrets.key"]  # no temporary file left
    os.chmod(path, 0o644)
    assert secrets.ensure_key_file(home).read_bytes() == found[0]  # read again, not made again
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # and narrowed


def test_a_key_from_the_environment_is_used_instead_and_may_rotate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv(secrets.KEY_ENV, old)
    token = secrets.encrypt(VALUE, tmp_path)
    assert not (tmp_path / "secrets.key").exists()
    monkeypatch.setenv(secrets.KEY_ENV, f"{new}, {old}")  # the new one encrypts, both decrypt
    assert secrets.decrypt(token, "k", "here", tmp_path) == VALUE
    assert Fernet(new.encode()).decrypt(secrets.encrypt(VALUE, tmp_path).encode()).decode() == VALUE
    monkeypatch.setenv(secrets.KEY_ENV, "not-a-key")
    with pytest.raises(secrets.SecretKeyError, match=r"^PLAIT_SECRETS_KEY is not a Fernet key \(32 bytes"):
        secrets.keyring(tmp_path)


def test_the_server_refuses_to_start_with_a_key_that_is_no_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAIT_")}
    done = subprocess.run([sys.executable, "-m", "plait", "server", "--home", str(tmp_path / "h"), "--port", "0"],
                          env={**env, secrets.KEY_ENV: "abc"}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "plait server: PLAIT_SECRETS_KEY is not a Fernet key" in done.stderr
    assert "abc" not in done.stderr.replace("PLAIT_SECRETS_KEY", "")


# ------------------------------------------------------------------ what an attempt is given


@task(secret_requests=[Secret(group="db", key="password", env_var="DB_PASSWORD"),
                       Secret(key="API_KEY", mount_requirement=Secret.MountType.FILE)])
def two_secrets() -> None:
    return None


def test_the_payload_carries_the_values_sealed_and_names_a_missing_one(db: Database, tmp_path: Path) -> None:
    spec = spec_of(two_secrets)
    with db.session() as s:
        q.create_secret(s, project="default", domain=None, name="db/password",
                        encrypted_value=secrets.encrypt(VALUE, tmp_path))
    lacking = secrets.task_secrets(db, "default", "development", spec, tmp_path)
    assert lacking == {"secret_error": (
        f"task {spec.name} requests secret API_KEY, which project default / domain development does not "
        "have; create it with `plait create secret API_KEY --project default --domain development` (or "
        "without --domain for every domain of the project)")}
    with db.session() as s:
        q.create_secret(s, project="default", domain="development", name="API_KEY",
                        encrypted_value=secrets.encrypt("k3y", tmp_path))
    sealed = secrets.task_secrets(db, "default", "development", spec, tmp_path)["secrets"]
    assert [(g.name, g.mount, g.env_var, g.value) for g in sealed.grants] == [
        ("db/password", "ANY", "DB_PASSWORD", VALUE), ("API_KEY", "FILE", None, "k3y")]
    assert repr(sealed) == "<2 secrets: db/password, API_KEY>" and VALUE not in repr(sealed.grants)
    assert pickle.loads(pickle.dumps(sealed)) == sealed  # as Dask sends it to a worker


def test_an_attempt_gets_variables_files_and_a_context_and_nothing_stays(tmp_path: Path) -> None:
    sealed = secrets.Sealed([secrets.Grant("db/password", "db", "password", "ANY", "DB_PASSWORD", VALUE),
                             secrets.Grant("API_KEY", None, "API_KEY", "FILE", None, "k3y"),
                             secrets.Grant("t", None, "t", "ENV_VAR", None, "tv")])
    granted = worker.AttemptSecrets(sealed)
    try:
        assert {k: v for k, v in granted.env.items() if k != "FLYTE_SECRETS_DEFAULT_DIR"} == {
            "_FSEC_DB_PASSWORD": VALUE, "DB_PASSWORD": VALUE, "_FSEC_T": "tv"}
        folder = Path(granted.env["FLYTE_SECRETS_DEFAULT_DIR"])
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert (folder / "db" / "password").read_text() == VALUE
        assert (folder / "api_key").read_text() == "k3y"
        assert stat.S_IMODE((folder / "api_key").stat().st_mode) == 0o600
        assert worker.mask_running(f"x {VALUE} y") == "x **** y"
    finally:
        granted.close()
    assert not folder.exists()
    assert worker.mask_running(f"x {VALUE} y") == f"x {VALUE} y"  # it ended: nothing to mask


# ------------------------------------------------------------------ masking


def test_a_value_is_masked_in_its_common_encodings() -> None:
    import base64
    import json
    from urllib.parse import quote

    value = 'p@ss "w/rd"\nline-two'
    masker = worker.Masker([value])
    for form in (value, json.dumps(value), repr(value), quote(value, safe=""),
                 base64.b64encode(value.encode()).decode(), value.encode().hex(), "line-two"):
        assert value not in masker.mask(f"<{form}>") and "****" in masker.mask(f"<{form}>"), form
    assert worker.Masker([]).mask("nothing to hide") == "nothing to hide"


class Store:
    def __init__(self) -> None:
        self.text = ""

    def append_text(self, path: str, text: str) -> None:
        self.text += text

    def append_interval_s(self, path: str) -> float:
        return 0.0  # as a local folder: every flush appends

    def close_text(self, path: str) -> None: ...


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["pw-123", "pw-", "123", "p", "w", "-", "x", "\n", "pw-12", "3pw-123"]),
                max_size=30),
       st.lists(st.integers(min_value=0, max_value=40), max_size=10))
def test_a_log_printed_in_pieces_is_masked_as_if_printed_whole(pieces: list[str], flushes: list[int]) -> None:
    store: Any = Store()
    sink = worker.LogSink(store, "logs.txt")
    sink.mask(worker.Masker(["pw-123"]))
    try:
        for i, piece in enumerate(pieces):
            sink.write(piece)
            if i in flushes:
                sink.flush()
                assert "pw-123" not in store.text
    finally:
        sink.close()
    assert store.text == worker.Masker(["pw-123"]).mask("".join(pieces))
