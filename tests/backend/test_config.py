"""Settings from the environment, the token file and the endpoint file."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from plait.backend.config import DEFAULT_PORT, Settings, ensure_token
from plait.model.home import (
    endpoint_file,
    read_endpoint,
    read_token,
    remove_endpoint,
    write_endpoint,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_defaults_live_under_plait_home(tmp_path: Path) -> None:
    settings = Settings.from_env({"PLAIT_HOME": str(tmp_path)})
    assert settings.home == tmp_path
    assert settings.database_url == f"sqlite:///{tmp_path}/plait.db"
    assert settings.storage_url == str(tmp_path / "data")
    assert settings.dask_scheduler is None
    assert (settings.host, settings.port) == ("127.0.0.1", DEFAULT_PORT)
    assert settings.url == f"http://127.0.0.1:{DEFAULT_PORT}"
    assert settings.token_file == tmp_path / "token"
    assert settings.endpoint_file == tmp_path / "server.json"


def test_environment_and_overrides(tmp_path: Path) -> None:
    env = {
        "PLAIT_HOME": str(tmp_path),
        "PLAIT_DATABASE_URL": "postgresql://db/plait",
        "PLAIT_STORAGE_URL": "s3://bucket/plait",
        "PLAIT_DASK_SCHEDULER": "tcp://scheduler:8786",
        "PLAIT_HOST": "0.0.0.0",
        "PLAIT_PORT": "9000",
    }
    settings = Settings.from_env(env)
    assert settings.database_url == "postgresql://db/plait"
    assert settings.storage_url == "s3://bucket/plait"
    assert settings.dask_scheduler == "tcp://scheduler:8786"
    assert (settings.host, settings.port) == ("0.0.0.0", 9000)
    other = tmp_path / "other"
    moved = Settings.from_env({"PLAIT_HOME": str(tmp_path)}, home=other, port=0, host=None)
    assert moved.database_url == f"sqlite:///{other}/plait.db"  # defaults follow the home
    assert (moved.host, moved.port) == ("127.0.0.1", 0)
    with pytest.raises(ValueError, match="PLAIT_PORT must be a port number .* found 'http'"):
        Settings.from_env({"PLAIT_PORT": "http"})
    with pytest.raises(TypeError, match="unknown setting"):
        Settings.from_env({}, database="x")


def test_the_token_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert read_token(home) is None
    token = ensure_token(home)
    assert len(token) >= 32
    assert mode(home / "token") == 0o600
    assert ensure_token(home) == token == read_token(home)
    assert [p.name for p in home.iterdir()] == ["token"]  # no temporary files left


def test_a_token_readable_by_others_is_narrowed_to_0600(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("s3cret\n")
    os.chmod(token_file, 0o644)
    assert ensure_token(tmp_path) == "s3cret"
    assert mode(token_file) == 0o600
    os.chmod(token_file, 0o640)
    assert read_token(tmp_path) == "s3cret"
    assert mode(token_file) == 0o600


def test_an_empty_token_file_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("")
    token = ensure_token(tmp_path)
    assert token and read_token(tmp_path) == token
    assert mode(tmp_path / "token") == 0o600


def test_the_endpoint_names_a_live_server(tmp_path: Path) -> None:
    assert read_endpoint(tmp_path) is None
    write_endpoint(tmp_path, "http://127.0.0.1:8742")
    endpoint = read_endpoint(tmp_path)
    assert endpoint is not None
    assert (endpoint.url, endpoint.pid) == ("http://127.0.0.1:8742", os.getpid())
    remove_endpoint(tmp_path, pid=os.getpid() + 1)  # not ours: kept
    assert endpoint_file(tmp_path).exists()
    remove_endpoint(tmp_path)
    assert not endpoint_file(tmp_path).exists()

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    write_endpoint(tmp_path, "http://127.0.0.1:1", pid=int(gone.stdout))
    assert read_endpoint(tmp_path) is None  # its process has exited
