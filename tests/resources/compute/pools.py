"""Tasks that say where they ran: the name of the Dask worker and the pool it belongs to."""

import os

from plait import ImageSpec, Resources, task, workflow

inflection_image = ImageSpec(name="inflection-image", packages=["inflection==0.5.1"])  # as tests/environments builds


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


@task(interruptible=True)
def where_spot() -> str:
    return _worker_name()


@task(container_image=inflection_image)
def where_inflection() -> str:
    import inflection

    return f"{_worker_name()} inflection {inflection.__version__} in {os.environ.get('PLAIT_POOL')}"


@task(requests=Resources(gpu="1"))
def gpu_in_requests() -> str:
    return _worker_name()


@task(limits=Resources(gpu="2"))
def two_gpus() -> str:
    return _worker_name()


@task(container_image=ImageSpec(name="unbuildable", packages=["plait-tests-no-such-package==1.0"]))
def where_unbuildable() -> str:
    return _worker_name()


@task(interruptible=True, retries=0)
def preempted() -> str:
    """Its worker is "preempted" (killed) whenever it runs on an interruptible pool."""
    import signal

    if os.environ.get("PLAIT_POOL") == "spot":
        os.kill(os.getpid(), signal.SIGKILL)
    return _worker_name()


@workflow(interruptible=True)
def spot_flow() -> str:
    """Its tasks are interruptible unless they say otherwise."""
    return where()


@workflow
def overridden_flow() -> str:
    return where().with_overrides(interruptible=True)
