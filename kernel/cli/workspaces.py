"""Browser workspaces (VS Code on the backend) from the command line, as the reference names them.

    plait create workspace-config --init base_image workspace.yaml
    plait create workspace workspace.yaml        # creates, starts, prints the link
    plait get workspace [--name N] [--active] [--archived]
    plait update workspace workspace.yaml
    plait start|stop|archive|unarchive workspace --name N
    plait workspace debug EXECUTION NODE         # a workspace on a failed node

`create workspace-config`, `create workspace`, `get workspace` and `update
workspace` join the existing `create`, `get` and `update` groups; the `start`,
`stop`, `archive`, `unarchive` and `workspace` groups live here. Everything
goes through `plait.Remote`'s workspace calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..errors import PlaitError
from ..model.times import time_text
from .backend import DOMAIN_OPTION, PROJECT_OPTION, UTC_OPTION, remote_for
from .output import CONTEXT, fail, table

NAME_OPTION = click.option("--name", required=True, help="The workspace's name.")
TIMEOUT_OPTION = click.option("--timeout", type=float, default=120.0, show_default=True,
                              help="Seconds to wait for the workspace.")
NO_WAIT_OPTION = click.option("--no-wait", is_flag=True,
                              help="Return once the server has the request; do not wait for the phase.")
COLUMNS = ["Workspace name", "CPU", "Memory", "GPU", "Accelerator", "TTL Seconds", "Active URL"]


@click.group("start", context_settings=CONTEXT)
def start_cmd() -> None:
    """Start objects on the backend: workspaces."""


@click.group("stop", context_settings=CONTEXT)
def stop_cmd() -> None:
    """Stop objects on the backend: workspaces."""


@click.group("archive", context_settings=CONTEXT)
def archive_cmd() -> None:
    """Archive objects on the backend: workspaces."""


@click.group("unarchive", context_settings=CONTEXT)
def unarchive_cmd() -> None:
    """Bring archived objects back: workspaces."""


@click.group("workspace", context_settings=CONTEXT)
def workspace_cmd() -> None:
    """Work with browser workspaces: debug a failed node in one."""


def _progress(info: Any) -> None:
    """One line each time the phase changes while a command waits."""
    click.echo(f"workspace {info.name!r}: {info.phase}" + (f" ({info.reason})" if info.reason
                                                            and info.phase == "FAILED" else ""),
               err=True)


def _started(remote: Any, info: Any) -> None:
    """Say the workspace is up and print its browser link (absolute, logs in, 10 minutes)."""
    url = remote.workspace_url(info.name, project=info.project, domain=info.domain)
    click.echo(f"Workspace {info.name!r} started: open VS Code in the browser at")
    click.echo(url)


def _pending(info: Any) -> None:
    """Where a workspace stands when the command did not wait for it (or it FAILED)."""
    if info.phase == "FAILED":
        click.echo(f"workspace {info.name!r} is FAILED: {info.reason or 'no reason recorded'}")
        return
    going = f", on its way to {info.desired}" if info.desired and info.desired != info.phase else ""
    click.echo(f"workspace {info.name!r} is {info.phase}{going}; `plait get workspace --name "
               f"{info.name}` follows it")


def _dash(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)


def _row(remote: Any, info: Any) -> list[str]:
    resources = info.resources or info.spec.get("resources") or {}
    url = remote.endpoint.rstrip("/") + info.url if info.active and info.url else None
    ttl = info.ttl_seconds if info.ttl_seconds is not None else info.spec.get("ttl_seconds")
    accelerator = info.accelerator or info.spec.get("accelerator")
    return [info.name, _dash(resources.get("cpu")), _dash(resources.get("mem")),
            _dash(resources.get("gpu")), _dash(accelerator), _dash(ttl), _dash(url)]


@click.command("workspace-config", context_settings=CONTEXT)
@click.option("--init", "kind", required=True, type=click.Choice(["base_image", "custom_image"]),
              help="base_image: the server's Python environment; custom_image: ImageSpec fields to build.")
@click.argument("file", default="workspace.yaml", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", default="my-workspace", show_default=True, help="The workspace's name in the file.")
@PROJECT_OPTION
@DOMAIN_OPTION
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
def create_workspace_config(kind: str, file: Path, name: str, project: str, domain: str,
                            force: bool) -> None:
    """Write a commented workspace.yaml with the default values, to edit and create.

    \b
    Examples:
      plait create workspace-config --init base_image workspace.yaml
      plait create workspace-config --init custom_image gpu.yaml --name gpu-ws
    """
    from ..config.workspaces import template

    if file.exists() and not force:
        raise click.ClickException(f"{file} exists; pass --force to overwrite it, or give "
                                   "another file name")
    try:
        text = template(kind, name=name, project=project, domain=domain)  # type: ignore[arg-type]
    except PlaitError as exc:
        fail(exc, verbose=False)
    file.write_text(text, encoding="utf-8")
    click.echo(f"wrote {file}: edit it, then `plait create workspace {file}`")


@click.command("workspace", context_settings=CONTEXT)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--no-start", is_flag=True, help="Create it stopped.")
@NO_WAIT_OPTION
@TIMEOUT_OPTION
@click.pass_context
def create_workspace(ctx: click.Context, file: Path, no_start: bool, no_wait: bool,
                     timeout: float) -> None:
    """Create the workspace FILE describes, start it and print the link that opens it.

    \b
    Example:
      plait create workspace workspace.yaml
    """
    from ..config.workspaces import load_spec

    try:
        spec = load_spec(file)
        remote = remote_for(ctx, spec.project, spec.domain)
        click.echo(f"Creating workspace {spec.name!r} in {spec.project}/{spec.domain}"
                   + ("" if no_start else " and starting it"), err=True)
        info = remote.create_workspace(spec, start=not no_start, wait=not no_wait,
                                       timeout=timeout, on_progress=_progress)
        if info.phase == "ACTIVE":
            _started(remote, info)
        else:
            _pending(info)
    except PlaitError as exc:
        fail(exc, verbose=False)


@click.command("workspace", context_settings=CONTEXT)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def update_workspace(ctx: click.Context, file: Path) -> None:
    """Change a workspace to what FILE says (everything but its name).

    A running workspace keeps its old settings until it is stopped and started again.
    """
    from ..config.workspaces import load_spec

    try:
        spec = load_spec(file)
        info = remote_for(ctx, spec.project, spec.domain).update_workspace(spec)
    except PlaitError as exc:
        fail(exc, verbose=False)
    click.echo(f"Updated workspace {info.name!r} in {info.project}/{info.domain}")
    if info.restart_needed:
        click.echo(f"it is running with its old settings: `plait stop workspace --name {info.name}` "
                   f"and `plait start workspace --name {info.name}` to use the new ones")


@click.command("workspace", context_settings=CONTEXT)
@click.option("--name", default=None, help="Show this workspace, with its phase and details.")
@click.option("--active", "active", flag_value=True, default=None, help="Only ACTIVE workspaces.")
@click.option("--inactive", "active", flag_value=False, help="Only workspaces that are not ACTIVE.")
@click.option("--archived", is_flag=True, help="Archived workspaces (instead of the others).")
@click.option("--sort", type=click.Choice(["updated", "name"]), default="updated", show_default=True,
              help="updated: the most recently updated first.")
@PROJECT_OPTION
@DOMAIN_OPTION
@UTC_OPTION
@click.pass_context
def get_workspace(ctx: click.Context, name: str | None, active: bool | None, archived: bool,
                  sort: str, project: str, domain: str, utc: bool) -> None:
    """List the workspaces of a project and domain, or show one with --name."""
    try:
        remote = remote_for(ctx, project, domain)
        if name is not None:
            info = remote.get_workspace(name, project=project, domain=domain)
            table(f"Workspace {name} in {project}/{domain}", COLUMNS, [_row(remote, info)])
            _details(info, utc)
            return
        found = remote.list_workspaces(active=active, archived=archived, project=project,
                                       domain=domain, sort=sort)
        rows = [_row(remote, w) for w in found]
    except PlaitError as exc:
        fail(exc, verbose=False)
    if not rows:
        which = "archived " if archived else "active " if active else ""
        click.echo(f"no {which}workspaces in {project}/{domain}; create one with "
                   "`plait create workspace-config --init base_image workspace.yaml` and "
                   "`plait create workspace workspace.yaml`")
        return
    title = ("Archived workspaces" if archived else "Workspaces") + f" in {project}/{domain}"
    table(title, COLUMNS, rows)


def _details(info: Any, utc: bool) -> None:
    def when(value: Any) -> str:
        return time_text(value, utc=utc)

    lines = [("Phase", info.phase + (f" (wanted {info.desired})" if info.desired != info.phase
                                     and info.desired else "")),
             ("Reason", info.reason), ("Description", info.description), ("Pool", info.pool),
             ("Archived", "yes" if info.archived else None),
             ("Started", when(info.started_at)), ("Stopped", when(info.stopped_at)),
             ("Last activity", when(info.last_activity)), ("Files saved", when(info.saved_at)),
             ("Updated", when(info.updated_at))]
    origin = info.origin or {}
    if origin:
        lines.append(("Debugs", f"node {origin.get('node_id')} of execution {origin.get('execution_id')}"
                      + (f" (task {origin['task']})" if origin.get("task") else "")))
    if info.restart_needed:
        lines.append(("Restart needed", "yes: it runs with its old settings until restarted"))
    for label, value in lines:
        if value:
            click.echo(f"{label + ':':<15} {value}")


def _start_or_stop(ctx: click.Context, verb: str, name: str, project: str, domain: str,
                   no_wait: bool, timeout: float) -> None:
    try:
        remote = remote_for(ctx, project, domain)
        click.echo(f"{'Starting' if verb == 'start' else 'Stopping'} workspace {name!r}", err=True)
        call = remote.start_workspace if verb == "start" else remote.stop_workspace
        info = call(name, wait=not no_wait, timeout=timeout, project=project, domain=domain,
                    on_progress=_progress)
        if info.phase == "ACTIVE" and verb == "start":
            _started(remote, info)
        elif info.phase == "STOPPED" and verb == "stop":
            saved = f" (files saved {time_text(info.saved_at)})" if info.saved_at else ""
            click.echo(f"Workspace {name!r} stopped{saved}")
        else:
            _pending(info)
    except PlaitError as exc:
        fail(exc, verbose=False)


@start_cmd.command("workspace", context_settings=CONTEXT)
@NAME_OPTION
@PROJECT_OPTION
@DOMAIN_OPTION
@NO_WAIT_OPTION
@TIMEOUT_OPTION
@click.pass_context
def start_workspace(ctx: click.Context, name: str, project: str, domain: str, no_wait: bool,
                    timeout: float) -> None:
    """Start workspace --name (its files are restored) and print the link that opens it."""
    _start_or_stop(ctx, "start", name, project, domain, no_wait, timeout)


@stop_cmd.command("workspace", context_settings=CONTEXT)
@NAME_OPTION
@PROJECT_OPTION
@DOMAIN_OPTION
@NO_WAIT_OPTION
@TIMEOUT_OPTION
@click.pass_context
def stop_workspace(ctx: click.Context, name: str, project: str, domain: str, no_wait: bool,
                   timeout: float) -> None:
    """Stop workspace --name (its files are saved first)."""
    _start_or_stop(ctx, "stop", name, project, domain, no_wait, timeout)


@archive_cmd.command("workspace", context_settings=CONTEXT)
@NAME_OPTION
@PROJECT_OPTION
@DOMAIN_OPTION
@click.pass_context
def archive_workspace(ctx: click.Context, name: str, project: str, domain: str) -> None:
    """Archive workspace --name (it is stopped first); `get workspace --archived` lists it."""
    try:
        remote_for(ctx, project, domain).archive_workspace(name, project=project, domain=domain,
                                                           on_progress=_progress)
    except PlaitError as exc:
        fail(exc, verbose=False)
    click.echo(f"Archived workspace {name!r} in {project}/{domain}")


@unarchive_cmd.command("workspace", context_settings=CONTEXT)
@NAME_OPTION
@PROJECT_OPTION
@DOMAIN_OPTION
@click.pass_context
def unarchive_workspace(ctx: click.Context, name: str, project: str, domain: str) -> None:
    """Bring archived workspace --name back (stopped)."""
    try:
        remote_for(ctx, project, domain).unarchive_workspace(name, project=project, domain=domain)
    except PlaitError as exc:
        fail(exc, verbose=False)
    click.echo(f"Unarchived workspace {name!r} in {project}/{domain}")


@workspace_cmd.command("debug", context_settings=CONTEXT)
@click.argument("execution")
@click.argument("node")
@click.option("--name", default=None, help="The workspace's name (default: one the server makes up).")
@NO_WAIT_OPTION
@click.option("--timeout", type=float, default=300.0, show_default=True,
              help="Seconds to wait for the workspace (its environment may need building).")
@click.pass_context
def debug_workspace(ctx: click.Context, execution: str, node: str, name: str | None,
                    no_wait: bool, timeout: float) -> None:
    """Open a workspace on failed NODE of EXECUTION: its code, its inputs and a debug script.

    The workspace runs in the task's environment with the registered code, the node's
    inputs under inputs/ and debug_<task>.py, which VS Code's debugger runs (Run and
    Debug); running it reproduces the failure.

    \b
    Example:
      plait workspace debug f3a9c2 n1
    """
    try:
        remote = remote_for(ctx, "default", "development")
        click.echo(f"Creating a workspace to debug node {node} of execution {execution}", err=True)
        info = remote.debug_node(execution, node, name=name, wait=not no_wait, timeout=timeout,
                                 on_progress=_progress)
        if info.phase == "ACTIVE":
            _started(remote, info)
            if info.debug_script:
                click.echo(f"Open {info.debug_script} and start it with Run and Debug (F5): it "
                           "calls the task on the node's inputs")
        else:
            click.echo(f"workspace {info.name!r} is {info.phase}; `plait get workspace --name "
                       f"{info.name} --project {info.project} --domain {info.domain}` follows it")
    except PlaitError as exc:
        fail(exc, verbose=False)
