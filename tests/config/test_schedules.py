"""Cron and fixed-rate schedules as a launch plan author writes them."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plait.config.schedules import CronSchedule, FixedRate, schedule_from_spec
from plait.errors import InputError, TypeMismatchError

MONDAY_9AM = datetime(2024, 1, 1, 9, 0)  # 1 January 2024 was a Monday


def test_documented_weekly_schedule_fires_on_monday_at_ten():
    cron = CronSchedule(schedule="0 10 * * 1", kickoff_time_input_arg=None)
    assert cron.next_after(MONDAY_9AM) == datetime(2024, 1, 1, 10, 0)
    assert cron.next_after(datetime(2024, 1, 1, 10, 0)) == datetime(2024, 1, 8, 10, 0)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 0 * * *", MONDAY_9AM, datetime(2024, 1, 2)),
        ("0 12 * * MON-FRI", datetime(2024, 1, 5, 13), datetime(2024, 1, 8, 12)),
        ("0 0 1 * *", MONDAY_9AM, datetime(2024, 2, 1)),
        ("0 0 * JAN,JUL *", datetime(2024, 1, 31, 1), datetime(2024, 7, 1)),
        ("*/5 * * * *", MONDAY_9AM, datetime(2024, 1, 1, 9, 5)),
        ("30 2 * * 1", MONDAY_9AM, datetime(2024, 1, 8, 2, 30)),
        ("0 0 15 * ?", MONDAY_9AM, datetime(2024, 1, 15)),
        ("1/10 * * * *", MONDAY_9AM, datetime(2024, 1, 1, 9, 1)),
        ("0 0 * * sun", MONDAY_9AM, datetime(2024, 1, 7)),
    ],
)
def test_documented_cron_examples(expression, after, expected):
    assert CronSchedule(schedule=expression).next_after(after) == expected


@pytest.mark.parametrize(
    ("alias", "expected"),
    [
        ("@yearly", datetime(2025, 1, 1)),
        ("@annually", datetime(2025, 1, 1)),
        ("@monthly", datetime(2024, 2, 1)),
        ("@weekly", datetime(2024, 1, 7)),  # Sunday midnight
        ("@daily", datetime(2024, 1, 2)),
        ("@hourly", datetime(2024, 1, 1, 10)),
        ("daily", datetime(2024, 1, 2)),
    ],
)
def test_cron_aliases(alias, expected):
    assert CronSchedule(schedule=alias).next_after(MONDAY_9AM) == expected


def test_next_after_keeps_the_callers_time_zone():
    cron = CronSchedule(schedule="0 10 * * *")
    new_york = timezone(timedelta(hours=-5))
    got = cron.next_after(datetime(2024, 1, 1, 4, 0, tzinfo=new_york))  # 09:00 UTC
    assert got == datetime(2024, 1, 1, 10, 0, tzinfo=timezone.utc)
    assert got.tzinfo == new_york and got.hour == 5


def test_six_field_aws_cron_expression_counts_weekdays_from_sunday_one():
    cron = CronSchedule(cron_expression="0 10 ? * 2 *")  # 2 = Monday in AWS cron
    assert cron.next_after(MONDAY_9AM) == datetime(2024, 1, 1, 10)


def test_aws_year_field_limits_the_years():
    cron = CronSchedule(cron_expression="0 10 ? * MON 2026")
    assert cron.next_after(MONDAY_9AM) == datetime(2026, 1, 5, 10)
    with pytest.raises(
        InputError, match=r"no run after 2027-01-01T00:00:00: every year it allows has passed"
    ):
        cron.next_after(datetime(2027, 1, 1))


def test_aws_expression_needs_a_question_mark():
    with pytest.raises(
        InputError, match=r"expected '\?' in day-of-month or day-of-week, got '\*' and '1'"
    ):
        CronSchedule(cron_expression="0 10 * * 1 *")


def test_six_fields_in_schedule_points_at_cron_expression():
    with pytest.raises(
        InputError,
        match=r"expected 5 fields \(minute hour day-of-month month day-of-week\), "
        r"got 6; use cron_expression= for the six-field AWS form",
    ):
        CronSchedule(schedule="0 10 * * 1 2024")


def test_out_of_range_field_is_refused():
    with pytest.raises(
        InputError, match=r"^CronSchedule\(schedule='61 \* \* \* \*'\): expected a cron expression"
    ):
        CronSchedule(schedule="61 * * * *")


def test_a_schedule_that_never_fires_is_refused():
    with pytest.raises(InputError, match=r"no date matches it \(such as 31 February\)"):
        CronSchedule(schedule="0 0 31 2 *")


def test_unknown_alias_lists_the_known_ones():
    with pytest.raises(
        InputError,
        match=r"expected a cron alias \(@yearly, @annually, @monthly, @weekly, @daily, @hourly\)",
    ):
        CronSchedule(schedule="@fortnightly")


def test_exactly_one_of_schedule_and_cron_expression():
    with pytest.raises(
        InputError, match="expected exactly one of schedule or cron_expression, got neither"
    ):
        CronSchedule()
    with pytest.raises(InputError, match="got both"):
        CronSchedule(schedule="@daily", cron_expression="0 0 ? * * *")


def test_kickoff_time_input_arg_must_name_an_input():
    with pytest.raises(
        InputError, match=r"expected kickoff_time_input_arg to name a workflow input"
    ):
        FixedRate(timedelta(minutes=10), kickoff_time_input_arg="kickoff time")


def test_fixed_rate_every_ten_minutes():
    rate = FixedRate(duration=timedelta(minutes=10), kickoff_time_input_arg="kickoff_time")
    assert rate.next_after(MONDAY_9AM) == datetime(2024, 1, 1, 9, 10)
    assert rate.to_spec() == {
        "kind": "fixed_rate",
        "value": 10,
        "unit": "MINUTE",
        "kickoff_time_input_arg": "kickoff_time",
    }


@pytest.mark.parametrize(
    ("duration", "value", "unit"),
    [
        (timedelta(hours=6), 6, "HOUR"),
        (timedelta(days=2), 2, "DAY"),
        (timedelta(minutes=90), 90, "MINUTE"),
    ],
)
def test_fixed_rate_spec_uses_the_largest_whole_unit(duration, value, unit):
    spec = FixedRate(duration).to_spec()
    assert (spec["value"], spec["unit"]) == (value, unit)
    assert schedule_from_spec(json.loads(json.dumps(spec))) == FixedRate(duration)


@pytest.mark.parametrize("duration", [timedelta(seconds=30), timedelta(0), timedelta(minutes=-5)])
def test_fixed_rate_under_a_minute_is_refused(duration):
    with pytest.raises(InputError, match=r"expected a whole number of minutes, at least one"):
        FixedRate(duration)


def test_fixed_rate_of_seconds_names_the_fix():
    with pytest.raises(InputError, match=r"got 0:01:30\.500000; round it to minutes"):
        FixedRate(timedelta(minutes=1, seconds=30, microseconds=500_000))


def test_fixed_rate_needs_a_timedelta():
    with pytest.raises(
        TypeMismatchError,
        match=r"FixedRate\(duration=600\): expected a datetime.timedelta, "
        r"got int; write FixedRate\(duration=timedelta\(minutes=10\)\)",
    ):
        FixedRate(600)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "schedule",
    [
        CronSchedule(schedule="*/10 * * * *", kickoff_time_input_arg="kickoff_time"),
        CronSchedule(cron_expression="0 10 ? * MON-FRI *"),
        CronSchedule(schedule="@daily"),
        FixedRate(timedelta(hours=1)),
    ],
)
def test_schedules_round_trip_through_json(schedule):
    assert schedule_from_spec(json.loads(json.dumps(schedule.to_spec()))) == schedule


def test_importing_plait_schedules_does_not_import_croniter():
    code = "import sys, plait.config.schedules; print('croniter' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---- properties -----------------------------------------------------------


def _field(lo: int, hi: int) -> st.SearchStrategy[str]:
    value = st.integers(lo, hi).map(str)
    step = st.integers(1, max(1, (hi - lo) // 2)).map(lambda n: f"*/{n}")
    span = st.tuples(st.integers(lo, hi), st.integers(lo, hi)).map(lambda t: f"{min(t)}-{max(t)}")
    many = st.lists(st.integers(lo, hi), min_size=1, max_size=3, unique=True).map(
        lambda xs: ",".join(map(str, sorted(xs)))
    )
    return st.one_of(st.just("*"), value, step, span, many)


cron_expressions = st.tuples(
    _field(0, 59), _field(0, 23), _field(1, 28), _field(1, 12), _field(0, 6)
).map(" ".join)
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1))


@settings(max_examples=150, deadline=None)
@given(expression=cron_expressions, start=instants)
def test_cron_iteration_is_strictly_increasing(expression, start):
    cron = CronSchedule(schedule=expression)
    previous = start
    for _ in range(5):
        nxt = cron.next_after(previous)
        assert nxt > previous
        assert nxt.second == 0 and nxt.microsecond == 0
        assert cron.next_after(nxt - timedelta(seconds=1)) == nxt  # nothing is skipped
        previous = nxt


@settings(max_examples=50, deadline=None)
@given(minutes=st.integers(1, 60 * 24 * 30), start=instants)
def test_fixed_rate_iteration_steps_by_its_duration(minutes, start):
    rate = FixedRate(timedelta(minutes=minutes))
    assert rate.next_after(start) - start == timedelta(minutes=minutes)
