"""`plait abort`: stop a running execution on the backend, saying why.

The reason is kept with the execution: its error reads `aborted: REASON`, and
the nodes it stopped say `stopped: the execution was aborted: REASON`.
"""

from __future__ import annotations

import click

from ..errors import PlaitError
from .backend import remote_for
from .output import CONTEXT, fail


@click.command("abort", context_settings=CONTEXT)
@click.argument("execution_id")
@click.option("--reason", default=None, metavar="TEXT", help="Why it is aborted; shown with its error.")
@click.option("--wait", is_flag=True, help="Wait until it has stopped, then print its phase.")
@click.pass_context
def abort_cmd(ctx: click.Context, execution_id: str, reason: str | None, wait: bool) -> None:
    """Abort execution EXECUTION_ID: its running nodes stop and the rest do not start.

    \b
    Examples:
      plait abort f3a9c2 --reason "wrong learning rate"
      plait abort f3a9c2 --wait
    """
    try:
        run = remote_for(ctx, "default", "development").abort(execution_id, reason=reason)
        if wait:
            run.wait()
    except PlaitError as exc:
        fail(exc, verbose=False)
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    if wait:
        click.echo(f"execution {run.id}: {run.phase}" + (f" ({reason})" if reason else ""))
    else:
        click.echo(f"execution {run.id}: abort requested" + (f" ({reason})" if reason else ""))
