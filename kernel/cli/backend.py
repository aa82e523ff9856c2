"""`plait register`, `plait get ...` (what the backend holds, through `plait.Remote`) and `plait local-cache`."""

from __future__ import annotations

import datetime as _dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import PlaitError
from .output import CONTEXT, fail, table

PROJECT_OPTION = click.option("--project", default="default", show_default=True, help="Project.")
DOMAIN_OPTION = click.option("--domain", default="development", show_default=True,
                             type=click.Choice(["development", "staging", "production"]), help="Domain.")


def remote_for(ctx: click.Context, project: str, domain: str) -> Any:
    """A Remote for this command; tests pass connection options as `obj={"remote": {...}}`."""
    from ..remote import Remote

    obj = ctx.find_root().obj
    options = dict(obj.get("remote") or {}) if isinstance(obj, dict) else {}
    options.setdefault("on_busy", _say_busy)
    return Remote(project=project, domain=domain, **options)


def _say_busy(message: str, seconds: float) -> None:
    """What a command prints while the server admits no more launches (HTTP 429)."""
    click.echo(f"plait: the server is busy ({message}); trying again in {seconds:.0f} s", err=True)


def _when(value: Any) -> str:
    """An API timestamp as local time to the second."""
    if not value:
        return ""
    try:
        stamp = _dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone()
    return stamp.strftime("%Y-%m-%d %H:%M:%S")


def _seconds(value: Any) -> str:
    return "" if value is None else f"{float(value):.1f}s"


def _ref_text(ref: Any) -> str:
    """A value ref, short: the literal as JSON, or a pickle's preview."""
    if isinstance(ref, dict) and "literal" in ref:
        text = json.dumps(ref["literal"], default=str)
    elif isinstance(ref, dict) and "uri" in ref:
        text = f"{ref.get('preview') or ''} ({ref.get('format', 'pickle')})".strip()
    else:
        text = json.dumps(ref, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


# ------------------------------------------------------------------ register


@click.command("register", context_settings=CONTEXT)
@click.argument("paths", nargs=-1, required=True)
@PROJECT_OPTION
@DOMAIN_OPTION
@click.option("--version", default=None, help="Version of every entity (default: a hash of the code).")
@click.pass_context
def register_cmd(ctx: click.Context, paths: tuple[str, ...], project: str, domain: str,
                 version: str | None) -> None:
    """Register the tasks, workflows and launch plans of PATHS (.py files, folders, notebooks).

    \b
    Names follow <folder>.<file>.<function>: `plait register ./workflows`
    registers `workflows.my_example.task_1` for task_1 in workflows/my_example.py.
    A notebook is exported first (as `plait export` does): `plait register
    analysis.ipynb` registers `analysis.<function>` for its %%task cells.
    """
    import tempfile

    from ..notebook.export import for_registration

    try:
        remote = remote_for(ctx, project, domain)
        with tempfile.TemporaryDirectory(prefix="plait-register-") as scratch:
            items = [item for p in paths for item in
                     (for_registration(p, Path(scratch)) if p.endswith(".ipynb") else [p])]
            ids = remote.register(*items, version=version)
    except PlaitError as exc:
        fail(exc, verbose=False)
    used = ids[0].version if ids else version
    click.echo(f"registered {len(ids)} entities in {project}/{domain}, version {used}")
    table("", ["KIND", "NAME"], [[i.kind, i.name] for i in ids])


# ------------------------------------------------------------------ get


@click.group("get", context_settings=CONTEXT)
def get_cmd() -> None:
    """Show what the backend holds: tasks, workflows, launch plans, executions."""


def _get_entities(ctx: click.Context, kind: str, name: str | None, project: str, domain: str,
                  limit: int) -> None:
    label = kind.replace("_", " ") + "s"
    try:
        remote = remote_for(ctx, project, domain)
        if name:
            found = remote.list_versions(kind, name, limit=limit)
        else:
            found = remote.list_entities(kind, limit=limit)
    except PlaitError as exc:
        fail(exc, verbose=False)
    if name:
        table(f"Versions of {kind.replace('_', ' ')} {name} in {project}/{domain}",
              ["VERSION", "CREATED", "ARCHIVED"],
              [[e.version, _when(e.record.get("created_at")), "yes" if e.record.get("archived") else ""]
               for e in found])
        return
    table(f"{label.capitalize()} in {project}/{domain}", ["NAME", "VERSION", "VERSIONS", "CREATED", "DESCRIPTION"],
          [[e.name, e.version, e.record.get("version_count", ""), _when(e.record.get("created_at")),
            e.record.get("description", "")] for e in found])


def _entity_command(command: str, kind: str) -> None:
    @get_cmd.command(command, context_settings=CONTEXT,
                     help=f"List {kind.replace('_', ' ')}s (newest version of each), or the versions of NAME.")
    @click.argument("name", required=False)
    @PROJECT_OPTION
    @DOMAIN_OPTION
    @click.option("--limit", type=int, default=100, show_default=True, help="Most rows to show.")
    @click.pass_context
    def get_entities(ctx: click.Context, name: str | None, project: str, domain: str, limit: int) -> None:
        _get_entities(ctx, kind, name, project, domain, limit)


_entity_command("tasks", "task")
_entity_command("workflows", "workflow")
_entity_command("launchplans", "launch_plan")


@get_cmd.command("executions", context_settings=CONTEXT)
@click.argument("name", required=False)
@PROJECT_OPTION
@DOMAIN_OPTION
@click.option("--phase", default=None, help="Only executions in this phase (e.g. FAILED).")
@click.option("--limit", type=int, default=50, show_default=True, help="Most rows to show.")
@click.pass_context
def get_executions(ctx: click.Context, name: str | None, project: str, domain: str,
                   phase: str | None, limit: int) -> None:
    """List executions, newest first; NAME keeps those of one task or workflow."""
    try:
        runs = remote_for(ctx, project, domain).list_executions(
            name=name, phase=phase.upper() if phase else None, limit=limit)
    except PlaitError as exc:
        fail(exc, verbose=False)
    table(f"Executions in {project}/{domain}", ["ID", "ENTITY", "PHASE", "STARTED", "DURATION"],
          [[r.id, r.entity_name, r.phase, _when(r.record.get("started_at") or r.record.get("created_at")),
            _seconds(r.record.get("duration_s"))] for r in runs])


@get_cmd.command("execution", context_settings=CONTEXT)
@click.argument("execution_id")
@click.option("--logs", "logs_node", default=None, metavar="NODE", help="Print the log of node NODE (e.g. n0).")
@click.option("--attempt", type=int, default=None, help="Attempt of NODE (default: the latest).")
@click.option("--follow", is_flag=True, help="With --logs: keep printing until the node ends.")
@click.pass_context
def get_execution(ctx: click.Context, execution_id: str, logs_node: str | None, attempt: int | None,
                  follow: bool) -> None:
    """Show one execution: phase, inputs, outputs, error and its nodes; or a node's log."""
    try:
        run = remote_for(ctx, "default", "development").fetch_execution(execution_id)
        if logs_node is not None:
            if follow:
                for text in run.logs(logs_node, attempt=attempt, follow=True):
                    click.echo(text, nl=False)
            else:
                click.echo(run.logs(logs_node, attempt=attempt), nl=False)
            return
        nodes = run.nodes()
        deliveries = notifications_of(run)
    except PlaitError as exc:
        fail(exc, verbose=False)
    except KeyboardInterrupt:
        sys.exit(130)
    _print_execution(run, nodes)
    if deliveries:
        table("Notifications", ["CHANNEL", "SINK", "RECIPIENTS", "PHASE", "STATUS", "ATTEMPTS", "SENT", "LAST ERROR"],
              [[d.get("channel", ""), d.get("sink", ""), ", ".join(d.get("recipients") or []), d.get("phase") or "",
                d.get("status", ""), d.get("attempts", 0), _when(d.get("sent_at")) if d.get("sent_at") else "",
                (d.get("last_error") or "")[:100]] for d in deliveries])


def notifications_of(run: Any) -> list[dict[str, Any]]:
    """The notifications an execution's end fired and how sending them went; none from a
    server that does not keep them."""
    from urllib.parse import quote

    from ..remote.errors import RemoteUserError

    try:
        answer = run.remote._json("GET", f"/api/v1/executions/{quote(run.id, safe='')}/notifications")
    except RemoteUserError as exc:
        if getattr(exc, "status", None) == 404:
            return []
        raise
    return list((answer or {}).get("items") or [])


def _print_execution(run: Any, nodes: list[Any]) -> None:
    from rich.console import Console

    from ..remote import error_text

    console = Console(highlight=False)
    rec, entity = run.record, run.entity
    console.print(f"[bold]execution {run.id}[/]  {rec.get('project', '')}/{rec.get('domain', '')}")
    console.print(f"  entity:   {entity.get('kind', '')} {entity.get('name', '')}@{entity.get('version', '')}")
    plan = rec.get("launch_plan")
    if plan:
        console.print(f"  launch plan: {plan.get('name')}@{plan.get('version')}")
    console.print(f"  phase:    {run.phase}")
    times = [f"{k}: {_when(rec.get(f'{k}_at'))}" for k in ("created", "started", "ended") if rec.get(f"{k}_at")]
    if rec.get("duration_s") is not None:
        times.append(f"duration: {_seconds(rec['duration_s'])}")
    console.print("  " + "   ".join(times))
    for label, refs in (("inputs", rec.get("inputs")), ("outputs", rec.get("outputs"))):
        if refs:
            console.print(f"  {label}:")
            for k, ref in refs.items():
                console.print(f"    {k} = {_ref_text(ref)}")
    if run.error:
        console.print(f"  [red]error:[/]    {error_text(run.error)}")
    if nodes:
        table("Nodes", ["PATH", "ENTITY", "KIND", "PHASE", "ATTEMPTS", "POOL", "ERROR"],
              [[n.path, n.entity, n.kind, n.phase, len(n.attempts), pool_of(n), error_text(n.error)[:100]]
               for n in nodes])


def pool_of(node: Any) -> str:
    """The worker pool of a node's latest attempt (its earlier ones' too when they differ)."""
    pools = [str(a["pool"]) for a in node.attempts if a.get("pool")]
    return ", ".join(dict.fromkeys(pools))


# ------------------------------------------------------------------ local-cache


@click.group("local-cache", context_settings=CONTEXT)
def local_cache_cmd() -> None:
    """Manage the local cache ($PLAIT_HOME/local-cache)."""


@local_cache_cmd.command("clear")
def local_cache_clear() -> None:
    """Remove every cached output of local runs."""
    from ..run.local_cache import LocalCache

    store = LocalCache()
    removed = store.clear()
    click.echo(f"removed {removed} cached output(s) from {store.root}")
