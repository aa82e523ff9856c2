"""`plait update launchplan` (activate, deactivate) and `plait get schedule-runs`.

At most one version of a launch plan is active, and only the active version's
schedule fires. `update launchplan` switches it and prints the state: the
active version, the schedule in words and its next five times.
`get schedule-runs` lists the ticks the backend's scheduler handled.
"""

from __future__ import annotations

from typing import Any

import click

from ..errors import PlaitError
from ..model.times import time_column
from .backend import DOMAIN_OPTION, PROJECT_OPTION, UTC_OPTION, _times, _when, remote_for
from .output import CONTEXT, fail, table


@click.group("update", context_settings=CONTEXT)
def update_cmd() -> None:
    """Change objects on the backend: launch plan activation, workspaces."""


def print_state(state: dict[str, Any], utc: bool = False) -> None:
    """The active version, and the schedule with its next times (local time, or UTC)."""
    name, active = state.get("name"), state.get("active_version")
    where = f"{state.get('project')}/{state.get('domain')}"
    if active:
        click.echo(f"launch plan {name} in {where}: version {active} is active "
                   f"(since {_when(state.get('activated_at'), utc)})")
    else:
        click.echo(f"launch plan {name} in {where}: no version is active")
    schedule = state.get("schedule")
    if schedule:
        verb = "runs" if active else f"version {state.get('version')} would run"
        click.echo(f"  {verb} {schedule['description']}; catch-up after downtime: {schedule['catch_up']}")
        if active:
            zone, times = time_column(schedule.get("next_times", []), utc=utc)
            click.echo("  next times: " + ", ".join(times) + (f" ({zone})" if zone else ""))
    elif state.get("schedule_error"):
        click.echo(f"  its schedule cannot be followed: {state['schedule_error']}")
    else:
        click.echo(f"  version {state.get('version')} has no schedule: it runs when launched")


@update_cmd.command("launchplan", context_settings=CONTEXT)
@click.argument("name")
@click.option("--version", required=True, help="The launch plan version to activate or deactivate.")
@click.option("--activate", "action", flag_value="activate", help="Make this version the active one.")
@click.option("--deactivate", "action", flag_value="deactivate",
              help="Deactivate this version (if it is the active one).")
@click.option("--catch-up", type=click.Choice(["skip", "latest", "all"]), default=None,
              help="With --activate: what to do with ticks missed while the backend was down "
                   "(default: the schedule's, else skip).")
@PROJECT_OPTION
@DOMAIN_OPTION
@UTC_OPTION
@click.pass_context
def update_launchplan(ctx: click.Context, name: str, version: str, action: str | None, catch_up: str | None,
                      project: str, domain: str, utc: bool) -> None:
    """Activate or deactivate version VERSION of launch plan NAME.

    \b
    Only the active version's schedule fires; activating one deactivates the other:
      plait update launchplan nightly --version v2 --activate
      plait update launchplan nightly --version v2 --deactivate
    """
    if action is None:
        raise click.UsageError("say what to do: --activate or --deactivate")
    if catch_up is not None and action != "activate":
        raise click.UsageError("--catch-up goes with --activate")
    try:
        remote = remote_for(ctx, project, domain)
        if action == "activate":
            state = remote.activate_launch_plan(name, version, catch_up=catch_up)
        else:
            state = remote.deactivate_launch_plan(name, version)
    except PlaitError as exc:
        fail(exc, verbose=False)
    print_state(state, utc)


@click.command("schedule-runs", context_settings=CONTEXT)
@click.argument("plan")
@click.option("--outcome", type=click.Choice(["launched", "skipped", "failed", "missed"]), default=None,
              help="Only the ticks with this outcome.")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True, help="At most this many.")
@PROJECT_OPTION
@DOMAIN_OPTION
@UTC_OPTION
@click.pass_context
def get_schedule_runs(ctx: click.Context, plan: str, outcome: str | None, limit: int, project: str,
                      domain: str, utc: bool) -> None:
    """The ticks of launch plan PLAN's schedule, newest first, and what became of each:
    launched (its execution), skipped by concurrency, failed to launch, missed while down."""
    try:
        runs = remote_for(ctx, project, domain).schedule_runs(plan, outcome=outcome, limit=limit)
    except PlaitError as exc:
        fail(exc, verbose=False)
    tick, ticks = _times("TICK", [r.get("tick") for r in runs], utc)
    table(f"Schedule runs of launch plan {plan} in {project}/{domain}",
          [tick, "OUTCOME", "EXECUTION", "VERSION", "DETAIL"],
          [[t, r.get("outcome"), r.get("execution_id") or "", r.get("version"), r.get("detail") or ""]
           for r, t in zip(runs, ticks, strict=True)])
