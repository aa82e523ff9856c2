"""Launch plan activation through the HTTP API: at most one active version per plan, new
versions inactive unless `auto_activate`, the schedule in words with its next five times, and
the ticks the scheduler handled.

A real SQLite database and object store; the executor is a recorder (these tests are about
the API; tests/backend/test_scheduler.py runs the scheduler on a real server).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import plait
import pytest
from fakes import PYTHON, RecordingExecutor
from fastapi.testclient import TestClient
from plait.backend.api import create_app
from plait.backend.config import Settings
from plait.backend.execution.scheduler import Scheduler
from plait.backend.storage import ObjectStore
from plait.backend.store import Database

TOKEN = "launch-plan-state-token"
UTC = dt.timezone.utc


@plait.task
def greet(kickoff: dt.datetime) -> str:
    return f"hello at {kickoff.isoformat()}"


@plait.workflow
def greeting(kickoff: dt.datetime) -> str:
    return greet(kickoff=kickoff)


def plan(schedule: Any = None, **settings: Any) -> dict[str, Any]:
    spec: dict[str, Any] = plait.LaunchPlan("greeter", greeting, schedule=schedule, **settings).to_spec()
    return spec


DAILY = plait.CronSchedule("30 9 * * *", kickoff_time_input_arg="kickoff")


class Api:
    def __init__(self, client: TestClient, db: Database, executor: RecordingExecutor) -> None:
        self.client, self.db, self.executor = client, db, executor

    def register(self, version: str, *specs: dict[str, Any]) -> httpx.Response:
        body = {"python_version": PYTHON, "version": version, "specs": [greeting.to_spec(), *specs]}
        return self.client.post("/api/v1/register", json=body)

    def state(self, name: str = "greeter", **params: Any) -> dict[str, Any]:
        answer = self.client.get(f"/api/v1/launch_plans/{name}/state", params=params)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def post(self, path: str, body: Any = None) -> httpx.Response:
        return self.client.post(f"/api/v1/launch_plans/{path}", json=body)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = Settings.from_env(env={}, home=str(tmp_path / "home"))
    db = Database(settings.database_url)
    db.migrate()
    executor = RecordingExecutor()
    app = create_app(settings, db, ObjectStore(settings.storage_url), executor, token=TOKEN)
    with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield Api(client, db, executor)
    db.dispose()


def test_new_versions_are_inactive_unless_auto_activate_and_the_active_one_stays_active(api: Api) -> None:
    assert api.register("v1", plan(DAILY)).status_code == 201
    state = api.state()
    assert state["active_version"] is None and state["version"] == "v1"
    assert state["schedule"]["description"] == "every day at 09:30 (UTC)"

    assert api.register("v2", plan(DAILY, auto_activate=True)).status_code == 201
    assert api.state()["active_version"] == "v2"
    assert api.register("v3", plan(DAILY)).status_code == 201  # later, not auto-activated
    assert api.state()["active_version"] == "v2"
    assert api.register("v2", plan(DAILY, auto_activate=True)).status_code == 200  # same again: nothing moves
    assert api.state()["active_version"] == "v2"


def test_activating_a_version_deactivates_the_other_and_shows_the_next_five_times(api: Api) -> None:
    api.register("v1", plan(DAILY))
    api.register("v2", plan(plait.CronSchedule("*/15 * * * *", kickoff_time_input_arg="kickoff")))
    answer = api.post("greeter/versions/v1/activate")
    assert answer.status_code == 200, answer.text
    assert answer.json()["active_version"] == "v1"
    state = api.post("greeter/versions/v2/activate").json()
    assert state["active_version"] == "v2" and state["version"] == "v2"
    schedule = state["schedule"]
    assert schedule["description"] == "every 15 minutes (UTC)" and schedule["catch_up"] == "skip"
    assert schedule["kickoff_time_input_arg"] == "kickoff" and schedule["time_zone"] == "UTC"
    times = [dt.datetime.fromisoformat(t) for t in schedule["next_times"]]
    assert len(times) == 5 and all(t.minute % 15 == 0 and t.second == 0 for t in times)
    assert all(b - a == dt.timedelta(minutes=15) for a, b in zip(times, times[1:], strict=False))
    assert dt.datetime.now(UTC) < times[0] <= dt.datetime.now(UTC) + dt.timedelta(minutes=15)

    # Deactivating a version that is not the active one changes nothing.
    assert api.post("greeter/versions/v1/deactivate").json()["active_version"] == "v2"
    assert api.post("greeter/versions/v2/deactivate").json()["active_version"] is None
    api.post("greeter/versions/v1/activate", {"catch_up": "all"})
    assert api.state()["schedule"]["catch_up"] == "all"
    assert api.post("greeter/deactivate").json()["active_version"] is None


def test_a_fixed_rate_in_a_time_zone_is_described_and_counts_from_the_activation(api: Api) -> None:
    api.register("v1", plan(plait.FixedRate(dt.timedelta(hours=6))))
    before = dt.datetime.now(UTC)
    state = api.post("greeter/versions/v1/activate").json()
    assert state["schedule"]["description"] == "every 6 hours from the activation time"
    activated = dt.datetime.fromisoformat(state["activated_at"])
    assert before <= activated
    assert [dt.datetime.fromisoformat(t) for t in state["schedule"]["next_times"]] == [
        activated + dt.timedelta(hours=6 * k) for k in range(1, 6)]
    paris = plan({**DAILY.to_spec(), "time_zone": "Europe/Paris"})
    paris["name"] = "greeter_paris"
    api.register("v2", paris)
    described = api.state("greeter_paris")["schedule"]
    assert described["description"] == "every day at 09:30 (Europe/Paris)"
    assert {dt.datetime.fromisoformat(t).hour for t in described["next_times"]} <= {7, 8}  # 09:30 CEST or CET


def test_unknown_plans_versions_and_schedules_are_refused_with_what_to_do(api: Api) -> None:
    api.register("v1", plan(DAILY))
    missing = api.client.get("/api/v1/launch_plans/nope/state")
    assert missing.status_code == 404 and "launch plan `nope` is not registered" in missing.json()["message"]
    answer = api.post("greeter/versions/v9/activate")
    assert answer.status_code == 404 and "version `v9`" in answer.json()["message"]
    bad = plan({**DAILY.to_spec(), "time_zone": "Mars/Base"})
    refused = api.register("v2", bad)
    assert refused.status_code == 422
    assert "unknown time zone 'Mars/Base'" in refused.json()["message"]
    assert refused.json()["field"] == "specs[1].schedule"
    wrong = api.post("greeter/versions/v1/activate", {"catch_up": "burst"})
    assert wrong.status_code == 422


def test_schedule_runs_list_each_tick_newest_first_with_its_outcome(api: Api) -> None:
    api.register("v1", plan(DAILY, concurrency={"max_concurrency": 1, "behavior": "SKIP"}))
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    from plait.backend.store.queries import launch_plans as lpq

    with api.db.session() as s:
        lpq.activate_launch_plan(s, "default", "development", "greeter", "v1", now=start)
    scheduler = Scheduler(api.db, api.executor.submit)
    scheduler.turn(now=start.replace(hour=9, minute=30, second=1))
    scheduler.turn(now=start.replace(day=3, hour=9, minute=30, second=1))  # the first run is still queued
    answer = api.client.get("/api/v1/launch_plans/greeter/schedule_runs")
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert [(i["tick"], i["outcome"]) for i in items] == [
        ("2026-03-03T09:30:00Z", "skipped"), ("2026-03-02T09:30:00Z", "launched")]
    assert items[1]["execution_id"] == api.executor.submitted[0]
    assert "Concurrency limit (1) reached for launch plan greeter" in items[0]["detail"]
    only = api.client.get("/api/v1/launch_plans/greeter/schedule_runs", params={"outcome": "launched"}).json()
    assert [i["outcome"] for i in only["items"]] == ["launched"]
    execution = api.client.get(f"/api/v1/executions/{items[1]['execution_id']}").json()
    assert execution["inputs"]["kickoff"]["literal"] == {"__datetime__": "2026-03-02T09:30:00+00:00"}
    listed = api.client.get("/api/v1/executions", params={"launch_plan": "greeter"}).json()["items"]
    assert [e["id"] for e in listed] == api.executor.submitted
