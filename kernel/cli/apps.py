"""Apps from the command line, as the reference names the commands.

    plait deploy apps app.py my-app     # creates or updates, streams its status, prints the endpoint
    plait get apps [--name my-app]      # Name, Link, Status, Desired State, CPU, Memory
    plait stop apps --name my-app
    plait start apps --name my-app

`deploy` is a group of its own; `get apps` joins `get`, and `start apps` /
`stop apps` join the `start` and `stop` groups of the workspaces' commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..errors import PlaitError, UserError
from .backend import DOMAIN_OPTION, PROJECT_OPTION, remote_for
from .output import CONTEXT, fail, table

COLUMNS = ["Name", "Link", "Status", "Desired State", "CPU", "Memory"]


@click.group("deploy", context_settings=CONTEXT)
def deploy_cmd() -> None:
    """Deploy objects to the backend: apps."""


@deploy_cmd.command("apps")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.argument("name")
@PROJECT_OPTION
@DOMAIN_OPTION
@click.option("--no-wait", is_flag=True, help="Return once the server has the deploy.")
@click.option("--timeout", type=float, default=300.0, show_default=True, help="Seconds to wait for Started.")
@click.pass_context
def deploy_apps(ctx: click.Context, file: str, name: str, project: str, domain: str, no_wait: bool,
                timeout: float) -> None:
    """Create or update app NAME declared in FILE, and (re)start it.

    \b
    plait deploy apps app.py simple-fastapi-sklearn
    """
    from ..app import load_apps

    try:
        apps = {app.name: app for app in load_apps(Path(file))}
        if name not in apps:
            raise UserError(f"{file} declares no app named {name!r}; it declares "
                            f"{', '.join(repr(n) for n in sorted(apps)) or 'none'}")
        remote = remote_for(ctx, project, domain)
        click.echo(f"Deploying app {name} to {project}/{domain}")

        def say(info: Any) -> None:
            if info.action == "unchanged" and info.status == "Started":
                click.echo("[Status] Unchanged: the app runs this spec and these files already")
            click.echo(f"[Status] {info.status}: {info.reason or ''}".rstrip(": "))

        info = remote.deploy_app(apps[name], wait=not no_wait, timeout=timeout, on_status=say)
        click.echo(f"Deployed endpoint: {remote.app_url(name)}")
        if info.requires_auth:
            click.echo("  (a session link; the app needs the server's token or a session to open)")
    except PlaitError as exc:
        fail(exc, verbose=False)


def _row(remote: Any, info: Any) -> list[Any]:
    base = str(remote.connection.endpoint).rstrip("/")
    return [info.name, base + info.url, info.status, info.desired_state, info.resources.get("cpu") or "-",
            info.resources.get("mem") or "-"]


@click.command("apps", context_settings=CONTEXT)
@click.option("--name", default=None, help="One app, with its replicas and events.")
@PROJECT_OPTION
@DOMAIN_OPTION
@click.pass_context
def get_apps(ctx: click.Context, name: str | None, project: str, domain: str) -> None:
    """List the apps of a project and domain."""
    try:
        remote = remote_for(ctx, project, domain)
        found = [remote.get_app(name)] if name else remote.list_apps()
        rows = [_row(remote, a) for a in found]
        events = remote.app_events(name)[-10:] if name else []
    except PlaitError as exc:
        fail(exc, verbose=False)
    if not rows:
        click.echo(f"no apps in {project}/{domain}; deploy one with `plait deploy apps FILE NAME`")
        return
    table(f"Apps in {project}/{domain}", COLUMNS, rows)
    if name:
        info = found[0]
        click.echo(f"Reason: {info.reason or '-'}  Revision: {info.revision}")
        for replica in info.replicas:
            click.echo(f"  replica {replica['slot']}: {replica['phase']} (revision {replica['revision']}, "
                       f"{replica['restarts']} restarts){' - ' + replica['last_exit'] if replica.get('last_exit') else ''}")
        for event in events:
            click.echo(f"  {event['at']}  {event['message']}")


@click.command("apps", context_settings=CONTEXT)
@click.option("--name", required=True, help="The app's name.")
@PROJECT_OPTION
@DOMAIN_OPTION
@click.pass_context
def stop_apps(ctx: click.Context, name: str, project: str, domain: str) -> None:
    """Stop an app: its replicas end; `plait start apps` or a deploy starts it again."""
    try:
        info = remote_for(ctx, project, domain).stop_app(name)
    except PlaitError as exc:
        fail(exc, verbose=False)
    click.echo(f"App {info.name} stopped (desired state {info.desired_state})")


@click.command("apps", context_settings=CONTEXT)
@click.option("--name", required=True, help="The app's name.")
@PROJECT_OPTION
@DOMAIN_OPTION
@click.pass_context
def start_apps(ctx: click.Context, name: str, project: str, domain: str) -> None:
    """Start a stopped app again, and wait until it is Started."""
    try:
        remote = remote_for(ctx, project, domain)
        info = remote.start_app(name)
        click.echo(f"App {info.name} {info.status}: {remote.app_url(name)}")
    except PlaitError as exc:
        fail(exc, verbose=False)
