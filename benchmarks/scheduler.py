"""The launch plan scheduler with many active plans: lateness of launches after a tick, and CPU.

    python benchmarks/scheduler.py                  # 1,000 per-minute plans on SQLite
    python benchmarks/scheduler.py --plans 200 --database-url postgresql+psycopg://...

Registers N launch plans with `CronSchedule("* * * * *")`, all active, in a fresh database,
then drives the backend's `Scheduler` (execution/scheduler.py) turn by turn with its clock
set to the tick: the lateness of each launch is the wall time from the start of the turn
at the tick to the moment the execution was committed and handed to the executor (goal
p99 <= 1 s). The scheduler's thread sleeps until the next tick, so a turn starts at the
tick. An idle turn (no tick due) is timed too, as the CPU the scheduler costs between
ticks: it runs once a second at most. Baseline: computing the 1,000 next times with
croniter alone, the floor of any cron scheduler.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time

import plait
from plait.backend.execution.scheduler import Scheduler
from plait.backend.store import Database, queries
from plait.backend.store.queries import launch_plans as lpq

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 2, 12, 0, 30, tzinfo=UTC)


@plait.task
def stamp(kickoff: dt.datetime) -> str:
    return kickoff.isoformat()


@plait.workflow
def stamped(kickoff: dt.datetime) -> str:
    return stamp(kickoff=kickoff)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=1000)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary folder")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='plait-bench-sched-')}/plait.db"
    db = Database(url)
    db.migrate()
    with db.session() as s:
        for entity, kind in ((stamped, "workflow"), (stamp, "task")):
            queries.register_entity(s, kind=kind, project="default", domain="development", name=entity.name,
                                    version="v1", digest=kind, spec=entity.to_spec(), description="",
                                    bundle_digest=None)
        for i in range(args.plans):
            spec = plait.LaunchPlan(f"lp{i}", stamped, schedule=plait.CronSchedule(
                "* * * * *", kickoff_time_input_arg="kickoff")).to_spec()
            queries.register_entity(s, kind="launch_plan", project="default", domain="development",
                                    name=f"lp{i}", version="v1", digest=f"d{i}", spec=spec, description="",
                                    bundle_digest=None)
            lpq.activate_launch_plan(s, "default", "development", f"lp{i}", "v1", now=T0)

    launched: list[float] = []
    started = [0.0]
    scheduler = Scheduler(db, lambda _id: launched.append(time.perf_counter() - started[0]))
    tick = T0.replace(second=0) + dt.timedelta(minutes=1)
    scheduler.turn(now=tick)  # the first tick of every plan (and the scheduler's caches)
    idle = []
    for second in range(1, 6):
        c0 = time.process_time()
        scheduler.turn(now=tick + dt.timedelta(seconds=second))
        idle.append(time.process_time() - c0)
    launched.clear()
    c0 = time.process_time()
    started[0] = time.perf_counter()
    handled = scheduler.turn(now=tick + dt.timedelta(minutes=1))
    fire_cpu = time.process_time() - c0
    assert len(launched) == args.plans == len(handled), (len(launched), len(handled))
    late = sorted(launched)
    p99 = late[max(0, int(len(late) * 0.99) - 1)]

    from croniter import croniter

    t = time.perf_counter()
    for _ in range(args.plans):
        croniter("* * * * *", tick).get_next(dt.datetime)
    floor = time.perf_counter() - t
    db.dispose()

    idle_s = statistics.median(idle)
    print(f"{args.plans} active per-minute plans on {url.split(':', 1)[0]}:")
    print(f"  launches after the tick   p50 {late[len(late) // 2]:.3f} s, p99 {p99:.3f} s, last {late[-1]:.3f} s"
          f"   goal p99 <= 1 s: {'met' if p99 <= 1 else 'MISSED'}")
    print(f"  CPU of the firing turn    {fire_cpu:.3f} s ({fire_cpu / args.plans * 1e3:.2f} ms a plan)")
    print(f"  CPU of an idle turn       {idle_s * 1e3:.1f} ms (a turn a second at most: {idle_s * 100:.1f}% of a core)")
    print(f"  baseline: croniter next times for {args.plans} plans {floor * 1e3:.1f} ms; the firing turn is "
          f"{late[-1] / floor:.0f}x that (it also writes {args.plans} executions and tick records)")
    print(json.dumps({"plans": args.plans, "p50_s": late[len(late) // 2], "p99_s": p99, "fire_cpu_s": fire_cpu,
                      "idle_cpu_s": idle_s, "croniter_s": floor}))


if __name__ == "__main__":
    main()
