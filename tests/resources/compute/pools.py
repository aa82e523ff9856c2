"""Tasks that say where they ran: the name of the Dask worker (a CPU pool's, or a GPU pool's)."""

from plait import Resources, task


def _worker_name() -> str:
    from distributed import Worker

    # The attempt runs on a thread of its own, outside Dask's task context: ask the process.
    return ",".join(sorted(str(w.name) for w in Worker._instances))


@task
def where() -> str:
    return _worker_name()


@task(limits=Resources(gpu="1"))
def where_gpu() -> str:
    return _worker_name()
