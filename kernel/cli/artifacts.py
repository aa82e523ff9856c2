"""`plait get artifacts` and `plait get artifact NAME`: the artifact catalog, on the backend or (`--local`) here.

Both read through the same calls (`plait.Remote()` or `plait.catalog()`:
`list_artifacts`, `get_artifact`), so the two places print alike.
"""

from __future__ import annotations

from typing import Any

import click
from click.core import ParameterSource

from ..errors import PlaitError
from ..model.times import time_column, time_text
from .backend import DOMAIN_OPTION, PROJECT_OPTION, UTC_OPTION, remote_for
from .output import CONTEXT, fail, table

LOCAL_OPTION = click.option("--local", is_flag=True,
                            help="Read the versions local runs stored ($PLAIT_HOME/artifacts), not the backend's.")


def catalog_for(ctx: click.Context, project: str, domain: str, local: bool) -> Any:
    """The backend's catalog (a Remote), or with `local` the local store, kept to --project and
    --domain only where they were given (local runs store theirs under project `local`)."""
    if not local:
        return remote_for(ctx, project, domain)
    from ..artifacts import catalog

    given = {p: ctx.get_parameter_source(p) not in (ParameterSource.DEFAULT, None) for p in ("project", "domain")}
    return catalog(project if given["project"] else None, domain if given["domain"] else None)


def _where(project: str, domain: str, local: bool) -> str:
    return "the local store" if local else f"{project}/{domain}"


@click.command("artifacts", context_settings=CONTEXT)
@click.option("--name-contains", default=None, metavar="TEXT", help="Only artifacts whose name contains TEXT.")
@PROJECT_OPTION
@DOMAIN_OPTION
@click.option("--limit", type=int, default=100, show_default=True, help="Most rows to show.")
@LOCAL_OPTION
@UTC_OPTION
@click.pass_context
def get_artifacts(ctx: click.Context, name_contains: str | None, project: str, domain: str, limit: int,
                  local: bool, utc: bool) -> None:
    """List artifacts, the most recently made first: versions, partition keys, the latest version.

    \b
    Examples:
      plait get artifacts
      plait get artifacts --name-contains model --local
    """
    try:
        found = catalog_for(ctx, project, domain, local).list_artifacts(name_contains=name_contains, limit=limit)
    except PlaitError as exc:
        fail(exc, verbose=False)
    created, when = _times("CREATED", [s.latest.created_at for s in found], utc)
    table(f"Artifacts in {_where(project, domain, local)}",
          ["NAME", "VERSIONS", "PARTITION KEYS", "LATEST VERSION", created],
          [[s.name, s.versions, ", ".join([*s.partition_keys, *(["time"] if s.time_partitioned else [])]),
            s.latest.version, w] for s, w in zip(found, when, strict=True)])


@click.command("artifact", context_settings=CONTEXT)
@click.argument("name")
@click.option("--partition", "partitions", multiple=True, metavar="KEY=VALUE",
              help="Only versions with this partition value (repeatable); shows the latest in detail.")
@click.option("--time-partition", default=None, metavar="ISO",
              help="Only versions of this time partition (e.g. 2024-05-01); shows the latest in detail.")
@click.option("--version", default=None, help="Show this version in detail.")
@PROJECT_OPTION
@DOMAIN_OPTION
@click.option("--limit", type=int, default=20, show_default=True, help="Most versions to list.")
@LOCAL_OPTION
@UTC_OPTION
@click.pass_context
def get_artifact(ctx: click.Context, name: str, partitions: tuple[str, ...], time_partition: str | None,
                 version: str | None, project: str, domain: str, limit: int, local: bool, utc: bool) -> None:
    """List the versions of artifact NAME, newest first; with --version, --partition or
    --time-partition, show the matching version in detail (uri, partitions, type, producer,
    preview, cards).

    \b
    Examples:
      plait get artifact model
      plait get artifact model --partition region=eu
      plait get artifact model --version 3f2a9c0d1e2b4a5c --local
    """
    try:
        wanted = _partitions(partitions)
        source = catalog_for(ctx, project, domain, local)
        if version or wanted or time_partition:
            record = source.get_artifact(name=name, partitions=wanted, version=version,
                                         time_partition=time_partition)
        else:
            versions = source.list_artifacts(name, limit=limit)
    except PlaitError as exc:
        fail(exc, verbose=False)
    if version or wanted or time_partition:
        _print_version(record, utc)
        return
    if not versions:
        click.echo(f"artifact {name} has no versions in {_where(project, domain, local)}")
        return
    created, when = _times("CREATED", [r.created_at for r in versions], utc)
    table(f"Versions of artifact {name} in {_where(project, domain, local)}",
          ["VERSION", "PARTITIONS", "TIME PARTITION", "EXECUTION", created],
          [[r.version, _partition_text(r.partitions), r.time_partition or "", r.execution, w]
           for r, w in zip(versions, when, strict=True)])


def _partitions(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--partition")
        out[key] = value
    return out


def _times(header: str, values: list[Any], utc: bool) -> tuple[str, list[str]]:
    zone, cells = time_column(values, utc=utc)
    return (f"{header} ({zone})" if zone else header), cells


def _partition_text(partitions: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in partitions.items())


def _producer(record: Any) -> str:
    """`execution x1 node n0 (pkg.train)`; `none (create_artifact)` for a version made by that call."""
    if not record.execution:
        return "none (create_artifact)"
    node = f" node {record.node_path}" if record.node_path else ""
    task = f" ({record.task}{'@' + record.task_version if record.task_version else ''})" if record.task else ""
    return f"execution {record.execution}{node}{task}"


def _print_version(record: Any, utc: bool) -> None:
    from rich.console import Console
    from rich.markdown import Markdown

    console = Console(highlight=False)
    console.print(f"[bold]artifact {record.name}@{record.version}[/]  {record.project}/{record.domain}")
    rows = [
        ("uri", record.uri),
        ("partitions", _partition_text(record.partitions) or "none"),
        ("time partition", f"{record.time_partition} ({record.granularity or 'DAY'})" if record.time_partition else ""),
        ("type", record.type_name),
        ("created", time_text(record.created_at, utc=utc)),
        ("producer", _producer(record) + (f", output {record.output}" if record.output else "")),
        ("preview", record.preview),
    ]
    for label, text in rows:
        if text:
            console.print(f"  {label + ':':<16}{text}", markup=False)
    for card in record.cards:
        console.print(f"  [bold]{card.get('kind', 'model')} card[/]")
        console.print(Markdown(str(card.get("text", ""))))
