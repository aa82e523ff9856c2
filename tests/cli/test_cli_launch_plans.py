"""`plait update launchplan --activate|--deactivate`, `plait get schedule-runs` and the
`plait.Remote` methods behind them, against the backend's real API over HTTP (the app served
by uvicorn on a loopback port, a real SQLite store, the real scheduler turned by hand)."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import plait
import pytest
from click.testing import CliRunner, Result
from plait.cli import main
from plait.remote import Remote

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
from fakes import ServedApi, served_api  # noqa: E402

TOKEN = "cli-launch-plans-token"
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
UTC = dt.timezone.utc


@plait.task
def tally(kickoff: dt.datetime) -> str:
    return kickoff.isoformat()


@plait.workflow
def nightly(kickoff: dt.datetime) -> str:
    return tally(kickoff=kickoff)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedApi]:
    """The API with `nightly_lp` registered in two versions (02:00 and 03:00 daily)."""
    with served_api(tmp_path / "home", TOKEN) as api:
        with Remote(api.url, token=TOKEN, autostart=False) as remote:
            for version, hour in (("v1", 2), ("v2", 3)):
                lp = plait.LaunchPlan("nightly_lp", nightly, schedule=plait.CronSchedule(
                    f"0 {hour} * * *", kickoff_time_input_arg="kickoff"))
                remote.request("POST", "/api/v1/register", json_body={
                    "python_version": PYTHON, "version": version, "specs": [nightly.to_spec(), lp.to_spec()]})
        yield api


def cli(served: ServedApi, *args: str) -> Result:
    options = {"remote": {"endpoint": served.url, "token": TOKEN, "autostart": False}}
    return CliRunner().invoke(main, list(args), obj=options, env={"COLUMNS": "200", "TZ": "UTC"})


def test_activate_prints_the_active_version_the_schedule_in_words_and_the_next_times(served: ServedApi) -> None:
    out = cli(served, "update", "launchplan", "nightly_lp", "--version", "v1", "--activate")
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0].startswith("launch plan nightly_lp in default/development: version v1 is active (since ")
    assert lines[1] == "  runs every day at 02:00 (UTC); catch-up after downtime: skip"
    assert lines[2].startswith("  next times: ") and lines[2].count(":00:00") == 5

    out = cli(served, "update", "launchplan", "nightly_lp", "--version", "v2", "--activate", "--catch-up", "latest")
    assert out.exit_code == 0, out.output
    assert "version v2 is active" in out.output and "every day at 03:00 (UTC); catch-up after downtime: latest" in out.output

    out = cli(served, "update", "launchplan", "nightly_lp", "--version", "v2", "--deactivate")
    assert out.exit_code == 0, out.output
    assert out.output.splitlines()[0] == "launch plan nightly_lp in default/development: no version is active"
    assert Remote(served.url, token=TOKEN, autostart=False).launch_plan_state("nightly_lp")["active_version"] is None


def test_update_launchplan_says_what_is_missing_or_wrong(served: ServedApi) -> None:
    out = cli(served, "update", "launchplan", "nightly_lp", "--version", "v1")
    assert out.exit_code == 2 and "--activate or --deactivate" in out.output
    out = cli(served, "update", "launchplan", "nightly_lp", "--version", "v9", "--activate")
    assert out.exit_code == 1
    assert "launch plan `nightly_lp` version `v9` is not registered in default/development" in out.output
    out = cli(served, "update", "launchplan", "nightly_lp", "--version", "v1", "--deactivate", "--catch-up", "all")
    assert out.exit_code == 2 and "--catch-up goes with --activate" in out.output


def test_remote_activates_and_deactivates_in_the_reference_and_flyte_spellings(served: ServedApi) -> None:
    remote = Remote(served.url, token=TOKEN, autostart=False)
    assert remote.activate_launch_plan("nightly_lp", "v1")["active_version"] == "v1"
    assert remote.deactivate_launch_plan("nightly_lp", "v2")["active_version"] == "v1"  # v2 was not active
    assert remote.deactivate_launch_plan("nightly_lp")["active_version"] is None

    @dataclass
    class Identifier:  # what flytekit's launch plan ids look like
        project: str
        domain: str
        name: str
        version: str

    assert remote.update_launch_plan(Identifier("default", "development", "nightly_lp", "v2"),
                                     "ACTIVE")["active_version"] == "v2"
    assert remote.update_launch_plan(("nightly_lp", "v2"), "INACTIVE")["active_version"] is None
    assert remote.update_launch_plan(("default", "development", "nightly_lp", "v1"),
                                     "ACTIVE")["active_version"] == "v1"
    with pytest.raises(plait.errors.UserError, match='expected the state "ACTIVE" or "INACTIVE", got \'ON\''):
        remote.update_launch_plan(("nightly_lp", "v1"), "ON")
    with pytest.raises(plait.errors.UserError, match="expected a launch plan id with a name and a version"):
        remote.update_launch_plan("nightly_lp", "ACTIVE")


def test_get_schedule_runs_lists_each_tick_with_its_outcome(served: ServedApi) -> None:
    from plait.backend.execution.scheduler import Scheduler
    from plait.backend.store.queries import launch_plans as lpq

    start = dt.datetime(2026, 3, 1, 12, tzinfo=UTC)
    with served.db.session() as s:
        lpq.activate_launch_plan(s, "default", "development", "nightly_lp", "v1", now=start)
    scheduler = Scheduler(served.db, served.executor.submit, grace_s=60)
    scheduler.turn(now=dt.datetime(2026, 3, 2, 2, 0, 5, tzinfo=UTC))
    scheduler.turn(now=dt.datetime(2026, 3, 4, 2, 0, 5, tzinfo=UTC))  # down on the 3rd: missed
    out = cli(served, "get", "schedule-runs", "nightly_lp")
    assert out.exit_code == 0, out.output
    rows = [line for line in out.output.splitlines() if "2026-03-0" in line]
    assert [r.split("│")[1].strip() for r in rows] == ["2026-03-04 02:00:00", "2026-03-03 02:00:00",
                                                       "2026-03-02 02:00:00"]
    assert [r.split("│")[2].strip() for r in rows] == ["launched", "missed", "launched"]
    assert served.executor.submitted[0] in rows[2] and "was not running at this tick" in out.output
    runs = Remote(served.url, token=TOKEN, autostart=False).schedule_runs("nightly_lp", outcome="missed")
    assert [(r["tick"], r["outcome"], r["version"]) for r in runs] == [("2026-03-03T02:00:00Z", "missed", "v1")]
    out = cli(served, "get", "schedule-runs", "no_such_plan")
    assert out.exit_code == 1 and "launch plan `no_such_plan` is not registered" in out.output
