"""`plait cluster ...`: the compute a backend runs on, from its cluster file (docs/compute.md).

    plait cluster manifests --cluster cluster.yaml | kubectl apply -f -

The cluster file is the backend's (`plait server --cluster`): the backend is imported
inside the command only, as `plait server` imports it.
"""

from __future__ import annotations

import click

from .output import CONTEXT


@click.group("cluster", context_settings=CONTEXT)
def cluster_cmd() -> None:
    """The compute a backend runs on, declared in a cluster file."""


@cluster_cmd.command("manifests", context_settings=CONTEXT)
@click.option("--cluster", "path", default="cluster.yaml", show_default=True, metavar="FILE",
              help="The cluster file, of kind kubernetes.")
def manifests_cmd(path: str) -> None:
    """Print the Kubernetes resources of a cluster file as one YAML stream: the backend's
    Deployment (with its ServiceAccount, Role, ConfigMap and Service), the DaskCluster and
    one DaskWorkerGroup per pool, for the dask-kubernetes operator.

    \b
    plait cluster manifests --cluster cluster.yaml > plait.yaml
    kubectl apply -f plait.yaml
    """
    from plait.backend import compute

    try:
        cluster = compute.load(path)
    except compute.ClusterFileError as exc:
        raise click.ClickException(str(exc)) from None
    if cluster.kind != "kubernetes":
        raise click.ClickException(
            f"{path}: kind: expected kubernetes for manifests, found {cluster.kind!r}; a local "
            "cluster file runs with `plait server --cluster` as it is, write kind: kubernetes and a "
            "kubernetes: section to run it on Kubernetes (docs/compute.md)")
    click.echo(compute.to_yaml(compute.manifests(cluster)), nl=False)
