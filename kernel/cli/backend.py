"""`plait register`, `plait get ...` (what the backend holds, through `plait.Remote`) and `plait local-cache`."""

from __future__ import annotations

import datetime as _dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import PlaitError
from ..model.times import duration_text, time_column, time_text
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


UTC_OPTION = click.option("--utc", is_flag=True,
                          help="Show times in UTC (default: this machine's time zone, named).")


def _when(value: Any, utc: bool = False) -> str:
    """An API timestamp to the second, in this machine's zone (or UTC), the zone named."""
    return time_text(value, utc=utc)


def _times(header: str, values: list[Any], utc: bool) -> tuple[str, list[str]]:
    """A column of times: `STARTED (CET)` over the times, or each naming its own zone."""
    zone, cells = time_column(values, utc=utc)
    return (f"{header} ({zone})" if zone else header), cells


def _ref_text(ref: Any) -> str:
    """A value ref, short: the literal as its value reads, or a pickle's preview."""
    if isinstance(ref, dict) and "literal" in ref:
        text = literal_text(ref["literal"])
    elif isinstance(ref, dict) and "uri" in ref:
        text = f"{ref.get('preview') or ''} ({ref.get('format', 'pickle')})".strip()
    else:
        text = json.dumps(ref, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


_TAGGED = {  # the literals `plait.typesys.to_literal` tags, as their values read
    "__datetime__": lambda v: _dt.datetime.fromisoformat(v).isoformat(" "),
    "__date__": lambda v: _dt.date.fromisoformat(v).isoformat(),
    "__duration__": lambda v: duration_text(float(v)),
    "__bytes__": lambda v: repr(bytes.fromhex(v)),
}


def literal_text(lit: Any) -> str:
    """A JSON literal as its value reads: `2024-05-01 10:00:00`, not `{"__datetime__": ...}`.

    Values are shown as they were given: a datetime keeps its own offset (or
    none), since it is data, not a time the server recorded.
    """
    if isinstance(lit, dict) and len(lit) == 1:
        [(tag, raw)] = lit.items()
        show = _TAGGED.get(tag)
        if show is not None:
            try:
                return str(show(raw))
            except (TypeError, ValueError):
                pass
    if isinstance(lit, list):
        return "[" + ", ".join(literal_text(v) for v in lit) + "]"
    if isinstance(lit, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {literal_text(v)}" for k, v in lit.items()) + "}"
    return json.dumps(lit, default=str)


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
                  limit: int, utc: bool = False) -> None:
    label = kind.replace("_", " ") + "s"
    try:
        remote = remote_for(ctx, project, domain)
        if name:
            found = remote.list_versions(kind, name, limit=limit)
        else:
            found = remote.list_entities(kind, limit=limit)
    except PlaitError as exc:
        fail(exc, verbose=False)
    created, when = _times("CREATED", [e.record.get("created_at") for e in found], utc)
    if name:
        table(f"Versions of {kind.replace('_', ' ')} {name} in {project}/{domain}",
              ["VERSION", created, "ARCHIVED"],
              [[e.version, w, "yes" if e.record.get("archived") else ""] for e, w in zip(found, when, strict=True)])
        return
    table(f"{label.capitalize()} in {project}/{domain}", ["NAME", "VERSION", "VERSIONS", created, "DESCRIPTION"],
          [[e.name, e.version, e.record.get("version_count", ""), w, e.record.get("description", "")]
           for e, w in zip(found, when, strict=True)])


def _entity_command(command: str, kind: str) -> None:
    @get_cmd.command(command, context_settings=CONTEXT,
                     help=f"List {kind.replace('_', ' ')}s (newest version of each), or the versions of NAME.")
    @click.argument("name", required=False)
    @PROJECT_OPTION
    @DOMAIN_OPTION
    @click.option("--limit", type=int, default=100, show_default=True, help="Most rows to show.")
    @UTC_OPTION
    @click.pass_context
    def get_entities(ctx: click.Context, name: str | None, project: str, domain: str, limit: int,
                     utc: bool) -> None:
        _get_entities(ctx, kind, name, project, domain, limit, utc)


_entity_command("tasks", "task")
_entity_command("workflows", "workflow")
_entity_command("launchplans", "launch_plan")


@get_cmd.command("executions", context_settings=CONTEXT)
@click.argument("name", required=False)
@PROJECT_OPTION
@DOMAIN_OPTION
@click.option("--phase", default=None, help="Only executions in this phase (e.g. FAILED).")
@click.option("--limit", type=int, default=50, show_default=True, help="Most rows to show.")
@UTC_OPTION
@click.pass_context
def get_executions(ctx: click.Context, name: str | None, project: str, domain: str,
                   phase: str | None, limit: int, utc: bool) -> None:
    """List executions, newest first; NAME keeps those of one task or workflow."""
    try:
        runs = remote_for(ctx, project, domain).list_executions(
            name=name, phase=phase.upper() if phase else None, limit=limit)
    except PlaitError as exc:
        fail(exc, verbose=False)
    started, when = _times("STARTED", [r.record.get("started_at") or r.record.get("created_at") for r in runs], utc)
    table(f"Executions in {project}/{domain}", ["ID", "ENTITY", "PHASE", started, "DURATION"],
          [[r.id, r.entity_name, r.phase, w, duration_text(r.duration_s)] for r, w in zip(runs, when, strict=True)])


@get_cmd.command("execution", context_settings=CONTEXT)
@click.argument("execution_id")
@click.option("--logs", "logs_node", default=None, metavar="NODE", help="Print the log of node NODE (e.g. n0).")
@click.option("--attempt", type=int, default=None, help="Attempt of NODE (default: the latest).")
@click.option("--follow", is_flag=True, help="With --logs: keep printing until the node ends.")
@UTC_OPTION
@click.pass_context
def get_execution(ctx: click.Context, execution_id: str, logs_node: str | None, attempt: int | None,
                  follow: bool, utc: bool) -> None:
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
    _print_execution(run, nodes, utc)
    if deliveries:
        sent, when = _times("SENT", [d.get("sent_at") for d in deliveries], utc)
        table("Notifications", ["CHANNEL", "SINK", "RECIPIENTS", "PHASE", "STATUS", "ATTEMPTS", sent, "LAST ERROR"],
              [[d.get("channel", ""), d.get("sink", ""), ", ".join(d.get("recipients") or []), d.get("phase") or "",
                d.get("status", ""), d.get("attempts", 0), w, (d.get("last_error") or "")[:100]]
               for d, w in zip(deliveries, when, strict=True)])


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


def _print_execution(run: Any, nodes: list[Any], utc: bool = False) -> None:
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
    times = [f"{k}: {_when(rec.get(f'{k}_at'), utc)}" for k in ("created", "started", "ended")
             if rec.get(f"{k}_at")]
    if run.duration_s is not None:
        times.append(f"duration: {duration_text(run.duration_s)}")
    console.print("  " + "   ".join(times))
    for label, refs in (("inputs", rec.get("inputs")), ("outputs", rec.get("outputs"))):
        if refs:
            console.print(f"  {label}:")
            for k, ref in refs.items():
                console.print(f"    {k} = {_ref_text(ref)}")
    if run.error:
        console.print(f"  [red]error:[/]    {error_text(run.error)}")
    if nodes:
        table("Nodes", ["PATH", "ENTITY", "KIND", "PHASE", "ATTEMPTS", "POOL", "DURATION", "ERROR"],
              [[n.path, n.entity, n.kind, n.phase, len(n.attempts), pool_of(n),
                "" if n.duration_s is None else duration_text(n.duration_s), error_text(n.error)[:100]]
               for n in nodes])
    trace = run.error.get("traceback") if isinstance(run.error, dict) else None
    if trace:  # the user's frames (the backend folds plait's away), below the table
        node = run.error.get("node")
        console.print(f"[red]traceback[/]{f' of node {node}' if node else ''}:")
        console.print(trace.rstrip(), markup=False)


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
