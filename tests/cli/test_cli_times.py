"""Times and durations in `plait get ...` and `%plait executions`: the reader's zone, named, and one
way to write a duration; dates as dates. Against the backend's real API over HTTP (the app served
by uvicorn on a loopback port, a real SQLite store); the run's phases are set in the store by hand,
at known times, since nothing executes here."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import plait
import pytest
from click.testing import CliRunner, Result
from plait.cli import main
from plait.model.times import duration_text
from plait.remote import Remote

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
from fakes import PYTHON, ServedApi, served_api  # noqa: E402

TOKEN = "cli-times-token"
UTC = dt.timezone.utc
STARTED = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
ENDED = STARTED + dt.timedelta(minutes=5, seconds=2)


@plait.task
def later(when: dt.datetime, day: dt.date) -> dt.datetime:
    return when + dt.timedelta(days=(day - when.date()).days)


@plait.workflow
def schedule(when: dt.datetime, day: dt.date) -> dt.datetime:
    return later(when=when, day=day)


@pytest.fixture
def tz(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process reads times in Paris (CET in March, CEST in July)."""
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ServedApi, str]]:
    """The API with `schedule` registered and one run of it that took 5m 2s and returned a datetime."""
    from plait.backend.store.queries import executions as eq

    with served_api(tmp_path / "home", TOKEN) as api:
        with Remote(api.url, token=TOKEN, autostart=False) as remote:
            remote.request("POST", "/api/v1/register", json_body={
                "python_version": PYTHON, "version": "v1", "specs": [later.to_spec(), schedule.to_spec()]})
            run = remote.request("POST", "/api/v1/executions", json_body={
                "kind": "workflow", "name": schedule.name, "version": "v1",
                "inputs": {"when": {"__datetime__": "2026-03-01T09:15:00"}, "day": {"__date__": "2026-03-04"}}})
        execution_id = run.json()["id"]
        with api.db.session() as s:
            eq.set_execution_phase(s, execution_id, "RUNNING", now=STARTED)
            eq.set_execution_phase(s, execution_id, "SUCCEEDED", now=ENDED, outputs={
                "o0": {"literal": {"__datetime__": "2026-03-04T09:15:00"}, "hash": "x"}})
        yield api, execution_id


def cli(api: ServedApi, *args: str) -> Result:
    options = {"remote": {"endpoint": api.url, "token": TOKEN, "autostart": False}}
    return CliRunner().invoke(main, list(args), obj=options, env={"COLUMNS": "200"})


def test_get_execution_shows_times_in_the_local_zone_named_and_values_as_dates(
        served: tuple[ServedApi, str], tz: None) -> None:
    api, execution_id = served
    out = cli(api, "get", "execution", execution_id)
    assert out.exit_code == 0, out.output
    assert "started: 2026-03-01 13:00:00 CET   ended: 2026-03-01 13:05:02 CET   duration: 5m 2s" in out.output
    assert "when = 2026-03-01 09:15:00" in out.output and "day = 2026-03-04" in out.output
    assert "o0 = 2026-03-04 09:15:00" in out.output
    assert "__datetime__" not in out.output and "__date__" not in out.output

    utc = cli(api, "get", "execution", execution_id, "--utc")
    assert "started: 2026-03-01 12:00:00 UTC   ended: 2026-03-01 12:05:02 UTC" in utc.output
    assert "when = 2026-03-01 09:15:00" in utc.output  # a value is data: no zone moves it


def test_get_executions_names_the_zone_once_and_writes_the_duration_as_everywhere(
        served: tuple[ServedApi, str], tz: None) -> None:
    api, execution_id = served
    out = cli(api, "get", "executions")
    assert out.exit_code == 0, out.output
    assert "STARTED (CET)" in out.output
    row = next(line for line in out.output.splitlines() if execution_id in line)
    assert "2026-03-01 13:00:00" in row and "5m 2s" in row
    utc = cli(api, "get", "executions", "--utc")
    assert "STARTED (UTC)" in utc.output and "2026-03-01 12:00:00" in utc.output


def test_every_command_that_prints_times_takes_utc() -> None:
    for command in (["get", "executions"], ["get", "execution"], ["get", "tasks"], ["get", "workflows"],
                    ["get", "launchplans"], ["get", "secrets"], ["get", "schedule-runs"],
                    ["update", "launchplan"]):
        shown = CliRunner().invoke(main, [*command, "--help"])
        assert "--utc" in shown.output, command


def test_the_notebook_lists_the_same_run_with_the_same_words(
        served: tuple[ServedApi, str], tz: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from plait.notebook import remote_magics

    api, execution_id = served
    shown: list[Any] = []
    monkeypatch.setattr("IPython.display.display", lambda bundle, raw=False: shown.append(bundle))
    monkeypatch.setattr(remote_magics, "_CLIENTS",
                        {("default", "development"): Remote(api.url, token=TOKEN, autostart=False)})
    monkeypatch.setattr("plait.remote.discover", lambda: type("Found", (), {"endpoint": None})())
    remote_magics.executions(None, [])
    [bundle] = shown
    header, row = bundle["text/plain"].splitlines()
    assert "STARTED (CET)" in header
    assert row.split()[:6] == [execution_id, schedule.name, "SUCCEEDED", "2026-03-01", "13:00:00", "5m"]
    assert row.endswith("5m 2s")


def test_durations_read_alike_in_the_cli_the_notebook_and_the_lab() -> None:
    # the cases the lab's formatDuration is checked against too (jupyter_ext/test/format.test.ts)
    shared = json.loads((Path(__file__).parents[2] / "jupyter_ext/test/fixtures/durations.json").read_text())
    assert [[s, duration_text(s)] for s, _ in shared["cases"]] == shared["cases"]
    # the lab's formatDuration writes these (jupyter_ext/test/format.test.ts)
    assert [duration_text(s) for s in (None, float("nan"), 0.25, 4.21, 42, 300, 5400)] == [
        "—", "—", "250 ms", "4.2 s", "42 s", "5m 0s", "1h 30m"]
    # and where rounding crosses a unit, the larger unit reads right
    assert [duration_text(s) for s in (0.9996, 9.96, 59.6, 3599.7)] == ["1.0 s", "10 s", "1m 0s", "1h 0m"]
    from plait.notebook.progress import format_seconds

    assert format_seconds(302) == duration_text(302) == "5m 2s"
