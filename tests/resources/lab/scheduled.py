"""Two launch plans on one every-minute schedule: `nightly_lp` runs one execution at a time,
`hourly_lp` as many as come. Their workflow sleeps for as long as it is asked."""

import datetime as dt
import time

import plait
from plait import ConcurrencyPolicy, CronSchedule


@plait.task
def nap(seconds: float, run_at: dt.datetime) -> str:
    time.sleep(seconds)
    return run_at.isoformat()


@plait.workflow
def scheduled_nap(seconds: float = 0.0, run_at: dt.datetime = dt.datetime(2026, 1, 1)) -> str:
    return nap(seconds=seconds, run_at=run_at)


nightly_lp = plait.LaunchPlan.get_or_create(
    scheduled_nap, name="nightly_lp",
    schedule=CronSchedule(schedule="* * * * *", kickoff_time_input_arg="run_at"),
    concurrency=ConcurrencyPolicy(max_concurrency=1),
)
hourly_lp = plait.LaunchPlan.get_or_create(
    scheduled_nap, name="hourly_lp",
    schedule=CronSchedule(schedule="* * * * *", kickoff_time_input_arg="run_at"),
)
