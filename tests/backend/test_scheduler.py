"""The scheduler: active scheduled launch plans fire on their ticks, each tick once.

Most tests turn the scheduler by hand with a given `now` on a migrated
database (SQLite and PostgreSQL); the last ones run `plait server` with real
time: a per-minute cron fires with its kickoff time, a rate of seconds fires
again and again, and a backend killed with SIGKILL across ticks fires each
tick at most once after its restart and records the ones it missed.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import plait
import pytest
from fakes import PYTHON
from plait.backend.execution.scheduler import Scheduler, execution_name, parse_schedule
from plait.backend.store import Database, queries
from plait.backend.store.models import NotificationDelivery
from plait.backend.store.queries import launch_plans as lpq
from plait.errors import UserError
from server_fixture import running_server
from sqlalchemy import select

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 2, 12, 0, 30, tzinfo=UTC)  # activation time of most tests


@plait.task
def stamp(kickoff: dt.datetime, label: str) -> str:
    return f"{label} {kickoff.isoformat()}"


@plait.workflow
def stamped(kickoff: dt.datetime, label: str = "tick") -> str:
    return stamp(kickoff=kickoff, label=label)


@plait.workflow
def needs_count(count: int) -> int:
    return count


def plan_spec(name: str, workflow: Any = stamped, **settings: Any) -> dict[str, Any]:
    spec: dict[str, Any] = plait.LaunchPlan(name, workflow).to_spec()
    spec.update(settings)
    return spec


def cron(expr: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "cron", "schedule": expr, "cron_expression": None, "kickoff_time_input_arg": "kickoff", **extra}


def register(db: Database, *specs: dict[str, Any], version: str = "v1") -> None:
    with db.session() as s:
        for spec in specs:
            kind = "launch_plan" if spec["kind"] == "launch_plan" else spec["kind"]
            queries.register_entity(s, kind=kind, project="default", domain="development", name=spec["name"],
                                    version=version, digest=f"{spec['name']}-{version}", spec=spec,
                                    description="", bundle_digest=None)


def setup_plan(db: Database, name: str, schedule: dict[str, Any], *, version: str = "v1", workflow: Any = stamped,
               at: dt.datetime = T0, catch_up: str | None = None, **settings: Any) -> None:
    register(db, workflow.to_spec(), plan_spec(name, workflow, schedule=schedule, **settings), version=version)
    with db.session() as s:
        lpq.activate_launch_plan(s, "default", "development", name, version, catch_up=catch_up, now=at)


class Recorder:
    def __init__(self) -> None:
        self.submitted: list[str] = []

    def __call__(self, execution_id: str) -> None:
        self.submitted.append(execution_id)


def scheduler(db: Database, **kw: Any) -> tuple[Scheduler, Recorder]:
    submitted = Recorder()
    return Scheduler(db, submitted, **kw), submitted


def runs(db: Database, name: str) -> list[lpq.ScheduleRunRecord]:
    with db.session(readonly=True) as s:
        return list(reversed(lpq.list_schedule_runs(s, "default", "development", name)))


def at(minute: int, second: float = 0.5) -> dt.datetime:
    return T0.replace(second=0) + dt.timedelta(minutes=minute, seconds=second)


# ------------------------------------------------------------------ schedules


def test_cron_fields_names_ranges_steps_question_marks_and_aliases_give_the_reference_times() -> None:
    start = dt.datetime(2026, 3, 2, 8, 59, tzinfo=UTC)  # a Monday

    def times(spec: dict[str, Any], n: int = 3) -> list[str]:
        schedule = parse_schedule(spec)
        assert schedule is not None
        return [t.strftime("%a %d %H:%M") for t in schedule.next_times(start, n)]

    assert times(cron("0 9 ? * MON-FRI")) == ["Mon 02 09:00", "Tue 03 09:00", "Wed 04 09:00"]
    assert times(cron("*/20 9-10 * * *"), 4) == ["Mon 02 09:00", "Mon 02 09:20", "Mon 02 09:40", "Mon 02 10:00"]
    assert times(cron("@weekly"), 2) == ["Sun 08 00:00", "Sun 15 00:00"]
    assert times(cron("@hourly"), 2) == ["Mon 02 09:00", "Mon 02 10:00"]
    assert times(cron("@daily"), 1) == ["Tue 03 00:00"]
    assert times(cron("@monthly"), 1) == ["Wed 01 00:00"]
    assert times(cron("@yearly"), 1) == ["Fri 01 00:00"]
    aws = {"kind": "cron", "schedule": None, "cron_expression": "0 10 ? * MON 2027", "kickoff_time_input_arg": None}
    assert [t.isoformat() for t in parse_schedule(aws).next_times(start, 1)] == ["2027-01-04T10:00:00+00:00"]
    schedule = parse_schedule(cron("30 9 * * 1", time_zone="Europe/Paris"))
    assert schedule is not None and schedule.describe() == "every Monday at 09:30 (Europe/Paris)"
    assert parse_schedule(cron("* * * * *")).describe() == "every minute (UTC)"


def test_a_local_time_that_does_not_exist_fires_once_and_a_repeated_one_once() -> None:
    daily_230 = parse_schedule(cron("30 2 * * *", time_zone="America/New_York"))
    # 2026-03-08: clocks go from 02:00 to 03:00 in New York; 02:30 does not exist that day.
    spring = daily_230.next_times(dt.datetime(2026, 3, 7, 12, tzinfo=UTC), 3)
    assert [t.isoformat() for t in spring] == [
        "2026-03-08T07:30:00+00:00",  # once, at 03:30 EDT, the first instant after the gap
        "2026-03-09T06:30:00+00:00",
        "2026-03-10T06:30:00+00:00",
    ]
    # 2026-11-01: clocks go from 02:00 back to 01:00; 01:30 happens twice. It fires once.
    daily_130 = parse_schedule(cron("30 1 * * *", time_zone="America/New_York"))
    autumn = daily_130.next_times(dt.datetime(2026, 10, 31, 12, tzinfo=UTC), 3)
    assert [t.isoformat() for t in autumn] == [
        "2026-11-01T05:30:00+00:00", "2026-11-02T06:30:00+00:00", "2026-11-03T06:30:00+00:00",
    ]
    # Every half hour across the gap: each instant once, none twice.
    halves = parse_schedule(cron("*/30 * * * *", time_zone="America/New_York"))
    around = halves.next_times(dt.datetime(2026, 3, 8, 6, 15, tzinfo=UTC), 4)
    assert [t.strftime("%H:%M") for t in around] == ["06:30", "07:00", "07:30", "08:00"]


def test_schedules_the_scheduler_cannot_follow_are_refused_with_the_fix() -> None:
    with pytest.raises(UserError, match="unknown time zone 'Mars/Base'.*IANA name"):
        parse_schedule(cron("* * * * *", time_zone="Mars/Base"))
    with pytest.raises(UserError, match="catch-up policy 'burst'.*skip, latest, all"):
        parse_schedule(cron("* * * * *", catch_up="burst"))
    with pytest.raises(UserError, match="`unit` of SECOND, MINUTE, HOUR, DAY, found value 1 and unit .WEEK."):
        parse_schedule({"kind": "fixed_rate", "value": 1, "unit": "WEEK"})


def test_execution_names_come_from_the_plan_and_the_tick_and_fit_the_rules() -> None:
    tick = dt.datetime(2026, 3, 2, 12, 1, tzinfo=UTC)
    name = execution_name("default", "development", "Nightly_Report.v2", tick)
    assert name == execution_name("default", "development", "Nightly_Report.v2", tick)
    assert name.startswith("nightly-report-v2-20260302t120100-")
    assert name != execution_name("default", "staging", "Nightly_Report.v2", tick)
    long = execution_name("default", "development", "9" + "x" * 300, tick)
    assert len(long) <= 64 and long[0].isalpha()


# ------------------------------------------------------------------ firing


def test_a_cron_tick_launches_once_with_the_tick_as_kickoff_time(db: Database) -> None:
    setup_plan(db, "every_minute", cron("* * * * *"))
    sched, submitted = scheduler(db)
    assert sched.turn(now=at(0, 59)) == []  # 12:00:59: the first tick after activation is 12:01
    handled = sched.turn(now=at(1, 0.2))
    assert [(h.outcome, h.tick) for h in handled] == [("launched", at(1, 0))]
    assert sched.turn(now=at(1, 0.9)) == []
    again, others = scheduler(db)  # another backend process looking at the same tick
    assert again.turn(now=at(1, 1)) == []
    assert others.submitted == [] and submitted.submitted == [handled[0].execution_id]
    with db.session(readonly=True) as s:
        execution = queries.get_execution(s, handled[0].execution_id)
    assert execution.phase == "QUEUED"
    assert (execution.launch_plan_name, execution.launch_plan_version) == ("every_minute", "v1")
    assert execution.inputs["kickoff"]["literal"] == {"__datetime__": "2026-03-02T12:01:00+00:00"}
    assert execution.inputs["label"]["literal"] == "tick"
    [run] = runs(db, "every_minute")
    assert (run.outcome, run.execution_id, run.version) == ("launched", handled[0].execution_id, "v1")


def test_two_schedulers_racing_on_one_tick_create_one_execution(db: Database) -> None:
    setup_plan(db, "raced", cron("* * * * *"))
    scheds = [scheduler(db) for _ in range(4)]
    barrier = threading.Barrier(len(scheds))
    results: list[Any] = []

    def go(sched: Scheduler) -> None:
        barrier.wait()
        results.append(sched.turn(now=at(1)))

    threads = [threading.Thread(target=go, args=(s,)) for s, _ in scheds]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    launched = [h for r in results for h in r]
    assert [h.outcome for h in launched] == ["launched"]
    assert sum(len(rec.submitted) for _, rec in scheds) == 1
    with db.session(readonly=True) as s:
        assert len(queries.list_executions(s, launch_plan="raced")) == 1


def test_after_downtime_skip_fires_only_a_tick_within_the_grace_and_records_the_missed(db: Database) -> None:
    setup_plan(db, "skipper", cron("* * * * *"))
    sched, submitted = scheduler(db, grace_s=30)
    handled = sched.turn(now=at(5, 10))  # down from 12:00:30 to 12:05:10
    assert [(h.tick.minute, h.outcome) for h in handled] == [
        (1, "missed"), (2, "missed"), (3, "missed"), (4, "missed"), (5, "launched")]
    assert len(submitted.submitted) == 1
    missed = runs(db, "skipper")[0]
    assert "more than 30 s late" in (missed.detail or "") and "catch-up policy `skip`" in (missed.detail or "")
    handled = sched.turn(now=at(7, 45))  # 12:06 and 12:07 both more than 30 s late: nothing fires
    assert [(h.tick.minute, h.outcome) for h in handled] == [(6, "missed"), (7, "missed")]
    assert len(submitted.submitted) == 1


def test_catch_up_latest_fires_the_newest_missed_tick_and_all_fires_each_up_to_the_bound(db: Database) -> None:
    setup_plan(db, "latest", cron("* * * * *"), catch_up="latest")
    setup_plan(db, "all", cron("* * * * *", catch_up="all"), version="v2")
    sched, submitted = scheduler(db, grace_s=5, max_catch_up=3)
    handled = sched.turn(now=at(5, 40))
    by_plan: dict[str, list[tuple[int, str]]] = {}
    for h in handled:
        by_plan.setdefault(h.name, []).append((h.tick.minute, h.outcome))
    assert by_plan["latest"] == [(1, "missed"), (2, "missed"), (3, "missed"), (4, "missed"), (5, "launched")]
    assert by_plan["all"] == [(1, "missed"), (2, "missed"), (3, "launched"), (4, "launched"), (5, "launched")]
    assert len(submitted.submitted) == 4
    with db.session(readonly=True) as s:
        state = lpq.get_launch_plan_state(s, "default", "development", "latest")
    assert state.catch_up == "latest" and state.last_tick == at(5, 0)


def test_a_fixed_rate_counts_from_the_activation_time(db: Database) -> None:
    setup_plan(db, "rate", {"kind": "fixed_rate", "value": 10, "unit": "MINUTE", "kickoff_time_input_arg": "kickoff"})
    sched, _ = scheduler(db)
    assert sched.turn(now=T0 + dt.timedelta(minutes=9, seconds=59)) == []
    [first] = sched.turn(now=T0 + dt.timedelta(minutes=10, seconds=1))
    assert first.tick == T0 + dt.timedelta(minutes=10) and first.outcome == "launched"
    [second] = sched.turn(now=T0 + dt.timedelta(minutes=20))
    assert second.tick == T0 + dt.timedelta(minutes=20)


def test_deactivation_stops_the_next_tick_and_a_new_active_version_goes_on_without_a_double_fire(
    db: Database,
) -> None:
    setup_plan(db, "edited", cron("* * * * *"))
    sched, submitted = scheduler(db)
    assert [h.outcome for h in sched.turn(now=at(1))] == ["launched"]
    # v2 runs every two minutes; activated right after v1 fired 12:01.
    register(db, stamped.to_spec(), plan_spec("edited", schedule=cron("*/2 * * * *")), version="v2")
    with db.session() as s:
        lpq.activate_launch_plan(s, "default", "development", "edited", "v2", now=at(1, 1))
    assert sched.turn(now=at(1, 2)) == []  # 12:01 was fired by v1: not again
    [tick] = sched.turn(now=at(2))
    assert (tick.tick, tick.outcome) == (at(2, 0), "launched")
    assert sched.turn(now=at(3)) == []  # 12:03 is not a tick of v2
    assert [r.version for r in runs(db, "edited")] == ["v1", "v2"]
    with db.session() as s:
        lpq.deactivate_launch_plan(s, "default", "development", "edited", "v2")
    assert sched.turn(now=at(4)) == [] and sched.turn(now=at(6)) == []
    assert len(submitted.submitted) == 2
    with db.session() as s:  # active again: from now on, with nothing fired for the time it was off
        lpq.activate_launch_plan(s, "default", "development", "edited", "v2", now=at(6, 30))
    assert [(h.tick, h.outcome) for h in sched.turn(now=at(8))] == [(at(8, 0), "launched")]


def test_a_tick_over_the_concurrency_limit_is_recorded_as_skipped_with_the_count(db: Database) -> None:
    email = plait.Email(phases=[plait.WorkflowExecutionPhase.FAILED], recipients_email=["ops@example.com"])
    setup_plan(db, "one_at_a_time", cron("* * * * *"), concurrency={"max_concurrency": 1, "behavior": "SKIP"},
               notifications=[email.to_spec()])
    sched, submitted = scheduler(db)
    assert [h.outcome for h in sched.turn(now=at(1))] == ["launched"]
    [skipped] = sched.turn(now=at(2))  # the first run is still queued
    assert skipped.outcome == "skipped"
    assert skipped.detail is not None and "Concurrency limit (1) reached for launch plan one_at_a_time" in skipped.detail
    assert "1 of its executions (across all versions) are queued or running" in skipped.detail
    assert len(submitted.submitted) == 1
    with db.session() as s:
        queries.set_execution_phase(s, submitted.submitted[0], "SUCCEEDED")
    assert [h.outcome for h in sched.turn(now=at(3))] == ["launched"]
    assert [r.outcome for r in runs(db, "one_at_a_time")] == ["launched", "skipped", "launched"]
    # The plan's notifications hear of the skipped run (whatever their phases), once.
    with db.session(readonly=True) as s:
        queued = s.scalars(select(NotificationDelivery)).all()
    assert [(n.event, n.channel, n.recipients) for n in queued] == [
        ("schedule_skipped", "email", ["ops@example.com"])]
    assert queued[0].message["tick"] == at(2, 0).isoformat() and queued[0].message["active"] == 1


def test_a_tick_whose_launch_is_refused_is_recorded_as_failed_with_why(db: Database) -> None:
    setup_plan(db, "no_count", cron("* * * * *", kickoff_time_input_arg=None), workflow=needs_count)
    sched, submitted = scheduler(db)
    [failed] = sched.turn(now=at(1))
    assert failed.outcome == "failed" and submitted.submitted == []
    assert "needs input `count` (int); none was given" in (failed.detail or "")
    [run] = runs(db, "no_count")
    assert run.outcome == "failed" and run.execution_id is None and run.detail == failed.detail
    with db.session(readonly=True) as s:
        assert queries.list_executions(s, launch_plan="no_count") == []


# ------------------------------------------------------------------ real time, a real server


def _post(server: Any, path: str, body: Any = None, **params: Any) -> Any:
    answer = httpx.post(f"{server.url}/api/v1{path}", json=body, params=params or None, timeout=30,
                        headers={"Authorization": f"Bearer {server.token}"})
    assert answer.status_code < 300, answer.text
    return answer.json()


def _get(server: Any, path: str, **params: Any) -> Any:
    answer = httpx.get(f"{server.url}/api/v1{path}", params=params or None, timeout=30,
                       headers={"Authorization": f"Bearer {server.token}"})
    assert answer.status_code < 300, answer.text
    return answer.json()


def _register_rate(server: Any, name: str, seconds: int, version: str = "v1", **schedule: Any) -> None:
    spec = plan_spec(name, schedule={"kind": "fixed_rate", "value": seconds, "unit": "SECOND",
                                     "kickoff_time_input_arg": "kickoff", **schedule})
    body = {"python_version": PYTHON, "version": version, "specs": [spec]}
    _post(server, "/register", body)


@pytest.mark.slow
def test_a_per_minute_cron_plan_fires_on_a_running_server_with_its_tick_as_kickoff_time(tmp_path: Path) -> None:
    every_minute = plait.LaunchPlan.get_or_create(
        stamped, name="every_minute_e2e", schedule=plait.CronSchedule("* * * * *", kickoff_time_input_arg="kickoff"),
        auto_activate=True)
    with running_server(tmp_path / "home") as server:
        remote = server.remote()
        remote.register(every_minute, version="v1")
        state = remote.launch_plan_state("every_minute_e2e")
        assert state["active_version"] == "v1"
        first_tick = dt.datetime.fromisoformat(state["schedule"]["next_times"][0])
        deadline = time.monotonic() + 75
        found: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not found:
            found = remote.schedule_runs("every_minute_e2e")
            time.sleep(0.5)
        assert found, server.log_tail()
        [run] = found
        assert run["outcome"] == "launched" and dt.datetime.fromisoformat(run["tick"]) == first_tick
        execution = remote.fetch_execution(run["execution_id"]).wait(timeout=120)
        assert execution.phase == "SUCCEEDED", server.log_tail()
        assert execution.outputs["o0"] == f"tick {first_tick.isoformat()}"
        late = dt.datetime.fromisoformat(execution.record["created_at"]) - first_tick
        assert dt.timedelta(0) <= late < dt.timedelta(seconds=3)


@pytest.mark.slow
def test_a_backend_killed_across_ticks_fires_each_tick_at_most_once_and_records_the_missed(
    tmp_path: Path, database_url: str,
) -> None:
    home = tmp_path / "home"
    env = {"PLAIT_SCHEDULE_GRACE_S": "1"}
    args = ("--database-url", database_url)
    with running_server(home, *args, env=env) as server:
        stamped_lp = plait.LaunchPlan.get_or_create(stamped, name="stamped_base")
        server.remote().register(stamped_lp, version="v1")
        _register_rate(server, "every_2s", 2)
        _register_rate(server, "every_2s_latest", 2)
        _post(server, "/launch_plans/every_2s/versions/v1/activate")
        _post(server, "/launch_plans/every_2s_latest/versions/v1/activate", {"catch_up": "latest"})
        time.sleep(5)
        before = _get(server, "/launch_plans/every_2s/schedule_runs")["items"]
        assert [r["outcome"] for r in before][:2] == ["launched", "launched"], server.log_tail()
        os.killpg(server.process.pid, signal.SIGKILL)  # kill -9 of the backend and its workers
        server.process.wait(timeout=10)
        killed_at = dt.datetime.now(UTC)
    time.sleep(7)  # three ticks or more pass while it is down
    with running_server(home, *args, env=env) as server:
        time.sleep(5)
        _post(server, "/launch_plans/every_2s/deactivate")
        _post(server, "/launch_plans/every_2s_latest/deactivate")
        items = _get(server, "/launch_plans/every_2s/schedule_runs", limit=500)["items"]
        ticks = [r["tick"] for r in items]
        assert len(ticks) == len(set(ticks))
        # After the kill: the ticks of the downtime recorded as missed (catch-up `skip`: none of
        # them more than the grace late fires), then each tick launched again.
        since = sorted((r for r in items if dt.datetime.fromisoformat(r["tick"]) > killed_at),
                       key=lambda r: r["tick"])
        outcomes = [r["outcome"] for r in since]
        assert "launched" in outcomes, items
        first = outcomes.index("launched")
        assert first >= 3 and set(outcomes[:first]) == {"missed"}, outcomes
        assert outcomes[first:] == ["launched"] * len(outcomes[first:]) and len(outcomes) - first >= 2, outcomes
        assert "was not running at this tick" in since[0]["detail"]
        launched = {r["execution_id"] for r in items if r["outcome"] == "launched"}
        executions = _get(server, "/executions", launch_plan="every_2s", limit=500)["items"]
        assert {e["id"] for e in executions} == launched
        # Catch-up `latest`: the newest tick of the downtime fires once, however late.
        items = _get(server, "/launch_plans/every_2s_latest/schedule_runs", limit=500)["items"]
        assert len({r["tick"] for r in items}) == len(items)
        since = sorted((r for r in items if dt.datetime.fromisoformat(r["tick"]) > killed_at),
                       key=lambda r: r["tick"])
        outcomes = [r["outcome"] for r in since]
        first = outcomes.index("launched")
        assert first >= 2 and set(outcomes[:first]) == {"missed"}, outcomes
        assert all("catch-up policy `latest`" in r["detail"] for r in since[:first])
        assert _get(server, f"/executions/{since[first]['execution_id']}")["launch_plan"]["name"] == "every_2s_latest"


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_backends_on_one_postgresql_fire_each_tick_once(tmp_path: Path, database_url: str) -> None:
    shared = ("--database-url", database_url, "--storage-url", str(tmp_path / "data"))
    with running_server(tmp_path / "one", *shared) as one, running_server(tmp_path / "two", *shared) as two:
        stamped_lp = plait.LaunchPlan.get_or_create(stamped, name="stamped_base")
        one.remote().register(stamped_lp, version="v1")
        _register_rate(one, "every_1s", 1)
        _post(two, "/launch_plans/every_1s/versions/v1/activate")
        time.sleep(8)
        _post(one, "/launch_plans/every_1s/deactivate")
        items = _get(two, "/launch_plans/every_1s/schedule_runs", limit=500)["items"]
        assert len(items) >= 5, one.log_tail()
        assert len({r["tick"] for r in items}) == len(items)
        launched = [r for r in items if r["outcome"] == "launched"]
        assert len(launched) >= len(items) - 1, items  # a turn more than the grace late may miss one
        executions = _get(one, "/executions", launch_plan="every_1s", limit=500)["items"]
        assert sorted(e["id"] for e in executions) == sorted(r["execution_id"] for r in launched)
        for server in (one, two):  # both schedulers went for every tick; the loser did nothing, quietly
            log = server.log.read_text(errors="replace")
            assert "Traceback" not in log, server.log_tail()
