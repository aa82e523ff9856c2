"""`plait.testing` (flytekit's `flytekit.testing`): mocking tasks and workflows, and secrets in tests.

The programs are tests/resources/flyte_basics/mocked.py (a reference task and a slow task)
and secret_reader.py (a grouped secret read by name, as a file and by attribute).
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import plait
import pytest
from plait.errors import UserError
from plait.testing import SecretsManager, patch, task_mock

RESOURCES = Path(__file__).parent.parent / "resources"


@pytest.fixture
def basics() -> Iterator[Any]:
    sys.path.insert(0, str(RESOURCES))
    try:
        yield lambda name: importlib.import_module(f"flyte_basics.{name}")
    finally:
        sys.path.remove(str(RESOURCES))


@pytest.fixture
def no_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No secret in the environment; secret files under a folder of the test."""
    import os

    for name in list(os.environ):
        if name.startswith(("_FSEC_", "PLAIT_SECRET_", "FLYTE_SECRETS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("FLYTE_SECRETS_DEFAULT_DIR", str(tmp_path / "secrets"))
    return tmp_path / "secrets"


# ------------------------------------------------------------------ task_mock and patch


def test_task_mock_stands_in_for_a_reference_task_and_a_slow_task(basics: Any) -> None:
    prog = basics("mocked")
    with task_mock(prog.download_prices) as download, task_mock(prog.normalize) as normalize:
        download.return_value = [2.0, 4.0]
        normalize.side_effect = lambda values: [v / 2 for v in values]
        assert prog.scaled_average(ticker="ACME") == 1.5
    download.assert_called_once_with(ticker="ACME")
    normalize.assert_called_once_with(values=[2.0, 4.0])


def test_a_task_runs_its_own_code_again_after_the_mock(basics: Any) -> None:
    prog = basics("mocked")
    with task_mock(prog.normalize) as normalize:
        normalize.return_value = [1.0]
        assert prog.normalize(values=[5.0]) == [1.0]
    with pytest.raises(UserError, match="reference task `shared.normalize` .* has no code here"):
        prog.normalize(values=[5.0])


def test_task_mock_stands_in_for_a_subworkflow(basics: Any) -> None:
    prog = basics("mocked")
    with task_mock(prog.scaled_average) as sub:
        sub.return_value = 3.25
        assert prog.report(ticker="ACME") == "average 3.25"
    sub.assert_called_once_with(ticker="ACME")


def test_task_mock_stands_in_for_a_dynamic_workflow() -> None:
    @plait.task
    def square(n: int) -> int:
        return n * n

    @plait.dynamic
    def squares(count: int) -> list[int]:
        return [square(n=i) for i in range(count)]

    @plait.workflow
    def total(count: int) -> list[int]:
        return squares(count=count)

    assert total(count=3) == [0, 1, 4]
    with task_mock(squares) as fake:
        fake.return_value = [7]
        assert total(count=3) == [7]
    fake.assert_called_once_with(count=3)


def test_patch_hands_the_mock_to_the_test_function(basics: Any) -> None:
    prog = basics("mocked")
    seen = []

    @patch(prog.download_prices)
    def check(mock_download: mock.MagicMock, factor: float) -> None:
        mock_download.return_value = [1.0, 3.0]
        with task_mock(prog.normalize) as normalize:
            normalize.side_effect = lambda values: [v * factor for v in values]
            seen.append(prog.scaled_average(ticker="X"))

    assert list(inspect.signature(check).parameters) == ["factor"]  # pytest asks no fixture for the mock
    check(10.0)
    assert seen == [20.0]
    with task_mock(prog.normalize):  # the slow task is itself again after the test function
        with pytest.raises(ConnectionError), mock.patch("time.sleep"):
            prog.scaled_average(ticker="X")


def test_task_mock_of_something_that_is_not_a_task_says_what_it_expects() -> None:
    def plain(x: int) -> int:
        return x

    with pytest.raises(UserError, match=r"task_mock\(\) expects a task, workflow or launch plan, got function "
                                        r"`.*plain`; pass the object @task or @workflow made"):
        with task_mock(plain):
            pass


# ------------------------------------------------------------------ SecretsManager


def test_the_secrets_of_a_task_are_a_SecretsManager() -> None:
    assert isinstance(plait.current_context().secrets, SecretsManager)


def test_secret_names_are_flytes(no_secrets: Path) -> None:
    sec = SecretsManager()
    assert sec.get_secrets_env_var("user-info", "user_secret") == "_FSEC_USER-INFO_USER_SECRET"
    assert sec.get_secrets_env_var("db", "password", group_version="v2") == "_FSEC_DB_V2_PASSWORD"
    assert sec.get_secrets_file("User-Info", "User_Secret") == str(no_secrets / "user-info" / "user_secret")
    assert sec.get_secrets_file("db", "password", "V2") == str(no_secrets / "db" / "v2" / "password")


def test_secret_prefixes_follow_flytes_settings(no_secrets: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLYTE_SECRETS_ENV_PREFIX", "_MYSEC_")
    monkeypatch.setenv("FLYTE_SECRETS_FILE_PREFIX", "key-")
    sec = SecretsManager()
    assert sec.get_secrets_env_var("db", "password") == "_MYSEC_DB_PASSWORD"
    assert sec.get_secrets_file("db", "password") == str(no_secrets / "db" / "key-password")


def test_a_workflow_reads_the_secret_set_where_SecretsManager_says(
        basics: Any, no_secrets: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prog = basics("secret_reader")
    sec = SecretsManager()
    monkeypatch.setenv(sec.get_secrets_env_var(prog.GROUP, prog.KEY), "s3cr3t")
    value, path = prog.secret_report()
    assert value == "s3cr3t"
    assert path == sec.get_secrets_file(prog.GROUP, prog.KEY)


def test_plaits_own_spelling_of_the_variable_is_read_too(
        basics: Any, no_secrets: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_FSEC_USER_INFO_USER_SECRET", "from-plait-name")
    assert basics("secret_reader").read_by_name() == "from-plait-name"


def test_a_secret_file_is_read_when_no_variable_is_set(basics: Any, no_secrets: Path) -> None:
    (no_secrets / "billing").mkdir(parents=True)
    (no_secrets / "billing" / "token").write_text("t0k3n\n")
    assert basics("secret_reader").read_by_attribute() == "t0k3n"


def test_patching_SecretsManager_get_answers_every_read(basics: Any, no_secrets: Path) -> None:
    prog = basics("secret_reader")
    with mock.patch.object(SecretsManager, "get", return_value="patched") as get:
        assert prog.read_by_name() == "patched"
        assert prog.read_by_attribute() == "patched"
    assert get.call_args_list == [mock.call(prog.GROUP, prog.KEY), mock.call("billing", "token")]


def test_a_missing_secret_is_a_ValueError_naming_where_it_was_looked_for(basics: Any, no_secrets: Path) -> None:
    with pytest.raises(ValueError, match=r"secret group='billing' key='token' is not set; locally, export "
                                         r"one of \['_FSEC_BILLING_TOKEN'.*or write the file .*billing/token"):
        basics("secret_reader").read_by_attribute()
