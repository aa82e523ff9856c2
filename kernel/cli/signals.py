"""`plait signal` and `plait get signals`: what a running execution's gates wait for, and
giving them their values.

A `wait_for_input` gate waits for a value of its type, an `approve` gate for
yes or no; the value is written as on the command line of `plait run`
(`12`, `0.5`, `true`, `"text"` or plain text, JSON for lists and dicts).
"""

from __future__ import annotations

import json
from typing import Any

import click

from ..errors import PlaitError
from .backend import remote_for
from .output import CONTEXT, fail


def _value(text: str) -> Any:
    """A command-line value: JSON where it parses, else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


@click.command("signal", context_settings=CONTEXT)
@click.argument("execution_id")
@click.argument("name")
@click.argument("value", required=False)
@click.option("--approve", "approve", flag_value=True, default=None, help="Approve an `approve` gate.")
@click.option("--reject", "approve", flag_value=False, help="Reject an `approve` gate: its node fails.")
@click.pass_context
def signal_cmd(ctx: click.Context, execution_id: str, name: str, value: str | None, approve: bool | None) -> None:
    """Give gate signal NAME of execution EXECUTION_ID its VALUE.

    \b
    Examples:
      plait signal f3a9c2 title "Quarterly report"
      plait signal f3a9c2 batch_size 64
      plait signal f3a9c2 review --approve
    """
    if (value is None) == (approve is None):
        raise click.UsageError("give a VALUE, or --approve / --reject for an approval gate")
    given: Any = approve if approve is not None else _value(str(value))
    try:
        found = remote_for(ctx, "default", "development").set_signal(name, execution_id, given)
    except PlaitError as exc:
        fail(exc, verbose=False)
    click.echo(f"execution {execution_id}: signal {name} = {json.dumps(found.get('value'))}")


@click.command("signals", context_settings=CONTEXT)
@click.argument("execution_id")
@click.pass_context
def get_signals(ctx: click.Context, execution_id: str) -> None:
    """The signals EXECUTION_ID's gates wait for (or were given)."""
    from .output import table

    try:
        found = remote_for(ctx, "default", "development").list_signals(execution_id)
    except PlaitError as exc:
        fail(exc, verbose=False)
    if not found:
        click.echo(f"execution {execution_id}: no gate has opened a signal")
        return
    rows = [[s["name"], s["gate"], s["type_name"], s["node_path"],
             json.dumps(s["value"]) if s["is_set"] else "waiting", s.get("timeout_at") or "never"] for s in found]
    table(f"Signals of {execution_id}", ["NAME", "GATE", "TYPE", "NODE", "VALUE", "TIMES OUT"], rows)
