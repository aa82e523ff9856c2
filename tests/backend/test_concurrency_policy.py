"""`ConcurrencyPolicy(max_concurrency)` holds on every way an execution of a launch plan is created.

In-process (the HTTP API with a recording executor, so launched executions stay
QUEUED, which counts as active) on SQLite and PostgreSQL: a burst of 100
concurrent launches of a plan that allows 3 creates exactly 3, and each refused
launch is a 429 naming the limit; executions of every version count, the
launched version's policy decides; a relaunch obeys it too.

On a real `plait server` whose executor runs them: 100 launches from many
threads while earlier ones run and end never have more than 3 active at once,
computed from every execution's creation and end times in the database; and a
launch plan node over its plan's limit fails with the same message.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import plait
import pytest
from fakes import PYTHON, RecordingExecutor
from fastapi.testclient import TestClient
from plait.backend.api import create_app
from plait.backend.config import Settings
from plait.backend.storage import ObjectStore
from plait.backend.store import Database, queries
from plait.remote.bundle import collect
from server_fixture import ServerProcess, running_server

TOKEN = "test-token-concurrency"
RESOURCES = (Path(__file__).parent.parent / "resources").resolve()
PROGRAM = RESOURCES / "launchplans" / "concurrency_limited.py"
LAUNCHES = 100
LIMIT = 3


def limit_message(plan: str, active: int, limit: int = LIMIT) -> str:
    return (
        f"Concurrency limit ({limit}) reached for launch plan {plan} in default/development: {active} of "
        "its executions (across all versions) are queued or running, and its ConcurrencyPolicy skips "
        "launches over the limit; launch again when one ends, or register a version with a higher "
        "max_concurrency"
    )


@pytest.fixture(scope="module")
def program(resource: Any) -> Any:
    return resource("launchplans/concurrency_limited.py")


@dataclass
class Api:
    http: TestClient
    db: Database

    def register(self, *entities: Any, version: str) -> None:
        specs = [{**e.to_spec(), "version": version} for e in entities]
        body = {"python_version": PYTHON, "specs": specs, "version": version}
        answer = self.http.post("/api/v1/register", json=body)
        assert answer.status_code in (200, 201), answer.text

    def launch(self, plan: str, version: str | None = None) -> httpx.Response:
        body: dict[str, Any] = {"kind": "launch_plan", "name": plan, "inputs": {"seconds": 0.1}}
        if version is not None:
            body["version"] = version
        return self.http.post("/api/v1/executions", json=body)

    def burst(self, plan: str, count: int, version: str | None = None) -> list[httpx.Response]:
        """`count` launches at once, from as many threads as the server's thread pool serves."""
        start = threading.Barrier(min(count, 32))

        def one(_: int) -> httpx.Response:
            try:
                start.wait(timeout=10)
            except threading.BrokenBarrierError:
                pass
            return self.launch(plan, version)

        with ThreadPoolExecutor(32) as pool:
            return list(pool.map(one, range(count)))

    def active(self, plan: str) -> list[str]:
        with self.db.session(readonly=True) as s:
            return [e.id for e in queries.list_executions(s, launch_plan=plan, phase=["QUEUED", "RUNNING"],
                                                             limit=1000)]


@pytest.fixture
def api(db: Database, tmp_path: Path, program: Any) -> Iterator[Api]:
    settings = Settings.from_env(env={"PLAIT_MAX_QUEUED": "1000"}, home=str(tmp_path / "home"))
    app = create_app(settings, db, ObjectStore(settings.storage_url), RecordingExecutor(), token=TOKEN)
    with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        started = Api(http, db)
        started.register(program.nap, program.napping, program.nap_lp, version="v1")
        yield started


def test_a_burst_of_100_launches_creates_exactly_the_limit(api: Api) -> None:
    answers = api.burst("nap_lp", LAUNCHES)
    created = [a for a in answers if a.status_code == 201]
    refused = [a for a in answers if a.status_code != 201]
    assert len(created) == LIMIT, [a.text for a in answers if a.status_code not in (201, 429)]
    assert {a.status_code for a in refused} == {429}
    assert {a.json()["message"] for a in refused} == {limit_message("nap_lp", LIMIT)}
    assert {a.headers["Retry-After"] for a in refused} == {"1"}
    assert sorted(api.active("nap_lp")) == sorted(a.json()["id"] for a in created)

    with api.db.session() as s:  # one ends: exactly one place frees
        queries.set_execution_phase(s, created[0].json()["id"], "SUCCEEDED")
    again = api.burst("nap_lp", 40)
    assert sorted(a.status_code for a in again) == [201] + [429] * 39
    assert len(api.active("nap_lp")) == LIMIT


def test_every_version_counts_and_the_launched_versions_policy_decides(api: Api, program: Any) -> None:
    api.register(program.nap, program.napping, program.wider_nap_lp(), version="v2")
    assert [api.launch("nap_lp", "v1").status_code for _ in range(4)] == [201, 201, 201, 429]
    # v2 allows five: the three of v1 count, so two more start
    assert [api.launch("nap_lp", "v2").status_code for _ in range(3)] == [201, 201, 429]
    refused = api.launch("nap_lp", "v2")
    assert refused.json()["message"] == limit_message("nap_lp", 5, limit=5)
    assert api.launch("nap_lp", "v1").json()["message"] == limit_message("nap_lp", 5)


def test_a_relaunch_obeys_the_plans_limit(api: Api) -> None:
    ids = [api.launch("nap_lp").json()["id"] for _ in range(LIMIT)]
    refused = api.http.post(f"/api/v1/executions/{ids[0]}/relaunch")
    assert refused.status_code == 429
    assert refused.json()["message"] == limit_message("nap_lp", LIMIT)
    with api.db.session() as s:
        queries.set_execution_phase(s, ids[0], "FAILED", error={"message": "gone"})
    assert api.http.post(f"/api/v1/executions/{ids[0]}/relaunch").status_code == 201


def test_a_plan_without_a_policy_is_not_limited(api: Api, program: Any) -> None:
    plain = plait.LaunchPlan("unlimited_nap_lp", program.napping)
    api.register(program.nap, program.napping, plain, version="v1")
    assert {a.status_code for a in api.burst("unlimited_nap_lp", 20)} == {201}


# ------------------------------------------------------------------ a real server


@dataclass(frozen=True)
class Served:
    server: ServerProcess
    program: ModuleType  # the module registered (imported by its file name, as `plait register` does)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with running_server(tmp_path_factory.mktemp("plait-concurrency-home"),
                        env={"PLAIT_MAX_QUEUED": "1000"}) as started:
        registration = collect([PROGRAM])
        with started.remote() as remote:
            remote.register_collected(registration)
        (name,) = registration.modules
        try:
            yield Served(started, sys.modules[name])
        finally:
            sys.modules.pop(name, None)
            while str(PROGRAM.parent) in sys.path:
                sys.path.remove(str(PROGRAM.parent))


def _intervals(database: Path, plan: str) -> list[tuple[dt.datetime, dt.datetime | None, str]]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as con:
        rows = con.execute(
            "SELECT created_at, ended_at, phase FROM executions WHERE launch_plan_name = ?", (plan,)
        ).fetchall()
    parse = dt.datetime.fromisoformat
    return [(parse(c), parse(e) if e else None, p) for c, e, p in rows]


def _most_at_once(intervals: list[tuple[dt.datetime, dt.datetime | None, str]]) -> int:
    """The most executions active (created, not yet ended) at any one time."""
    events = []
    for created, ended, _ in intervals:
        events.append((created, 1))
        if ended is not None:
            events.append((ended, -1))
    most = current = 0
    for _, step in sorted(events, key=lambda e: (e[0], e[1])):  # an end before a start at the same time
        current += step
        most = max(most, current)
    return most


@pytest.mark.slow
def test_100_launches_while_others_run_never_have_more_than_3_active(served: Served) -> None:
    server = served.server
    database = server.home / "plait.db"
    seen: list[int] = []
    stop = threading.Event()

    def poll() -> None:  # the phases in the database, all along the run
        while not stop.is_set():
            seen.append(sum(1 for _, _, phase in _intervals(database, "nap_lp")
                            if phase in ("QUEUED", "RUNNING")))
            time.sleep(0.02)

    headers = {"Authorization": f"Bearer {server.token}"}
    body = {"kind": "launch_plan", "name": "nap_lp", "inputs": {"seconds": 0.5}}

    def launches(client: httpx.Client, count: int) -> list[httpx.Response]:
        answers = []
        for _ in range(count):
            answers.append(client.post("/api/v1/executions", json=body))
            time.sleep(0.15)
        return answers

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client, \
                ThreadPoolExecutor(20) as pool:
            answers = [a for batch in pool.map(lambda _: launches(client, LAUNCHES // 20), range(20))
                       for a in batch]
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and any(
                e is None for _, e, _ in _intervals(database, "nap_lp")):
            time.sleep(0.2)
    finally:
        stop.set()
        poller.join()
    created = [a for a in answers if a.status_code == 201]
    refused = [a for a in answers if a.status_code != 201]
    assert len(answers) == LAUNCHES
    assert {a.status_code for a in refused} == {429}, server.log_tail()
    assert all(a.json()["message"].startswith(f"Concurrency limit ({LIMIT}) reached for launch plan nap_lp ")
               for a in refused)
    intervals = _intervals(database, "nap_lp")
    assert len(intervals) == len(created) > LIMIT  # places freed as executions ended
    assert {phase for _, _, phase in intervals} == {"SUCCEEDED"}, server.log_tail()
    assert _most_at_once(intervals) == LIMIT
    assert max(seen) <= LIMIT


@pytest.mark.slow
def test_a_launch_plan_node_over_its_plans_limit_fails_with_the_message(served: Served) -> None:
    with served.server.remote() as remote:
        execution = remote.execute(served.program.twice_limited, {"seconds": 3.0}, wait=True, timeout=90)
    assert execution.phase == "FAILED", served.server.log_tail()
    assert limit_message("one_at_a_time_lp", 1, limit=1) in str(execution.error)


@pytest.mark.slow
def test_map_items_over_a_launch_plan_count_against_its_limit(served: Served) -> None:
    with served.server.remote() as remote:
        execution = remote.execute(served.program.mapped_limited, {"seconds": [3.0, 3.0, 3.0]}, wait=True,
                                   timeout=90)
        children = [e for e in remote.list_executions(limit=200)
                    if e.record.get("parent_execution_id") == execution.id]
    assert execution.phase == "FAILED", served.server.log_tail()
    assert limit_message("one_at_a_time_lp", 1, limit=1) in str(execution.error)
    assert len(children) <= 1  # items over the limit were never launched (one may run from before)
