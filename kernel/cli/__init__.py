"""The `plait` command line: run tasks, workflows and launch plans; manage the local cache.

The main group (the console script `plait.cli:main`) and the commands that only
hand over: `plait server` starts the backend, `plait export` writes a notebook
as a module. The others live beside it:
- `run`: `plait run`, here or on the backend with `--remote` (`plait.cli.run`);
- `backend`: `plait register`, `plait get ...` and `plait local-cache`;
- `cluster`: `plait cluster manifests`, a cluster file as Kubernetes resources;
- `worker`: `plait worker`, the workers of a pool of a `kind: hosts` cluster on this host;
- `executions`: `plait abort`, with a reason;
- `artifacts`: `plait get artifacts` and `plait get artifact NAME`, on the backend or `--local`;
- `build`: `plait build`, the environments of tasks' images, without registering;
- `secrets`: the `create` and `delete` groups, and `plait create|get|delete secret(s)`;
- `workspaces`: browser workspaces: `plait create|get|update workspace`, `plait start|stop|archive|
  unarchive workspace`, `plait workspace debug`;
- `apps`: `plait deploy apps FILE NAME`, `plait get apps`, `plait start|stop apps --name`;
- `dashboard`: `plait dashboard`, a notebook or an execution's outputs as a Panel dashboard;
- `progress`: the live line of a run; `output`: errors and tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..errors import UserError
from .apps import deploy_cmd, get_apps, start_apps, stop_apps
from .artifacts import get_artifact, get_artifacts
from .backend import get_cmd, local_cache_cmd, register_cmd
from .build import build_cmd
from .cluster import cluster_cmd
from .dashboard import dashboard_cmd
from .executions import abort_cmd
from .launch_plans import get_schedule_runs, update_cmd
from .output import CONTEXT
from .run import (
    CliInputError,
    entities_of,
    entity_help,
    find_entity,
    load_module,
    parse_inputs,
    run_cmd,
)
from .secrets import create_cmd, delete_cmd, get_secrets
from .signals import get_signals, signal_cmd
from .worker import worker_cmd
from .workspaces import (
    archive_cmd,
    create_workspace,
    create_workspace_config,
    get_workspace,
    start_cmd,
    stop_cmd,
    unarchive_cmd,
    update_workspace,
    workspace_cmd,
)

__all__ = ["CONTEXT", "CliInputError", "entities_of", "entity_help", "find_entity", "load_module",
           "main", "parse_inputs"]


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="plait", prog_name="plait")
def main() -> None:
    """plait: typed tasks and workflows, run locally or on Dask.

    \b
    Examples:
      plait run pipeline.py training_wf --epochs 3 --lr 0.01
      plait run pipeline.py score --values '[1, 2, 3]'
      plait local-cache clear
    """


@main.group("server", context_settings=CONTEXT, invoke_without_command=True)
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8742; 0 picks a free one).")
@click.option("--database-url", default=None, help="SQLAlchemy URL (default SQLite in --home).")
@click.option("--storage-url", default=None, help="Object store URL (default --home/data).")
@click.option("--dask-scheduler", default=None,
              help="Dask scheduler address, tcp:// or tls:// (default: an embedded cluster with TLS).")
@click.option("--dask-tls-ca-file", default=None, metavar="PEM",
              help="For a tls:// scheduler: the CA that signed its certificates.")
@click.option("--dask-tls-cert", default=None, metavar="PEM",
              help="For a tls:// scheduler: this client's certificate.")
@click.option("--dask-tls-key", default=None, metavar="PEM",
              help="For a tls:// scheduler: this client's private key.")
@click.option("--home", default=None, help="State folder (default $PLAIT_HOME or ~/.plait).")
@click.option("--api-workers", type=int, default=None,
              help="Processes serving the HTTP API (default 2; 1 serves it beside the executor).")
@click.option("--cluster", default=None, metavar="FILE",
              help="Cluster file declaring the compute: kind local or kubernetes, pools (docs/compute.md).")
@click.pass_context
def server_cmd(ctx: click.Context, **options: Any) -> None:
    """Run the plait backend: the HTTP API and an executor on Dask."""
    if ctx.invoked_subcommand is None:
        from plait.backend.server import serve  # the backend is imported only here

        serve(**options, echo=click.echo)


@server_cmd.command("openapi")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="File to write.")
def server_openapi(output: str) -> None:
    """Write the backend's OpenAPI document as JSON."""
    from plait.backend.server import write_openapi

    click.echo(f"wrote {write_openapi(output)}")


@main.command("export", context_settings=CONTEXT)
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", default=None, metavar="MODULE.py", help="Write here (default: stdout).")
def export_cmd(notebook: str, output: str | None) -> None:
    """Write the %%task, %%workflow and supporting cells of NOTEBOOK as a module.

    \b
    plait export analysis.ipynb -o analysis.py
    plait run analysis.py my_workflow --n 3
    """
    from ..notebook.export import export_notebook

    try:
        result = export_notebook(notebook)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    if output is None:
        click.echo(result.source, nl=False)
    else:
        Path(output).write_text(result.source, encoding="utf-8")
    made = ", ".join(f"{k} {n}" for n, k in result.entities.items()) or "no tasks or workflows"
    click.echo(f"exported {made}" + (f" to {output}" if output else ""), err=True)
    for line in result.skipped:
        click.echo(f"  skipped {line}", err=True)


for _command in (run_cmd, register_cmd, get_cmd, local_cache_cmd, build_cmd):
    main.add_command(_command)
main.add_command(create_cmd)
main.add_command(delete_cmd)
get_cmd.add_command(get_secrets)
main.add_command(update_cmd)
get_cmd.add_command(get_schedule_runs)
get_cmd.add_command(get_artifacts)
get_cmd.add_command(get_artifact)

main.add_command(cluster_cmd)
main.add_command(worker_cmd)
main.add_command(abort_cmd)
main.add_command(dashboard_cmd)
main.add_command(signal_cmd)
get_cmd.add_command(get_signals)
create_cmd.add_command(create_workspace_config)
create_cmd.add_command(create_workspace)
get_cmd.add_command(get_workspace)
update_cmd.add_command(update_workspace)
for _group in (start_cmd, stop_cmd, archive_cmd, unarchive_cmd, workspace_cmd, deploy_cmd):
    main.add_command(_group)
get_cmd.add_command(get_apps)
start_cmd.add_command(start_apps)
stop_cmd.add_command(stop_apps)

if __name__ == "__main__":  # pragma: no cover
    main()
