"""`plait dashboard`: a notebook, or an execution's outputs, as a Panel dashboard.

    plait dashboard report.ipynb               preview it with `panel serve` until Ctrl-C
    plait dashboard report.ipynb --out site/   only write site/app.py (serve it yourself)
    plait dashboard --execution f3a9c2         the outputs of an execution on the backend
    plait dashboard report.ipynb --deploy      serve it as an app on the backend (`plait get apps`)

The builders live in `plait.dashboards`; this module parses and prints.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import click

from ..errors import PlaitError
from .backend import DOMAIN_OPTION, PROJECT_OPTION, remote_for
from .output import CONTEXT, fail


@click.command("dashboard", context_settings=CONTEXT)
@click.argument("notebook", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--execution", "execution_id", default=None, metavar="ID",
              help="Make the dashboard of this backend execution's outputs instead of a notebook.")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port of the preview (default: a free one).")
@click.option("--out", default=None, type=click.Path(file_okay=False), metavar="DIR",
              help="Only write DIR/app.py and its files; do not serve.")
@click.option("--deploy", is_flag=True, help="Deploy it as an app on the backend instead of previewing it.")
@click.option("--name", default=None, help="The app's name with --deploy (default: the notebook's name, "
                                          "or run-<execution id>).")
@PROJECT_OPTION
@DOMAIN_OPTION
@click.pass_context
def dashboard_cmd(ctx: click.Context, notebook: str | None, execution_id: str | None, port: int | None,
                  out: str | None, deploy: bool, name: str | None, project: str, domain: str) -> None:
    """Turn NOTEBOOK into a Panel dashboard and preview it with `panel serve`.

    The page is the cells tagged `dashboard` (or, without tags, the notebook's
    `.servable()` objects); the cell tagged `parameters` becomes widgets.

    \b
    Examples:
      plait dashboard notebooks/dashboard.ipynb
      plait dashboard notebooks/dashboard.ipynb --out site/ && panel serve site/app.py
      plait dashboard --execution f3a9c2 --port 5006
      plait dashboard notebooks/dashboard.ipynb --deploy --name sales
    """
    if (notebook is None) == (execution_id is None):
        raise click.UsageError("give a NOTEBOOK or --execution ID (one of them)")
    if deploy and out is not None:
        raise click.UsageError("--deploy serves the dashboard on the backend; --out only writes it: give one")
    try:
        source = _build(ctx, notebook, execution_id, project, domain)
    except PlaitError as exc:
        fail(exc, verbose=False)
    for note in source.notes:
        click.echo(f"  note: {note}", err=True)
    if deploy:
        _deploy(ctx, source, name or _default_name(notebook, execution_id), project, domain)
        return
    if out is not None:
        app = source.write(out)
        click.echo(f"wrote {app}; serve it with: panel serve {app}")
        return
    folder = Path(tempfile.mkdtemp(prefix="plait-dashboard-"))
    try:
        serve(source.write(folder), port, Path(notebook).parent if notebook else folder, source.title)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _default_name(notebook: str | None, execution_id: str | None) -> str:
    from ..dashboards import app_name

    return app_name(Path(notebook).stem if notebook else f"run-{execution_id}")


def _deploy(ctx: click.Context, source: Any, name: str, project: str, domain: str) -> None:
    from ..dashboards import deploy

    try:
        remote = remote_for(ctx, project, domain)
        click.echo(f"Deploying dashboard {source.title!r} as app {name} to {project}/{domain}")
        info = deploy(source, remote, name,
                      on_status=lambda i: click.echo(f"[Status] {i.status}: {i.reason or ''}".rstrip(": ")))
        if info.action == "unchanged":
            click.echo("Unchanged: the app serves this dashboard already")
        click.echo(f"Deployed endpoint: {remote.app_url(name)}")
    except PlaitError as exc:
        fail(exc, verbose=False)


def _build(ctx: click.Context, notebook: str | None, execution_id: str | None, project: str,
           domain: str) -> Any:
    from ..dashboards import from_execution, from_notebook

    if notebook is not None:
        return from_notebook(notebook)
    assert execution_id is not None
    execution = remote_for(ctx, project, domain).fetch_execution(execution_id)
    return from_execution(execution.outputs, execution_id=execution.id)


def serve(app: Path, port: int | None, workdir: Path, title: str) -> None:
    """Run `panel serve` for `app` until Ctrl-C (or until the server exits)."""
    from ..dashboards import preview

    running = preview(app, port=port, workdir=workdir)
    try:
        url = running.wait_ready()
        click.echo(f"{title}: {url}  (Ctrl-C stops it)")
        code = running.process.wait()
        if code:
            raise click.ClickException(f"panel serve exited with code {code}:\n{running.output()}")
    except PlaitError as exc:
        fail(exc, verbose=False)
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        running.stop()
